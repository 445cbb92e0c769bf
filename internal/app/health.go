package app

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/store"
)

// dependencies are the services both programs need to do any work.
type dependencies struct {
	db  *store.DB
	rdb *redis.Client
}

// pingTimeout bounds one dependency check, so that a scrape or a probe
// answers even when a service hangs.
const pingTimeout = 2 * time.Second

// check pings PostgreSQL and Redis and returns each one's error, nil when
// it answered.
func (d dependencies) check(ctx context.Context) map[string]error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return map[string]error{
		"postgres": d.db.Ping(ctx),
		"redis":    d.rdb.Ping(ctx).Err(),
	}
}

var dependencyUpDesc = prometheus.NewDesc("augur_dependency_up",
	"1 when the dependency answered a ping during this scrape, 0 when it did not.",
	[]string{"dependency"}, nil)

// Describe and Collect make dependencies a Prometheus collector. The ping
// runs at scrape time rather than on /readyz, so the gauge is fresh even
// where nothing probes readiness (compose, a bare host).
func (d dependencies) Describe(ch chan<- *prometheus.Desc) { ch <- dependencyUpDesc }

// Collect pings each dependency and reports whether it answered.
func (d dependencies) Collect(ch chan<- prometheus.Metric) {
	for name, err := range d.check(context.Background()) {
		up := 0.0
		if err == nil {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(dependencyUpDesc, prometheus.GaugeValue, up, name)
	}
}

// healthHandlers adds /healthz (the process answers) and /readyz (its
// dependencies answer) to mux: the worker has no other HTTP listener than
// its metrics one, and Kubernetes probes it there.
func (d dependencies) healthHandlers(mux *http.ServeMux) {
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		results := d.check(r.Context())
		status, body := http.StatusOK, ""
		for _, name := range slices.Sorted(maps.Keys(results)) {
			state := "ok"
			if results[name] != nil {
				status, state = http.StatusServiceUnavailable, "down"
			}
			// The error text stays out: this port is often reachable
			// from more places than the logs are.
			body += name + " " + state + "\n"
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}
