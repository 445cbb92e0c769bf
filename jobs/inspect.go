package jobs

import (
	"fmt"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueStats returns asynq's view of the named queues and of every other
// queue it knows, sorted by name. A named queue that asynq has never seen
// is reported empty rather than left out, so an operator sees every queue
// the workers serve.
func (q *Queue) QueueStats(names []string) ([]*asynq.QueueInfo, error) {
	known, err := q.inspector.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	all := append(slices.Clone(names), known...)
	slices.Sort(all)
	all = slices.Compact(all)
	stats := make([]*asynq.QueueInfo, 0, len(all))
	for _, name := range all {
		// GetQueueInfo fails on a queue asynq has not seen; ask only
		// about the ones it has.
		if !slices.Contains(known, name) {
			stats = append(stats, &asynq.QueueInfo{Queue: name})
			continue
		}
		info, err := q.inspector.GetQueueInfo(name)
		if err != nil {
			return nil, fmt.Errorf("inspect queue %s: %w", name, err)
		}
		stats = append(stats, info)
	}
	return stats, nil
}

// Servers returns the worker servers whose heartbeat asynq currently holds
// in Redis: the replicas that are taking work.
func (q *Queue) Servers() ([]*asynq.ServerInfo, error) {
	servers, err := q.inspector.Servers()
	if err != nil {
		return nil, fmt.Errorf("list worker servers: %w", err)
	}
	return servers, nil
}

var serversDesc = prometheus.NewDesc("augur_worker_servers",
	"Worker servers with a live heartbeat in Redis, as asynq sees them.", nil, nil)

// ServersCollector returns a collector of augur_worker_servers, read from
// Redis at each scrape. It belongs on the web tier: it must still answer
// when no worker runs, which is exactly when it matters.
func (q *Queue) ServersCollector() prometheus.Collector { return serversCollector{q} }

type serversCollector struct{ q *Queue }

func (c serversCollector) Describe(ch chan<- *prometheus.Desc) { ch <- serversDesc }

func (c serversCollector) Collect(ch chan<- prometheus.Metric) {
	servers, err := c.q.Servers()
	if err != nil {
		// No sample rather than 0, which would claim that no worker
		// runs, or an invalid metric, which would fail the whole scrape:
		// augur_dependency_up says that Redis is down.
		return
	}
	ch <- prometheus.MustNewConstMetric(serversDesc, prometheus.GaugeValue, float64(len(servers)))
}
