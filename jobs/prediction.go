package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
)

// PriceInfo says where a job's prices came from.
type PriceInfo struct {
	*market.Series
	Bars int `json:"bars"`
}

// ChartSeries is the tail of the price history that a chart needs: a
// model's test point with index i (into the DataBars the models saw) sits at
// Dates[i-Offset].
type ChartSeries struct {
	Offset int       `json:"offset"`
	Dates  []string  `json:"dates"`
	Closes []float64 `json:"closes"`
}

// PredictionResult is the result document of a prediction job.
type PredictionResult struct {
	Ticker string    `json:"ticker"`
	Prices PriceInfo `json:"prices"`
	// DataFrom and DataBars describe the part of the history the models
	// saw: the most recent Lookback trading days.
	DataFrom      string                      `json:"data_from"`
	DataBars      int                         `json:"data_bars"`
	LastClose     float64                     `json:"last_close"`
	LastDate      string                      `json:"last_date"`
	Horizon       int                         `json:"horizon"`
	ForecastDates []string                    `json:"forecast_dates"`
	Models        map[string]*forecast.Report `json:"models"`
	ModelErrors   map[string]string           `json:"model_errors,omitempty"`
	// Baseline names the persistence model that runs beside every request.
	Baseline            string                   `json:"baseline"`
	Sentiment           *sentiment.Report        `json:"sentiment,omitempty"`
	SentimentError      string                   `json:"sentiment_error,omitempty"`
	Recommendation      *forecast.Recommendation `json:"recommendation,omitempty"`
	RecommendationError string                   `json:"recommendation_error,omitempty"`
	Series              ChartSeries              `json:"series"`
}

// baselineModel runs beside every request, so each model can be judged
// against "tomorrow = today".
const baselineModel = registry.NamePersistence

func (w *Worker) predict(ctx context.Context, job *store.Job, progress *progressReporter) (any, error) {
	var params PredictionParams
	if err := json.Unmarshal(job.Params, &params); err != nil {
		return nil, permanent(fmt.Errorf("decode job parameters: %w", err))
	}
	models := params.Models
	if !slices.Contains(models, baselineModel) {
		models = append(models, baselineModel)
	}

	progress.report(ctx, 1, ProgressDetail{Stage: "prices", Message: "Loading price history for " + job.Ticker})
	series, err := w.Prices.Load(ctx, job.Ticker)
	if err != nil {
		// market's errors name the ticker already ("load prices for T: …",
		// "no price data for T (…)"); another prefix would repeat it.
		// "No data" is final only when no provider failed for now: a
		// transient outage is retried, not recorded as a missing ticker.
		if errors.Is(err, market.ErrNoSuchTicker) || errors.Is(err, market.ErrNoData) && !market.Transient(err) {
			return nil, permanent(err)
		}
		return nil, err
	}
	if len(series.Bars) == 0 {
		return nil, permanent(fmt.Errorf("no price data for %s: %w", job.Ticker, market.ErrNoData))
	}
	lookback := params.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback // jobs stored before lookback existed
	}
	from := max(0, len(series.Bars)-lookback)
	bars := series.Bars[from:]
	closes := market.Closes(bars)
	last := bars[len(bars)-1]
	res := &PredictionResult{
		Ticker:        job.Ticker,
		Prices:        PriceInfo{Series: series, Bars: len(series.Bars)},
		DataFrom:      bars[0].Date.Format(time.DateOnly),
		DataBars:      len(bars),
		LastClose:     last.Close,
		LastDate:      last.Date.Format(time.DateOnly),
		Horizon:       params.Horizon,
		ForecastDates: nextTradingDays(last.Date, params.Horizon),
		Models:        map[string]*forecast.Report{},
		Baseline:      baselineModel,
	}

	// An identical request's result, computed or being computed, is
	// taken rather than computed again, unless computing costs less.
	if worthReusing(models, params.Sentiment) {
		computedBy, err := w.reuse(ctx, job, params.ReuseKey(job.Ticker, last.Date), params.Fresh, progress)
		switch {
		case err != nil:
			return nil, err
		case computedBy != uuid.Nil:
			return reusedResult{from: computedBy}, nil
		}
	}

	var polarity *float64
	if params.Sentiment {
		progress.report(ctx, 3, ProgressDetail{Stage: "sentiment", Message: "Reading the news for " + job.Ticker})
		report, err := w.Sentiment.Analyze(ctx, sentiment.Request{Ticker: job.Ticker, Preset: params.Preset})
		switch {
		case err == nil:
			res.Sentiment, polarity = report, report.Polarity
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			// The forecast stands without the news; say why it is missing.
			res.Sentiment, res.SentimentError = report, err.Error()
		}
	}

	var totalWeight float64
	for _, m := range models {
		totalWeight += registry.Cost(m)
	}
	const before, span = 5.0, 93.0
	done := 0.0
	for _, name := range models {
		share := registry.Cost(name) / totalWeight
		base := before + span*done/totalWeight
		progress.report(ctx, int(base), ProgressDetail{Stage: name, Message: "Running " + name})
		fitStart := time.Now()
		report, err := registry.Run(ctx, name, closes, registry.Options{
			Horizon:     params.Horizon,
			Seed:        params.Seed,
			LSTMMode:    params.LSTMMode,
			LSTMWeights: w.DB.Weights(registry.NameLSTM),
			Progress: func(p forecast.Progress) {
				pct := base
				if p.Total > 0 {
					pct += span * share * float64(p.Step) / float64(p.Total)
				}
				progress.report(ctx, int(pct), ProgressDetail{
					Stage: name, Step: p.Step, Total: p.Total, Loss: p.Loss,
					Message: fmt.Sprintf("%s: %s %d of %d", name, stepUnit(name), p.Step, p.Total),
				})
			},
		})
		done += registry.Cost(name)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil || report.Params["weights_cached"] != true {
			// Weights from the cache are no fit; a fit that failed still
			// took the time.
			w.Metrics.fitted(name, time.Since(fitStart))
		}
		if err != nil {
			if res.ModelErrors == nil {
				res.ModelErrors = map[string]string{}
			}
			res.ModelErrors[name] = err.Error()
			continue
		}
		res.Models[name] = report
	}
	ran := 0
	for _, name := range params.Models {
		if res.Models[name] != nil {
			ran++
		}
	}
	if ran == 0 {
		return res, permanent(fmt.Errorf("no model could run on %d days of %s: %s", len(closes), job.Ticker, joinErrors(res.ModelErrors)))
	}

	reports := make([]*forecast.Report, 0, len(res.Models))
	for _, name := range models {
		if r := res.Models[name]; r != nil {
			reports = append(reports, r)
		}
	}
	// A recommendation that cannot be made (its model failed) leaves the
	// forecasts standing, with the reason in the result.
	if rec, err := forecast.Recommend(last.Close, reports, polarity, params.Recommendation); err != nil {
		res.RecommendationError = err.Error()
	} else {
		if res.SentimentError != "" {
			// The rule only sees that no polarity came; that the news was
			// asked for and could not be read is this job's to say.
			rec.Reasons = append(rec.Reasons, "News sentiment was asked for but is unavailable ("+res.SentimentError+").")
		}
		res.Recommendation = &rec
	}
	res.Series = chartSeries(bars, res.Models)
	return res, nil
}

// worthReusing reports whether a job of these models is worth the search
// for an identical job whose result it could take or wait for.
//
// The search costs a statement to claim the computation before the work
// and, when an earlier result is taken, one to copy it; the job's start
// and finish are written either way. The closed-form models (naive,
// drift, linreg) take 35 to 50 us on two years of closes
// (BenchmarkClosedFormModels), less than the claim's round trip alone,
// and coalescing them with a running twin would make a job that takes
// microseconds wait on another. So a job of closed-form models only
// computes its result every time, and skips the claim. The news is the
// exception: reading it asks outside APIs, which takes seconds and counts
// against their limits, so a job that wants it searches as any other.
func worthReusing(models []string, news bool) bool {
	return news || slices.ContainsFunc(models, func(m string) bool { return !registry.ClosedForm(m) })
}

// reuseCheck is how often a job waiting for an identical one looks at it
// again should the change message it waits for be lost.
const reuseCheck = time.Second

// reusedResult is the result of a job that takes the result of the job
// from, which computed it; the worker's final write copies it there.
type reusedResult struct{ from uuid.UUID }

// reuse returns the job whose result this one takes, the one that
// computes what reuseKey names, when that is another job: at once if that
// job succeeded, or, when a live worker is computing it now, as soon as
// it finishes, so both jobs finish together. It returns uuid.Nil when
// this job is the one to compute: no other claimed the work, the one that
// did failed or lost its worker, or fresh asks for a new computation.
func (w *Worker) reuse(ctx context.Context, job *store.Job, reuseKey []byte, fresh bool, progress *progressReporter) (uuid.UUID, error) {
	tick := time.NewTicker(reuseCheck)
	defer tick.Stop()
	var (
		watching uuid.UUID
		sub      *redis.PubSub
		changed  <-chan *redis.Message
	)
	defer func() {
		if sub != nil {
			_ = sub.Close()
		}
	}()
	for {
		claim, err := w.DB.ClaimComputation(ctx, reuseKey, job.ID, fresh)
		if err != nil {
			return uuid.Nil, err
		}
		if claim.JobID == job.ID {
			return uuid.Nil, nil
		}
		if claim.Succeeded {
			w.Logger.InfoContext(ctx, "job reuses the result of an identical job", "job_id", job.ID, "reused_from", claim.JobID)
			return claim.JobID, nil
		}
		if owner := claim.JobID; owner != watching {
			// Subscribe first, then look again without waiting: the owner
			// may have finished before the subscription began.
			if sub != nil {
				_ = sub.Close()
			}
			watching, sub, changed = owner, nil, nil
			if w.Events != nil {
				sub = w.Events.Subscribe(ctx, owner)
				changed = sub.Channel()
			}
			w.Logger.InfoContext(ctx, "job waits for an identical job that is running", "job_id", job.ID, "waits_for", owner)
			progress.report(ctx, 5, ProgressDetail{Stage: "waiting", Message: "Waiting for an identical request that is running"})
			continue
		}
		select {
		case <-ctx.Done():
			return uuid.Nil, ctx.Err()
		case <-changed:
		case <-tick.C:
		}
	}
}

// stepUnit names what a model's progress steps count.
func stepUnit(model string) string {
	switch model {
	case registry.NameLSTM:
		return "epoch"
	case registry.NameARIMA, registry.NameARIMAAuto:
		return "walk-forward refit"
	}
	return "step"
}

// chartSeries keeps the part of the history from a little before the first
// test point to the end.
func chartSeries(bars []market.Bar, reports map[string]*forecast.Report) ChartSeries {
	const lead = 30
	first := len(bars)
	for _, r := range reports {
		if len(r.Test) > 0 && r.Test[0].Index < first {
			first = r.Test[0].Index
		}
	}
	offset := max(0, min(first, len(bars)-lead)-lead)
	out := ChartSeries{Offset: offset}
	for _, b := range bars[offset:] {
		out.Dates = append(out.Dates, b.Date.Format(time.DateOnly))
		out.Closes = append(out.Closes, b.Close)
	}
	return out
}

// nextTradingDays returns the n weekdays after last. Exchange holidays are
// not known here, so a forecast date may fall on one.
func nextTradingDays(last time.Time, n int) []string {
	out := make([]string, 0, n)
	d := last
	for len(out) < n {
		d = d.AddDate(0, 0, 1)
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func joinErrors(errs map[string]string) string {
	parts := make([]string, 0, len(errs))
	for name, msg := range errs {
		parts = append(parts, name+": "+msg)
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}
