package garch

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/augurhq/augur/internal/forecast"
)

// VarianceForecast is the conditional variance of the next steps returns,
// as fGarch's predict gives it: h_{T+1} = omega + alpha1 e_T² + beta1 h_T,
// then h_{T+k} = omega + (alpha1 + beta1) h_{T+k-1}.
func (m *Model) VarianceForecast(steps int) []float64 {
	out := make([]float64, steps)
	h := m.Omega + m.Alpha*m.resid*m.resid + m.Beta*m.variance
	for k := range out {
		if k > 0 {
			h = m.Omega + (m.Alpha+m.Beta)*h
		}
		out[k] = h
	}
	return out
}

// Quantile is the p-quantile of the standardised t of the model's shape:
// Student's t quantile scaled to unit variance.
func (m *Model) Quantile(p float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: m.Shape}.Quantile(p) * math.Sqrt((m.Shape-2)/m.Shape)
}

// CumulativeSD is the standard deviation of the sum of the next k log
// returns, for k = 1..steps: the square root of the summed variances, the
// returns being uncorrelated given the past.
func (m *Model) CumulativeSD(steps int) []float64 {
	out := m.VarianceForecast(steps)
	var sum float64
	for k, v := range out {
		sum += v
		out[k] = math.Sqrt(sum)
	}
	return out
}

// PriceBand is the band at level around a price forecast center whose log
// distance from the price it was made from has standard deviation sd:
// center · exp(± q · sd), q the standardised t's quantile.
//
// The k-day return is a sum of k t-distributed returns, which is not
// itself t; its quantile is taken as the t quantile (unit variance) times
// the sum's standard deviation. That is exact for one day and, for more,
// a little wide in the far tail, since a sum of t's is closer to normal:
// an error on the side of caution. The band is centred on the price
// model's own forecast, not on mu: the model says where the price goes,
// the GARCH how far from there it may land.
func (m *Model) PriceBand(center, sd, level float64) forecast.Band {
	q := m.Quantile(0.5+level/2) * sd
	return forecast.Band{Lower: center * math.Exp(-q), Upper: center * math.Exp(q)}
}

// VaRLevel is the level of the value at risk in a Risk.
const VaRLevel = 0.95

// Risk is the market risk of holding the stock after its last close,
// from the fitted model: the one-day value at risk, and the range of the
// close at the end of the forecast horizon.
type Risk struct {
	Model string `json:"model"`
	// Params are the fitted coefficients.
	Params *Model `json:"params"`
	// DailyVolatility is the forecast standard deviation of the next
	// day's log return.
	DailyVolatility float64 `json:"daily_volatility"`
	// VaR95 is the one-day 95% value at risk as a fraction of the last
	// close: a loss the next day exceeds with probability 5%, by the
	// model.
	VaR95 float64 `json:"var95"`
	// VaR95Price is the same in price terms for one share at the last
	// close.
	VaR95Price float64 `json:"var95_price"`
	// LastClose is the close the VaR is measured from.
	LastClose float64 `json:"last_close"`
	// Horizon is the number of trading days Range80 and Range95 look
	// ahead.
	Horizon int `json:"horizon"`
	// Range80 and Range95 are the 80% and 95% ranges of the close Horizon
	// days after the last, around lastClose · exp(Horizon · mu).
	Range80 forecast.Band `json:"range80"`
	Range95 forecast.Band `json:"range95"`
}

// Risk is the model's risk figures for a holding worth lastClose: the
// one-day VaR at VaRLevel, the loss 1 − exp(mu + sd · q₀.₀₅) at the 5%
// quantile of the next day's log return, and the ranges of the close
// horizon days ahead (at least 1).
func (m *Model) Risk(lastClose float64, horizon int) Risk {
	horizon = max(1, horizon)
	sd := m.CumulativeSD(horizon)
	loss := -math.Expm1(m.Mu + sd[0]*m.Quantile(1-VaRLevel))
	center := lastClose * math.Exp(float64(horizon)*m.Mu)
	return Risk{
		Model:           Name,
		Params:          m,
		DailyVolatility: sd[0],
		VaR95:           loss,
		VaR95Price:      loss * lastClose,
		LastClose:       lastClose,
		Horizon:         horizon,
		Range80:         m.PriceBand(center, sd[horizon-1], forecast.Level80),
		Range95:         m.PriceBand(center, sd[horizon-1], forecast.Level95),
	}
}

// Summary says the risk figures in a sentence for a recommendation.
func (r Risk) Summary() string {
	return fmt.Sprintf(
		"Risk by %s on %d daily returns: a one-day 95%% value at risk of %.2f%% (%.2f a share at %.2f), daily volatility %.2f%%; the close in %d trading days is within %.2f – %.2f with 95%% probability.",
		r.Model, r.Params.N, 100*r.VaR95, r.VaR95Price, r.LastClose, 100*r.DailyVolatility, r.Horizon, r.Range95.Lower, r.Range95.Upper)
}
