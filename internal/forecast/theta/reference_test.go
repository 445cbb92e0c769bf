package theta

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// referenceSeries is the part of ../ets/testdata/reference.json (written by
// gen_reference.R there, with R's forecast package) that holds thetaf(y,
// h = 10) for every series.
type referenceSeries struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
	Theta  struct {
		Alpha   float64   `json:"alpha"`
		Drift   float64   `json:"drift"`
		Mean    []float64 `json:"mean"`
		Lower80 []float64 `json:"lower80"`
		Upper80 []float64 `json:"upper80"`
		Lower95 []float64 `json:"lower95"`
		Upper95 []float64 `json:"upper95"`
	} `json:"theta"`
}

// loadReference reads the series and R's thetaf of them from
// ../ets/testdata/reference.json.
func loadReference(t testing.TB) []referenceSeries {
	t.Helper()
	raw, err := os.ReadFile("../ets/testdata/reference.json")
	require.NoError(t, err)
	var ref struct {
		Series []referenceSeries `json:"series"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.NotEmpty(t, ref.Series)
	return ref.Series
}

// TestMatchesThetaf holds Fit to R's thetaf on every reference series: the
// drift exactly as R's lsfit gives it, and α, the point forecasts and the
// interval bounds h = 1..10 within 0.5%, the bar.
func TestMatchesThetaf(t *testing.T) {
	for _, s := range loadReference(t) {
		t.Run(s.Name, func(t *testing.T) {
			m, err := Fit(s.Values)
			require.NoError(t, err)
			want := s.Theta
			require.InEpsilon(t, want.Drift, m.Drift, 1e-8, "drift")
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
			t.Logf("alpha %.8g (R %.8g), h10 %.8g (R %.8g)", m.Alpha, want.Alpha, mean[9], want.Mean[9])
		})
	}
}
