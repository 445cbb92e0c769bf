package forecast

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

func TestDirections(t *testing.T) {
	closes := []float64{10, 11, 11, 12, 11, 11}
	test := []TestPoint{
		{Index: 1, Actual: 11, Predicted: 10.5}, // up, called up: hit
		{Index: 2, Actual: 11, Predicted: 12},   // flat day, called up: a call, not scored
		{Index: 3, Actual: 12, Predicted: 11},   // up, flat prediction: no call
		{Index: 4, Actual: 11, Predicted: 12.5}, // down, called up: miss
		{Index: 5, Actual: 11, Predicted: 10},   // flat day, called down: a call, not scored
		{Index: 0, Actual: 10, Predicted: 9},    // no starting close: not a day
	}
	d := Directions(closes, test, 1)
	require.Equal(t, Direction{Days: 5, Calls: 4, Scored: 2, Hits: 1, UpCalls: 2, UpMoves: 1}, d)
	require.Equal(t, 0.5, d.HitRate())
	require.Equal(t, 0.8, d.CallShare())
	_, ok := d.PValue()
	require.False(t, ok, "every scored call was up: nothing to test")
	require.Zero(t, Direction{}.HitRate())
	require.Zero(t, Direction{}.CallShare())
}

// TestPersistenceMakesNoCalls is defect 1 of issue 12: persistence, which
// never predicts a move, reported the share of down days as its hit rate.
func TestPersistenceMakesNoCalls(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	rep, err := Persistence(context.Background(), closes, 1)
	require.NoError(t, err)
	require.Zero(t, rep.Metrics.DirectionalAccuracy)
	require.Zero(t, rep.Metrics.DirectionalCallShare)
	require.Nil(t, rep.Metrics.DirectionalPValue)

	// The drift model always calls the sign of its drift.
	drift, err := Drift(context.Background(), closes, 1)
	require.NoError(t, err)
	require.Equal(t, 1.0, drift.Metrics.DirectionalCallShare)
	require.Greater(t, drift.Metrics.DirectionalAccuracy, 0.0)
}

// TestMultiDayCallsAreTestedOnWindowsThatDoNotOverlap: a 5-day-ahead
// model's calls from consecutive days share four of their five days; its
// skill is tested on every fifth day only.
func TestMultiDayCallsAreTestedOnWindowsThatDoNotOverlap(t *testing.T) {
	test := make([]TestPoint, 23)
	for i := range test {
		test[i] = TestPoint{Index: 100 + i}
	}
	kept := NonOverlapping(test, 5)
	require.Len(t, kept, 5)
	for i, p := range kept {
		require.Equal(t, 100+5*i, p.Index)
	}
	require.Equal(t, test, NonOverlapping(test, 1))
}
