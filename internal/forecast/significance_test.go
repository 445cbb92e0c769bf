package forecast

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// significanceReference is testdata/significance.json, written by
// testdata/gen_significance.py with numpy and scipy.
type significanceReference struct {
	DieboldMariano []struct {
		Name      string    `json:"name"`
		H         int       `json:"h"`
		E1        []float64 `json:"e1"`
		E2        []float64 `json:"e2"`
		Statistic float64   `json:"statistic"`
		PValue    float64   `json:"p_value"`
	} `json:"diebold_mariano"`
	PesaranTimmermann []struct {
		Name    string   `json:"name"`
		N       int      `json:"n"`
		Hits    int      `json:"hits"`
		UpCalls int      `json:"up_calls"`
		UpMoves int      `json:"up_moves"`
		PValue  *float64 `json:"p_value"`
	} `json:"pesaran_timmermann"`
}

func loadSignificanceReference(t *testing.T) significanceReference {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "significance.json"))
	require.NoError(t, err)
	var ref significanceReference
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.NotEmpty(t, ref.DieboldMariano)
	require.NotEmpty(t, ref.PesaranTimmermann)
	return ref
}

// studentT3CDF is the closed form of Student's t CDF with 3 degrees of
// freedom, so the hand-worked case depends on no library.
func studentT3CDF(x float64) float64 {
	u := x / math.Sqrt(3)
	return 0.5 + (u/(1+u*u)+math.Atan(u))/math.Pi
}

// TestDieboldMarianoByHand works the test out on four points. With
// e1 = 1,2,3,4 and e2 = 2,2,2,2 the loss differences are −3, 0, 5, 12:
// mean 3.5, deviations −6.5, −3.5, 1.5, 8.5, γ₀ = 129/4 = 32.25 and
// γ₁ = (22.75 − 5.25 + 12.75)/4 = 7.5625.
func TestDieboldMarianoByHand(t *testing.T) {
	e1 := []float64{1, 2, 3, 4}
	e2 := []float64{2, 2, 2, 2}
	for _, tc := range []struct {
		h        int
		longRun  float64
		hlnRatio float64 // (n + 1 − 2h + h(h−1)/n)/n
	}{
		{h: 1, longRun: 32.25, hlnRatio: 3.0 / 4},
		{h: 2, longRun: 32.25 + 2*7.5625, hlnRatio: 1.5 / 4},
	} {
		got, err := DieboldMariano(e1, e2, tc.h)
		require.NoError(t, err)
		stat := 3.5 / math.Sqrt(tc.longRun/4) * math.Sqrt(tc.hlnRatio)
		require.InDelta(t, stat, got.Statistic, 1e-12, "h=%d", tc.h)
		require.InDelta(t, 2*studentT3CDF(-stat), got.PValue, 1e-12, "h=%d", tc.h)
		require.Equal(t, 4, got.N)
		require.Equal(t, tc.h, got.H)
		// The first forecast is worse, so it cannot be "better".
		require.False(t, got.Better())
	}
	// Swapping the forecasts flips the sign and keeps the p-value.
	a, err := DieboldMariano(e1, e2, 1)
	require.NoError(t, err)
	b, err := DieboldMariano(e2, e1, 1)
	require.NoError(t, err)
	require.InDelta(t, -a.Statistic, b.Statistic, 1e-12)
	require.InDelta(t, a.PValue, b.PValue, 1e-12)
}

func TestDieboldMarianoMatchesReference(t *testing.T) {
	ref := loadSignificanceReference(t)
	for _, c := range ref.DieboldMariano {
		got, err := DieboldMariano(c.E1, c.E2, c.H)
		require.NoError(t, err, c.Name)
		require.InDelta(t, c.Statistic, got.Statistic, 1e-9*math.Abs(c.Statistic), c.Name)
		require.InDelta(t, c.PValue, got.PValue, 1e-9, c.Name)
	}
}

// TestDieboldMarianoReferenceErrorsAreDrifts ties the reference's one-step
// errors to this package's own drift model, so the reference tests what
// the reports will compute.
func TestDieboldMarianoReferenceErrorsAreDrifts(t *testing.T) {
	ref := loadSignificanceReference(t)
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	rep, err := Drift(context.Background(), closes, 1)
	require.NoError(t, err)
	c := ref.DieboldMariano[0]
	require.Equal(t, 1, c.H)
	require.Len(t, rep.Test, len(c.E1))
	for i, p := range rep.Test {
		require.InDelta(t, c.E1[i], p.Predicted-p.Actual, 1e-9, "point %d", i)
	}
}

func TestDieboldMarianoNoTest(t *testing.T) {
	for name, tc := range map[string]struct {
		e1, e2 []float64
		h      int
	}{
		"identical forecasts": {e1: []float64{1, -2, 3}, e2: []float64{1, -2, 3}, h: 1},
		"one point":           {e1: []float64{1}, e2: []float64{2}, h: 1},
		"horizon too long":    {e1: []float64{1, 2, 3}, e2: []float64{2, 2, 2}, h: 3},
		"horizon zero":        {e1: []float64{1, 2, 3}, e2: []float64{2, 2, 2}, h: 0},
	} {
		_, err := DieboldMariano(tc.e1, tc.e2, tc.h)
		require.ErrorIs(t, err, ErrNoTest, name)
	}
	_, err := DieboldMariano([]float64{1, 2}, []float64{1}, 1)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNoTest)
}

func TestDMTestBetter(t *testing.T) {
	require.True(t, DMTest{Statistic: -2.5, PValue: 0.01}.Better())
	require.False(t, DMTest{Statistic: -1.2, PValue: 0.2}.Better(), "not significant")
	require.False(t, DMTest{Statistic: 2.5, PValue: 0.01}.Better(), "significantly worse")
}

func TestPesaranTimmermannMatchesPython(t *testing.T) {
	ref := loadSignificanceReference(t)
	for _, c := range ref.PesaranTimmermann {
		p, ok := PesaranTimmermann(c.Hits, c.UpCalls, c.UpMoves, c.N)
		if c.PValue == nil {
			require.False(t, ok, c.Name)
			continue
		}
		require.True(t, ok, c.Name)
		require.InDelta(t, *c.PValue, p, 1e-12, c.Name)
	}
}

// TestAConstantCallHasNoSkillToTest is defect 4 of issue 20: linreg called
// "up" on 101 of 101 days of a rising series, and a binomial test against
// 50% gave p = 0.0006, which the page printed as skill. Against the base
// rates there is nothing to test.
func TestAConstantCallHasNoSkillToTest(t *testing.T) {
	_, ok := PesaranTimmermann(70, 101, 70, 101)
	require.False(t, ok, "always up")
	_, ok = PesaranTimmermann(31, 0, 70, 101)
	require.False(t, ok, "always down")
	_, ok = PesaranTimmermann(1, 1, 1, 1)
	require.False(t, ok, "one call")
	// Calls that follow the moves more often than their base rates allow
	// are skill; calls independent of them are not.
	p, ok := PesaranTimmermann(90, 60, 60, 100)
	require.True(t, ok)
	require.Less(t, p, 0.001)
	p, ok = PesaranTimmermann(52, 60, 60, 100)
	require.True(t, ok)
	require.Greater(t, p, 0.3)
}
