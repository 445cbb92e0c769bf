package arima

import "gonum.org/v1/gonum/mat"

// conditionalSumOfSquares returns statsmodels' starting values for the
// optimiser (SARIMAX.start_params): the mean of the differenced series when
// d = 0, then a Hannan-Rissanen style regression of the centred series on
// its own p lags and on q lags of the residuals of a long AR(2q) fit. Blocks
// that come out non-stationary or non-invertible, or a regression that
// cannot be solved on too short a series, start at zero as in statsmodels.
// Sigma2 is left zero: Fit concentrates it out.
func conditionalSumOfSquares(z []float64, order Order) Coefficients {
	p, q := order.P, order.Q
	c := Coefficients{AR: make([]float64, p), MA: make([]float64, q)}
	w := z
	if order.hasMean() {
		for _, v := range z {
			c.Mean += v
		}
		c.Mean /= float64(len(z))
		w = make([]float64, len(z))
		for i, v := range z {
			w[i] = v - c.Mean
		}
	}
	if p+q == 0 {
		return c
	}

	long := 2 * q
	var resid []float64 // resid[i] belongs to w[long+i]
	if q > 0 {
		beta, ok := leastSquares(len(w)-long, long, func(row, col int) float64 {
			return w[long+row-col-1]
		}, w[long:])
		if !ok {
			return c
		}
		resid = make([]float64, len(w)-long)
		for i := range resid {
			fit := 0.0
			for j, b := range beta {
				fit += b * w[long+i-j-1]
			}
			resid[i] = w[long+i] - fit
		}
	}

	first := max(long+q, p)
	params, ok := leastSquares(len(w)-first, p+q, func(row, col int) float64 {
		t := first + row
		if col < p {
			return w[t-col-1]
		}
		return resid[t-long-(col-p)-1]
	}, w[first:])
	if !ok {
		return c
	}
	copy(c.AR, params[:p])
	copy(c.MA, params[p:])

	work := make([]float64, 2*max(p, q))
	if !unconstrainStationary(make([]float64, p), c.AR, work) {
		clear(c.AR)
	}
	negated := make([]float64, q)
	for i, v := range c.MA {
		negated[i] = -v
	}
	if !unconstrainStationary(make([]float64, q), negated, work) {
		clear(c.MA)
	}
	return c
}

// leastSquares solves min ‖Xβ - y‖ for the rows×cols design matrix X with
// X[i][j] = at(i, j). It reports false when the system is underdetermined
// or rank deficient.
func leastSquares(rows, cols int, at func(row, col int) float64, y []float64) ([]float64, bool) {
	if cols == 0 || rows < cols {
		return nil, false
	}
	x := mat.NewDense(rows, cols, nil)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			x.Set(i, j, at(i, j))
		}
	}
	var beta mat.VecDense
	if err := beta.SolveVec(x, mat.NewVecDense(rows, append([]float64(nil), y[:rows]...))); err != nil {
		return nil, false
	}
	return beta.RawVector().Data, true
}
