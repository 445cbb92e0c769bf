package crossval_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// rOrigin is one origin of testdata/tscv.json: R's errors, forecasts and
// bands.
type rOrigin struct {
	Index   int       `json:"index"`
	Errors  []float64 `json:"errors"`
	Mean    []float64 `json:"mean"`
	Lower80 []float64 `json:"lower80"`
	Upper80 []float64 `json:"upper80"`
	Lower95 []float64 `json:"lower95"`
	Upper95 []float64 `json:"upper95"`
}

// rHorizon is R's score of one horizon.
type rHorizon struct {
	H          int     `json:"h"`
	RMSE       float64 `json:"rmse"`
	MAE        float64 `json:"mae"`
	MASE       float64 `json:"mase"`
	Coverage80 float64 `json:"coverage80"`
	Coverage95 float64 `json:"coverage95"`
	Winkler95  float64 `json:"winkler95"`
}

// rModel is one model's part of testdata/tscv.json.
type rModel struct {
	Seconds  float64    `json:"seconds"`
	Horizons []rHorizon `json:"horizons"`
	Origins  []rOrigin  `json:"origins"`
}

// rReference is testdata/tscv.json, made by testdata/gen_tscv.R.
type rReference struct {
	Origins int               `json:"origins"`
	Step    int               `json:"step"`
	Horizon int               `json:"horizon"`
	Models  map[string]rModel `json:"models"`
}

func loadReference(t testing.TB) rReference {
	t.Helper()
	raw, err := os.ReadFile("testdata/tscv.json")
	require.NoError(t, err)
	var ref rReference
	require.NoError(t, json.Unmarshal(raw, &ref))
	return ref
}

// replay forecasts what R forecast at each origin, found by the window's
// length, so that the scoring alone is tested against R's.
type replay map[int]rOrigin

func (r replay) Holds() bool { return false }

func (r replay) Fit(_ context.Context, train []float64, _ int) (crossval.Fitted, error) {
	return replayed(r[len(train)]), nil
}

type replayed rOrigin

func (o replayed) Forecast(context.Context, []float64, int) (crossval.Path, error) {
	p := crossval.Path{Point: o.Mean}
	for k := range o.Mean {
		p.PI80 = append(p.PI80, forecast.Band{Lower: o.Lower80[k], Upper: o.Upper80[k]})
		p.PI95 = append(p.PI95, forecast.Band{Lower: o.Lower95[k], Upper: o.Upper95[k]})
	}
	return p, nil
}

// TestScoresMatchR checks the origins, MASE, coverage and Winkler scores
// computed from R's own forecasts against R's figures for each model.
func TestScoresMatchR(t *testing.T) {
	ref := loadReference(t)
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	plan := crossval.Plan{Origins: ref.Origins, Step: ref.Step, Horizon: ref.Horizon, Refit: true, Window: crossval.Expanding}
	for name, m := range ref.Models {
		t.Run(name, func(t *testing.T) {
			model := replay{}
			for _, o := range m.Origins {
				model[o.Index] = o
			}
			var done []int
			res, err := crossval.Run(context.Background(), closes, model, plan, 2, func(d, total int) {
				require.Equal(t, ref.Origins, total)
				done = append(done, d)
			})
			require.NoError(t, err)
			require.Len(t, done, ref.Origins)
			require.Equal(t, ref.Origins, res.Fits)
			for i, o := range res.Origins {
				require.Equal(t, m.Origins[i].Index, o.Index)
				require.InDeltaSlice(t, m.Origins[i].Errors, o.Errors, 1e-6)
			}
			for k, want := range m.Horizons {
				got := res.Horizons[k]
				require.Equal(t, want.H, got.H)
				require.InEpsilon(t, want.RMSE, got.RMSE, 1e-9)
				require.InEpsilon(t, want.MAE, got.MAE, 1e-9)
				require.NotNil(t, got.MASE)
				require.InEpsilon(t, want.MASE, *got.MASE, 1e-9)
				require.InDelta(t, want.Coverage80, *got.Coverage80, 1e-12)
				require.InDelta(t, want.Coverage95, *got.Coverage95, 1e-12)
				require.InEpsilon(t, want.Winkler95, *got.Winkler95, 1e-9)
			}
		})
	}
}

// constant forecasts the same path from every origin and counts fits.
type constant struct {
	holds bool
	fits  *int
}

func (c constant) Holds() bool { return c.holds }

func (c constant) Fit(_ context.Context, train []float64, _ int) (crossval.Fitted, error) {
	*c.fits++
	return lastClose{}, nil
}

type lastClose struct{}

func (lastClose) Forecast(_ context.Context, history []float64, h int) (crossval.Path, error) {
	p := crossval.Path{Point: make([]float64, h)}
	for k := range p.Point {
		p.Point[k] = history[len(history)-1]
	}
	return p, nil
}

// TestRefitAndWindow checks that a model that holds its fit is fitted once
// without Refit, that a fixed window keeps its length, and that a forecast
// equal to persistence has no DM test and no bands.
func TestRefitAndWindow(t *testing.T) {
	closes := make([]float64, 100)
	for i := range closes {
		closes[i] = 100 + float64(i%7) + 0.1*float64(i)
	}
	plan := crossval.Plan{Origins: 10, Step: 3, Horizon: 4, Window: crossval.Fixed}
	for _, tc := range []struct {
		holds, refit bool
		fits         int
	}{{true, false, 1}, {true, true, 10}, {false, false, 10}} {
		fits := 0
		plan.Refit = tc.refit
		res, err := crossval.Run(context.Background(), closes, constant{holds: tc.holds, fits: &fits}, plan, 2, nil)
		require.NoError(t, err)
		require.Equal(t, tc.fits, fits)
		require.Equal(t, tc.fits, res.Fits)
		require.Equal(t, 100-4-9*3, res.Origins[0].Index)
		require.Equal(t, 100-4, res.Origins[9].Index)
		for _, h := range res.Horizons {
			require.Nil(t, h.DM, "persistence against itself")
			require.Nil(t, h.Coverage95)
			require.InDelta(t, h.PersistenceRMSE, h.RMSE, 1e-12)
		}
	}
}

// trend forecasts the last close plus one a day, so its errors differ
// from persistence's.
type trend struct{}

func (trend) Holds() bool { return true }

func (trend) Fit(context.Context, []float64, int) (crossval.Fitted, error) { return trend{}, nil }

func (trend) Forecast(_ context.Context, history []float64, h int) (crossval.Path, error) {
	p := crossval.Path{Point: make([]float64, h)}
	for k := range p.Point {
		p.Point[k] = history[len(history)-1] + float64(k+1)
	}
	return p, nil
}

// TestDMLagFollowsTheOverlap checks that each horizon's Diebold–Mariano
// test counts the overlap of its errors: origins step days apart share
// ⌈h/step⌉−1 days of shocks at horizon h, so the test's h is ⌈h/step⌉ (h
// itself for daily origins, the lag h−1 of the textbook test).
func TestDMLagFollowsTheOverlap(t *testing.T) {
	closes := forecasttest.Closes(t, forecasttest.SP500Last504)
	for _, step := range []int{1, 3} {
		res, err := crossval.Run(context.Background(), closes, trend{}, crossval.Plan{Origins: 40, Step: step, Horizon: 7, Window: crossval.Expanding}, 2, nil)
		require.NoError(t, err)
		for k, h := range res.Horizons {
			require.NotNil(t, h.DM, "h = %d", k+1)
			require.Equal(t, (k+1+step-1)/step, h.DM.H, "h = %d, step %d", k+1, step)
			require.Equal(t, 40, h.DM.N)
		}
	}
}

// TestPlanErrors checks that a plan too long for the series, or with a
// field out of range, fails with ErrPlan, and that cancellation stops Run.
func TestPlanErrors(t *testing.T) {
	closes := make([]float64, 50)
	for i := range closes {
		closes[i] = float64(i + 1)
	}
	fits := 0
	for _, plan := range []crossval.Plan{
		{Origins: 0, Step: 1, Horizon: 1, Window: crossval.Expanding},
		{Origins: 1, Step: 0, Horizon: 1, Window: crossval.Expanding},
		{Origins: 1, Step: 1, Horizon: forecast.MaxHorizon + 1, Window: crossval.Expanding},
		{Origins: 1, Step: 1, Horizon: 1, Window: "sliding"},
		{Origins: 20, Step: 3, Horizon: 5, Window: crossval.Expanding},
	} {
		_, err := crossval.Run(context.Background(), closes, constant{fits: &fits}, plan, 2, nil)
		require.ErrorIs(t, err, crossval.ErrPlan, "%+v", plan)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := crossval.Run(ctx, closes, constant{fits: &fits}, crossval.Plan{Origins: 3, Step: 1, Horizon: 1, Window: crossval.Expanding}, 2, nil)
	require.ErrorIs(t, err, context.Canceled)
}

// TestWinkler checks the interval score inside, below and above a band.
func TestWinkler(t *testing.T) {
	b := forecast.Band{Lower: 10, Upper: 12}
	require.InDelta(t, 2.0, crossval.Winkler(b, 11, 0.95), 1e-12)
	require.InDelta(t, 2+40*1.0, crossval.Winkler(b, 9, 0.95), 1e-9)
	require.InDelta(t, 2+10*0.5, crossval.Winkler(b, 12.5, 0.8), 1e-9)
	require.True(t, math.IsNaN(crossval.NaiveScale([]float64{3, 3, 3})))
}
