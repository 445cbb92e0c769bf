package upstream

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series shared by every upstream client; the
// source label tells the clients apart.
type Metrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

// NewMetrics creates the upstream metrics and registers them with reg.
// Calling it twice with the same registry returns metrics backed by the
// collectors already registered, so independent wiring code cannot panic on
// a duplicate registration.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "augur_upstream_requests_total",
		Help: "Upstream HTTP requests by source and outcome (ok or the failure kind); circuit_open counts calls refused without a request.",
	}, []string{"source", "outcome"})
	seconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "augur_upstream_request_seconds",
		Help: "Duration of upstream HTTP requests, body read included.",
		// 10 ms … ~20 s: from a warm local proxy to a request that hit the
		// timeout.
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{"source"})
	return &Metrics{
		requests: register(reg, requests),
		seconds:  register(reg, seconds),
	}
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// observe records one call outcome; requested is false when no request was
// sent (open circuit), which has no meaningful latency. A nil *Metrics
// records nothing.
func (m *Metrics) observe(source, outcome string, took time.Duration, requested bool) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(source, outcome).Inc()
	if requested {
		m.seconds.WithLabelValues(source).Observe(took.Seconds())
	}
}
