// Package backtest is the logic behind the operator command
//
//	worker backtest --csv FILE [--column Close] [--tail N] [--models lstm,arima,linreg] [--seed S] [--horizon H] [--lstm-mode window|clean] --json
//	worker backtest --dir DIR | --sample dj30 [--tail N] [--models …] [--jobs N] [--json]
//	worker backtest --csv FILE --cv N [--cv-step S] [--cv-horizon H] [--cv-refit=false] [--cv-window expanding|fixed] …
//
// With --csv it reads a price series from any reasonable CSV file, runs the
// chosen models on it through the model registry and prints one JSON object
// with each model's test metrics next to persistence's, so the Go models can
// be compared with the Python reference (bench/models) or with each other on
// an operator's own data. With --dir (every CSV file in a folder) or
// --sample dj30 (the 30 bundled Dow stocks) it runs the models, every model
// by default, on every series and prints the leaderboard (see package
// leaderboard) as a markdown table, or JSON with --json. With --cv N each
// model of one file is also evaluated by rolling origin (package crossval)
// at N origins, its per-horizon scores and per-origin errors under
// "evaluation".
package backtest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/registry"
)

// DefaultModels are the original app's three models, which the Python
// reference implements too.
const DefaultModels = "lstm,arima,linreg"

// ErrUsage marks invalid command-line arguments or options, so a main can
// exit with the conventional usage status.
var ErrUsage = errors.New("usage")

// ErrModelsFailed means at least one model failed; the JSON output, already
// written, holds each failure in that model's "error".
var ErrModelsFailed = errors.New("models failed")

// Options select the series and the models of one backtest.
type Options struct {
	// CSVPath is the file to read; it must have a header row.
	CSVPath string
	// Column names the price column (case-insensitive); empty picks the
	// first of close, adj close, adjclose, price and value.
	Column string
	// Tail keeps only the last Tail prices; 0 keeps all.
	Tail int
	// Models are registry model names, run in this order.
	Models []string
	// Seed is passed to stochastic models.
	Seed int64
	// Horizon is the forecast length; 0 means forecast.DefaultHorizon.
	Horizon int
	// LSTMMode is the LSTM's scaling, one of registry.LSTMModes; empty
	// means the first, the default.
	LSTMMode string
	// Bands is where the models' intervals come from, one of
	// registry.BandModes; empty means the first, the models' own.
	Bands string
	// Dir and Sample select a leaderboard instead of one file: every CSV
	// file in Dir, or the bundled sample named Sample (SampleDJ30).
	Dir    string
	Sample string
	// Workers bounds the leaderboard's parallel model runs; 0 means one
	// per CPU.
	Workers int
	// JSON asks the leaderboard for JSON instead of markdown; one file's
	// backtest is always JSON.
	JSON bool
	// Evaluation, when not nil, evaluates each model of one file by
	// rolling origin too; a zero Horizon means Horizon's.
	Evaluation *crossval.Plan
}

// Synopsis is the arguments of "worker backtest" for its usage line.
func Synopsis() string {
	return fmt.Sprintf("--csv FILE | --dir FOLDER | --sample %s [--column Close] [--tail N] [--models M,…] [--seed S] [--horizon H] [--lstm-mode %s] [--jobs N] [--json] [--cv N [--cv-step S] [--cv-horizon H] [--cv-refit=false] [--cv-window expanding|fixed]]",
		SampleDJ30, strings.Join(registry.LSTMModes(), "|"))
}

// Summary is what "worker backtest" does, for the worker's command list.
// It names every model the registry knows, so the list cannot fall behind
// the registry.
func Summary() string {
	return fmt.Sprintf("judge models on a CSV of prices, or rank them all on many series; models: %s (default for one CSV: %s)",
		strings.Join(registry.Names(), ", "), DefaultModels)
}

// ParseFlags parses the arguments that follow "worker backtest". Invalid
// arguments give an error wrapping ErrUsage, and -h gives flag.ErrHelp;
// both write the flags' descriptions to usage.
func ParseFlags(args []string, usage io.Writer) (Options, error) {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	// Errors travel back to the caller, who decides where the usage goes.
	fs.SetOutput(io.Discard)
	var (
		opts   Options
		models string
		cv     crossval.Plan
	)
	fs.StringVar(&opts.CSVPath, "csv", "", "CSV `file` with a header row")
	fs.StringVar(&opts.Dir, "dir", "", "leaderboard over every CSV file in `folder`")
	fs.StringVar(&opts.Sample, "sample", "", "leaderboard over a bundled `sample`: "+SampleDJ30)
	fs.IntVar(&opts.Workers, "jobs", 0, "leaderboard: at most `N` model runs at once (0: one per CPU)")
	fs.StringVar(&opts.Column, "column", "", "price `column`, case-insensitive (default: first of close, adj close, adjclose, price, value)")
	fs.IntVar(&opts.Tail, "tail", 0, "use only the last `N` prices (0: all)")
	fs.StringVar(&models, "models", DefaultModels, "comma-separated `names` from: "+strings.Join(registry.Names(), ", ")+" (a leaderboard runs all by default)")
	fs.Int64Var(&opts.Seed, "seed", 0, "random `seed` for stochastic models")
	fs.IntVar(&opts.Horizon, "horizon", forecast.DefaultHorizon, fmt.Sprintf("forecast length in trading `days` (1..%d)", forecast.MaxHorizon))
	fs.StringVar(&opts.LSTMMode, "lstm-mode", registry.LSTMModes()[0], "the LSTM's `scaling`: "+strings.Join(registry.LSTMModes(), " or "))
	fs.StringVar(&opts.Bands, "bands", registry.BandModes()[0], "the models' `intervals`: "+strings.Join(registry.BandModes(), " or "))
	fs.BoolVar(&opts.JSON, "json", false, "print JSON (one file's backtest always does; a leaderboard prints markdown without it)")
	fs.IntVar(&cv.Origins, "cv", 0, fmt.Sprintf("with --csv, also evaluate each model by rolling origin at `N` origins (0: none; lstm at most %d, others %d)",
		registry.OriginCap(registry.NameLSTM), registry.MaxOrigins))
	fs.IntVar(&cv.Step, "cv-step", 5, "trading `days` between rolling origins")
	fs.IntVar(&cv.Horizon, "cv-horizon", 0, "days forecast from each origin (0: --horizon)")
	fs.BoolVar(&cv.Refit, "cv-refit", true, "refit at every origin; false fits ARIMA once, at the first")
	fs.StringVar(&cv.Window, "cv-window", crossval.Expanding, "`window` of each fit: "+crossval.Expanding+" or "+crossval.Fixed)
	if err := fs.Parse(args); err != nil {
		fs.SetOutput(usage)
		fs.PrintDefaults()
		if errors.Is(err, flag.ErrHelp) {
			return Options{}, err
		}
		return Options{}, fmt.Errorf("%w: %w (see -h)", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	if cv.Origins != 0 {
		opts.Evaluation = &cv
	}
	modelsGiven := false
	fs.Visit(func(f *flag.Flag) { modelsGiven = modelsGiven || f.Name == "models" })
	if opts.leaderboard() && !modelsGiven {
		models = strings.Join(registry.Names(), ",")
	}
	for _, m := range strings.Split(models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			opts.Models = append(opts.Models, m)
		}
	}
	if err := opts.normalize(); err != nil {
		return Options{}, err
	}
	return opts, nil
}

// normalize validates the options and resolves the horizon in place.
func (o *Options) normalize() error {
	sources := 0
	for _, s := range []string{o.CSVPath, o.Dir, o.Sample} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return fmt.Errorf("%w: give exactly one of --csv FILE, --dir FOLDER and --sample %s", ErrUsage, SampleDJ30)
	}
	if o.Sample != "" && o.Sample != SampleDJ30 {
		return fmt.Errorf("%w: unknown sample %q, the bundled one is %s", ErrUsage, o.Sample, SampleDJ30)
	}
	if o.Workers < 0 {
		return fmt.Errorf("%w: jobs %d is negative", ErrUsage, o.Workers)
	}
	if o.Tail < 0 {
		return fmt.Errorf("%w: tail %d is negative", ErrUsage, o.Tail)
	}
	horizon, err := forecast.ResolveHorizon(o.Horizon)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	o.Horizon = horizon
	if o.Evaluation != nil {
		if o.Evaluation.Horizon == 0 {
			o.Evaluation.Horizon = o.Horizon
		}
		if err := o.Evaluation.Validate(); err != nil {
			return fmt.Errorf("%w: --cv: %w", ErrUsage, err)
		}
	}
	if o.LSTMMode == "" {
		o.LSTMMode = registry.LSTMModes()[0]
	}
	if !slices.Contains(registry.LSTMModes(), o.LSTMMode) {
		return fmt.Errorf("%w: unknown LSTM mode %q, choose from %s", ErrUsage, o.LSTMMode, strings.Join(registry.LSTMModes(), ", "))
	}
	if o.Bands == "" {
		o.Bands = registry.BandModes()[0]
	}
	if !slices.Contains(registry.BandModes(), o.Bands) {
		return fmt.Errorf("%w: unknown bands %q, choose from %s", ErrUsage, o.Bands, strings.Join(registry.BandModes(), ", "))
	}
	if len(o.Models) == 0 {
		return fmt.Errorf("%w: no models given", ErrUsage)
	}
	seen := make(map[string]bool, len(o.Models))
	for _, m := range o.Models {
		if !registry.Known(m) {
			return fmt.Errorf("%w: unknown model %q, choose from %s", ErrUsage, m, strings.Join(registry.Names(), ", "))
		}
		if seen[m] {
			return fmt.Errorf("%w: model %q given twice", ErrUsage, m)
		}
		seen[m] = true
	}
	return nil
}

// result is the JSON document Run prints.
type result struct {
	File      string `json:"file"`
	Column    string `json:"column"`
	N         int    `json:"n"`
	FirstDate string `json:"first_date,omitempty"`
	LastDate  string `json:"last_date,omitempty"`
	// TestStart is the date of the first test day, where every model's
	// test set begins.
	TestStart      string `json:"test_start,omitempty"`
	TestStartIndex int    `json:"test_start_index"`
	Horizon        int    `json:"horizon"`
	Seed           int64  `json:"seed"`
	LSTMMode       string `json:"lstm_mode"`
	Bands          string `json:"bands"`
	// DroppedRows counts the file's data rows without a usable number in
	// the column, and DroppedLines gives the line numbers of the first few.
	DroppedRows  int                    `json:"dropped_rows"`
	DroppedLines []int                  `json:"dropped_lines,omitempty"`
	Models       map[string]modelResult `json:"models"`
}

// modelResult is one model's line in the result.
type modelResult struct {
	RMSE                float64 `json:"rmse"`
	MAE                 float64 `json:"mae"`
	MAPE                float64 `json:"mape"`
	DirectionalAccuracy float64 `json:"directional_accuracy"`
	// DirectionalCallShare and DirectionalPValue are the share of test days
	// with a direction call and the Pesaran–Timmermann test of their
	// skill (nil: no test; see forecast.Metrics).
	DirectionalCallShare float64  `json:"directional_call_share"`
	DirectionalPValue    *float64 `json:"directional_p_value"`
	// PredictsDaysAhead is how far ahead the model's test predictions, and
	// so its persistence, reach.
	PredictsDaysAhead int     `json:"predicts_days_ahead"`
	PersistenceRMSE   float64 `json:"persistence_rmse"`
	// DM is the Diebold–Mariano test against persistence, BeatsPersistence
	// its verdict at p < 0.05 and Verdict the same in words.
	DM               *forecast.DMTest `json:"dm_test,omitempty"`
	BeatsPersistence bool             `json:"beats_persistence"`
	Verdict          string           `json:"verdict,omitempty"`
	// Coverage is the test days' empirical coverage of the 80% and 95%
	// intervals.
	Coverage   []forecast.Coverage `json:"coverage,omitempty"`
	TestPoints int                 `json:"test_points"`
	// Seconds is the wall time of the whole model run.
	Seconds      float64   `json:"seconds"`
	NextForecast *float64  `json:"next_forecast,omitempty"`
	Forecast     []float64 `json:"forecast,omitempty"`
	// ForecastPI80 and ForecastPI95 are the forecast's 80% and 95%
	// intervals, one per value.
	ForecastPI80 []forecast.Band `json:"forecast_pi80,omitempty"`
	ForecastPI95 []forecast.Band `json:"forecast_pi95,omitempty"`
	// Test holds every test day, so that each figure above can be
	// recomputed from the points.
	Test []testDay `json:"test,omitempty"`
	// FirstFit is ARIMA's first walk-forward fit (coefficients and
	// log-likelihood), the figure to compare with statsmodels.
	FirstFit any            `json:"first_fit,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
	Error    string         `json:"error,omitempty"`
	// Evaluation is the rolling-origin evaluation that --cv asks for, and
	// EvaluationError why there is none.
	Evaluation      *crossval.Result `json:"evaluation,omitempty"`
	EvaluationError string           `json:"evaluation_error,omitempty"`
}

// testDay is one test point as the CLI writes it: where it is in the
// series (and its date, when the file has one), the close and the
// prediction, and the intervals the model gave for it.
type testDay struct {
	Index     int            `json:"index"`
	Date      string         `json:"date,omitempty"`
	Actual    float64        `json:"actual"`
	Predicted float64        `json:"predicted"`
	PI80      *forecast.Band `json:"pi80,omitempty"`
	PI95      *forecast.Band `json:"pi95,omitempty"`
}

// firstFitParam is the Report.Params key under which ARIMA reports its
// first walk-forward fit.
const firstFitParam = "first_fit"

// Run reads the series, runs every model on it and writes one JSON object
// to w. A model that fails does not stop the others: its error is written in
// its place and Run returns ErrModelsFailed after the output is complete.
func Run(ctx context.Context, opts Options, w io.Writer) error {
	if err := opts.normalize(); err != nil {
		return err
	}
	if opts.leaderboard() {
		return runLeaderboard(ctx, opts, w)
	}
	s, err := readSeriesFile(opts.CSVPath, opts.Column)
	if err != nil {
		return err
	}
	s.keepLast(opts.Tail)

	n := len(s.values)
	out := result{
		File:           opts.CSVPath,
		Column:         s.column,
		N:              n,
		TestStartIndex: forecast.TestStart(n),
		Horizon:        opts.Horizon,
		Seed:           opts.Seed,
		LSTMMode:       opts.LSTMMode,
		Bands:          opts.Bands,
		DroppedRows:    s.dropped,
		DroppedLines:   s.droppedLines,
		Models:         make(map[string]modelResult, len(opts.Models)),
	}
	if s.dates != nil {
		out.FirstDate, out.LastDate = s.dates[0], s.dates[n-1]
		if out.TestStartIndex < n {
			out.TestStart = s.dates[out.TestStartIndex]
		}
	}

	var failed []string
	for _, name := range opts.Models {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("backtest: %w", err)
		}
		ropts := registry.Options{Horizon: opts.Horizon, Seed: opts.Seed, LSTMMode: opts.LSTMMode, Bands: opts.Bands}
		res := runModel(ctx, name, s.values, s.dates, ropts)
		if opts.Evaluation != nil {
			ev, err := registry.CrossValidate(ctx, name, s.values, *opts.Evaluation, ropts, nil)
			if err != nil {
				res.EvaluationError = err.Error()
			}
			res.Evaluation = ev
		}
		if res.Error != "" || res.EvaluationError != "" {
			failed = append(failed, name)
		}
		out.Models[name] = res
	}

	enc := json.NewEncoder(w)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write backtest result: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %s", ErrModelsFailed, strings.Join(failed, ", "))
	}
	return nil
}

func readSeriesFile(path, column string) (series, error) {
	f, err := os.Open(path)
	if err != nil {
		return series{}, fmt.Errorf("open price file: %w", err)
	}
	defer f.Close()
	s, err := readSeries(f, column)
	if err != nil {
		return series{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// runModel runs one model on closes; dates, when not nil, are the closes'
// dates.
func runModel(ctx context.Context, name string, closes []float64, dates []string, opts registry.Options) modelResult {
	start := time.Now()
	rep, err := registry.Run(ctx, name, closes, opts)
	seconds := time.Since(start).Seconds()
	if err != nil {
		return modelResult{Seconds: seconds, Error: err.Error()}
	}
	res := modelResult{
		RMSE:                 rep.Metrics.RMSE,
		MAE:                  rep.Metrics.MAE,
		MAPE:                 rep.Metrics.MAPE,
		DirectionalAccuracy:  rep.Metrics.DirectionalAccuracy,
		DirectionalCallShare: rep.Metrics.DirectionalCallShare,
		DirectionalPValue:    rep.Metrics.DirectionalPValue,
		PredictsDaysAhead:    rep.PredictsDaysAhead,
		PersistenceRMSE:      rep.Persistence.RMSE,
		DM:                   rep.DM,
		BeatsPersistence:     rep.BeatsPersistence,
		Verdict:              rep.Verdict,
		Coverage:             rep.Coverage,
		TestPoints:           len(rep.Test),
		Seconds:              seconds,
		Forecast:             rep.Forecast,
		ForecastPI80:         rep.ForecastPI80,
		ForecastPI95:         rep.ForecastPI95,
		Test:                 make([]testDay, len(rep.Test)),
	}
	for i, p := range rep.Test {
		day := testDay{Index: p.Index, Actual: p.Actual, Predicted: p.Predicted, PI80: p.PI80, PI95: p.PI95}
		if p.Index < len(dates) {
			day.Date = dates[p.Index]
		}
		res.Test[i] = day
	}
	if len(rep.Forecast) > 0 {
		res.NextForecast = &rep.Forecast[0]
	}
	for k, v := range rep.Params {
		if k == firstFitParam {
			res.FirstFit = v
			continue
		}
		if res.Params == nil {
			res.Params = make(map[string]any, len(rep.Params))
		}
		res.Params[k] = v
	}
	// encoding/json refuses NaN and ±Inf; one diverged model must not
	// swallow the whole report, so its result is checked on its own.
	if _, err := json.Marshal(res); err != nil {
		return modelResult{Seconds: seconds, Error: fmt.Sprintf("model result cannot be encoded: %v", err)}
	}
	return res
}
