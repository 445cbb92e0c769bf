package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestHealthAndDependencyGauge(t *testing.T) {
	db := dbtest.Postgres(t, "app")
	up := dependencies{db, dbtest.Redis(t)}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	redisDown := dependencies{db, down}

	for _, tc := range []struct {
		name    string
		deps    dependencies
		ready   int
		body    string
		redisUp float64
	}{
		{"both answer", up, http.StatusOK, "postgres ok\nredis ok\n", 1},
		{"redis down", redisDown, http.StatusServiceUnavailable, "postgres ok\nredis down\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			tc.deps.healthHandlers(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			code, body := get(t, srv.URL+"/healthz")
			require.Equal(t, http.StatusOK, code, "alive whatever the dependencies say")
			require.Equal(t, "ok\n", body)
			code, body = get(t, srv.URL+"/readyz")
			require.Equal(t, tc.ready, code)
			require.Equal(t, tc.body, body)

			reg := prometheus.NewRegistry()
			reg.MustRegister(tc.deps)
			require.Equal(t, map[string]float64{"postgres": 1, "redis": tc.redisUp}, gauge(t, reg, "augur_dependency_up", "dependency"))
		})
	}
}

func TestWorkerServersGauge(t *testing.T) {
	s := newStack(t)
	reg := prometheus.NewRegistry()
	h, err := newWebHandler(s.cfg, s.db, s.db.SessionStore(0), s.rdb, s.logger, reg)
	require.NoError(t, err)
	t.Cleanup(h.Close)
	count := func() float64 { return gauge(t, reg, "augur_worker_servers", "")[""] }
	require.Zero(t, count())
	s.startWorker()
	s.startWorker()
	require.Eventually(t, func() bool { return count() == 2 }, 10*time.Second, 100*time.Millisecond)
}

// gauge returns the values of the named gauge by the value of label.
func gauge(t *testing.T, reg *prometheus.Registry, name, label string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	values := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					key = l.GetValue()
				}
			}
			values[key] = m.GetGauge().GetValue()
		}
	}
	require.NotEmpty(t, values, "%s is exported", name)
	return values
}

// TestWebStaysReadyWithoutRedis: web's readiness follows PostgreSQL only,
// since with Redis down submissions are still stored (202) and read back.
// Redis's state is in the body and in augur_dependency_up; the error text
// (host and port) is in the log, never in the answer.
func TestWebStaysReadyWithoutRedis(t *testing.T) {
	s := newStack(t)
	dbtest.StopRedis(t)

	code, body := get(t, s.url+"/readyz")
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"status":"degraded","postgres":"ok","redis":"unavailable"}`, body)
	require.NotContains(t, body, "127.0.0.1")
	id := s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	require.Equal(t, http.StatusOK, s.api.Do(http.MethodGet, "/api/v1/jobs/"+id, nil).Status)
	require.Equal(t, 0.0, gauge(t, s.webReg, "augur_dependency_up", "dependency")["redis"])
	require.Contains(t, s.logs.String(), "readiness: redis does not answer")
}
