package arima

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// simulateARMA21 draws n values of 10 + u_t with
// u_t = 0.6 u_{t-1} - 0.2 u_{t-2} + e_t + 0.4 e_{t-1}, after a burn-in.
func simulateARMA21(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	const burn = 100
	u := make([]float64, n+burn)
	prevE := 0.0
	for t := range u {
		e := rng.NormFloat64()
		u[t] = e + 0.4*prevE
		if t >= 1 {
			u[t] += 0.6 * u[t-1]
		}
		if t >= 2 {
			u[t] -= 0.2 * u[t-2]
		}
		prevE = e
	}
	y := u[burn:]
	for i := range y {
		y[i] += 10
	}
	return y
}

func TestSelectOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	walk := make([]float64, 400)
	level := 100.0
	for i := range walk {
		level += rng.NormFloat64()
		walk[i] = level
	}
	trend := make([]float64, 300)
	level = 100.0
	for i := range trend {
		level += 0.5 + rng.NormFloat64()
		trend[i] = level
	}
	tests := []struct {
		name      string
		y         []float64
		wantD     int
		wantDrift bool
		reference Order // a model the choice must be at least as good as
	}{
		{name: "ARMA(2,1) around a mean", y: simulateARMA21(400, 11), wantD: 0, reference: Order{P: 2, Q: 1}},
		{name: "random walk", y: walk, wantD: 1, reference: Order{P: 0, D: 1, Q: 0}},
		{name: "random walk with drift", y: trend, wantD: 1, wantDrift: true, reference: Order{D: 1, Drift: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := SelectOrder(context.Background(), tt.y)
			require.NoError(t, err)
			require.Equal(t, tt.wantD, sel.Best.Order.D)
			require.Equal(t, tt.wantDrift, sel.Best.Order.Drift)
			if tt.wantDrift {
				require.InDelta(t, 0.5, sel.Best.Named()["drift"], 0.15)
			}
			require.LessOrEqual(t, sel.Best.Order.P+sel.Best.Order.Q, autoMaxOrder)

			ref, err := Fit(context.Background(), tt.y, tt.reference, nil)
			require.NoError(t, err)
			require.LessOrEqual(t, sel.Best.AICc(), ref.AICc()+1e-9)

			// The best model is the minimum over every candidate listed,
			// and with d = 1 models with and without drift were compared.
			require.GreaterOrEqual(t, len(sel.Candidates), 4)
			drifts := map[bool]bool{}
			for _, c := range sel.Candidates {
				require.Equal(t, tt.wantD, c.Order.D)
				require.GreaterOrEqual(t, c.AICc, sel.Best.AICc())
				drifts[c.Order.Drift] = true
			}
			require.Equal(t, tt.wantD == 1, drifts[true])
		})
	}
}

func TestSelectOrderOnTooShortSeries(t *testing.T) {
	_, err := SelectOrder(context.Background(), []float64{1, 2})
	require.ErrorIs(t, err, forecast.ErrNotEnoughData)
}

// TestSelectOrderMatchesFullGrid checks that the stepwise search, which
// fits a fraction of the models, ends where fitting every order in its
// range would.
func TestSelectOrderMatchesFullGrid(t *testing.T) {
	gspc := forecasttest.Closes(t, "gspc_last504.csv")
	tests := []struct {
		name string
		y    []float64
	}{
		{name: "S&P 500 training part", y: gspc[:forecast.TestStart(len(gspc))]},
		{name: "simulated ARMA(2,1)", y: simulateARMA21(400, 11)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := SelectOrder(context.Background(), tt.y)
			require.NoError(t, err)
			d := sel.Best.Order.D
			var best *Model
			fits := 0
			drifts := []bool{false}
			if d == 1 {
				drifts = append(drifts, true)
			}
			for _, drift := range drifts {
				for p := 0; p <= autoMaxP; p++ {
					for q := 0; q <= autoMaxQ && p+q <= autoMaxOrder; q++ {
						m, err := Fit(context.Background(), tt.y, Order{P: p, D: d, Q: q, Drift: drift}, nil)
						require.NoError(t, err)
						fits++
						if best == nil || m.AICc() < best.AICc() {
							best = m
						}
					}
				}
			}
			require.Equal(t, best.Order, sel.Best.Order)
			require.Less(t, len(sel.Candidates), fits)
		})
	}
}
