package arima

import (
	"context"
	"fmt"
	"time"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"
)

// Report.Model values of Run.
const (
	// Name labels runs with a fixed order.
	Name = "arima"
	// NameAuto labels runs whose order SelectOrder chose.
	NameAuto = "arima_auto"
)

// Config selects the model order.
type Config struct {
	// P, D and Q are the order when Auto is false.
	P, D, Q int
	// Auto chooses (p,d,q) by SelectOrder on the training part; P, D and Q
	// are then ignored.
	Auto bool
}

func (c Config) order() Order { return Order{P: c.P, D: c.D, Q: c.Q} }

// DefaultConfig is ARIMA(6,1,0), the original app's order.
func DefaultConfig() Config {
	return Config{P: 6, D: 1, Q: 0}
}

// Run fits, walk-forward-evaluates on the test days and forecasts horizon
// steps.
//
// The closes before forecast.TestStart are the training part. For each
// later close the model is refitted on all closes before it (warm-started
// from the previous refit) and its one-step forecast is recorded as a test
// point with its 80% and 95% intervals (Model.ForecastBands); progress is
// reported after every refit. Finally the model is fitted on the whole
// series and forecasts horizon closes with their intervals. With cfg.Auto the
// order is chosen once, on the training part, and kept for the walk-forward.
//
// horizon is taken as given: the registry resolves it once with
// forecast.ResolveHorizon for every model, and 0 forecasts nothing, as in
// lstm.Run.
//
// Params holds "order" [p,d,q], "drift" (whether the model has one),
// "model" (the order in words, as "ARIMA(0,1,1) with drift"), "first_fit"
// (the training-part fit's statsmodels-named "coefficients",
// "log_likelihood" and "aicc"), "refits", "not_converged" (refits that
// stopped on a limit rather than converging), "train_size", "test_size",
// and with cfg.Auto "candidates", the models the order search compared,
// each with its "order", "drift" and "aicc".
//
// Run holds one thread of the compute budget that ctx carries
// (compute.FromContext) while it works.
//
// Run returns an error wrapping ctx.Err() promptly when ctx is done, and
// one wrapping forecast.ErrNotEnoughData when the series is too short for
// the order and the split.
func Run(ctx context.Context, closes []float64, cfg Config, horizon int, progress forecast.ProgressFunc) (*forecast.Report, error) {
	started := time.Now()
	name := Name
	if cfg.Auto {
		name = NameAuto
	}
	if err := forecast.CheckFinite(closes); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// The fits run on this goroutine alone, which holds one thread of the
	// compute budget, so that the models beside this one (an LSTM splitting
	// its batches) leave its core alone.
	defer compute.FromContext(ctx).Hold()()
	n := len(closes)
	train := forecast.TestStart(n)

	params := map[string]any{}
	var (
		first *Model
		err   error
	)
	if cfg.Auto {
		if train < 1 || train == n {
			return nil, fmt.Errorf("%s: %d closes leave no training or test part: %w", name, n, forecast.ErrNotEnoughData)
		}
		sel, err := SelectOrder(ctx, closes[:train])
		if err != nil {
			return nil, fmt.Errorf("%s: choose the order on %d closes: %w", name, train, err)
		}
		first = sel.Best
		candidates := make([]map[string]any, len(sel.Candidates))
		for i, c := range sel.Candidates {
			candidates[i] = map[string]any{"order": orderParam(c.Order), "drift": c.Order.Drift, "aicc": c.AICc}
		}
		params["candidates"] = candidates
	} else {
		order := cfg.order()
		if err := order.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if need := minSeriesLength(order); n < need {
			return nil, fmt.Errorf("%s: %s needs %d closes for its training and test parts, got %d: %w", name, order, need, n, forecast.ErrNotEnoughData)
		}
		if first, err = Fit(ctx, closes[:train], order, nil); err != nil {
			return nil, fmt.Errorf("%s: fit %s on %d closes: %w", name, order, train, err)
		}
	}

	order := first.Order
	test := make([]forecast.TestPoint, 0, n-train)
	notConverged := 0
	current := first
	for i := train; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if i > train {
			if current, err = current.Refit(ctx, closes[:i]); err != nil {
				return nil, fmt.Errorf("%s: refit %s on %d closes: %w", name, order, i, err)
			}
		}
		if !current.Converged {
			notConverged++
		}
		test = append(test, forecast.OneStepPoint(current, closes, i))
		if progress != nil {
			progress(forecast.Progress{Model: name, Step: i - train + 1, Total: n - train})
		}
	}
	final, err := current.Refit(ctx, closes)
	if err != nil {
		return nil, fmt.Errorf("%s: fit %s on all %d closes: %w", name, order, n, err)
	}

	params["order"] = orderParam(order)
	params["drift"] = order.Drift
	params["model"] = order.String()
	params["first_fit"] = map[string]any{
		"coefficients":   first.Named(),
		"log_likelihood": first.LogLikelihood,
		"aicc":           first.AICc(),
	}
	params["refits"] = len(test)
	params["not_converged"] = notConverged
	params["train_size"] = train
	params["test_size"] = len(test)
	return forecast.OneStepReport(name, closes, params, test, final, horizon, started), nil
}

// minSeriesLength is the shortest series whose training part can be fitted
// with order and which leaves at least one test point.
func minSeriesLength(order Order) int {
	n := order.MinObservations() + 1
	for forecast.TestStart(n) < order.MinObservations() {
		n++
	}
	return n
}

func orderParam(o Order) []int { return []int{o.P, o.D, o.Q} }
