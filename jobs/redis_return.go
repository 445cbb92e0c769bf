package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/keyspace"
)

// RedisWatch has the reconciler pass at once, rather than at its next
// tick (RECONCILE_INTERVAL, 30 s by default), when Redis comes back after
// an outage or comes back empty, or when a process that could not enqueue
// a job says Redis answers again. Each of these leaves live jobs that
// asynq does not know: jobs submitted while Redis was down, whose enqueue
// failed, and queued jobs whose tasks an empty Redis forgot. Without it
// they waited up to a whole interval, the workers idle meanwhile.
//
// It probes Redis every Every with one command, SET NX of a marker key
// that has no expiry:
//   - an error is Redis down; the next answer after one is its return;
//   - the marker missing, once this watch has seen it set, is Redis
//     emptied: restarted without persistence, flushed, or failed over to
//     a replica that lacked it. A restart quick enough to fall between two
//     probes shows no error, and is caught this way.
//
// That is one round trip a second per worker, whatever the queues hold.
// Comparing asynq's queues with the jobs PostgreSQL says are queued would
// catch more (a task lost alone) but costs a scan of both; that is the
// reconciler's own pass, which this only brings forward. The marker is
// lost with everything else, which is the point, and a marker evicted
// under memory pressure only costs one pass more.
//
// Every worker runs a watch. When Redis returns, each that noticed makes
// a pass of its own as soon as it gets the reconciler's lock, retrying
// every Every while another replica holds it: the pass already running
// there may have begun before Redis returned, or be a regular one, which
// leaves young jobs alone. A few passes more, once an outage, cost less
// than a pass missed.
type RedisWatch struct {
	Reconciler *Reconciler
	Redis      redis.UniversalClient
	// Keyspace names the wake channel, the deployment's own.
	Keyspace keyspace.Space
	Logger   *slog.Logger
	// Every is how often Redis is probed; zero means DefaultRedisProbe.
	Every time.Duration
}

// DefaultRedisProbe is how often a RedisWatch probes Redis by default.
const DefaultRedisProbe = time.Second

// redisMarkerKey is the key whose absence says that Redis lost its data.
const redisMarkerKey = "augur:reconciler:marker"

// wakeChannel is the Redis channel on which a process whose enqueue failed
// tells the deployment's watches, once Redis answers again, to have the
// reconciler pass (Queue.wakeWhenBack).
func wakeChannel(space keyspace.Space) string { return space.Channel("reconciler:wake") }

// Run probes Redis until ctx ends, and reconciles at once when Redis
// returns, returns empty, or a wake message comes. Its first probe, at
// once, only sets the marker: the reconciler's own first pass, made as it
// starts, covers what came before.
func (w *RedisWatch) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = DefaultRedisProbe
	}
	// go-redis subscribes again by itself after a broken connection.
	sub := w.Redis.Subscribe(ctx, wakeChannel(w.Keyspace))
	defer sub.Close()
	woken := sub.Channel()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var (
		down    bool   // the last probe failed
		seen    bool   // a probe found or set the marker
		pending string // why a pass is due; "" when none is
	)
	for {
		probeCtx, cancel := context.WithTimeout(ctx, every)
		set, err := w.Redis.SetNX(probeCtx, redisMarkerKey, time.Now().UTC().Format(time.RFC3339), 0).Result()
		cancel()
		switch {
		case err != nil:
			down = true
		case down:
			pending = "Redis answers again after an outage"
		case set && seen:
			pending = "Redis lost its data"
		}
		if err == nil {
			down, seen = false, true
			if pending != "" && w.reconcile(ctx, pending) {
				pending = ""
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-woken:
			pending = "a job's enqueue failed while Redis was down, and Redis answers again"
		case <-tick.C:
		}
	}
}

// reconcile makes the pass that why calls for, and reports whether it was
// made: false when another replica held the lock or the pass failed, to
// be tried again at the next probe.
func (w *RedisWatch) reconcile(ctx context.Context, why string) bool {
	ran, pass, err := w.Reconciler.reconcileNow(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		w.Logger.WarnContext(ctx, "reconcile at once: "+why+"; trying again", "err", err,
			"enqueued", pass.Enqueued, "closed", pass.Closed, "discarded", pass.Discarded)
		return false
	case err != nil || !ran:
		return false
	}
	w.Logger.InfoContext(ctx, "reconciled jobs with the queue at once: "+why,
		"enqueued", pass.Enqueued, "closed", pass.Closed, "discarded", pass.Discarded)
	return true
}

// reconcileNow makes one pass, as ReconcileOnce does but over every live
// job however young: Grace leaves alone the jobs that the web server is
// about to enqueue, but a job submitted while Redis was down was not
// enqueued and never will be. Enqueueing a job that the web server
// enqueues too is harmless, the task id being the job id; it only counts
// in Pass.Enqueued. It reports whether the pass ran (false: another
// replica held the lock).
func (r *Reconciler) reconcileNow(ctx context.Context) (ran bool, pass Pass, err error) {
	ran, err = r.DB.WithAdvisoryLock(ctx, ReconcileLockKey, func(ctx context.Context) error {
		return r.reconcile(ctx, &pass, time.Now())
	})
	r.Metrics.count(pass)
	return ran, pass, err
}

// How long wakeWhenBack goes on. It publishes every wakeEvery until a
// watch hears it; once Redis answers, it gives the watches wakeListeners to
// subscribe again, for their subscriptions broke with Redis too. After
// that no worker runs, and the first to start reconciles anyway.
const (
	wakeEvery     = 500 * time.Millisecond
	wakeListeners = 30 * time.Second
)

// wakeWhenBack tells the watches, as soon as Redis answers again, that a
// job could not be enqueued, so that the reconciler enqueues it at once. A
// worker's watch notices an outage that it shared by itself; this covers
// one that only this process saw (a partition between it and Redis). One
// goroutine at a time does it, for every enqueue that failed meanwhile.
func (q *Queue) wakeWhenBack() {
	if !q.waking.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer q.waking.Store(false)
		var answering time.Time // when Redis first answered
		for {
			time.Sleep(wakeEvery)
			ctx, cancel := context.WithTimeout(context.Background(), wakeEvery)
			heard, err := q.rdb.Publish(ctx, wakeChannel(q.space), "enqueue failed").Result()
			cancel()
			switch {
			case errors.Is(err, redis.ErrClosed):
				return
			case err != nil:
				answering = time.Time{}
				continue
			case heard > 0:
				return
			case answering.IsZero():
				answering = time.Now()
			case time.Since(answering) > wakeListeners:
				return
			}
		}
	}()
}
