package registry_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/registry"
)

// tscvCase is one model of ../crossval/testdata/tscv.json (made by
// gen_tscv.R there): how Augur runs it, and the tolerance on its errors.
type tscvCase struct {
	ref, model string
	refit      bool
	// tol bounds |Go error − R error| in index points (the S&P is near
	// 3,000): the random walks are closed form and agree to R's printed
	// digits; ARIMA's maximum likelihood ends where each optimiser stops,
	// and its forecasts agree to within 0.01 point (0.007 at worst).
	tol float64
}

var tscvCases = []tscvCase{
	{ref: "naive", model: registry.NamePersistence, refit: true, tol: 1e-6},
	{ref: "drift", model: registry.NameDrift, refit: true, tol: 1e-6},
	{ref: "arima", model: registry.NameARIMA, refit: true, tol: 0.01},
	{ref: "arima_hold", model: registry.NameARIMA, refit: false, tol: 0.01},
	{ref: "linreg", model: registry.NameLinearRegression, refit: true, tol: 1e-6},
}

// tscvReference is the part of tscv.json these tests read.
type tscvReference struct {
	Origins int `json:"origins"`
	Step    int `json:"step"`
	Horizon int `json:"horizon"`
	Models  map[string]struct {
		Seconds  float64 `json:"seconds"`
		Horizons []struct {
			Coverage80 float64 `json:"coverage80"`
			Coverage95 float64 `json:"coverage95"`
			MASE       float64 `json:"mase"`
		} `json:"horizons"`
		Origins []struct {
			Index  int       `json:"index"`
			Errors []float64 `json:"errors"`
		} `json:"origins"`
	} `json:"models"`
}

func loadTSCV(t testing.TB) (tscvReference, crossval.Plan) {
	t.Helper()
	raw, err := os.ReadFile("../crossval/testdata/tscv.json")
	require.NoError(t, err)
	var ref tscvReference
	require.NoError(t, json.Unmarshal(raw, &ref))
	return ref, crossval.Plan{Origins: ref.Origins, Step: ref.Step, Horizon: ref.Horizon, Window: crossval.Expanding}
}

// TestCrossValidateMatchesTSCV runs persistence, drift, ARIMA(6,1,0)
// refitted and held, and linreg on the windows of R's reference and compares the
// errors at every origin and horizon, and the interval coverage of ARIMA
// and linreg, whose bands are the same as R's (Gaussian state-space, and
// predict.lm's); persistence's and drift's are conformal, not R's.
func TestCrossValidateMatchesTSCV(t *testing.T) {
	ref, plan := loadTSCV(t)
	closes := sp500(t)
	for _, tc := range tscvCases {
		t.Run(tc.ref, func(t *testing.T) {
			want := ref.Models[tc.ref]
			require.NotEmpty(t, want.Origins)
			plan.Refit = tc.refit
			res, err := registry.CrossValidate(context.Background(), tc.model, closes, plan, registry.Options{}, nil)
			require.NoError(t, err)
			require.Len(t, res.Origins, len(want.Origins))
			for i, o := range res.Origins {
				require.Equal(t, want.Origins[i].Index, o.Index)
				require.InDeltaSlice(t, want.Origins[i].Errors, o.Errors, tc.tol, "origin %d", o.Index)
			}
			for k, h := range res.Horizons {
				require.InEpsilon(t, want.Horizons[k].MASE, *h.MASE, 1e-4, "h = %d", k+1)
				if tc.model != registry.NamePersistence && tc.model != registry.NameDrift {
					require.InDelta(t, want.Horizons[k].Coverage80, *h.Coverage80, 1e-12, "h = %d", k+1)
					require.InDelta(t, want.Horizons[k].Coverage95, *h.Coverage95, 1e-12, "h = %d", k+1)
				}
			}
			if !tc.refit {
				require.Equal(t, 1, res.Fits)
			}
		})
	}
}

// TestCrossValidateCaps checks that a plan beyond a model's origin cap is
// refused before any fit.
func TestCrossValidateCaps(t *testing.T) {
	closes := sp500(t)
	plan := crossval.Plan{Origins: registry.OriginCap(registry.NameLSTM) + 1, Step: 1, Horizon: 1, Refit: true, Window: crossval.Expanding}
	_, err := registry.CrossValidate(context.Background(), registry.NameLSTM, closes, plan, registry.Options{}, nil)
	require.ErrorIs(t, err, crossval.ErrPlan)
	_, err = registry.CrossValidate(context.Background(), "nope", closes, plan, registry.Options{}, nil)
	require.ErrorIs(t, err, registry.ErrUnknownModel)
}

// BenchmarkCrossValidateVsR times each model of the R reference on the same
// 20 origins, and reports R's time for the same loop (from tscv.json,
// measured by gen_tscv.R) and R's time over Augur's as "x_faster":
//
//	go test -run '^$' -bench CrossValidateVsR ./internal/forecast/registry
func BenchmarkCrossValidateVsR(b *testing.B) {
	ref, plan := loadTSCV(b)
	closes := sp500(b)
	for _, tc := range tscvCases {
		b.Run(tc.ref, func(b *testing.B) {
			plan.Refit = tc.refit
			for b.Loop() {
				if _, err := registry.CrossValidate(context.Background(), tc.model, closes, plan, registry.Options{}, nil); err != nil {
					b.Fatal(err)
				}
			}
			perOp := b.Elapsed().Seconds() / float64(b.N)
			rSeconds := ref.Models[tc.ref].Seconds
			b.ReportMetric(rSeconds*1e3, "R_ms/op")
			b.ReportMetric(rSeconds/perOp, "x_faster")
		})
	}
}
