package forecast

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// TestOLSIntervalsMatchStatsmodels checks the intervals against
// testdata/linreg_intervals.json, written by gen_linreg_intervals.py.
func TestOLSIntervalsMatchStatsmodels(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "linreg_intervals.json"))
	require.NoError(t, err)
	var ref struct {
		Cases []struct {
			Name string       `json:"name"`
			H    int          `json:"h"`
			X0   []float64    `json:"x0"`
			Mean []float64    `json:"mean"`
			PI80 [][2]float64 `json:"pi80"`
			PI95 [][2]float64 `json:"pi95"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.NotEmpty(t, ref.Cases)
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	cut := TestStart(len(closes))
	for _, c := range ref.Cases {
		x, y := closes[:cut-c.H], closes[c.H:cut]
		o, ok := newOLSIntervals(fitScaledOLS(x, y), x, y)
		require.True(t, ok)
		for i, x0 := range c.X0 {
			pi80, pi95 := o.bands(x0)
			require.InDelta(t, c.Mean[i], (pi80.Lower+pi80.Upper)/2, 1e-8, "%s row %d", c.Name, i)
			require.InDelta(t, c.PI80[i][0], pi80.Lower, 1e-8, "%s row %d", c.Name, i)
			require.InDelta(t, c.PI80[i][1], pi80.Upper, 1e-8, "%s row %d", c.Name, i)
			require.InDelta(t, c.PI95[i][0], pi95.Lower, 1e-8, "%s row %d", c.Name, i)
			require.InDelta(t, c.PI95[i][1], pi95.Upper, 1e-8, "%s row %d", c.Name, i)
		}
	}
}

// TestOLSIntervalsByHand works a four-point regression out by hand.
// x = 1,2,3,4 and y = 2,4,6,9 give x̄ = 2.5, Sxx = 5, Sxy = 11.5, so
// ŷ = −0.5 + 2.3x, residuals 0.2, −0.1, −0.4, 0.3 and s² = 0.30/2.
func TestOLSIntervalsByHand(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	y := []float64{2, 4, 6, 9}
	o, ok := newOLSIntervals(fitScaledOLS(x, y), x, y)
	require.True(t, ok)
	require.InDelta(t, 0.15, o.sd*o.sd, 1e-12)
	// t quantiles on 2 degrees of freedom: 1.885618 (80%), 4.302653 (95%).
	_, pi95 := o.bands(2.5)
	se := o.sd * 1.118033988749895 // √(1 + 1/4)
	require.InDelta(t, -0.5+2.3*2.5-4.302652729749464*se, pi95.Lower, 1e-9)
	pi80, _ := o.bands(5)
	se = o.sd * 1.5811388300841898 // √(1 + 1/4 + 6.25/5)
	require.InDelta(t, -0.5+2.3*5+1.8856180831641267*se, pi80.Upper, 1e-9)

	_, ok = newOLSIntervals(fitScaledOLS(x[:2], y[:2]), x[:2], y[:2])
	require.False(t, ok, "two points leave no residual degrees of freedom")
}
