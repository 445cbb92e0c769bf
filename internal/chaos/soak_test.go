package chaos

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak (SOAK=1, make soak) streams 10,000 cheap jobs over about ten
// minutes through two workers, checks every job is accounted for, and
// prints each worker's resident memory and goroutines at the start, the
// middle and the end. SOAK_JOBS and SOAK_DURATION change the size.
func TestSoak(t *testing.T) {
	if os.Getenv("SOAK") == "" {
		t.Skip("set SOAK=1 (make soak) to run the soak")
	}
	jobs, duration := 10000, 10*time.Minute
	if v, err := strconv.Atoi(os.Getenv("SOAK_JOBS")); err == nil {
		jobs = v
	}
	if v, err := time.ParseDuration(os.Getenv("SOAK_DURATION")); err == nil {
		duration = v
	}
	c := newCluster(t, options{workers: 2, concurrency: 2, metrics: true})
	cl := newClient(c)
	c.printWorkerGauges("start")
	// Pace the submits evenly over the duration, as a steady load would,
	// and read the gauges again once half the jobs are in.
	pace := time.NewTicker(duration / time.Duration(jobs))
	defer pace.Stop()
	half := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var count atomic.Int64
		cl.stream(context.Background(), "soak", jobs, 8, cheapJob, pace.C, func(int) {
			if count.Add(1) == int64(jobs/2) {
				close(half)
			}
		})
	}()
	select {
	case <-half:
		c.printWorkerGauges("middle")
	case <-done:
	}
	<-done
	var r row
	finish(t, c, cl, &r)
	c.printWorkerGauges("end")
	fmt.Printf("soak: %d accepted, %d succeeded, %d failed, %d lost, %d duplicated, %d overlapping\n",
		r.accepted, r.succeeded, r.failed, r.lost, r.duplicated, r.overlapping)
	if r.lost+r.duplicated+r.overlapping+r.backwards+r.serverErrors > 0 || r.accepted != jobs {
		t.Errorf("soak: %+v", r)
	}
}

// printWorkerGauges prints the live workers' process_resident_memory_bytes
// and go_goroutines, read from their /metrics.
func (c *cluster) printWorkerGauges(when string) {
	c.t.Helper()
	c.mu.Lock()
	workers := c.workers
	c.mu.Unlock()
	for _, w := range workers {
		if !w.alive() {
			continue
		}
		resp, err := c.http.Get("http://" + w.metricsAddr + "/metrics")
		if err != nil {
			c.t.Fatalf("%s /metrics: %v", w.name, err)
		}
		gauges := map[string]string{}
		lines := bufio.NewScanner(resp.Body)
		for lines.Scan() {
			name, value, ok := strings.Cut(lines.Text(), " ")
			if ok && (name == "process_resident_memory_bytes" || name == "go_goroutines") {
				gauges[name] = value
			}
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			c.t.Fatalf("%s /metrics: HTTP %d", w.name, resp.StatusCode)
		}
		rss, _ := strconv.ParseFloat(gauges["process_resident_memory_bytes"], 64)
		fmt.Printf("soak %-6s %s: rss %.1f MiB, goroutines %s\n", when, w.name, rss/(1<<20), gauges["go_goroutines"])
	}
}
