package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// interactiveJob is the cheap job of the idle-pickup measure, on the
// critical queue.
const interactiveJob = `{"ticker":"MSFT","models":["naive"],"priority":"interactive"}`

// pickupPhase measures how soon an idle worker starts a new interactive
// job: one submission every interval, samples of them, each job's
// started_at (PostgreSQL's clock, same machine) minus the time its 202
// arrived at the client. A job can start before its 202 arrives, which
// shows as a negative latency.
func (c *cluster) pickupPhase(ctx context.Context, s *submitter, samples int, interval, timeout time.Duration) (row, error) {
	before := c.cpu()
	start := time.Now()
	b := batch{errors: map[string]int{}}
	answered := map[string]time.Time{}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for range samples {
		sub := s.submit(ctx, interactiveJob)
		b.add(sub)
		if sub.accepted() {
			answered[sub.id] = sub.answered
		}
		select {
		case <-ctx.Done():
			return row{}, ctx.Err()
		case <-tick.C:
		}
	}
	if err := c.awaitNoLiveJobs(ctx, 20*time.Millisecond, timeout); err != nil {
		return row{}, err
	}
	elapsed := time.Since(start)
	cpu := c.cpu().sub(before)
	rows, err := c.timings(ctx, b.ids)
	if err != nil {
		return row{}, err
	}
	lat := make([]time.Duration, 0, len(rows))
	for _, r := range rows {
		if r.StartedAt != nil {
			lat = append(lat, r.StartedAt.Sub(answered[r.ID.String()]))
		}
	}
	o, err := c.outcomeOf(ctx, b.ids)
	if err != nil {
		return row{}, err
	}
	return row{
		phase: fmt.Sprintf("Augur idle pickup, one interactive job every %v", interval), clients: 1, ops: samples,
		elapsed: elapsed, lat: summarize(lat), latNote: "202 answered→started",
		errors: b.errors, cpu: cpu, lost: o.lost(len(b.ids)),
	}, nil
}

// fullJob is a default prediction of the S&P 500 (linreg, ARIMA and the
// LSTM, beside the naive baseline), each with its own seed, so that
// neither the reuse of an identical job's result nor the LSTM's stored
// weights spare it any work.
const fullJob = `{"ticker":"^GSPC","seed":%d}`

// fullJobsPhase runs n full jobs one after another (each submitted when
// the one before is final), then n at once, and measures each from its
// first submission to its last job's finished_at. One after another, the
// wall time includes an idle worker's pickup per job; the latencies are
// each job's own run, started_at to finished_at, which shows what
// running at once costs a job.
func (c *cluster) fullJobsPhase(ctx context.Context, s *submitter, n int, timeout time.Duration) (seq, conc row, err error) {
	// The first job on a ticker loads its prices into PostgreSQL; neither
	// measure should pay for it.
	if sub := s.submit(ctx, `{"ticker":"^GSPC","models":["naive"]}`); !sub.accepted() {
		return row{}, row{}, fmt.Errorf("warm-up ^GSPC job refused (status %d)", sub.status)
	}
	if err := c.awaitNoLiveJobs(ctx, 20*time.Millisecond, timeout); err != nil {
		return row{}, row{}, err
	}
	seq, err = c.fullJobs(ctx, n, timeout, "one after another", func(b *batch) error {
		for i := range n {
			b.add(s.submit(ctx, fmt.Sprintf(fullJob, 1+i)))
			if err := c.awaitNoLiveJobs(ctx, 20*time.Millisecond, timeout); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return row{}, row{}, err
	}
	conc, err = c.fullJobs(ctx, n, timeout, "at once", func(b *batch) error {
		subs := make([]submission, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { subs[i] = s.submit(ctx, fmt.Sprintf(fullJob, 1+n+i)) })
		}
		wg.Wait()
		for _, sub := range subs {
			b.add(sub)
		}
		return nil
	})
	if err != nil {
		return row{}, row{}, err
	}
	conc.clients = n
	return seq, conc, nil
}

// fullJobs measures one way of running n full jobs: submit posts them
// into a batch, after which the bench waits for every job to be final.
func (c *cluster) fullJobs(ctx context.Context, n int, timeout time.Duration, how string, submit func(*batch) error) (row, error) {
	before := c.cpu()
	b := batch{errors: map[string]int{}}
	if err := submit(&b); err != nil {
		return row{}, err
	}
	if err := c.awaitNoLiveJobs(ctx, 20*time.Millisecond, timeout); err != nil {
		return row{}, err
	}
	cpu := c.cpu().sub(before)
	if len(b.ids) != n {
		return row{}, fmt.Errorf("%d of %d full jobs accepted: %v", len(b.ids), n, b.errors)
	}
	o, err := c.outcomeOf(ctx, b.ids)
	if err != nil {
		return row{}, err
	}
	elapsed := o.lastFinished.Sub(b.first)
	return row{
		phase: "Augur full ^GSPC jobs " + how + " (default models, worker at its default concurrency)", clients: 1, ops: n,
		rate: float64(n) / elapsed.Seconds(), elapsed: elapsed, lat: summarize(o.worktimes), latNote: "started→finished",
		errors: b.errors, cpu: cpu, lost: o.lost(len(b.ids)),
	}, nil
}
