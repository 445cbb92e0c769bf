// Package engine is the registry of price models the worker runs by name. It
// maps the names a job request may contain to the model packages, applies
// one horizon rule to all of them, and labels every report with the name it
// was asked for so results can be matched to requests.
package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/arima"
	"github.com/augurhq/augur/internal/forecast/lstm"
)

// Model names accepted by Run.
const (
	NameLSTM             = lstm.Model
	NameARIMA            = arima.ModelName
	NameARIMAAuto        = arima.ModelNameAuto
	NameLinearRegression = forecast.ModelLinearRegression
	NamePersistence      = forecast.ModelPersistence
	NameDrift            = forecast.ModelDrift
)

// ErrUnknownModel means Run was given a name that is not in Names.
var ErrUnknownModel = errors.New("unknown model")

// Options for one model run.
type Options struct {
	// Horizon is the number of trading days to forecast; 0 means
	// forecast.DefaultHorizon, and it must not exceed forecast.MaxHorizon.
	Horizon int
	// Seed makes stochastic models (the LSTM) reproducible.
	Seed int64
	// Progress receives the model's progress reports; it may be nil.
	Progress forecast.ProgressFunc
}

// Names lists the accepted model names: the original app's models first,
// then the baselines they must beat.
func Names() []string {
	return []string{NameLSTM, NameARIMA, NameARIMAAuto, NameLinearRegression, NamePersistence, NameDrift}
}

// Known reports whether name is a model.
func Known(name string) bool {
	return slices.Contains(Names(), name)
}

// Run runs one named model on closes. The report's Model is set to name.
func Run(ctx context.Context, name string, closes []float64, opts Options) (*forecast.Report, error) {
	if !Known(name) {
		return nil, fmt.Errorf("%w %q: choose from %s", ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	horizon, err := forecast.ResolveHorizon(opts.Horizon)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	rep, err := dispatch(ctx, name, closes, horizon, opts)
	if err != nil {
		return nil, err
	}
	rep.Model = name
	return rep, nil
}

// dispatch calls the model package behind name, which must be Known.
func dispatch(ctx context.Context, name string, closes []float64, horizon int, opts Options) (*forecast.Report, error) {
	var (
		rep *forecast.Report
		err error
	)
	switch name {
	case NameLSTM:
		cfg := lstm.DefaultConfig()
		cfg.Seed = opts.Seed
		return lstm.Run(ctx, closes, cfg, horizon, opts.Progress)
	case NameARIMA, NameARIMAAuto:
		cfg := arima.DefaultConfig()
		// The automatic search replaces the original app's fixed (6,1,0).
		cfg.Auto = name == NameARIMAAuto
		return arima.Run(ctx, closes, cfg, horizon, opts.Progress)
	case NameLinearRegression:
		rep, err = forecast.LinearRegression(ctx, closes, horizon)
	case NamePersistence:
		rep, err = forecast.Persistence(closes, horizon)
	case NameDrift:
		rep, err = forecast.Drift(closes, horizon)
	default:
		return nil, fmt.Errorf("%w %q: known but not dispatched", ErrUnknownModel, name)
	}
	if err != nil {
		return nil, err
	}
	// The closed-form models finish in one step; reporting it keeps a
	// progress bar from waiting on a model that never speaks.
	if opts.Progress != nil {
		opts.Progress(forecast.Progress{Model: name, Step: 1, Total: 1})
	}
	return rep, nil
}
