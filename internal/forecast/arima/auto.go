package arima

import (
	"context"
	"fmt"
	"math"

	"github.com/augurhq/augur/internal/forecast"
)

// Search limits of SelectOrder, pmdarima's auto_arima defaults.
const (
	autoMaxP     = 5
	autoMaxQ     = 5
	autoMaxOrder = 5 // p + q
	autoMaxFits  = 100
)

// Candidate is one model SelectOrder fitted and its AICc.
type Candidate struct {
	Order Order
	AICc  float64
}

// Selection is the outcome of SelectOrder.
type Selection struct {
	// Best is the chosen model, fitted to the whole series given.
	Best *Model
	// Candidates lists every model fitted, in the order they were tried.
	// Orders whose fit failed, or whose roots lie near the unit circle,
	// are left out.
	Candidates []Candidate
}

// SelectOrder chooses an ARIMA order for y the way pmdarima's auto_arima
// does by default. d comes first, from repeated KPSS tests at the 5% level
// (at most MaxD differences), because likelihoods of differently
// differenced series cannot be compared. Then p and q are chosen by
// minimum AICc with the stepwise search of Hyndman and Khandakar (2008):
// start from the best of ARIMA(2,d,2), (0,d,0), (1,d,0) and (0,d,1), then
// move to the first neighbour (p±1 and/or q±1) that lowers the AICc until
// none does, within p ≤ 5, q ≤ 5, p + q ≤ 5. When d = 1 it also considers a
// drift, as R's auto.arima does: the four starting models carry one, (0,1,0)
// is tried without it too, and switching the drift on or off is one more
// neighbour; so a drift is kept only when its AICc says so. On the test
// series (S&P 500, MSFT, a simulated ARMA(2,1)) the search ends at the same
// model as the full grid.
//
// As in R's auto.arima, a candidate with an AR or MA root inside
// 1.01 (an inverse root of modulus over 1/1.01 ≈ 0.990) counts as an
// infinite criterion: such a fit is an AR and an MA factor nearly
// cancelling, or a unit root the differencing missed, and its forecasts
// and intervals are unreliable although its AICc may be the lowest. On
// the last 504 closes of the DAX, CAC 40, FTSE 100 and MSFT (1991-2000)
// the choice was a (2,1,2) or (2,1,3) with roots of modulus 0.99-1.00;
// with the check it is R's choice on each (testdata/auto_reference.json).
func SelectOrder(ctx context.Context, y []float64) (*Selection, error) {
	if err := forecast.CheckFinite(y); err != nil {
		return nil, fmt.Errorf("arima: %w", err)
	}
	d := kpssDifferences(y, MaxD)
	sel := &Selection{}
	tried := map[Order]bool{}
	var bestAICc float64
	var lastErr error
	// consider fits o unless tried before or too big for the data, and
	// reports whether it became the best model.
	consider := func(o Order) (bool, error) {
		if tried[o] || o.P > autoMaxP || o.Q > autoMaxQ || o.P+o.Q > autoMaxOrder || o.P < 0 || o.Q < 0 ||
			len(y) < o.MinObservations() || len(tried) >= autoMaxFits {
			return false, nil
		}
		tried[o] = true
		m, err := Fit(ctx, y, o, nil)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return false, ctxErr
			}
			// A model that cannot be fitted is simply not a candidate,
			// as in pmdarima.
			lastErr = err
			return false, nil
		}
		aicc := m.AICc()
		if math.IsNaN(aicc) || math.IsInf(aicc, 0) || nearUnitRoot(m.Coefficients) {
			return false, nil
		}
		sel.Candidates = append(sel.Candidates, Candidate{Order: o, AICc: aicc})
		if sel.Best == nil || aicc < bestAICc {
			sel.Best, bestAICc = m, aicc
			return true, nil
		}
		return false, nil
	}

	drift := d == 1
	starts := []Order{{P: 2, D: d, Q: 2, Drift: drift}, {D: d, Drift: drift}, {P: 1, D: d, Drift: drift}, {D: d, Q: 1, Drift: drift}}
	if drift {
		starts = append(starts, Order{D: d})
	}
	for _, o := range starts {
		if _, err := consider(o); err != nil {
			return nil, err
		}
	}
	if sel.Best == nil && lastErr != nil {
		return nil, fmt.Errorf("arima: no ARIMA(p,%d,q) model could be fitted: %w", d, lastErr)
	}
	if sel.Best == nil {
		return nil, fmt.Errorf("arima: no ARIMA(p,%d,q) model fits %d observations: %w", d, len(y), forecast.ErrNotEnoughData)
	}
	for moved := true; moved; {
		moved = false
		centre := sel.Best.Order
		neighbours := make([]Order, 0, 9)
		for _, step := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, 1}, {-1, 1}, {1, -1}} {
			neighbours = append(neighbours, Order{P: centre.P + step[0], D: d, Q: centre.Q + step[1], Drift: centre.Drift})
		}
		if drift {
			neighbours = append(neighbours, Order{P: centre.P, D: d, Q: centre.Q, Drift: !centre.Drift})
		}
		for _, o := range neighbours {
			better, err := consider(o)
			if err != nil {
				return nil, err
			}
			if better {
				moved = true
				break
			}
		}
	}
	return sel, nil
}
