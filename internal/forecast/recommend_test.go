package forecast_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// scored builds a report with the given test record. skill is the relative
// RMSE reduction over persistence (negative: worse than persistence); a
// positive skill comes with a significant Diebold–Mariano test (p = 0.004),
// a negative one with an insignificant test (p = 0.2).
func scored(model string, skill, mapePct float64, lag int, forecastValues ...float64) *forecast.Report {
	const persistenceRMSE = 10.0
	r := &forecast.Report{
		Model:       model,
		Forecast:    forecastValues,
		Metrics:     forecast.Metrics{RMSE: persistenceRMSE * (1 - skill), MAPE: mapePct},
		Persistence: forecast.Metrics{RMSE: persistenceRMSE},
	}
	switch {
	case skill > 0:
		r.DM = &forecast.DMTest{Statistic: -2.9, PValue: 0.004, N: 100, H: lag}
	case skill < 0:
		r.DM = &forecast.DMTest{Statistic: 1.3, PValue: 0.2, N: 100, H: lag}
	}
	r.BeatsPersistence = r.DM != nil && r.DM.Better()
	r.PredictsDaysAhead = lag
	return r
}

// insignificant replaces the report's test by one with p-value p that does
// not reject equal accuracy, or removes it when p < 0.
func insignificant(r *forecast.Report, p float64) *forecast.Report {
	r.DM = nil
	if p >= 0 {
		r.DM = &forecast.DMTest{Statistic: -1, PValue: p, N: 100, H: 1}
	}
	r.BeatsPersistence = false
	return r
}

func polarity(v float64) *float64 { return &v }

func TestRecommendClassic(t *testing.T) {
	up := scored(forecast.NameLinearRegression, -0.1, 2, 7, 101, 102, 103, 104, 105, 106, 107) // mean 104
	down := scored(forecast.NameLinearRegression, 0.1, 2, 7, 99, 98, 97, 96, 95, 94, 93)       // mean 96
	tests := []struct {
		name      string
		reports   []*forecast.Report
		sentiment *float64
		action    string
		movePct   float64
		reason    string
	}{
		{name: "below forecast, positive news", reports: []*forecast.Report{up}, sentiment: polarity(0.3), action: forecast.ActionBuy, movePct: 4, reason: "is below the forecast mean 104.00"},
		{name: "below forecast, negative news", reports: []*forecast.Report{up}, sentiment: polarity(-0.3), action: forecast.ActionSell, movePct: 4, reason: "is not positive"},
		{name: "below forecast, neutral news", reports: []*forecast.Report{up}, sentiment: polarity(0), action: forecast.ActionSell, movePct: 4, reason: "is not positive"},
		{name: "below forecast, no news", reports: []*forecast.Report{up}, action: forecast.ActionSell, movePct: 4, reason: "No news sentiment"},
		{name: "above forecast, positive news", reports: []*forecast.Report{down}, sentiment: polarity(0.9), action: forecast.ActionSell, movePct: -4, reason: "is not below"},
		{name: "other models are ignored", reports: []*forecast.Report{scored("arima", 0.5, 1, 1, 50), up}, sentiment: polarity(0.3), action: forecast.ActionBuy, movePct: 4},
		{name: "regression worse than persistence is flagged", reports: []*forecast.Report{up}, sentiment: polarity(0.3), action: forecast.ActionBuy, movePct: 4, reason: "did not significantly beat assuming the price stays put (RMSE 10; p = 0.200)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := forecast.Recommend(100, tt.reports, tt.sentiment, forecast.ModeClassic)
			require.NoError(t, err)
			require.Equal(t, forecast.ModeClassic, rec.Mode)
			require.Equal(t, tt.action, rec.Action)
			require.InDelta(t, tt.movePct, rec.ExpectedMovePct, 1e-9)
			require.Zero(t, rec.Confidence)
			require.True(t, strings.HasPrefix(rec.Disclaimer, "Not investment advice: "))
			if tt.reason != "" {
				require.True(t, containsReason(rec.Reasons, tt.reason), "no reason containing %q in %q", tt.reason, rec.Reasons)
			}
		})
	}

	_, err := forecast.Recommend(100, []*forecast.Report{scored("arima", 0.5, 1, 1, 110)}, polarity(1), forecast.ModeClassic)
	require.ErrorIs(t, err, forecast.ErrNoLinearRegression)
}

func TestRecommendEvidence(t *testing.T) {
	tests := []struct {
		name       string
		reports    []*forecast.Report
		sentiment  *float64
		action     string
		movePct    float64
		confidence float64
		reason     string
	}{
		{
			name:   "no reports",
			action: forecast.ActionHold, reason: "No model beat the persistence forecast",
		},
		{
			name:    "a model worse than persistence has no vote however big its move",
			reports: []*forecast.Report{scored("lstm", -0.3, 1, 1, 150)},
			action:  forecast.ActionHold, reason: "lstm: no better than persistence (p = 0.200) (test RMSE 13 vs 10), no vote.",
		},
		{
			name:    "a lower RMSE that is not significant has no vote",
			reports: []*forecast.Report{insignificant(scored("arima", 0.05, 1, 1, 110), 0.31)},
			action:  forecast.ActionHold, reason: "arima: no better than persistence (p = 0.310) (test RMSE 9.5 vs 10), no vote.",
		},
		{
			name:    "a model without a significance test has no vote",
			reports: []*forecast.Report{insignificant(scored("drift", 0.2, 1, 1, 110), -1)},
			action:  forecast.ActionHold, reason: "drift: no significance test against persistence, no vote.",
		},
		{
			name: "a model that is persistence says so",
			reports: []*forecast.Report{func() *forecast.Report {
				r := insignificant(scored("arima_auto", 0, 1, 1, 100), -1)
				r.Verdict = "the same as persistence on every test day"
				return r
			}()},
			action: forecast.ActionHold, reason: "arima_auto: the same as persistence on every test day, no vote.",
		},
		{
			name:    "persistence itself never votes",
			reports: []*forecast.Report{scored(forecast.NamePersistence, 0, 1, 1, 100)},
			action:  forecast.ActionHold, reason: "naive: the persistence baseline",
		},
		{
			name:    "skilled model, move well beyond its error",
			reports: []*forecast.Report{scored("arima", 0.2, 1, 1, 105)},
			action:  forecast.ActionBuy, movePct: 5, confidence: 1, reason: "arima: beats persistence by 20.0% (test RMSE 8 vs 10, p = 0.004)",
		},
		{
			name:    "skilled model, fall well beyond its error",
			reports: []*forecast.Report{scored("arima", 0.2, 1, 1, 95)},
			action:  forecast.ActionSell, movePct: -5, confidence: 1,
		},
		{
			name:    "unskilled voters do not dilute a skilled one",
			reports: []*forecast.Report{scored("arima", 0.2, 1, 1, 105), scored("lstm", -0.5, 1, 1, 50)},
			action:  forecast.ActionBuy, movePct: 5, confidence: 1,
		},
		{
			// One-step error 1% over four days is ±2%: a 1.5% move is noise.
			name:    "one-step error scaled to a multi-day move",
			reports: []*forecast.Report{scored("arima", 0.2, 1, 1, 100.5, 101, 101.2, 101.5)},
			action:  forecast.ActionHold, movePct: 1.5, confidence: 0.25, reason: "typical error ±2.00%",
		},
		{
			// The same move against an error already measured four days out.
			name:    "error measured at the forecast distance",
			reports: []*forecast.Report{scored(forecast.NameLinearRegression, 0.2, 1, 4, 100.5, 101, 101.2, 101.5)},
			action:  forecast.ActionBuy, movePct: 1.5, confidence: 0.75,
		},
		{
			name:    "inside the band without news",
			reports: []*forecast.Report{scored("arima", 0.2, 1, 1, 100.9)},
			action:  forecast.ActionHold, movePct: 0.9, confidence: 0.1, reason: "No news sentiment went into the decision",
		},
		{
			name:      "positive news tips a borderline rise",
			reports:   []*forecast.Report{scored("arima", 0.2, 1, 1, 100.9)},
			sentiment: polarity(1),
			action:    forecast.ActionBuy, movePct: 0.9, confidence: 0.45, reason: "moves the BUY bar to +0.75%",
		},
		{
			name:      "negative news makes a rise harder to call",
			reports:   []*forecast.Report{scored("arima", 0.2, 1, 1, 101.1)},
			sentiment: polarity(-1),
			action:    forecast.ActionHold, movePct: 1.1,
		},
		{
			name:      "news alone never trades",
			reports:   []*forecast.Report{scored("arima", 0.2, 1, 1, 100)},
			sentiment: polarity(1),
			action:    forecast.ActionHold, confidence: 1,
		},
		{
			// Weighted move (0.2×6 - 0.1×3)/0.3 = 3%; direction agreement 1/3.
			name:    "disagreeing models",
			reports: []*forecast.Report{scored("arima", 0.2, 1, 1, 106), scored("lstm", 0.1, 1, 1, 97)},
			action:  forecast.ActionBuy, movePct: 3, confidence: 1.0 / 3, reason: "disagree on the direction",
		},
		{
			name:    "barely skilled model earns little confidence",
			reports: []*forecast.Report{scored("drift", 0.02, 1, 1, 105)},
			action:  forecast.ActionBuy, movePct: 5, confidence: 0.2,
		},
		{
			name:    "nil reports are skipped",
			reports: []*forecast.Report{nil, scored("arima", 0.2, 1, 1, 95)},
			action:  forecast.ActionSell, movePct: -5, confidence: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := forecast.Recommend(100, tt.reports, tt.sentiment, forecast.ModeEvidence)
			require.NoError(t, err)
			require.Equal(t, forecast.ModeEvidence, rec.Mode)
			require.Equal(t, tt.action, rec.Action, "reasons: %q", rec.Reasons)
			require.InDelta(t, tt.movePct, rec.ExpectedMovePct, 1e-9)
			require.InDelta(t, tt.confidence, rec.Confidence, 1e-9)
			require.True(t, strings.HasPrefix(rec.Disclaimer, "Not investment advice: "))
			require.NotEmpty(t, rec.Reasons)
			if tt.reason != "" {
				require.True(t, containsReason(rec.Reasons, tt.reason), "no reason containing %q in %q", tt.reason, rec.Reasons)
			}
		})
	}
}

// Reports stored as JSON come back through their fields; the prediction
// distance must survive, or a week's error would be compared as a day's.
func TestRecommendReadsLagAfterJSONRoundTrip(t *testing.T) {
	raw, err := json.Marshal([]*forecast.Report{scored(forecast.NameLinearRegression, 0.2, 1, 4, 100.5, 101, 101.2, 101.5)})
	require.NoError(t, err)
	var reports []*forecast.Report
	require.NoError(t, json.Unmarshal(raw, &reports))
	rec, err := forecast.Recommend(100, reports, nil, "")
	require.NoError(t, err)
	require.Equal(t, forecast.ModeEvidence, rec.Mode, "empty mode means evidence")
	require.Equal(t, forecast.ActionBuy, rec.Action)
}

func TestRecommendRejectsBadInput(t *testing.T) {
	reports := []*forecast.Report{scored(forecast.NameLinearRegression, 0.2, 1, 7, 101)}
	tests := []struct {
		name      string
		lastClose float64
		sentiment *float64
		mode      string
		want      error
	}{
		{name: "unknown mode", lastClose: 100, mode: "yolo", want: forecast.ErrUnknownMode},
		{name: "mode is case sensitive", lastClose: 100, mode: "Classic", want: forecast.ErrUnknownMode},
		{name: "zero close", lastClose: 0, mode: forecast.ModeEvidence},
		{name: "NaN close", lastClose: math.NaN(), mode: forecast.ModeEvidence},
		{name: "sentiment above 1", lastClose: 100, sentiment: polarity(1.5), mode: forecast.ModeClassic},
		{name: "NaN sentiment", lastClose: 100, sentiment: polarity(math.NaN()), mode: forecast.ModeEvidence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := forecast.Recommend(tt.lastClose, reports, tt.sentiment, tt.mode)
			require.Error(t, err)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
}

// On real data the baselines and the regression must produce a coherent
// recommendation whose reasons account for every model.
func TestRecommendOnRealReports(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	lin, err := forecast.LinearRegression(context.Background(), closes, 7)
	require.NoError(t, err)
	naive, err := forecast.Persistence(context.Background(), closes, 7)
	require.NoError(t, err)
	drift, err := forecast.Drift(context.Background(), closes, 7)
	require.NoError(t, err)
	reports := []*forecast.Report{lin, naive, drift}
	last := closes[len(closes)-1]

	for _, mode := range []string{forecast.ModeEvidence, forecast.ModeClassic} {
		rec, err := forecast.Recommend(last, reports, polarity(0.2), mode)
		require.NoError(t, err)
		require.Contains(t, []string{forecast.ActionBuy, forecast.ActionSell, forecast.ActionHold}, rec.Action)
		require.GreaterOrEqual(t, rec.Confidence, 0.0)
		require.LessOrEqual(t, rec.Confidence, 1.0)
		raw, err := json.Marshal(rec)
		require.NoError(t, err)
		require.Contains(t, string(raw), `"expected_move_pct":`)
	}
	rec, err := forecast.Recommend(last, reports, nil, forecast.ModeEvidence)
	require.NoError(t, err)
	for _, model := range []string{"linreg:", "naive:", "drift:"} {
		require.True(t, containsReason(rec.Reasons, model), "no reason about %s in %q", model, rec.Reasons)
	}
}

func containsReason(reasons []string, part string) bool {
	for _, r := range reasons {
		if strings.Contains(r, part) {
			return true
		}
	}
	return false
}
