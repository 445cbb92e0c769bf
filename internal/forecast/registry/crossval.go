package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/arima"
	"github.com/augurhq/augur/internal/forecast/crossval"
)

// MaxOrigins is the most forecast origins any rolling-origin evaluation
// may ask for: past 250 (a year of daily origins) the extra origins add
// little that the first 250 did not show.
const MaxOrigins = 250

// Rolling-origin caps of the costly models, so that one job cannot ask
// for hours of refits. Measured on 504 closes with 2 cores (see
// docs/benchmarks and the crossval benchmarks): an LSTM fit is a whole
// training, seconds to a minute; an order search tens of fits.
const (
	lstmMaxOrigins      = 5
	arimaAutoMaxOrigins = 50
)

// OriginCap is the most origins a rolling-origin evaluation of the named
// model may ask for with or without refitting: the one owner of the caps,
// which the job validation and the CLI both call. A model that keeps its
// first fit (refit false, for the ARIMA models) is fitted once, so only
// the global MaxOrigins bounds it.
func OriginCap(name string, refit bool) int {
	switch {
	case name == NameLSTM:
		return lstmMaxOrigins
	case name == NameARIMAAuto && refit:
		return arimaAutoMaxOrigins
	}
	return MaxOrigins
}

// CrossValidate evaluates the named model by rolling origin (package
// crossval). ARIMA and auto-ARIMA fit once per origin, or once in all
// without plan.Refit, keeping their coefficients (and order) and filtering
// each later window with them, as R's Arima(y, model = fit) does. Every
// other model is run at each origin as a job runs it, and its report's
// forecast and bands are scored: with a closed-form model that costs
// microseconds, so it is refitted whatever plan.Refit says. opts.Horizon
// is ignored: plan.Horizon is the horizon.
func CrossValidate(ctx context.Context, name string, closes []float64, plan crossval.Plan, opts Options, progress crossval.Progress) (*crossval.Result, error) {
	m, ok := lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w %q: choose from %s", ErrUnknownModel, name, strings.Join(Names(), ", "))
	}
	if limit := OriginCap(name, plan.Refit); plan.Origins > limit {
		return nil, fmt.Errorf("%w: %d origins for %s, at most %d", crossval.ErrPlan, plan.Origins, name, limit)
	}
	var (
		model    crossval.Model = reportModel{run: m.run, opts: opts}
		minTrain                = 2
	)
	switch name {
	case NameARIMA:
		order := arima.Order{P: arima.DefaultConfig().P, D: arima.DefaultConfig().D, Q: arima.DefaultConfig().Q}
		model, minTrain = arimaModel{order: order}, order.MinObservations()
	case NameARIMAAuto:
		model = arimaModel{auto: true}
	}
	if _, ok := model.(arimaModel); ok {
		// The fits run on this goroutine alone, as in arima.Run.
		defer compute.FromContext(ctx).Hold()()
	}
	res, err := crossval.Run(ctx, closes, model, plan, minTrain, progress)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return res, nil
}

// reportModel runs a registered model at each origin and keeps its
// report's forecast: it cannot forecast from a window it was not run on.
type reportModel struct {
	run  func(ctx context.Context, closes []float64, horizon int, opts Options) (*forecast.Report, error)
	opts Options
}

func (r reportModel) Holds() bool { return false }

func (r reportModel) Fit(ctx context.Context, train []float64, h int) (crossval.Fitted, error) {
	rep, err := r.run(ctx, train, h, r.opts)
	if err != nil {
		return nil, err
	}
	return reportPath(crossval.Path{Point: rep.Forecast, PI80: rep.ForecastPI80, PI95: rep.ForecastPI95}), nil
}

// reportPath is the forecast of one report.
type reportPath crossval.Path

func (p reportPath) Forecast(context.Context, []float64, int) (crossval.Path, error) {
	return crossval.Path(p), nil
}

// arimaModel fits a fixed order, or chooses one by arima.SelectOrder.
type arimaModel struct {
	order arima.Order
	auto  bool
}

func (a arimaModel) Holds() bool { return true }

func (a arimaModel) Fit(ctx context.Context, train []float64, _ int) (crossval.Fitted, error) {
	if a.auto {
		sel, err := arima.SelectOrder(ctx, train)
		if err != nil {
			return nil, err
		}
		return arimaFit{model: sel.Best}, nil
	}
	m, err := arima.Fit(ctx, train, a.order, nil)
	if err != nil {
		return nil, err
	}
	return arimaFit{model: m}, nil
}

// arimaFit is a fitted ARIMA model; it forecasts any window by filtering
// it with the fitted coefficients.
type arimaFit struct{ model *arima.Model }

func (f arimaFit) Forecast(_ context.Context, history []float64, h int) (crossval.Path, error) {
	m, err := arima.Filter(history, f.model.Order, f.model.Coefficients)
	if err != nil {
		return crossval.Path{}, err
	}
	pi80, pi95 := m.ForecastBands(h)
	return crossval.Path{Point: m.Forecast(h), PI80: pi80, PI95: pi95}, nil
}
