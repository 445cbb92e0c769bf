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

// lstmMaxOrigins caps the LSTM's origins, each a whole training, so that
// one job cannot ask for hours of them. On 2 shared cores a training took
// 0.4 s on 504 closes and 1.4 s on 2,529 (worker backtest --models lstm),
// so about 11 s at the longest lookback (20,000): 10 origins are two
// minutes, a fifth of the default PREDICTION_TIMEOUT. The other models
// need no cap below MaxOrigins: an auto-ARIMA origin (an order search)
// took 40 ms on 2,529 closes, so 250 at the longest lookback take under
// two minutes, and a fixed-order fit or a closed-form run less.
const lstmMaxOrigins = 10

// OriginCap is the most origins a rolling-origin evaluation of the named
// model may ask for: the one owner of the caps, which CrossValidate
// enforces and the job validation and the CLI's help quote.
func OriginCap(name string) int {
	if name == NameLSTM {
		return lstmMaxOrigins
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
	if limit := OriginCap(name); plan.Origins > limit {
		return nil, fmt.Errorf("%w: %d origins for %s, at most %d", crossval.ErrPlan, plan.Origins, name, limit)
	}
	var (
		model    crossval.Model = reportModel{run: m.run, opts: opts}
		minTrain                = 2
	)
	switch name {
	case NameARIMA:
		cfg := arima.DefaultConfig()
		order := arima.Order{P: cfg.P, D: cfg.D, Q: cfg.Q}
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

// Holds is false: a report is a forecast from the window it ran on only.
func (r reportModel) Holds() bool { return false }

// Fit runs the model on train and keeps its forecast and bands.
func (r reportModel) Fit(ctx context.Context, train []float64, h int) (crossval.Fitted, error) {
	rep, err := r.run(ctx, train, h, r.opts)
	if err != nil {
		return nil, err
	}
	return reportPath(crossval.Path{Point: rep.Forecast, PI80: rep.ForecastPI80, PI95: rep.ForecastPI95}), nil
}

// reportPath is the forecast of one report.
type reportPath crossval.Path

// Forecast returns the report's forecast; the window is the one it ran on.
func (p reportPath) Forecast(context.Context, []float64, int) (crossval.Path, error) {
	return crossval.Path(p), nil
}

// arimaModel fits a fixed order, or chooses one by arima.SelectOrder.
type arimaModel struct {
	order arima.Order
	auto  bool
}

// Holds is true: fitted coefficients can filter any later window.
func (a arimaModel) Holds() bool { return true }

// Fit estimates the coefficients on train, choosing the order first when
// the model is auto-ARIMA.
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

// Forecast filters history with the fitted coefficients, as R's
// Arima(history, model = fit) does, and forecasts h closes with bands.
func (f arimaFit) Forecast(_ context.Context, history []float64, h int) (crossval.Path, error) {
	m, err := arima.Filter(history, f.model.Order, f.model.Coefficients)
	if err != nil {
		return crossval.Path{}, err
	}
	pi80, pi95 := m.ForecastBands(h)
	return crossval.Path{Point: m.Forecast(h), PI80: pi80, PI95: pi95}, nil
}
