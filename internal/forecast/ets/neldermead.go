package ets

import "math"

// nelderMeadBig is the value R's optimiser gives a point where the
// objective is not finite, so the simplex moves away from it.
const nelderMeadBig = 1.0e+35

// nelderMead minimises f from start as R's optim(method = "Nelder-Mead")
// does, line for line after nmmin in R's src/appl/optim.c, which
// forecast::ets calls through its etsNelderMead with abstol -Inf, reltol
// √ε, reflection 1, contraction 0.5, expansion 2 and at most maxit
// evaluations. A general-purpose optimiser would find nearly the same
// optimum, but the likelihood of an ETS model is flat near it, and only the
// same search, started from the same point, lands where R does closely
// enough for R's model choice and forecasts to be reproduced.
//
// It reports false when f is not finite at start, where R stops with an
// error.
func nelderMead(f func([]float64) float64, start []float64, maxit int) ([]float64, float64, bool) {
	const (
		alpha = 1.0
		beta  = 0.5
		gamma = 2.0
	)
	reltol := math.Sqrt(2.220446049250313e-16)
	n := len(start)
	bvec := append([]float64(nil), start...)
	fv := f(bvec)
	if math.IsNaN(fv) || math.IsInf(fv, 0) {
		return nil, 0, false
	}
	eval := func() float64 {
		v := f(bvec)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nelderMeadBig
		}
		return v
	}
	funcount := 1
	convtol := reltol * (math.Abs(fv) + reltol)
	n1 := n + 1
	c := n + 2
	// p[i][j]: rows 0..n-1 are coordinates, row n the value; columns
	// 0..n are the vertices, column n+1 the centroid.
	p := make([][]float64, n1)
	for i := range p {
		p[i] = make([]float64, c)
	}
	p[n1-1][0] = fv
	for i := 0; i < n; i++ {
		p[i][0] = bvec[i]
	}
	l := 1
	step := 0.0
	for i := 0; i < n; i++ {
		step = max(step, 0.1*math.Abs(bvec[i]))
	}
	if step == 0 {
		step = 0.1
	}
	size := 0.0
	for j := 2; j <= n1; j++ {
		for i := 0; i < n; i++ {
			p[i][j-1] = bvec[i]
		}
		trystep := step
		for p[j-2][j-1] == bvec[j-2] {
			p[j-2][j-1] = bvec[j-2] + trystep
			trystep *= 10
		}
		size += trystep
	}
	oldsize := size
	calcvert := true
	for {
		if calcvert {
			for j := 0; j < n1; j++ {
				if j+1 != l {
					for i := 0; i < n; i++ {
						bvec[i] = p[i][j]
					}
					p[n1-1][j] = eval()
					funcount++
				}
			}
			calcvert = false
		}
		vl := p[n1-1][l-1]
		vh := vl
		h := l
		for j := 1; j <= n1; j++ {
			if j != l {
				v := p[n1-1][j-1]
				if v < vl {
					l, vl = j, v
				}
				if v > vh {
					h, vh = j, v
				}
			}
		}
		if vh <= vl+convtol || vl <= math.Inf(-1) {
			break
		}
		for i := 0; i < n; i++ {
			temp := -p[i][h-1]
			for j := 0; j < n1; j++ {
				temp += p[i][j]
			}
			p[i][c-1] = temp / float64(n)
		}
		for i := 0; i < n; i++ {
			bvec[i] = (1+alpha)*p[i][c-1] - alpha*p[i][h-1]
		}
		vr := eval()
		funcount++
		if vr < vl {
			p[n1-1][c-1] = vr
			for i := 0; i < n; i++ {
				v := gamma*bvec[i] + (1-gamma)*p[i][c-1]
				p[i][c-1] = bvec[i]
				bvec[i] = v
			}
			fe := eval()
			funcount++
			if fe < vr {
				for i := 0; i < n; i++ {
					p[i][h-1] = bvec[i]
				}
				p[n1-1][h-1] = fe
			} else {
				for i := 0; i < n; i++ {
					p[i][h-1] = p[i][c-1]
				}
				p[n1-1][h-1] = vr
			}
		} else {
			if vr < vh {
				for i := 0; i < n; i++ {
					p[i][h-1] = bvec[i]
				}
				p[n1-1][h-1] = vr
			}
			for i := 0; i < n; i++ {
				bvec[i] = (1-beta)*p[i][h-1] + beta*p[i][c-1]
			}
			fc := eval()
			funcount++
			if fc < p[n1-1][h-1] {
				for i := 0; i < n; i++ {
					p[i][h-1] = bvec[i]
				}
				p[n1-1][h-1] = fc
			} else if vr >= vh {
				// Shrink towards the best vertex.
				calcvert = true
				size = 0
				for j := 0; j < n1; j++ {
					if j+1 != l {
						for i := 0; i < n; i++ {
							p[i][j] = beta*(p[i][j]-p[i][l-1]) + p[i][l-1]
							size += math.Abs(p[i][j] - p[i][l-1])
						}
					}
				}
				if size >= oldsize {
					break
				}
				oldsize = size
			}
		}
		if funcount > maxit {
			break
		}
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = p[i][l-1]
	}
	return x, p[n1-1][l-1], true
}
