package arima

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSelectOrderChoosesAsRDoes: on the last 504 closes of four European
// indices (R's EuStockMarkets), the S&P 500 and MSFT, SelectOrder picks
// the model R's auto.arima picks, with the same AICc; before candidates
// near a unit root were refused, it picked (2,1,2) or (2,1,3) models with
// inverse roots of modulus 0.99-1.00 on four of the six. The reference is
// testdata/auto_reference.json, written by gen_auto_reference.R.
func TestSelectOrderChoosesAsRDoes(t *testing.T) {
	raw, err := os.ReadFile("testdata/auto_reference.json")
	require.NoError(t, err)
	var ref struct {
		Series []struct {
			Name           string    `json:"name"`
			P              int       `json:"p"`
			D              int       `json:"d"`
			Q              int       `json:"q"`
			Drift          bool      `json:"drift"`
			AICc           float64   `json:"aicc"`
			MaxInverseRoot float64   `json:"max_inverse_root"`
			Values         []float64 `json:"values"`
		} `json:"series"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.Len(t, ref.Series, 6)
	for _, s := range ref.Series {
		sel, err := SelectOrder(context.Background(), s.Values)
		require.NoError(t, err, s.Name)
		got := sel.Best
		require.Equal(t, Order{P: s.P, D: s.D, Q: s.Q, Drift: s.Drift}, got.Order, s.Name)
		require.InEpsilon(t, s.AICc, got.AICc(), 1e-5, s.Name)
		require.InDelta(t, s.MaxInverseRoot, maxInverseRoot(got.Coefficients), 1e-3, s.Name)
		for _, c := range sel.Candidates {
			require.NotEqual(t, Order{P: 2, D: 1, Q: 3}, c.Order, "%s: the near-unit-root model is no candidate", s.Name)
		}
	}
}

func TestMaxInverseRoot(t *testing.T) {
	for _, tt := range []struct {
		c    Coefficients
		want float64
	}{
		{Coefficients{}, 0},
		{Coefficients{AR: []float64{0.5}}, 0.5},
		{Coefficients{MA: []float64{-0.8}}, 0.8},
		// 1 - 1.5z + 0.56z² = (1 - 0.7z)(1 - 0.8z)
		{Coefficients{AR: []float64{1.5, -0.56}}, 0.8},
		// complex pair: 1 - z + 0.9z², inverse roots of modulus √0.9
		{Coefficients{AR: []float64{1, -0.9}}, 0.9486832981},
		// a trailing zero changes nothing
		{Coefficients{AR: []float64{0.3, 0}, MA: []float64{0.995}}, 0.995},
	} {
		require.InDelta(t, tt.want, maxInverseRoot(tt.c), 1e-9, "%+v", tt.c)
	}
	require.True(t, nearUnitRoot(Coefficients{AR: []float64{0.991}}))
	require.False(t, nearUnitRoot(Coefficients{AR: []float64{0.99}}))
}
