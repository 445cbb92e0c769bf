package jobs_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// TestPredictionWithEvaluation runs a prediction that asks for a
// rolling-origin evaluation (its parameters stored as Normalize leaves
// them) and checks that every model, the baseline
// included, has one by the plan in the stored result, and that a plan too
// long for one model's minimum window is that model's error only.
func TestPredictionWithEvaluation(t *testing.T) {
	f := newFixture(t, &revisablePrices{})
	run := func(params string) jobs.PredictionResult {
		job, _, err := f.db.CreateJob(context.Background(), store.NewJob{
			OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "ABC", Queue: jobs.QueueCritical,
			Params: store.JSON(params),
		})
		require.NoError(t, err)
		require.NoError(t, f.queue.Enqueue(context.Background(), job))
		done := f.awaitFinal(t, job)
		require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
		var res jobs.PredictionResult
		require.NoError(t, json.Unmarshal(done.Result, &res))
		return res
	}

	res := run(`{"models":["arima","linreg"],"horizon":3,"evaluation":{"origins":10,"step":5,"horizon":3,"refit":false,"window":"expanding"}}`)
	require.Empty(t, res.EvaluationErrors)
	require.Len(t, res.Evaluation, 3)
	for _, name := range []string{"arima", "linreg", "naive"} {
		ev := res.Evaluation[name]
		require.NotNil(t, ev, name)
		require.Equal(t, crossval.Plan{Origins: 10, Step: 5, Horizon: 3, Refit: false, Window: crossval.Expanding}, ev.Plan, name)
		require.Len(t, ev.Origins, 10, name)
		require.Equal(t, 300-3, ev.Origins[9].Index, name)
		require.Len(t, ev.Horizons, 3, name)
	}
	require.Equal(t, 1, res.Evaluation["arima"].Fits, "ARIMA keeps its first fit")
	require.Equal(t, 10, res.Evaluation["linreg"].Fits, "a closed-form model refits anyway")

	// 59 origins 5 apart with horizon 7 leave 3 of the 300 closes before
	// the first: enough for persistence, not for ARIMA(6,1,0).
	res = run(`{"models":["arima"],"horizon":7,"evaluation":{"origins":59,"step":5,"horizon":7,"refit":true,"window":"expanding"}}`)
	require.Contains(t, res.EvaluationErrors["arima"], "invalid evaluation plan")
	require.NotNil(t, res.Evaluation["naive"])
	require.NotNil(t, res.Models["arima"], "the forecast stands")
}
