package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/backtest"
	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/crossval"
	"github.com/augurhq/augur/internal/forecast/registry"

	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

var sp500File = forecasttest.Path(forecasttest.SP500Last504)

// output mirrors the JSON Run prints, as a consumer would decode it.
type output struct {
	File           string `json:"file"`
	Column         string `json:"column"`
	N              int    `json:"n"`
	FirstDate      string `json:"first_date"`
	LastDate       string `json:"last_date"`
	TestStart      string `json:"test_start"`
	TestStartIndex int    `json:"test_start_index"`
	Horizon        int    `json:"horizon"`
	Seed           int64  `json:"seed"`
	LSTMMode       string `json:"lstm_mode"`
	Bands          string `json:"bands"`
	DroppedRows    int    `json:"dropped_rows"`
	DroppedLines   []int  `json:"dropped_lines"`
	Models         map[string]struct {
		RMSE                 float64             `json:"rmse"`
		MAE                  float64             `json:"mae"`
		MAPE                 float64             `json:"mape"`
		DirectionalAccuracy  float64             `json:"directional_accuracy"`
		PredictsDaysAhead    int                 `json:"predicts_days_ahead"`
		PersistenceRMSE      float64             `json:"persistence_rmse"`
		DirectionalCallShare float64             `json:"directional_call_share"`
		DirectionalPValue    *float64            `json:"directional_p_value"`
		DM                   *forecast.DMTest    `json:"dm_test"`
		BeatsPersistence     bool                `json:"beats_persistence"`
		Verdict              string              `json:"verdict"`
		Coverage             []forecast.Coverage `json:"coverage"`
		TestPoints           int                 `json:"test_points"`
		Seconds              float64             `json:"seconds"`
		NextForecast         *float64            `json:"next_forecast"`
		Forecast             []float64           `json:"forecast"`
		ForecastPI80         []forecast.Band     `json:"forecast_pi80"`
		ForecastPI95         []forecast.Band     `json:"forecast_pi95"`
		Test                 []struct {
			Index             int    `json:"index"`
			Date              string `json:"date"`
			Actual, Predicted float64
			PI80, PI95        *forecast.Band
		} `json:"test"`
		Params          map[string]any   `json:"params"`
		Error           string           `json:"error"`
		Evaluation      *crossval.Result `json:"evaluation"`
		EvaluationError string           `json:"evaluation_error"`
	} `json:"models"`
}

func run(t *testing.T, opts backtest.Options) (output, error) {
	t.Helper()
	var buf bytes.Buffer
	err := backtest.Run(context.Background(), opts, &buf)
	var out output
	if buf.Len() > 0 {
		require.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")), "one JSON object on one line")
		dec := json.NewDecoder(&buf)
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&out))
	}
	return out, err
}

// Reading the file through the CSV reader must give the very series pandas
// read for the reference figures.
func TestRunReproducesReferenceFigures(t *testing.T) {
	out, err := run(t, backtest.Options{CSVPath: sp500File, Models: []string{"linreg", "naive"}, Seed: 3})
	require.NoError(t, err)
	require.Equal(t, sp500File, out.File)
	require.Equal(t, "Close", out.Column)
	require.Equal(t, 504, out.N)
	require.Equal(t, "2018-04-18", out.FirstDate)
	require.Equal(t, "2020-04-17", out.LastDate)
	require.Equal(t, "2019-11-21", out.TestStart)
	require.Equal(t, 403, out.TestStartIndex)
	require.Equal(t, forecast.DefaultHorizon, out.Horizon)
	require.EqualValues(t, 3, out.Seed)
	require.Len(t, out.Models, 2)

	lin := out.Models["linreg"]
	require.Empty(t, lin.Error)
	require.InEpsilon(t, 178.096957, lin.RMSE, 1e-6)
	require.InDelta(t, 184.2603, lin.PersistenceRMSE, 5e-5)
	// Its RMSE is lower than persistence's, but not significantly.
	require.False(t, lin.BeatsPersistence)
	require.InDelta(t, 0.3187, lin.DM.PValue, 1e-4)
	require.Equal(t, "no better than persistence (p = 0.319)", lin.Verdict)
	require.Len(t, lin.Coverage, 2)
	require.InDelta(t, 0.913802, lin.Params["slope"], 1e-6)
	require.Equal(t, 101, lin.TestPoints)
	require.Equal(t, forecast.DefaultHorizon, lin.PredictsDaysAhead)
	require.Len(t, lin.Forecast, forecast.DefaultHorizon)
	require.NotNil(t, lin.NextForecast)
	require.Equal(t, lin.Forecast[0], *lin.NextForecast)
	require.Positive(t, lin.MAE)
	require.Positive(t, lin.MAPE)
	require.Positive(t, lin.Seconds)

	// Every figure can be checked from the points written with it: the
	// RMSE, the dates, the intervals (issue 20 item 5).
	require.Len(t, lin.Test, lin.TestPoints)
	require.Equal(t, out.TestStart, lin.Test[0].Date)
	require.Equal(t, out.LastDate, lin.Test[len(lin.Test)-1].Date)
	var se float64
	for _, p := range lin.Test {
		se += (p.Predicted - p.Actual) * (p.Predicted - p.Actual)
		require.NotNil(t, p.PI95, "day %d", p.Index)
		require.LessOrEqual(t, p.PI95.Lower, p.PI80.Lower)
		require.GreaterOrEqual(t, p.PI95.Upper, p.PI80.Upper)
	}
	require.InEpsilon(t, lin.RMSE, math.Sqrt(se/float64(len(lin.Test))), 1e-12)
	require.Len(t, lin.ForecastPI80, len(lin.Forecast))
	require.Len(t, lin.ForecastPI95, len(lin.Forecast))
	require.Less(t, lin.ForecastPI95[0].Lower, lin.Forecast[0])

	naive := out.Models["naive"]
	require.InDelta(t, 80.4713, naive.RMSE, 5e-5)
	require.False(t, naive.BeatsPersistence)
	require.Equal(t, 101, naive.TestPoints)
	require.Equal(t, 1, naive.PredictsDaysAhead)
}

func TestRunOnMessyFiles(t *testing.T) {
	tests := []struct {
		name      string
		opts      backtest.Options
		column    string
		n         int
		testStart string
		dropped   []int
	}{
		{
			name:   "yahoo download",
			opts:   backtest.Options{CSVPath: "testdata/yahoo_quoted.csv", Models: []string{"linreg", "naive", "drift"}, Horizon: 3},
			column: "Close", n: 60, testStart: "2020-04-01",
			// The market holiday Yahoo writes as a row of nulls.
			dropped: []int{24},
		},
		{
			name:   "decimal commas",
			opts:   backtest.Options{CSVPath: "testdata/decimal_comma.csv", Models: []string{"naive"}, Horizon: 1},
			column: "price", n: 60,
		},
		{
			name:   "tail of a semicolon file without dates",
			opts:   backtest.Options{CSVPath: "testdata/semicolon_price.csv", Column: "PRICE", Tail: 50, Models: []string{"drift", "naive"}, Horizon: 1},
			column: "price", n: 50,
		},
		{
			name:   "tail longer than the file keeps it all",
			opts:   backtest.Options{CSVPath: "testdata/value_only.csv", Tail: 1000, Models: []string{"naive"}, Horizon: 2},
			column: "value", n: 30,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, tt.opts)
			require.NoError(t, err)
			require.Equal(t, tt.column, out.Column)
			require.Equal(t, tt.n, out.N)
			require.Equal(t, tt.testStart, out.TestStart)
			require.Equal(t, tt.opts.Horizon, out.Horizon)
			require.Equal(t, len(tt.dropped), out.DroppedRows)
			require.Equal(t, tt.dropped, out.DroppedLines)
			require.Len(t, out.Models, len(tt.opts.Models))
			for _, name := range tt.opts.Models {
				m, ok := out.Models[name]
				require.True(t, ok, name)
				require.Empty(t, m.Error, name)
				require.Len(t, m.Forecast, tt.opts.Horizon, name)
				require.Positive(t, m.TestPoints, name)
				require.Positive(t, m.PersistenceRMSE, name)
			}
		})
	}
}

func TestRunReportsModelFailuresAfterWriting(t *testing.T) {
	// 30 closes: enough for the baselines, too few for a 30-day regression,
	// as the test days start at close 24 and no pair 30 days apart ends
	// before them.
	out, err := run(t, backtest.Options{CSVPath: "testdata/value_only.csv", Models: []string{"naive", "linreg"}, Horizon: forecast.MaxHorizon})
	require.ErrorIs(t, err, backtest.ErrModelsFailed)
	require.ErrorContains(t, err, "linreg")
	require.Empty(t, out.Models["naive"].Error)
	require.Contains(t, out.Models["linreg"].Error, forecast.ErrNotEnoughData.Error())
	require.Nil(t, out.Models["linreg"].NextForecast)
}

func TestRunRejects(t *testing.T) {
	dir := t.TempDir()
	textOnly := filepath.Join(dir, "text.csv")
	require.NoError(t, os.WriteFile(textOnly, []byte("Date,Close\n2024-01-02,n/a\n"), 0o600))

	tests := []struct {
		name string
		opts backtest.Options
		want error
	}{
		{name: "missing file", opts: backtest.Options{CSVPath: filepath.Join(dir, "nope.csv"), Models: []string{"naive"}}, want: fs.ErrNotExist},
		{name: "bad column", opts: backtest.Options{CSVPath: sp500File, Column: "Volume", Models: []string{"naive"}}, want: backtest.ErrColumnNotFound},
		{name: "no numbers", opts: backtest.Options{CSVPath: textOnly, Models: []string{"naive"}}, want: backtest.ErrNoPrices},
		{name: "unknown model", opts: backtest.Options{CSVPath: sp500File, Models: []string{"prophet"}}, want: backtest.ErrUsage},
		{name: "no models", opts: backtest.Options{CSVPath: sp500File}, want: backtest.ErrUsage},
		{name: "no file", opts: backtest.Options{Models: []string{"naive"}}, want: backtest.ErrUsage},
		{name: "bad horizon", opts: backtest.Options{CSVPath: sp500File, Models: []string{"naive"}, Horizon: 99}, want: forecast.ErrInvalidHorizon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := backtest.Run(context.Background(), tt.opts, &buf)
			require.ErrorIs(t, err, tt.want)
			require.Zero(t, buf.Len(), "nothing is printed for a run that never started")
		})
	}
}

func TestRunStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	err := backtest.Run(ctx, backtest.Options{CSVPath: sp500File, Models: []string{"naive"}}, &buf)
	require.ErrorIs(t, err, context.Canceled)
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want backtest.Options
		err  error
	}{
		{
			name: "all flags",
			args: []string{"--csv", "prices.csv", "--column", "Adj Close", "--tail", "504", "--models", "linreg, drift,naive", "--seed", "42", "--horizon", "5", "--lstm-mode", "clean", "--bands", "garch", "--json"},
			want: backtest.Options{CSVPath: "prices.csv", Column: "Adj Close", Tail: 504, Models: []string{"linreg", "drift", "naive"}, Seed: 42, Horizon: 5, LSTMMode: "clean", Bands: "garch", JSON: true},
		},
		{
			name: "single-dash flags and default horizon",
			args: []string{"-csv=p.csv", "-models=naive"},
			want: backtest.Options{CSVPath: "p.csv", Models: []string{"naive"}, Horizon: forecast.DefaultHorizon, LSTMMode: "window", Bands: "model"},
		},
		{
			name: "defaults run the original app's three models",
			args: []string{"--csv", "p.csv"},
			want: backtest.Options{CSVPath: "p.csv", Models: []string{"lstm", "arima", "linreg"}, Horizon: forecast.DefaultHorizon, LSTMMode: "window", Bands: "model"},
		},
		{name: "no csv", args: []string{"--models", "naive"}, err: backtest.ErrUsage},
		{name: "unknown flag", args: []string{"--csv", "p.csv", "--models", "naive", "--fast"}, err: backtest.ErrUsage},
		{name: "stray argument", args: []string{"--csv", "p.csv", "--models", "naive", "extra"}, err: backtest.ErrUsage},
		{name: "negative tail", args: []string{"--csv", "p.csv", "--models", "naive", "--tail", "-1"}, err: backtest.ErrUsage},
		{name: "horizon too long", args: []string{"--csv", "p.csv", "--models", "naive", "--horizon", "31"}, err: backtest.ErrUsage},
		{name: "unknown model", args: []string{"--csv", "p.csv", "--models", "naive,gpt"}, err: backtest.ErrUsage},
		{name: "model twice", args: []string{"--csv", "p.csv", "--models", "naive,naive"}, err: backtest.ErrUsage},
		{name: "empty model list", args: []string{"--csv", "p.csv", "--models", " , "}, err: backtest.ErrUsage},
		{name: "unknown LSTM mode", args: []string{"--csv", "p.csv", "--lstm-mode", "minmax"}, err: backtest.ErrUsage},
		{name: "unknown bands", args: []string{"--csv", "p.csv", "--bands", "bollinger"}, err: backtest.ErrUsage},
		{
			name: "a leaderboard runs every model by default",
			args: []string{"--sample", "dj30", "--tail", "504", "--jobs", "3"},
			want: backtest.Options{Sample: "dj30", Tail: 504, Workers: 3, Models: []string{"lstm", "arima", "arima_auto", "ets", "theta", "linreg", "naive", "drift"}, Horizon: forecast.DefaultHorizon, LSTMMode: "window", Bands: "model"},
		},
		{
			name: "a leaderboard of chosen models over a folder",
			args: []string{"--dir", "prices", "--models", "naive,drift", "--json"},
			want: backtest.Options{Dir: "prices", Models: []string{"naive", "drift"}, Horizon: forecast.DefaultHorizon, LSTMMode: "window", Bands: "model", JSON: true},
		},
		{name: "two sources", args: []string{"--csv", "p.csv", "--dir", "prices"}, err: backtest.ErrUsage},
		{name: "unknown sample", args: []string{"--sample", "ftse100"}, err: backtest.ErrUsage},
		{name: "negative jobs", args: []string{"--sample", "dj30", "--jobs", "-2"}, err: backtest.ErrUsage},
		{name: "help", args: []string{"-h"}, err: flag.ErrHelp},
		{name: "bad number", args: []string{"--csv", "p.csv", "--models", "naive", "--seed", "x"}, err: backtest.ErrUsage},
		{
			name: "rolling origin, its horizon the forecast's",
			args: []string{"--csv", "p.csv", "--models", "arima", "--horizon", "5", "--cv", "20", "--cv-refit=false", "--cv-window", "fixed"},
			want: backtest.Options{CSVPath: "p.csv", Models: []string{"arima"}, Horizon: 5, LSTMMode: "window", Bands: "model",
				Evaluation: &crossval.Plan{Origins: 20, Step: 5, Horizon: 5, Refit: false, Window: crossval.Fixed}},
		},
		{
			name: "rolling origin over a leaderboard",
			args: []string{"--sample", "dj30", "--cv", "3"},
			want: backtest.Options{Sample: "dj30", Models: registry.Names(), Horizon: forecast.DefaultHorizon, LSTMMode: "window", Bands: "model",
				Evaluation: &crossval.Plan{Origins: 3, Step: 5, Horizon: forecast.DefaultHorizon, Refit: true, Window: crossval.Expanding}},
		},
		{name: "rolling origin, unknown window", args: []string{"--csv", "p.csv", "--cv", "3", "--cv-window", "sliding"}, err: backtest.ErrUsage},
		{name: "rolling origin, zero step", args: []string{"--csv", "p.csv", "--cv", "3", "--cv-step", "0"}, err: backtest.ErrUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := backtest.ParseFlags(tt.args, &bytes.Buffer{})
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// ARIMA's first fit is lifted out of its params so it can be compared with
// statsmodels' coefficients and log-likelihood at a glance.
func TestRunLiftsARIMAFirstFit(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, backtest.Run(context.Background(), backtest.Options{CSVPath: sp500File, Models: []string{"arima"}}, &buf))
	var out struct {
		Models map[string]struct {
			FirstFit struct {
				Coefficients  map[string]float64 `json:"coefficients"`
				LogLikelihood float64            `json:"log_likelihood"`
			} `json:"first_fit"`
			Params map[string]any `json:"params"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &out))
	fit := out.Models["arima"].FirstFit
	// statsmodels 0.13.5 on the same training part (reference-figures.md).
	require.InDelta(t, -1859.099, fit.LogLikelihood, 0.01)
	require.InDelta(t, -0.02666, fit.Coefficients["ar.L1"], 5e-4)
	require.InDelta(t, 608.69107, fit.Coefficients["sigma2"], 0.1)
	require.NotContains(t, out.Models["arima"].Params, "first_fit")
	require.Contains(t, out.Models["arima"].Params, "order")
}

// TestRunCrossValidates runs --cv on the windows of R's reference
// (internal/forecast/crossval/testdata/tscv.json): persistence's errors are
// R's at every origin and horizon, and a plan too long for the file is
// the model's error, after the output is written.
func TestRunCrossValidates(t *testing.T) {
	raw, err := os.ReadFile("../forecast/crossval/testdata/tscv.json")
	require.NoError(t, err)
	var ref struct {
		Models map[string]struct {
			Origins []crossval.Origin `json:"origins"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	plan := crossval.Plan{Origins: 20, Step: 5, Horizon: 5, Refit: true, Window: crossval.Expanding}
	out, err := run(t, backtest.Options{CSVPath: sp500File, Models: []string{"naive"}, Horizon: 5, Evaluation: &plan})
	require.NoError(t, err)
	ev := out.Models["naive"].Evaluation
	require.NotNil(t, ev)
	require.Len(t, ev.Origins, 20)
	for i, o := range ev.Origins {
		require.Equal(t, ref.Models["naive"].Origins[i].Index, o.Index)
		require.InDeltaSlice(t, ref.Models["naive"].Origins[i].Errors, o.Errors, 1e-6)
	}

	long := crossval.Plan{Origins: 200, Step: 5, Horizon: 5, Refit: true, Window: crossval.Expanding}
	out, err = run(t, backtest.Options{CSVPath: sp500File, Models: []string{"naive"}, Horizon: 5, Evaluation: &long})
	require.ErrorIs(t, err, backtest.ErrModelsFailed)
	require.Contains(t, out.Models["naive"].EvaluationError, crossval.ErrPlan.Error())
	require.Empty(t, out.Models["naive"].Error, "the backtest itself stands")
}

// TestRunPassesTheLSTMMode is defect 2 of issue 12 at the command line.
func TestRunPassesTheLSTMMode(t *testing.T) {
	out, err := run(t, backtest.Options{CSVPath: "testdata/semicolon_price.csv", Models: []string{"lstm"}, Horizon: 1, LSTMMode: "clean"})
	require.NoError(t, err)
	require.Equal(t, "clean", out.LSTMMode)
	require.Equal(t, "clean", out.Models["lstm"].Params["mode"])
}

func TestLeaderboardOverAFolder(t *testing.T) {
	var buf bytes.Buffer
	err := backtest.Run(context.Background(), backtest.Options{Dir: "testdata", Models: []string{"naive", "drift"}, Horizon: 1}, &buf)
	require.NoError(t, err)
	out := buf.String()
	require.Contains(t, out, "| model | beats persistence (p < 0.05) |")
	// Five CSV files in testdata, every one long enough for both models.
	require.Contains(t, out, "| naive | 0 of 5 |")
	require.Contains(t, out, "| drift | ")
	require.Contains(t, out, "5 series, horizon 1")

	// A folder without CSV files is a usage error.
	err = backtest.Run(context.Background(), backtest.Options{Dir: t.TempDir(), Models: []string{"naive"}}, &buf)
	require.ErrorIs(t, err, backtest.ErrUsage)
}

func TestLeaderboardOverTheDJ30Sample(t *testing.T) {
	var buf bytes.Buffer
	err := backtest.Run(context.Background(), backtest.Options{Sample: backtest.SampleDJ30, Tail: 120, Models: []string{"linreg", "drift"}, Horizon: 3, JSON: true}, &buf)
	require.NoError(t, err)
	var lb struct {
		Series  int `json:"series"`
		Horizon int `json:"horizon"`
		Models  []struct {
			Model  string `json:"model"`
			Series int    `json:"series"`
			Failed int    `json:"failed"`
		} `json:"models"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &lb))
	require.Equal(t, 30, lb.Series, "the 30 Dow stocks, without the S&P 500 index")
	require.Equal(t, 3, lb.Horizon)
	require.Len(t, lb.Models, 2)
	for _, m := range lb.Models {
		require.Equal(t, 30, m.Series, m.Model)
		require.Zero(t, m.Failed, m.Model)
	}
}
