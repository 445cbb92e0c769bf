package forecast

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// walk is a deterministic zig-zag series: persistence errs by ±2 or ±3
// every day, so a model that knows the pattern beats it clearly.
func walk(n int) []float64 {
	closes := make([]float64, n)
	closes[0] = 100
	for i := 1; i < n; i++ {
		step := 2.0 + float64(i%2)
		if i%2 == 0 {
			step = -step
		}
		closes[i] = closes[i-1] + step
	}
	return closes
}

func testPoints(closes []float64, from int, predict func(i int) float64) []TestPoint {
	var out []TestPoint
	for i := from; i < len(closes); i++ {
		out = append(out, TestPoint{Index: i, Actual: closes[i], Predicted: predict(i)})
	}
	return out
}

func TestJudge(t *testing.T) {
	closes := walk(60)
	t.Run("a model far better than persistence beats it", func(t *testing.T) {
		r := &Report{Test: testPoints(closes, 40, func(i int) float64 { return closes[i] + 0.1*math.Sin(float64(i)) })}
		r.judge(closes, 1)
		require.NotNil(t, r.DM)
		require.Equal(t, 20, r.DM.N)
		require.Negative(t, r.DM.Statistic)
		require.Less(t, r.DM.PValue, 0.001)
		require.True(t, r.BeatsPersistence)
		require.Equal(t, "beats persistence (p < 0.001)", r.Verdict)
	})
	t.Run("persistence itself cannot be tested", func(t *testing.T) {
		r := &Report{Test: testPoints(closes, 40, func(i int) float64 { return closes[i-1] })}
		r.judge(closes, 1)
		require.Nil(t, r.DM)
		require.False(t, r.BeatsPersistence)
		require.Equal(t, "the same as persistence on every test day", r.Verdict)
	})
	t.Run("a slightly lower RMSE is no better", func(t *testing.T) {
		// Persistence shaded toward the actual on a few days only.
		r := &Report{Test: testPoints(closes, 40, func(i int) float64 {
			if i%7 == 0 {
				return (closes[i-1] + closes[i]) / 2
			}
			return closes[i-1]
		})}
		r.judge(closes, 1)
		r.Metrics = Evaluate(closes, r.Test, 1)
		require.Less(t, r.Metrics.RMSE, Evaluate(closes, PersistenceOn(closes, r.Test, 1), 1).RMSE)
		require.NotNil(t, r.DM)
		require.False(t, r.BeatsPersistence)
		require.Regexp(t, `^no better than persistence \(p = 0\.\d{3}\)$`, r.Verdict)
	})
	t.Run("significantly worse", func(t *testing.T) {
		r := &Report{Test: testPoints(closes, 40, func(i int) float64 { return closes[i] + 2*(closes[i]-closes[i-1]) + 0.1*math.Cos(float64(i)) })}
		r.judge(closes, 1)
		require.Positive(t, r.DM.Statistic)
		require.False(t, r.BeatsPersistence)
		require.Regexp(t, `^worse than persistence \(p [<=] 0\.\d{3}\)$`, r.Verdict)
	})
	t.Run("coverage is measured", func(t *testing.T) {
		r := &Report{Test: []TestPoint{{Index: 50, Actual: closes[50], Predicted: closes[50], PI80: &Band{Lower: 0, Upper: 1}}}}
		r.judge(closes, 1)
		require.Equal(t, []Coverage{{Level: Level80, Covered: 0, MeanWidth: 1, Points: 1}}, r.Coverage)
	})
}

func TestFormatP(t *testing.T) {
	require.Equal(t, "p = 0.041", FormatP(0.0412))
	require.Equal(t, "p = 0.001", FormatP(0.001))
	require.Equal(t, "p < 0.001", FormatP(0.00099))
	require.Equal(t, "p = 1.000", FormatP(1))
}
