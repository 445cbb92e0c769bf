package app

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkIdleWorkerPickup measures how soon an idle worker starts an
// interactive job: it submits 40 cheap jobs 300 ms apart, each finding the
// worker's queues empty, and reports the percentiles of the job's
// started_at less the moment its 202 arrived. It runs at asynq's own task
// check interval (1s) and at WORKER_TASK_CHECK_INTERVAL's default, one
// after the other in the same run. The goal is a p95 under 100 ms.
func BenchmarkIdleWorkerPickup(b *testing.B) {
	for _, interval := range []string{"1s", "default"} {
		b.Run(interval, func(b *testing.B) {
			s := newStack(b)
			if interval != "default" {
				d, err := time.ParseDuration(interval)
				require.NoError(b, err)
				s.cfg.TaskCheckInterval = d
			}
			s.startWorker()
			var waits []time.Duration
			for b.Loop() {
				answered := map[string]time.Time{}
				for i := range 40 {
					id := s.submit("/api/v1/predictions", fmt.Sprintf(`{"ticker":"MSFT","models":["naive"],"seed":%d}`, i))
					answered[id] = time.Now()
					time.Sleep(300 * time.Millisecond)
				}
				for id, at := range answered {
					job := s.await(id, final)
					require.Equal(b, "succeeded", job["status"], "error: %v", job["error"])
					started, err := time.Parse(time.RFC3339Nano, job["started_at"].(string))
					require.NoError(b, err)
					waits = append(waits, started.Sub(at))
				}
			}
			slices.Sort(waits)
			pct := func(p float64) float64 {
				return float64(waits[int(p*float64(len(waits)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(pct(1), "max-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
