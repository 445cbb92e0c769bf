package app

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
)

// fits counts the model fits a worker made (augur_model_fit_seconds'
// observations, over every model).
func fits(t testing.TB, reg *prometheus.Registry) uint64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	var n uint64
	for _, f := range families {
		if f.GetName() == "augur_model_fit_seconds" {
			for _, m := range f.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

func TestIdenticalRequestReusesTheResult(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	const body = `{"ticker":"MSFT","models":["linreg","arima"],"horizon":5}`
	first := s.await(s.submit("/api/v1/predictions", body), final)
	require.Equal(t, "succeeded", first["status"], "error: %v", first["error"])
	computed := fits(t, s.workerReg)
	require.EqualValues(t, 3, computed, "linreg, arima and the naive baseline")

	// The same request, with the models in another order and another
	// priority: nothing is fitted, and the result is the first one's.
	again := s.await(s.submit("/api/v1/predictions", `{"ticker":"msft","models":["arima","linreg"],"horizon":5,"priority":"batch"}`), final)
	require.Equal(t, "succeeded", again["status"], "error: %v", again["error"])
	require.Equal(t, true, again["reused"])
	require.Equal(t, first["id"], again["reused_from"])
	require.Equal(t, first["result"], again["result"])
	require.Nil(t, first["reused"])

	// Another user's identical request takes it too, without learning the
	// id of a job that is not theirs.
	owner := s.api
	s.api = s.api.As(dbtest.Token(t, s.db))
	stranger := s.await(s.submit("/api/v1/predictions", body), final)
	s.api = owner
	require.Equal(t, true, stranger["reused"])
	require.Nil(t, stranger["reused_from"])
	require.Equal(t, first["result"], stranger["result"])
	require.Equal(t, computed, fits(t, s.workerReg), "the second identical request fits nothing")

	// Anything that changes the result is another computation.
	other := s.await(s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg","arima"],"horizon":5,"seed":7}`), final)
	require.Nil(t, other["reused_from"])
	require.Equal(t, computed+3, fits(t, s.workerReg))

	// fresh asks for the models to run again.
	fresh := s.await(s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg","arima"],"horizon":5,"fresh":true}`), final)
	require.Equal(t, "succeeded", fresh["status"])
	require.Nil(t, fresh["reused_from"])
	require.Equal(t, computed+6, fits(t, s.workerReg))
}

// Five identical requests at once compute once: one job fits the models,
// and the others take its result, finishing with it.
func TestConcurrentIdenticalRequestsFitOnce(t *testing.T) {
	s := newStack(t)
	s.cfg.WorkerConcurrency = 5
	s.startWorker()
	const body = `{"ticker":"^GSPC","models":["linreg","arima"],"horizon":3}`
	ids := make([]string, 5)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			resp := s.api.Do(http.MethodPost, "/api/v1/predictions", body)
			if resp.Status == http.StatusAccepted {
				ids[i], _ = resp.Map(t)["id"].(string)
			}
		})
	}
	wg.Wait()
	var computedBy string
	results := map[string]any{}
	for _, id := range ids {
		require.NotEmpty(t, id, "every submission is accepted")
		job := s.await(id, final)
		require.Equal(t, "succeeded", job["status"], "error: %v", job["error"])
		results[id] = job["result"]
		if job["reused"] == nil {
			require.Nil(t, job["reused_from"])
			require.Empty(t, computedBy, "two jobs computed")
			computedBy = id
		}
	}
	require.NotEmpty(t, computedBy)
	for _, id := range ids {
		require.Equal(t, results[computedBy], results[id])
	}
	require.EqualValues(t, 3, fits(t, s.workerReg), "linreg, arima and the baseline, once")
}

// modelFits counts one model's fits.
func modelFits(t testing.TB, reg *prometheus.Registry, model string) uint64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "augur_model_fit_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "model" && l.GetValue() == model {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}

// A fresh request computes again, but the LSTM's training on the same data
// with the same configuration comes from PostgreSQL: the forecast is the
// same and no LSTM is fitted.
func TestLSTMWeightsComeFromPostgres(t *testing.T) {
	s := newStack(t)
	s.startWorker()
	first := s.await(s.submit("/api/v1/predictions", `{"ticker":"^GSPC","models":["lstm"],"lookback":120}`), final)
	require.Equal(t, "succeeded", first["status"], "error: %v", first["error"])
	require.EqualValues(t, 1, modelFits(t, s.workerReg, "lstm"))

	again := s.await(s.submit("/api/v1/predictions", `{"ticker":"^GSPC","models":["lstm"],"lookback":120,"fresh":true}`), final)
	require.Equal(t, "succeeded", again["status"], "error: %v", again["error"])
	require.Nil(t, again["reused_from"], "fresh computes")
	require.EqualValues(t, 1, modelFits(t, s.workerReg, "lstm"), "the weights were loaded, not trained")
	lstmOf := func(job map[string]any) map[string]any {
		return job["result"].(map[string]any)["models"].(map[string]any)["lstm"].(map[string]any)
	}
	require.Equal(t, true, lstmOf(again)["params"].(map[string]any)["weights_cached"])
	require.Equal(t, lstmOf(first)["forecast"], lstmOf(again)["forecast"])
	require.Equal(t, lstmOf(first)["test"], lstmOf(again)["test"])
}

// BenchmarkRepeatedDefaultJob measures what reuse saves on the default
// request ({"ticker":"^GSPC"}: linreg, ARIMA and the LSTM on two years):
// the first job computes; an identical one takes its result; a fresh one
// runs the models again with the LSTM's weights from PostgreSQL. Each is
// timed by the database's clock, from start to finish (run-s) and from
// submission to finish (total-s, which adds asynq's wait to pick the task
// up, up to a second on an idle queue).
//
//	go test -run '^$' -bench RepeatedDefaultJob -benchtime 1x ./internal/app
func BenchmarkRepeatedDefaultJob(b *testing.B) {
	for b.Loop() {
		s := newStack(b)
		s.startWorker()
		measure := func(name, body string) {
			job := s.await(s.submit("/api/v1/predictions", body), final)
			require.Equal(b, "succeeded", job["status"], "error: %v", job["error"])
			at := func(field string) time.Time {
				v, err := time.Parse(time.RFC3339Nano, job[field].(string))
				require.NoError(b, err)
				return v
			}
			b.ReportMetric(at("finished_at").Sub(at("started_at")).Seconds(), name+"-run-s")
			b.ReportMetric(at("finished_at").Sub(at("created_at")).Seconds(), name+"-total-s")
		}
		measure("first", `{"ticker":"^GSPC"}`)
		measure("repeat", `{"ticker":"^GSPC"}`)
		measure("fresh", `{"ticker":"^GSPC","fresh":true}`)
	}
}
