package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/jobs"
)

// TestNormalizeEvaluation checks the evaluation's defaults and that each
// bad field, and a plan beyond a model's origin cap or the lookback, is
// refused naming its field.
func TestNormalizeEvaluation(t *testing.T) {
	p := jobs.PredictionParams{Models: []string{"arima"}, Horizon: 5, Evaluation: &jobs.EvaluationParams{Origins: 20}}
	require.Nil(t, p.Normalize(registry.Known, nil))
	require.Equal(t, crossval.Plan{Origins: 20, Step: jobs.DefaultEvaluationStep, Horizon: 5, Refit: true, Window: crossval.Expanding}, p.Evaluation.Plan())

	for _, tc := range []struct {
		name       string
		models     []string
		evaluation jobs.EvaluationParams
		field      string
		code       string
	}{
		{"no origins", nil, jobs.EvaluationParams{}, "evaluation.origins", "out_of_range"},
		{"negative step", nil, jobs.EvaluationParams{Origins: 2, Step: -1}, "evaluation.step", "out_of_range"},
		{"horizon", nil, jobs.EvaluationParams{Origins: 2, Horizon: 31}, "evaluation.horizon", "out_of_range"},
		{"window", nil, jobs.EvaluationParams{Origins: 2, Window: "sliding"}, "evaluation.window", "unknown_window"},
		{"lstm refits", []string{"lstm"}, jobs.EvaluationParams{Origins: registry.OriginCap("lstm") + 1}, "evaluation.origins", "too_many"},
		{"beyond every cap", []string{"naive"}, jobs.EvaluationParams{Origins: registry.MaxOrigins + 1, Step: 1}, "evaluation.origins", "too_many"},
		{"beyond the lookback", []string{"naive"}, jobs.EvaluationParams{Origins: 100, Step: 5}, "evaluation.origins", "too_long"},
	} {
		p := jobs.PredictionParams{Models: tc.models, Evaluation: &tc.evaluation}
		ferr := p.Normalize(registry.Known, nil)
		require.NotNil(t, ferr, tc.name)
		require.Equal(t, tc.field, ferr.Field, tc.name)
		require.Equal(t, tc.code, ferr.Code, tc.name)
	}
	hold := false
	p = jobs.PredictionParams{Models: []string{"arima_auto"}, Lookback: 2000, Evaluation: &jobs.EvaluationParams{Origins: registry.MaxOrigins, Step: 1, Refit: &hold}}
	require.Nil(t, p.Normalize(registry.Known, nil))
	require.False(t, p.Evaluation.Plan().Refit)
}
