package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/leaderboard"
	"github.com/augurhq/augur/internal/store"
)

// LeaderboardParams are the stored parameters of a leaderboard job.
type LeaderboardParams struct {
	// Sample names the bundled series, leaderboard.SampleDJ30.
	Sample string `json:"sample"`
	// Tail is how many of each series' last closes the models see.
	Tail    int      `json:"tail"`
	Horizon int      `json:"horizon"`
	Models  []string `json:"models"`
	// Evaluation, when set, also scores EvaluationModels (every model when
	// empty) by rolling origin on every series.
	Evaluation       *crossval.Plan `json:"evaluation,omitempty"`
	EvaluationModels []string       `json:"evaluation_models,omitempty"`
}

// DefaultLeaderboard is the leaderboard the models page shows: every model
// on the 30 bundled Dow stocks, the last DefaultLookback closes of each, at
// the default horizon, as a prediction with default settings would run.
//
// It also scores every model but the LSTM by rolling origin at that
// horizon: 10 origins 10 trading days apart on each stock, refitted at each,
// about 300 extra fits per model. The LSTM is left out of that part: each
// origin is a whole training, 300 of them minutes of a core every day for
// a background page; its one-step scores are still there.
func DefaultLeaderboard() LeaderboardParams {
	var evaluated []string
	for _, m := range registry.Names() {
		if m != registry.NameLSTM {
			evaluated = append(evaluated, m)
		}
	}
	return LeaderboardParams{Sample: leaderboard.SampleDJ30, Tail: DefaultLookback, Horizon: forecast.DefaultHorizon, Models: registry.Names(),
		Evaluation:       &crossval.Plan{Origins: 10, Step: 10, Horizon: forecast.DefaultHorizon, Refit: true, Window: crossval.Expanding},
		EvaluationModels: evaluated}
}

// LeaderboardMaxAge is how long a computed leaderboard is served before a
// fresh one is queued. The bundled prices never change, but the models do
// with each release, and a day is soon enough to see it.
const LeaderboardMaxAge = 24 * time.Hour

// computeLeaderboard runs the leaderboard job. It uses one worker
// goroutine: it is background work on the low queue, and must leave the
// other cores to the predictions users are waiting for.
func (w *Worker) computeLeaderboard(ctx context.Context, job *store.Job, progress *progressReporter) (any, error) {
	var params LeaderboardParams
	if err := json.Unmarshal(job.Params, &params); err != nil {
		return nil, permanent(fmt.Errorf("decode job parameters: %w", err))
	}
	if params.Sample != leaderboard.SampleDJ30 {
		return nil, permanent(fmt.Errorf("unknown sample %q, the bundled one is %s", params.Sample, leaderboard.SampleDJ30))
	}
	series, err := leaderboard.DJ30(ctx, params.Tail)
	if err != nil {
		return nil, err
	}
	progress.report(ctx, 1, ProgressDetail{Stage: "leaderboard", Message: "Running every model on the 30 Dow stocks"})
	lb, err := leaderboard.Run(ctx, series, leaderboard.Options{
		Models: params.Models, Horizon: params.Horizon, Workers: 1,
		Evaluation: params.Evaluation, EvaluationModels: params.EvaluationModels,
		Progress: func(done, total int) {
			progress.report(ctx, 100*done/total, ProgressDetail{
				Stage: "leaderboard", Message: fmt.Sprintf("%d of %d model runs", done, total), Step: done, Total: total,
			})
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		// Unknown models or a bad horizon: the same parameters fail again.
		return nil, permanent(err)
	}
	return lb, nil
}
