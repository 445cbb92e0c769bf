package ets

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// reference is testdata/reference.json, written by testdata/gen_reference.R
// with R's forecast package.
type reference struct {
	RForecast string            `json:"r_forecast"`
	Series    []referenceSeries `json:"series"`
}

type referenceSeries struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
	ETS    []refFit  `json:"ets"`
	Theta  refTheta  `json:"theta"`
}

// refForecast is forecast(fit, h = 10): the means and the 80% and 95%
// bounds.
type refForecast struct {
	Mean    []float64 `json:"mean"`
	Lower80 []float64 `json:"lower80"`
	Upper80 []float64 `json:"upper80"`
	Lower95 []float64 `json:"lower95"`
	Upper95 []float64 `json:"upper95"`
}

// refFit is one ets fit: Model is what was asked ("ZZZ" for the automatic
// search), Method what R fitted, as "ETS(A,Ad,N)".
type refFit struct {
	Model  string   `json:"model"`
	Method string   `json:"method"`
	AICc   float64  `json:"aicc"`
	LogLik float64  `json:"loglik"`
	Sigma2 float64  `json:"sigma2"`
	Alpha  float64  `json:"alpha"`
	Beta   *float64 `json:"beta"`
	Phi    *float64 `json:"phi"`
	L      float64  `json:"l"`
	B      *float64 `json:"b"`
	refForecast
}

// refTheta is thetaf(y, h = 10): its SES α, the drift (half the slope) and
// the SES σ².
type refTheta struct {
	Alpha  float64 `json:"alpha"`
	Drift  float64 `json:"drift"`
	Sigma2 float64 `json:"sigma2"`
	refForecast
}

// loadReference reads testdata/reference.json.
func loadReference(t testing.TB) reference {
	t.Helper()
	raw, err := os.ReadFile("testdata/reference.json")
	require.NoError(t, err)
	var ref reference
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.NotEmpty(t, ref.Series)
	return ref
}

// TestMatchesR fits every reference series as R did, automatically and with
// fixed models, and holds the result to the bar: the same model
// chosen, AICc and the point forecasts h = 1..10 within 0.5% of R's; the
// interval bounds, σ², α and the log-likelihood within 0.5% too.
func TestMatchesR(t *testing.T) {
	ref := loadReference(t)
	for _, s := range ref.Series {
		for _, want := range s.ETS {
			t.Run(s.Name+"/"+want.Model, func(t *testing.T) {
				cfg := Config{}
				if want.Model != "ZZZ" {
					cfg.Model = want.Model
				}
				m, err := Fit(s.Values, cfg)
				require.NoError(t, err)
				require.Equal(t, want.Method, m.Spec.String())
				require.InEpsilon(t, want.AICc, m.AICc, 0.005, "AICc")
				require.InEpsilon(t, want.LogLik, m.LogLik, 0.005, "log-likelihood")
				require.InEpsilon(t, want.Sigma2, m.Sigma2, 0.005, "sigma2")
				require.InEpsilon(t, want.Alpha, m.Alpha, 0.005, "alpha")
				mean := m.Forecast(10)
				pi80, pi95 := m.ForecastBands(10)
				for h := range mean {
					require.InEpsilon(t, want.Mean[h], mean[h], 0.005, "forecast h=%d", h+1)
					require.InEpsilon(t, want.Lower80[h], pi80[h].Lower, 0.005, "80%% lower h=%d", h+1)
					require.InEpsilon(t, want.Upper80[h], pi80[h].Upper, 0.005, "80%% upper h=%d", h+1)
					require.InEpsilon(t, want.Lower95[h], pi95[h].Lower, 0.005, "95%% lower h=%d", h+1)
					require.InEpsilon(t, want.Upper95[h], pi95[h].Upper, 0.005, "95%% upper h=%d", h+1)
				}
				t.Logf("%s: AICc %.6g (R %.6g), alpha %.6g (R %.6g), h10 %.6g (R %.6g)", m.Spec, m.AICc, want.AICc, m.Alpha, want.Alpha, mean[9], want.Mean[9])
			})
		}
	}
}
