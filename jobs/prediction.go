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
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/garch"
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
	// Risk is the one-day 95% value at risk and the range of the close at
	// the horizon, from a GARCH(1,1)-t of the daily returns the models
	// saw; nil, with RiskError saying why, when it could not be fitted.
	Risk      *garch.Risk `json:"risk,omitempty"`
	RiskError string      `json:"risk_error,omitempty"`
	Series    ChartSeries `json:"series"`
	// Evaluation holds each model's rolling-origin evaluation when the
	// request asked for one, and EvaluationErrors why a model has none.
	Evaluation       map[string]*crossval.Result `json:"evaluation,omitempty"`
	EvaluationErrors map[string]string           `json:"evaluation_errors,omitempty"`
}

// baselineModel runs beside every request, so each model can be judged
// against "tomorrow = today".
const baselineModel = registry.NamePersistence

// prediction is one prediction job on its way through the steps of
// predict, each of which adds its part to res.
type prediction struct {
	w        *Worker
	job      *store.Job
	params   PredictionParams
	progress *progressReporter
	// models are the models asked for and the baseline.
	models []string
	// bars are the part of the history the models see, and closes their
	// closes.
	bars   []market.Bar
	closes []float64
	// polarity is the news sentiment, when it was asked for and read.
	polarity *float64
	res      *PredictionResult
	// reuseKey names the result this job computes for identical jobs to
	// take; nil when it is not offered (see worthReusing).
	reuseKey []byte
}

// predict runs a prediction job as named steps: load the prices, take an
// identical job's result when one is worth waiting for, read the news,
// run the models, recommend, and return the result the worker stores.
func (w *Worker) predict(ctx context.Context, job *store.Job, progress *progressReporter) (any, error) {
	p := &prediction{w: w, job: job, progress: progress}
	if err := json.Unmarshal(job.Params, &p.params); err != nil {
		return nil, permanent(fmt.Errorf("decode job parameters: %w", err))
	}
	p.models = p.params.Models
	if !slices.Contains(p.models, baselineModel) {
		p.models = append(p.models, baselineModel)
	}
	if err := p.loadPrices(ctx); err != nil {
		return nil, err
	}
	switch from, err := p.reuse(ctx); {
	case err != nil:
		return nil, err
	case from != uuid.Nil:
		return reusedResult{from: from}, nil
	}
	if err := p.readSentiment(ctx); err != nil {
		return nil, err
	}
	if err := p.runModels(ctx); err != nil {
		return nil, err
	}
	if err := p.evaluate(ctx); err != nil {
		return nil, err
	}
	if err := p.someModelRan(); err != nil {
		return p.res, err
	}
	p.assessRisk(ctx)
	p.recommend()
	return p.result(), nil
}

// loadPrices loads the ticker's history, keeps the Lookback most recent
// days of it for the models, and starts the result with what they say of
// the data. A ticker with no data fails the job for good; a provider that
// is down fails this attempt only.
func (p *prediction) loadPrices(ctx context.Context) error {
	ticker := p.job.Ticker
	p.progress.report(ctx, 1, ProgressDetail{Stage: "prices", Message: "Loading price history for " + ticker})
	series, err := p.w.Prices.Load(ctx, ticker)
	if err != nil {
		// market's errors name the ticker already ("load prices for T: …",
		// "no price data for T (…)"); another prefix would repeat it.
		// "No data" is final only when no provider failed for now: a
		// transient outage is retried, not recorded as a missing ticker.
		if errors.Is(err, market.ErrNoSuchTicker) || errors.Is(err, market.ErrNoData) && !market.Transient(err) {
			return permanent(err)
		}
		return err
	}
	if len(series.Bars) == 0 {
		return permanent(fmt.Errorf("no price data for %s: %w", ticker, market.ErrNoData))
	}
	lookback := p.params.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback // jobs stored before lookback existed
	}
	p.bars = series.Bars[max(0, len(series.Bars)-lookback):]
	p.closes = market.Closes(p.bars)
	last := p.bars[len(p.bars)-1]
	p.res = &PredictionResult{
		Ticker:        ticker,
		Prices:        PriceInfo{Series: series, Bars: len(series.Bars)},
		DataFrom:      p.bars[0].Date.Format(time.DateOnly),
		DataBars:      len(p.bars),
		LastClose:     last.Close,
		LastDate:      last.Date.Format(time.DateOnly),
		Horizon:       p.params.Horizon,
		ForecastDates: nextTradingDays(last.Date, p.params.Horizon),
		Models:        map[string]*forecast.Report{},
		Baseline:      baselineModel,
	}
	return nil
}

// reuse returns the identical job whose result, computed or being
// computed, this one takes rather than computing it again, or uuid.Nil
// when this job computes its own: also when computing costs less than
// looking (see worthReusing).
func (p *prediction) reuse(ctx context.Context) (uuid.UUID, error) {
	if !worthReusing(p.models, p.params.Sentiment) {
		return uuid.Nil, nil
	}
	var maxAge time.Duration
	if p.params.Sentiment {
		maxAge = p.w.NewsLifetime
	}
	p.reuseKey = p.params.ReuseKey(p.job.Ticker, p.bars)
	return p.w.reuse(ctx, p.job, p.reuseKey, p.params.Fresh, maxAge, p.progress)
}

// readSentiment reads the news when the job asks for it. News that cannot
// be read leaves the forecast standing, with the reason in the result;
// only the job's own end (ctx) fails it.
func (p *prediction) readSentiment(ctx context.Context) error {
	if !p.params.Sentiment {
		return nil
	}
	p.progress.report(ctx, 3, ProgressDetail{Stage: "sentiment", Message: "Reading the news for " + p.job.Ticker})
	report, err := p.w.Sentiment.Analyze(ctx, sentiment.Request{Ticker: p.job.Ticker, Preset: p.params.Preset})
	switch {
	case err == nil:
		p.res.Sentiment, p.polarity = report, report.Polarity
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		p.res.Sentiment, p.res.SentimentError = report, err.Error()
	}
	// News read while sources failed, wholly or in part, is no result to
	// hand to the next identical request: that one reads the news again.
	// ErrNoArticles with every source answering is no failure.
	failed := err != nil && !errors.Is(err, sentiment.ErrNoArticles) || report != nil && report.Degraded()
	if failed && p.reuseKey != nil {
		return p.w.DB.DropComputation(ctx, p.reuseKey, p.job.Attempt())
	}
	return nil
}

// Progress of the models runs from modelsBefore to modelsBefore +
// modelsSpan percent, each model's part its share of their registry.Cost;
// a rolling-origin evaluation takes the second half of that span.
const modelsBefore, modelsSpan = 5.0, 93.0

// span is the part of modelsSpan the models' own runs take: all of it, or
// half when an evaluation follows them.
func (p *prediction) span() float64 {
	if p.params.Evaluation != nil {
		return modelsSpan / 2
	}
	return modelsSpan
}

// runModels runs every model in turn, each moving the progress across its
// share of the models' span. A model that fails leaves its error in the
// result and the others run on; only the job's end (ctx) stops them.
func (p *prediction) runModels(ctx context.Context) error {
	var totalCost float64
	for _, m := range p.models {
		totalCost += registry.Cost(m)
	}
	done := 0.0
	for _, name := range p.models {
		base := modelsBefore + p.span()*done/totalCost
		p.runModel(ctx, name, base, registry.Cost(name)/totalCost)
		done += registry.Cost(name)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// runModel runs one model, reporting its progress from base percent
// across share of the models' span, and records its report or its error.
func (p *prediction) runModel(ctx context.Context, name string, base, share float64) {
	p.progress.report(ctx, int(base), ProgressDetail{Stage: name, Message: "Running " + name})
	fitStart := time.Now()
	report, err := registry.Run(ctx, name, p.closes, registry.Options{
		Horizon:     p.params.Horizon,
		Seed:        p.params.Seed,
		LSTMMode:    p.params.LSTMMode,
		Bands:       p.params.Bands,
		LSTMWeights: p.w.DB.Weights(registry.NameLSTM),
		Progress: func(fp forecast.Progress) {
			pct := base
			if fp.Total > 0 {
				pct += p.span() * share * float64(fp.Step) / float64(fp.Total)
			}
			p.progress.report(ctx, int(pct), ProgressDetail{
				Stage: name, Step: fp.Step, Total: fp.Total, Loss: fp.Loss,
				Message: fmt.Sprintf("%s: %s %d of %d", name, registry.StepUnit(name), fp.Step, fp.Total),
			})
		},
	})
	if ctx.Err() != nil {
		return
	}
	if err != nil || registry.Fitted(report) {
		// Weights from the cache are no fit; a fit that failed still
		// took the time.
		p.w.Metrics.fitted(name, time.Since(fitStart))
	}
	if err != nil {
		recordError(&p.res.ModelErrors, name, err)
		return
	}
	p.res.Models[name] = report
}

// evaluate runs the rolling-origin evaluation of every model when the job
// asks for one, each model in turn across an equal part of the second half
// of the models' span. A model whose evaluation fails (too few closes for
// the plan, a fit that fails) has its error in the result and the others
// run on; only the job's end (ctx) stops them.
func (p *prediction) evaluate(ctx context.Context) error {
	ev := p.params.Evaluation
	if ev == nil {
		return nil
	}
	plan := ev.Plan()
	p.res.Evaluation = map[string]*crossval.Result{}
	part := (modelsSpan - p.span()) / float64(len(p.models))
	for i, name := range p.models {
		base := modelsBefore + p.span() + part*float64(i)
		p.progress.report(ctx, int(base), ProgressDetail{Stage: "evaluation", Message: "Evaluating " + name + " by rolling origin"})
		res, err := registry.CrossValidate(ctx, name, p.closes, plan, registry.Options{Seed: p.params.Seed, LSTMMode: p.params.LSTMMode}, func(done, total int) {
			p.progress.report(ctx, int(base+part*float64(done)/float64(total)), ProgressDetail{
				Stage: "evaluation", Step: done, Total: total,
				Message: fmt.Sprintf("evaluation of %s: origin %d of %d", name, done, total),
			})
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			recordError(&p.res.EvaluationErrors, name, err)
			continue
		}
		p.res.Evaluation[name] = res
	}
	return nil
}

// recordError notes the named model's error in errs, made on first use so
// that a result without errors has none to show.
func recordError(errs *map[string]string, name string, err error) {
	if *errs == nil {
		*errs = map[string]string{}
	}
	(*errs)[name] = err.Error()
}

// someModelRan fails the job for good when none of the models asked for
// (the baseline does not count) could run: another attempt would fail the
// same way.
func (p *prediction) someModelRan() error {
	for _, name := range p.params.Models {
		if p.res.Models[name] != nil {
			return nil
		}
	}
	return permanent(fmt.Errorf("no model could run on %d days of %s: %s", len(p.closes), p.job.Ticker, joinErrors(p.res.ModelErrors)))
}

// assessRisk adds the risk figures of a GARCH(1,1)-t fitted to the
// returns of the closes the models saw. One that cannot be fitted (too
// few days, or prices that never move) leaves the forecasts standing,
// with the reason in the result.
func (p *prediction) assessRisk(ctx context.Context) {
	returns, err := garch.LogReturns(p.closes)
	var m *garch.Model
	if err == nil {
		m, err = garch.Fit(ctx, returns)
	}
	if err != nil {
		p.res.RiskError = err.Error()
		return
	}
	risk := m.Risk(p.res.LastClose, p.params.Horizon)
	p.res.Risk = &risk
}

// recommend adds the recommendation made of the models' reports and the
// news. One that cannot be made (its model failed) leaves the forecasts
// standing, with the reason in the result.
func (p *prediction) recommend() {
	reports := make([]*forecast.Report, 0, len(p.res.Models))
	for _, name := range p.models {
		if r := p.res.Models[name]; r != nil {
			reports = append(reports, r)
		}
	}
	rec, err := forecast.Recommend(p.res.LastClose, reports, p.polarity, p.params.Recommendation)
	if err != nil {
		p.res.RecommendationError = err.Error()
		return
	}
	if p.res.SentimentError != "" {
		// The rule only sees that no polarity came; that the news was
		// asked for and could not be read is this job's to say.
		rec.Reasons = append(rec.Reasons, "News sentiment was asked for but is unavailable ("+p.res.SentimentError+").")
	}
	// The rule weighs the models' own errors; what the market may do
	// around them is GARCH's to say, whichever bands the models report.
	if p.res.Risk != nil {
		rec.Reasons = append(rec.Reasons, p.res.Risk.Summary())
	}
	p.res.Recommendation = &rec
}

// result completes the result with the chart's part of the history: what
// the worker stores as the job's result.
func (p *prediction) result() *PredictionResult {
	p.res.Series = chartSeries(p.bars, p.res.Models)
	return p.res
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
// did failed or lost its worker, fresh asks for a new computation, or
// the result is older than maxAge (0: any age will do).
func (w *Worker) reuse(ctx context.Context, job *store.Job, reuseKey []byte, fresh bool, maxAge time.Duration, progress *progressReporter) (uuid.UUID, error) {
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
		claim, err := w.DB.ClaimComputation(ctx, reuseKey, job.Attempt(), fresh, maxAge)
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
