package leaderboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
	"github.com/augurhq/augur/internal/forecast/registry"
)

func TestSummarise(t *testing.T) {
	report := func(rmse float64, beats bool, hit, calls, cov80, cov95 float64, seconds float64) *forecast.Report {
		p := 0.5
		if beats {
			p = 0.01
		}
		return &forecast.Report{
			DM:               &forecast.DMTest{PValue: p},
			Metrics:          forecast.Metrics{RMSE: rmse, DirectionalAccuracy: hit, DirectionalCallShare: calls},
			Persistence:      forecast.Metrics{RMSE: 10},
			BeatsPersistence: beats,
			Coverage:         []forecast.Coverage{{Level: forecast.Level80, Covered: cov80}, {Level: forecast.Level95, Covered: cov95}},
			Seconds:          seconds,
		}
	}
	runs := []outcome{
		{series: "c", report: report(8, true, 0.6, 1, 0.8, 0.9, 1)},
		{series: "a", report: report(11, false, 0.4, 1, 0.7, 1, 2)},
		{series: "b", report: report(9, false, 0, 0, 0.6, 0.95, 3)},
		{series: "d", err: errors.New("too short")},
	}
	e := summarise("m", runs)
	require.Equal(t, "m", e.Model)
	require.Equal(t, 3, e.Series)
	require.Equal(t, 1, e.Failed)
	require.Equal(t, map[string]string{"d": "too short"}, e.Errors)
	require.Equal(t, 1, e.Beats)
	require.Equal(t, []string{"c"}, e.BeatsSeries)
	// Skills −0.1, 0.1, 0.2: the median is 0.1.
	require.InDelta(t, 0.1, e.MedianSkill, 1e-12)
	require.Equal(t, 0.5, e.MedianP)
	// The series without calls does not count in the hit rate.
	require.InDelta(t, 0.5, e.MeanHitRate, 1e-12)
	require.Equal(t, 2, e.CallSeries)
	require.InDelta(t, 0.7, e.MeanCoverage80, 1e-12)
	require.InDelta(t, 0.95, e.MeanCoverage95, 1e-12)
	require.InDelta(t, 6, e.Seconds, 1e-12)

	// Each series the model ran on has its row, by name, so the totals
	// can be checked (issue 20 item 5).
	require.Len(t, e.Rows, 3)
	a, b, c := e.Rows[0], e.Rows[1], e.Rows[2]
	require.Equal(t, []string{"a", "b", "c"}, []string{a.Series, b.Series, c.Series})
	require.InDelta(t, -0.1, *a.Skill, 1e-12)
	require.Equal(t, 0.01, *c.DMPValue)
	require.True(t, c.BeatsPersistence)
	require.Equal(t, 0.7, *a.Coverage80)
	require.Equal(t, 0.95, *b.Coverage95)
	require.Zero(t, b.CallShare)
	doc, err := json.Marshal(e)
	require.NoError(t, err)
	require.Contains(t, string(doc), `"series_results":[{"series":"a","rmse":11,`)

	empty := summarise("m", []outcome{{series: "a", err: errors.New("x")}})
	require.True(t, math.IsNaN(empty.MedianSkill))
	require.True(t, math.IsNaN(empty.MeanCoverage80))
}

func TestMedian(t *testing.T) {
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	require.True(t, math.IsNaN(median(nil)))
}

// TestRun runs the fast models on slices of a real series, in parallel, and
// checks that the table adds up and that the output does not depend on
// the number of workers.
func TestRun(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.MSFT)
	var series []Series
	for i, name := range []string{"s1", "s2", "s3", "s4"} {
		series = append(series, Series{Name: name, Closes: closes[i*300 : i*300+300]})
	}
	series = append(series, Series{Name: "short", Closes: closes[:1]})
	models := []string{registry.NameLinearRegression, registry.NameDrift, registry.NamePersistence}
	var progress [][2]int
	one, err := Run(context.Background(), series, Options{Models: models, Horizon: 3, Workers: 1,
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) }})
	require.NoError(t, err)
	require.Len(t, progress, 15)
	require.Equal(t, [2]int{15, 15}, progress[14])
	four, err := Run(context.Background(), series, Options{Models: models, Horizon: 3, Workers: 4})
	require.NoError(t, err)
	require.Equal(t, 5, one.Series)
	require.Equal(t, 3, one.Horizon)
	require.Equal(t, 4, four.Workers)
	require.Len(t, one.Models, 3)
	for i, e := range one.Models {
		require.Equal(t, models[i], e.Model)
		require.Equal(t, 4, e.Series)
		require.Equal(t, 1, e.Failed, "one close is too short for every model")
		require.Contains(t, e.Errors, "short")
		got := four.Models[i]
		require.Equal(t, e.Beats, got.Beats)
		require.Equal(t, e.BeatsSeries, got.BeatsSeries)
		require.Equal(t, e.MedianSkill, got.MedianSkill)
		require.Equal(t, e.MeanCoverage95, got.MeanCoverage95)
	}
	naive := one.Models[2]
	require.Zero(t, naive.Beats, "persistence cannot beat itself")
	require.Zero(t, naive.MedianSkill)
	require.Zero(t, naive.CallSeries)

	var md bytes.Buffer
	require.NoError(t, one.WriteMarkdown(&md))
	require.Contains(t, md.String(), "| model | beats persistence (p < 0.05) | median DM p | median skill |")
	require.Contains(t, md.String(), "| naive | 0 of 4 | – | +0.00% | – |")
	require.Contains(t, md.String(), "5 series, horizon 3, 1 workers")

	// A job stores the leaderboard with json.Marshal: NaN must not stop it.
	raw, err := json.Marshal(one)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"mean_hit_rate":null`)
	var js bytes.Buffer
	require.NoError(t, one.WriteJSON(&js))
	var decoded struct {
		Series int `json:"series"`
		Models []struct {
			Model       string   `json:"model"`
			MeanHitRate *float64 `json:"mean_hit_rate"`
			MedianSkill *float64 `json:"median_skill"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &decoded))
	require.Equal(t, 5, decoded.Series)
	require.Nil(t, decoded.Models[2].MeanHitRate, "no calls: null, not NaN")
	require.NotNil(t, decoded.Models[2].MedianSkill)
}

func TestRunRejects(t *testing.T) {
	s := []Series{{Name: "a", Closes: []float64{1, 2, 3}}}
	_, err := Run(context.Background(), s, Options{Models: []string{"prophet"}})
	require.ErrorIs(t, err, registry.ErrUnknownModel)
	_, err = Run(context.Background(), nil, Options{})
	require.Error(t, err)
	_, err = Run(context.Background(), s, Options{Horizon: forecast.MaxHorizon + 1})
	require.ErrorIs(t, err, forecast.ErrInvalidHorizon)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, s, Options{Models: []string{registry.NameDrift}})
	require.ErrorIs(t, err, context.Canceled)
}

func TestDJ30(t *testing.T) {
	series, err := DJ30(context.Background(), 120)
	require.NoError(t, err)
	require.Len(t, series, 30)
	for _, s := range series {
		require.NotEqual(t, "^GSPC", s.Name)
		require.Len(t, s.Closes, 120, s.Name)
	}
	require.Equal(t, "AA", series[0].Name, "sorted by ticker")
}

// The leaderboard runs ETS and Theta (issue 20 items 7 and 9) on every
// series of the DJ30 sample, with a report for each: intervals whose
// coverage it can average, and a JSON encoding (no NaN or infinity).
func TestRunsETSAndTheta(t *testing.T) {
	series, err := DJ30(context.Background(), 250)
	require.NoError(t, err)
	lb, err := Run(context.Background(), series, Options{Models: []string{registry.NameETS, registry.NameTheta}, Horizon: 5, Workers: 2})
	require.NoError(t, err)
	require.Len(t, lb.Models, 2)
	for _, e := range lb.Models {
		require.Equal(t, len(series), e.Series, "%s: %v", e.Model, e.Errors)
		require.Zero(t, e.Failed, e.Model)
		require.Greater(t, e.MeanCoverage95, 0.5, e.Model)
	}
	_, err = json.Marshal(lb)
	require.NoError(t, err)
}

// TestRollingOriginScores: with an evaluation, every model asked for is
// scored by rolling origin on every series, summed up per horizon; a
// model left out has no such scores, and the LSTM's origins would be
// capped as a job's are.
func TestRollingOriginScores(t *testing.T) {
	series, err := DJ30(context.Background(), 200)
	require.NoError(t, err)
	series = series[:6]
	plan := crossval.Plan{Origins: 8, Step: 5, Horizon: 3, Refit: true, Window: crossval.Expanding}
	lb, err := Run(context.Background(), series, Options{Models: []string{"naive", "drift", "linreg"}, Horizon: 3,
		Evaluation: &plan, EvaluationModels: []string{"naive", "drift"}})
	require.NoError(t, err)
	require.Len(t, lb.Models, 3)
	for _, e := range lb.Models[:2] {
		require.Equal(t, plan, *e.RollingOriginPlan, e.Model)
		require.Len(t, e.RollingOrigin, 3, e.Model)
		for i, h := range e.RollingOrigin {
			require.Equal(t, i+1, h.H)
			require.Equal(t, len(series), h.Series, "%s h=%d scored on every series", e.Model, h.H)
			require.NotNil(t, h.MedianMASE)
			require.Positive(t, *h.MedianMASE)
			require.NotNil(t, h.MeanCoverage95)
		}
	}
	naive := lb.Models[0].RollingOrigin
	require.Zero(t, naive[0].Beats, "persistence never beats itself")
	// A day further out is harder to forecast: the MASE of persistence
	// grows with the horizon.
	require.Greater(t, *naive[2].MedianMASE, *naive[0].MedianMASE)
	require.Nil(t, lb.Models[2].RollingOrigin, "linreg was not asked for")

	var md bytes.Buffer
	require.NoError(t, lb.WriteMarkdown(&md))
	require.Contains(t, md.String(), "| drift | 8 every 5 | 3 |")
	require.Equal(t, 10, Options{Evaluation: &crossval.Plan{Origins: 50}}.planFor(registry.NameLSTM).Origins)
}
