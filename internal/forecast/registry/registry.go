// Package registry holds the price models that the worker and the backtest
// command run by name. It maps the names a job request may contain
// to the model packages, resolves the horizon once for all of them, and
// labels every report with the name it was asked for so results can be
// matched to requests.
package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/arima"
	"github.com/augurhq/augur/internal/forecast/ets"
	"github.com/augurhq/augur/internal/forecast/garch"
	"github.com/augurhq/augur/internal/forecast/lstm"
	"github.com/augurhq/augur/internal/forecast/theta"
)

// Model names accepted by Run.
const (
	NameLSTM             = lstm.Name
	NameARIMA            = arima.Name
	NameARIMAAuto        = arima.NameAuto
	NameETS              = ets.Name
	NameTheta            = theta.Name
	NameLinearRegression = forecast.NameLinearRegression
	NamePersistence      = forecast.NamePersistence
	NameDrift            = forecast.NameDrift
)

// Band sources accepted by Options.Bands.
const (
	// BandsModel keeps each model's own 80% and 95% bands: ARIMA's
	// state-space intervals, linreg's OLS intervals, the conformal bands
	// of the others. It is the default.
	BandsModel = "model"
	// BandsGARCH replaces them with bands from a GARCH(1,1)-t of the
	// daily returns around the model's own predictions (garch.SetBands),
	// which widen when the market turns wild.
	BandsGARCH = "garch"
)

// BandModes lists the values Options.Bands accepts, the default first.
func BandModes() []string { return []string{BandsModel, BandsGARCH} }

// ErrUnknownModel means Run was given a name that is not in Names.
var ErrUnknownModel = errors.New("unknown model")

// ErrUnknownBands means Run was given Options.Bands not in BandModes.
var ErrUnknownBands = errors.New("unknown bands")

// Options for one model run.
type Options struct {
	// Horizon is the number of trading days to forecast; 0 means
	// forecast.DefaultHorizon, and it must not exceed forecast.MaxHorizon.
	Horizon int
	// Seed makes stochastic models (the LSTM) reproducible.
	Seed int64
	// LSTMMode is the LSTM's scaling, one of LSTMModes; "" is the first,
	// the default.
	LSTMMode string
	// Bands is where the prediction intervals come from, one of
	// BandModes; "" is the first, the default.
	Bands string
	// Progress receives the model's progress reports; it may be nil.
	Progress forecast.ProgressFunc
	// LSTMWeights keeps trained LSTM networks between runs; nil trains
	// every time.
	LSTMWeights lstm.WeightStore
}

// model is one registered model: its name and how to run it with a horizon
// already resolved.
type model struct {
	name string
	run  func(ctx context.Context, closes []float64, horizon int, opts Options) (*forecast.Report, error)
	// closedForm models finish in one step and report no progress of their
	// own; the registry reports that step, so a progress bar never waits on
	// a model that never speaks.
	closedForm bool
	// cost is the model's rough share of a job's wall time, against 1 for
	// a closed-form model (see Cost).
	cost float64
	// stepUnit names what the model's progress steps count (see StepUnit).
	stepUnit string
}

// models is the registry, in the order Names lists it.
var models = []model{
	{name: NameLSTM, cost: 60, stepUnit: "epoch", run: func(ctx context.Context, closes []float64, horizon int, opts Options) (*forecast.Report, error) {
		cfg := lstm.DefaultConfig()
		cfg.Seed = opts.Seed
		if opts.LSTMMode != "" {
			cfg.Mode = opts.LSTMMode
		}
		return lstm.RunWithWeights(ctx, closes, cfg, horizon, opts.Progress, opts.LSTMWeights)
	}},
	{name: NameARIMA, cost: 20, stepUnit: "walk-forward refit", run: func(ctx context.Context, closes []float64, horizon int, opts Options) (*forecast.Report, error) {
		return arima.Run(ctx, closes, arima.DefaultConfig(), horizon, opts.Progress)
	}},
	// The automatic order search replaces the original app's fixed (6,1,0).
	{name: NameARIMAAuto, cost: 30, stepUnit: "walk-forward refit", run: func(ctx context.Context, closes []float64, horizon int, opts Options) (*forecast.Report, error) {
		return arima.Run(ctx, closes, arima.Config{Auto: true}, horizon, opts.Progress)
	}},
	// ETS and Theta fit twice (training part, all closes) and filter
	// forward between. On two years of closes ETS's two searches take
	// about 6 ms, a third of ARIMA's walk-forward, and Theta's two fits a
	// quarter of a millisecond (BenchmarkFilteredModels).
	{name: NameETS, cost: 6, stepUnit: "fit", run: func(ctx context.Context, closes []float64, horizon int, opts Options) (*forecast.Report, error) {
		return ets.Run(ctx, closes, horizon, opts.Progress)
	}},
	{name: NameTheta, cost: 2, stepUnit: "fit", run: func(ctx context.Context, closes []float64, horizon int, opts Options) (*forecast.Report, error) {
		return theta.Run(ctx, closes, horizon, opts.Progress)
	}},
	{name: NameLinearRegression, closedForm: true, cost: 1, run: func(ctx context.Context, closes []float64, horizon int, _ Options) (*forecast.Report, error) {
		return forecast.LinearRegression(ctx, closes, horizon)
	}},
	{name: NamePersistence, closedForm: true, cost: 1, run: func(ctx context.Context, closes []float64, horizon int, _ Options) (*forecast.Report, error) {
		return forecast.Persistence(ctx, closes, horizon)
	}},
	{name: NameDrift, closedForm: true, cost: 1, run: func(ctx context.Context, closes []float64, horizon int, _ Options) (*forecast.Report, error) {
		return forecast.Drift(ctx, closes, horizon)
	}},
}

// Names lists the accepted model names: the original app's models and the
// other fitted models first, then the baselines they must beat.
func Names() []string {
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.name
	}
	return names
}

// LSTMModes lists the values Options.LSTMMode accepts, the default first:
// "window" scales each window relative to its last close, "clean" is the
// original app's MinMax scaling of price levels fitted on the training part.
func LSTMModes() []string { return lstm.Modes() }

// ClosedForm reports whether name is a model that computes its report in
// one step (linreg and the baselines): tens of microseconds on two years
// of closes, where the others fit for seconds or minutes.
func ClosedForm(name string) bool {
	m, ok := lookup(name)
	return ok && m.closedForm
}

// Cost is the model's rough share of a job's wall time on the default
// request, where a closed-form model counts 1, so that a job's progress
// moves evenly across its models. An unknown name costs 1.
func Cost(name string) float64 {
	m, ok := lookup(name)
	if !ok {
		return 1
	}
	return m.cost
}

// StepUnit names what the model's progress steps (forecast.Progress) count,
// for a progress message: "epoch" for the LSTM, "walk-forward refit" for
// ARIMA, "fit" for ETS and Theta, and "step" for a closed-form model or an
// unknown name.
func StepUnit(name string) string {
	m, ok := lookup(name)
	if !ok || m.stepUnit == "" {
		return "step"
	}
	return m.stepUnit
}

// Fitted reports whether the run that made rep fitted its model. Only the
// LSTM may skip its fit, when it takes a network trained before from its
// weight store (Options.LSTMWeights).
func Fitted(rep *forecast.Report) bool {
	return !lstm.WeightsCached(rep)
}

// lookup finds the named model in the registry.
func lookup(name string) (model, bool) {
	i := slices.IndexFunc(models, func(m model) bool { return m.name == name })
	if i < 0 {
		return model{}, false
	}
	return models[i], true
}

// Known reports whether name is a model.
func Known(name string) bool {
	return slices.Contains(Names(), name)
}

// Run runs one named model on closes. It resolves the horizon once, with
// forecast.ResolveHorizon, for every model, which take it as given. The
// report's Model is set to name. With opts.Bands BandsGARCH the report's
// bands and coverage are GARCH's; should GARCH not fit (too few closes, or
// none that move), the model keeps its own bands and Params
// "bands_error" says why, rather than losing the forecast.
func Run(ctx context.Context, name string, closes []float64, opts Options) (*forecast.Report, error) {
	m, ok := lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w %q: choose from %s", ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	if opts.Bands != "" && !slices.Contains(BandModes(), opts.Bands) {
		return nil, fmt.Errorf("model %s: %w %q: choose from %s", name, ErrUnknownBands, opts.Bands, strings.Join(BandModes(), ", "))
	}
	horizon, err := forecast.ResolveHorizon(opts.Horizon)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	rep, err := m.run(ctx, closes, horizon, opts)
	if err != nil {
		return nil, err
	}
	if opts.Bands == BandsGARCH {
		// The bands' walk-forward fits are part of the model's time.
		start := time.Now()
		defer func() { rep.Seconds += time.Since(start).Seconds() }()
		if err := garch.SetBands(ctx, rep, closes); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("model %s: %w", name, ctx.Err())
			}
			if rep.Params == nil {
				rep.Params = map[string]any{}
			}
			rep.Params["bands_error"] = err.Error()
		}
	}
	if m.closedForm && opts.Progress != nil {
		opts.Progress(forecast.Progress{Model: name, Step: 1, Total: 1})
	}
	rep.Model = name
	return rep, nil
}
