// Package leaderboard runs every model on many price series and sums up,
// per model, how often it really beat persistence, by how much, how often
// its direction calls were right and how honest its intervals were. It is
// what a user should see before trusting a model: one good run on one
// series is luck until many series say otherwise.
package leaderboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/registry"
)

// Series is one named price series.
type Series struct {
	Name   string
	Closes []float64
}

// Options of one leaderboard run.
type Options struct {
	// Models are registry names, in the order of the table; empty means
	// every model.
	Models []string
	// Horizon, Seed, LSTMMode and Bands are passed to every model run.
	Horizon  int
	Seed     int64
	LSTMMode string
	Bands    string
	// Evaluation, when set, also scores every model by rolling origin on
	// every series (crossval), and sums the scores up per horizon. Its
	// origins are capped per model as a job's are (registry.OriginCap).
	Evaluation *crossval.Plan
	// EvaluationModels limits the rolling-origin scores to these models;
	// empty means every model run.
	EvaluationModels []string
	// Workers bounds how many model runs go at once, the compute budget;
	// 0 means one per CPU (GOMAXPROCS).
	Workers int
	// Progress, if not nil, is called after every model run with the
	// number of runs done and the total, from one goroutine at a time.
	Progress func(done, total int)
}

// Entry is one model's line of the leaderboard.
type Entry struct {
	Model string `json:"model"`
	// Series counts the series the model ran on without error, and
	// Failed those where it failed (Errors holds why, by series).
	Series int               `json:"series"`
	Failed int               `json:"failed"`
	Errors map[string]string `json:"errors,omitempty"`
	// Beats counts the series on which the model beat persistence
	// significantly (Diebold–Mariano p < 0.05), named in BeatsSeries.
	Beats       int      `json:"beats_persistence"`
	BeatsSeries []string `json:"beats_persistence_series,omitempty"`
	// MedianP is the median Diebold–Mariano p-value over the series where
	// the test could be computed (none for persistence itself).
	MedianP float64 `json:"median_p_value"`
	// MedianSkill is the median over the series of 1 − RMSE/RMSE of
	// persistence on the same days: above 0 is better than persistence.
	MedianSkill float64 `json:"median_skill"`
	// MeanHitRate is the mean direction hit rate over the series on which
	// the model made calls, and CallSeries how many those were.
	MeanHitRate float64 `json:"mean_hit_rate"`
	CallSeries  int     `json:"call_series"`
	// MeanCoverage80 and MeanCoverage95 are the mean empirical coverage of
	// the 80% and 95% intervals over the series.
	MeanCoverage80 float64 `json:"mean_coverage_80"`
	MeanCoverage95 float64 `json:"mean_coverage_95"`
	// Seconds is the model's total run time over all series.
	Seconds float64 `json:"seconds"`
	// Rows are the figures on each series the model ran on, by series
	// name: what the medians and means above sum up, so they can be
	// checked.
	Rows []Row `json:"series_results"`
	// RollingOrigin sums up the rolling-origin scores per horizon, when
	// Options.Evaluation asked for them.
	RollingOrigin []HorizonSummary `json:"rolling_origin,omitempty"`
	// RollingOriginPlan is the plan the model was scored by (its origins
	// capped).
	RollingOriginPlan *crossval.Plan `json:"rolling_origin_plan,omitempty"`
}

// HorizonSummary is one horizon of a model's rolling-origin scores over
// the series: the median MASE, the mean coverage of the 95% interval, and
// on how many series the Diebold–Mariano test at that horizon found the
// model better than persistence (p < 0.05).
type HorizonSummary struct {
	H              int      `json:"h"`
	MedianMASE     *float64 `json:"median_mase"`
	MeanCoverage95 *float64 `json:"mean_coverage_95"`
	Beats          int      `json:"beats_persistence"`
	Series         int      `json:"series"`
}

// Row is one model's figures on one series. A pointer is nil where the
// series gave no figure: no Diebold–Mariano test, no direction test, no
// interval.
type Row struct {
	Series          string  `json:"series"`
	RMSE            float64 `json:"rmse"`
	PersistenceRMSE float64 `json:"persistence_rmse"`
	// Skill is 1 − RMSE/RMSE of persistence; nil when persistence made no
	// error.
	Skill            *float64 `json:"skill"`
	DMPValue         *float64 `json:"dm_p_value"`
	BeatsPersistence bool     `json:"beats_persistence"`
	HitRate          float64  `json:"hit_rate"`
	CallShare        float64  `json:"call_share"`
	DirectionPValue  *float64 `json:"direction_p_value"`
	Coverage80       *float64 `json:"coverage_80"`
	Coverage95       *float64 `json:"coverage_95"`
}

// Leaderboard is the result of Run.
type Leaderboard struct {
	Series  int     `json:"series"`
	Horizon int     `json:"horizon"`
	Workers int     `json:"workers"`
	Models  []Entry `json:"models"`
	// Seconds is the wall time of the whole run.
	Seconds float64 `json:"seconds"`
}

// outcome is one model run on one series.
type outcome struct {
	model, series string
	report        *forecast.Report
	err           error
	// evaluation is the rolling-origin score when asked for, and evalErr
	// why there is none.
	evaluation *crossval.Result
	evalErr    error
}

// Run runs every model on every series, at most opts.Workers runs at a
// time, and sums up each model's results. A failed run is counted and
// reported, not fatal; Run returns an error only for bad options or when
// ctx is done.
func Run(ctx context.Context, series []Series, opts Options) (Leaderboard, error) {
	started := time.Now()
	models := opts.Models
	if len(models) == 0 {
		models = registry.Names()
	}
	for _, m := range models {
		if !registry.Known(m) {
			return Leaderboard{}, fmt.Errorf("leaderboard: %w %q", registry.ErrUnknownModel, m)
		}
	}
	if len(series) == 0 {
		return Leaderboard{}, errors.New("leaderboard: no series")
	}
	horizon, err := forecast.ResolveHorizon(opts.Horizon)
	if err != nil {
		return Leaderboard{}, fmt.Errorf("leaderboard: %w", err)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	type task struct {
		model string
		s     Series
	}
	tasks := make(chan task)
	results := make(chan outcome)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				ropts := registry.Options{Horizon: horizon, Seed: opts.Seed, LSTMMode: opts.LSTMMode, Bands: opts.Bands}
				rep, err := registry.Run(ctx, t.model, t.s.Closes, ropts)
				o := outcome{model: t.model, series: t.s.Name, report: rep, err: err}
				if plan := opts.planFor(t.model); plan != nil && err == nil {
					o.evaluation, o.evalErr = registry.CrossValidate(ctx, t.model, t.s.Closes, *plan, ropts, nil)
				}
				results <- o
			}
		}()
	}
	go func() {
		defer close(tasks)
		// Model by model: the registry lists the slow models (the LSTM,
		// ARIMA) first, so the pool is not left waiting on one long run at
		// the end.
		for _, m := range models {
			for _, s := range series {
				select {
				case tasks <- task{model: m, s: s}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	byModel := make(map[string][]outcome, len(models))
	done, total := 0, len(models)*len(series)
	for o := range results {
		byModel[o.model] = append(byModel[o.model], o)
		done++
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	if err := ctx.Err(); err != nil {
		return Leaderboard{}, fmt.Errorf("leaderboard: %w", err)
	}
	lb := Leaderboard{Series: len(series), Horizon: horizon, Workers: workers}
	for _, m := range models {
		e := summarise(m, byModel[m])
		if plan := opts.planFor(m); plan != nil {
			e.RollingOriginPlan = plan
			e.RollingOrigin = summariseRolling(plan.Horizon, byModel[m], &e)
		}
		lb.Models = append(lb.Models, e)
	}
	lb.Seconds = time.Since(started).Seconds()
	return lb, nil
}

// summarise turns one model's runs into its entry. Series are sorted by
// name first so the entry does not depend on which run finished first.
func summarise(model string, runs []outcome) Entry {
	slices.SortFunc(runs, func(a, b outcome) int { return strings.Compare(a.series, b.series) })
	e := Entry{Model: model}
	var skills, ps []float64
	var hit, cov80, cov95 float64
	var cov80n, cov95n int
	for _, o := range runs {
		if o.err != nil {
			e.Failed++
			if e.Errors == nil {
				e.Errors = map[string]string{}
			}
			e.Errors[o.series] = o.err.Error()
			continue
		}
		r := o.report
		row := Row{Series: o.series, RMSE: r.Metrics.RMSE, PersistenceRMSE: r.Persistence.RMSE,
			BeatsPersistence: r.BeatsPersistence, HitRate: r.Metrics.DirectionalAccuracy,
			CallShare: r.Metrics.DirectionalCallShare, DirectionPValue: r.Metrics.DirectionalPValue}
		e.Series++
		e.Seconds += r.Seconds
		if r.DM != nil {
			ps = append(ps, r.DM.PValue)
			row.DMPValue = &r.DM.PValue
		}
		if r.BeatsPersistence {
			e.Beats++
			e.BeatsSeries = append(e.BeatsSeries, o.series)
		}
		if r.Persistence.RMSE > 0 {
			skill := 1 - r.Metrics.RMSE/r.Persistence.RMSE
			skills = append(skills, skill)
			row.Skill = &skill
		}
		if r.Metrics.DirectionalCallShare > 0 {
			hit += r.Metrics.DirectionalAccuracy
			e.CallSeries++
		}
		for _, c := range r.Coverage {
			switch c.Level {
			case forecast.Level80:
				cov80 += c.Covered
				cov80n++
				row.Coverage80 = &c.Covered
			case forecast.Level95:
				cov95 += c.Covered
				cov95n++
				row.Coverage95 = &c.Covered
			}
		}
		e.Rows = append(e.Rows, row)
	}
	e.MedianSkill = median(skills)
	e.MedianP = median(ps)
	e.MeanHitRate = mean(hit, e.CallSeries)
	e.MeanCoverage80 = mean(cov80, cov80n)
	e.MeanCoverage95 = mean(cov95, cov95n)
	return e
}

// planFor is the rolling-origin plan of model: the Evaluation with its
// origins capped as a job's are; nil when none was asked for the model.
func (o Options) planFor(model string) *crossval.Plan {
	if o.Evaluation == nil || len(o.EvaluationModels) > 0 && !slices.Contains(o.EvaluationModels, model) {
		return nil
	}
	p := *o.Evaluation
	p.Origins = min(p.Origins, registry.OriginCap(model))
	return &p
}

// summariseRolling sums up one model's rolling-origin scores per horizon
// over the series; a series whose evaluation failed is counted among the
// entry's errors.
func summariseRolling(horizon int, runs []outcome, e *Entry) []HorizonSummary {
	out := make([]HorizonSummary, horizon)
	mase := make([][]float64, horizon)
	cov := make([]float64, horizon)
	for i := range out {
		out[i].H = i + 1
	}
	for _, o := range runs {
		if o.evalErr != nil {
			if e.Errors == nil {
				e.Errors = map[string]string{}
			}
			e.Errors[o.series] = "rolling origin: " + o.evalErr.Error()
			continue
		}
		if o.evaluation == nil {
			continue
		}
		for _, hs := range o.evaluation.Horizons {
			i := hs.H - 1
			if i < 0 || i >= horizon {
				continue
			}
			out[i].Series++
			if hs.MASE != nil {
				mase[i] = append(mase[i], *hs.MASE)
			}
			if hs.Coverage95 != nil {
				cov[i] += *hs.Coverage95
			}
			if hs.BeatsPersistence {
				out[i].Beats++
			}
		}
	}
	for i := range out {
		if len(mase[i]) > 0 {
			m := median(mase[i])
			out[i].MedianMASE = &m
		}
		if out[i].Series > 0 {
			c := cov[i] / float64(out[i].Series)
			out[i].MeanCoverage95 = &c
		}
	}
	return out
}

func mean(sum float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// median of xs, NaN when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// WriteMarkdown writes the leaderboard as a markdown table, one model a
// row. A figure no series gave (a mean over none) is a dash.
func (lb Leaderboard) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| model | beats persistence (p < 0.05) | median DM p | median skill | mean hit rate | coverage 80%% | coverage 95%% | seconds | failed |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|\n")
	for _, e := range lb.Models {
		fmt.Fprintf(&b, "| %s | %d of %d | %s | %s | %s | %s | %s | %.1f | %d |\n",
			e.Model, e.Beats, e.Series, num(e.MedianP), signedPct(e.MedianSkill), pct(e.MeanHitRate), pct(e.MeanCoverage80), pct(e.MeanCoverage95), e.Seconds, e.Failed)
	}
	fmt.Fprintf(&b, "\n%d series, horizon %d, %d workers, %.1f s wall time.\n", lb.Series, lb.Horizon, lb.Workers, lb.Seconds)
	if len(lb.Models) > 0 && lb.Models[0].RollingOriginPlan != nil {
		fmt.Fprintf(&b, "\nRolling origin, by horizon (median MASE over the series; mean 95%% coverage; series where the model beat persistence, DM p < 0.05):\n\n")
		fmt.Fprintf(&b, "| model | origins | h | median MASE | coverage 95%% | beats persistence |\n|---|---|---|---|---|---|\n")
		for _, e := range lb.Models {
			for _, h := range e.RollingOrigin {
				fmt.Fprintf(&b, "| %s | %d every %d | %d | %s | %s | %d of %d |\n", e.Model, e.RollingOriginPlan.Origins,
					e.RollingOriginPlan.Step, h.H, numOr(h.MedianMASE), pctOr(h.MeanCoverage95), h.Beats, h.Series)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the leaderboard as one JSON object (see
// Entry.MarshalJSON).
func (lb Leaderboard) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(lb)
}

// MarshalJSON writes a figure no series gave (a mean over none, NaN in Go,
// which JSON cannot hold) as null.
func (e Entry) MarshalJSON() ([]byte, error) {
	// plain has Entry's fields without its methods, so encoding it does
	// not recurse into MarshalJSON.
	type plain Entry
	return json.Marshal(struct {
		plain
		MedianP        *float64 `json:"median_p_value"`
		MedianSkill    *float64 `json:"median_skill"`
		MeanHitRate    *float64 `json:"mean_hit_rate"`
		MeanCoverage80 *float64 `json:"mean_coverage_80"`
		MeanCoverage95 *float64 `json:"mean_coverage_95"`
	}{plain(e), orNull(e.MedianP), orNull(e.MedianSkill), orNull(e.MeanHitRate), orNull(e.MeanCoverage80), orNull(e.MeanCoverage95)})
}

// numOr and pctOr show a figure that may be missing.
func numOr(v *float64) string {
	if v == nil {
		return "–"
	}
	return num(*v)
}

func pctOr(v *float64) string {
	if v == nil {
		return "–"
	}
	return pct(*v)
}

func orNull(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

func signedPct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%+.2f%%", 100*v)
}
