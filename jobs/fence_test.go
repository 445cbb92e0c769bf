package jobs_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/jobs"
)

// heldPrices holds every caller until release is closed, then serves a
// rising series that starts at base, so that a result tells which worker
// computed it.
type heldPrices struct {
	base    float64
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func newHeldPrices(base float64) *heldPrices {
	return &heldPrices{base: base, started: make(chan struct{}), release: make(chan struct{})}
}

func (p *heldPrices) Load(ctx context.Context, ticker string) (*market.Series, error) {
	p.once.Do(func() { close(p.started) })
	select {
	case <-p.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s := risingSeries(ticker)
	for i := range s.Bars {
		b := &s.Bars[i]
		b.Open, b.High, b.Low, b.Close, b.AdjClose = b.Open+p.base, b.High+p.base, b.Low+p.base, b.Close+p.base, b.AdjClose+p.base
	}
	return s, nil
}

func (p *heldPrices) awaitStart(t *testing.T) {
	t.Helper()
	select {
	case <-p.started:
	case <-time.After(time.Minute):
		t.Fatal("the job never started")
	}
}

// firstClose is the first close of the chart series in a prediction's
// result: the base of the prices that computed it.
func firstClose(t *testing.T, result store.JSON) float64 {
	t.Helper()
	var res struct {
		Series struct {
			Closes []float64 `json:"closes"`
		} `json:"series"`
	}
	require.NoError(t, json.Unmarshal(result, &res))
	require.NotEmpty(t, res.Series.Closes)
	return res.Series.Closes[0]
}

// counter sums the counter name{label="value"} of a registry.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// Issue 18, item 1: worker 1's connection to PostgreSQL stalls (the
// sockets stay open, no byte crosses) with its job computed and its result
// on the way; its lease lapses, the reconciler hands the job to worker 2,
// and then the network heals. Worker 1's result arrived and landed on a job
// that attempt 2 held, and attempt 2 was canceled under it. Every write of
// an attempt is now fenced by its number and its worker: worker 1's is
// refused, and attempt 2 finishes the job with its own result.
func TestAStaleWorkerCannotFinishAJobANewerAttemptHolds(t *testing.T) {
	ctx := context.Background()
	direct := dbtest.Postgres(t, "jobs")
	behind, pg := dbtest.PostgresBehindSwitch(t, "jobs")
	rdb := dbtest.Redis(t)
	owner := dbtest.User(t, direct).ID
	timeouts := jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute}
	queue := jobs.NewQueue(rdb, timeouts)
	const lease = 2 * time.Second

	type node struct {
		worker *jobs.Worker
		prices *heldPrices
		logs   *testlog.Buffer
		reg    *prometheus.Registry
	}
	newNode := func(db *store.DB, id string, base float64) *node {
		n := &node{prices: newHeldPrices(base), logs: &testlog.Buffer{}, reg: prometheus.NewRegistry()}
		n.worker = &jobs.Worker{
			DB: db, Prices: n.prices, Sentiment: noNews{}, Events: jobs.NewEvents(rdb, keyspace.Space{}),
			Logger:  slog.New(slog.NewTextHandler(n.logs, nil)),
			Metrics: jobs.NewMetrics(n.reg), ID: id, Lease: lease,
			// No progress write: the final write is the one in flight
			// when the connection stalls.
			ProgressEvery: time.Hour,
		}
		return n
	}
	serve := func(n *node) {
		mux := asynq.NewServeMux()
		n.worker.Register(mux)
		// One slot each: worker 1's is taken by the stalled attempt, so
		// the rescue can only go to worker 2.
		srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
			Concurrency: 1, Queues: map[string]int{jobs.QueueCritical: 1}, LogLevel: asynq.FatalLevel,
		})
		require.NoError(t, srv.Start(mux))
		t.Cleanup(srv.Shutdown)
	}
	one, two := newNode(behind, "worker-1", 1000), newNode(direct, "worker-2", 100_000)

	serve(one)
	job, _, err := direct.CreateJob(ctx, store.NewJob{
		OwnerID: owner, Kind: store.KindPrediction, Ticker: "ABC", Queue: jobs.QueueCritical,
		Params: store.JSON(`{"models":["linreg"],"horizon":7,"recommendation":"evidence"}`),
	})
	require.NoError(t, err)
	require.NoError(t, queue.Enqueue(ctx, job))
	one.prices.awaitStart(t)

	// Worker 1 computes its result and sends it into the stalled network.
	pg.Stall()
	close(one.prices.release)
	require.Eventually(t, func() bool {
		got, err := direct.Job(ctx, job.ID, 0)
		require.NoError(t, err)
		return got.WorkerLost
	}, time.Minute, 20*time.Millisecond, "worker 1's lease lapses")

	// The reconciler hands the job to worker 2.
	serve(two)
	r := &jobs.Reconciler{DB: direct, Queue: queue, Logger: slog.New(slog.DiscardHandler), Interval: time.Minute, Batch: 100}
	pass, err := r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, jobs.Pass{Enqueued: 1}, pass)
	two.prices.awaitStart(t)
	running, err := direct.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusRunning, running.Status)
	require.Equal(t, 2, running.Attempts)
	require.Equal(t, "worker-2", running.WorkerID)

	// The network heals: worker 1's writes arrive, and are refused.
	pg.Heal()
	require.Eventually(t, func() bool {
		return one.logs.Count("stale attempt 1 refused") > 0 || one.logs.Count("job succeeded") > 0
	}, time.Minute, 20*time.Millisecond, "worker 1 hears back")
	held, err := direct.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusRunning, held.Status, "worker 1's write landed on the job attempt 2 holds")
	require.Equal(t, 2, held.Attempts)
	require.Equal(t, "worker-2", held.WorkerID)
	require.Empty(t, held.Result)

	close(two.prices.release)
	var done *store.Job
	require.Eventually(t, func() bool {
		done, err = direct.Job(ctx, job.ID, 0)
		require.NoError(t, err)
		return done.Final()
	}, time.Minute, 20*time.Millisecond)
	require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
	require.Equal(t, 2, done.Attempts)
	require.Equal(t, "worker-2", done.WorkerID)
	require.Greater(t, firstClose(t, done.Result), 100_000.0, "attempt 2 computed the result, not worker 1")

	// Worker 1 says what happened, and does not count a success.
	require.Equal(t, 1, one.logs.Count("stale attempt 1 refused"), one.logs.String())
	require.Contains(t, one.logs.String(), "worker=worker-1")
	require.Contains(t, one.logs.String(), "job_id="+job.ID.String())
	require.Zero(t, one.logs.Count("job succeeded"))
	require.Zero(t, counter(t, one.reg, "augur_jobs_finished_total", "status", "succeeded"))
	require.InDelta(t, 1, counter(t, one.reg, "augur_job_attempts_lost_total", "reason", "stale"), 0)
	require.Eventually(t, func() bool { return two.logs.Count("job succeeded") == 1 }, time.Minute, 20*time.Millisecond)
	require.InDelta(t, 1, counter(t, two.reg, "augur_jobs_finished_total", "status", "succeeded"), 0)
	require.Zero(t, counter(t, two.reg, "augur_job_attempts_lost_total", "reason", "stale"))
}

// stalledPrices blocks its first caller until the work's context ends,
// and records when that was; later callers get prices at once.
type stalledPrices struct {
	calls     atomic.Int32
	started   chan struct{}
	stopped   chan struct{}
	stoppedAt time.Time
}

func (p *stalledPrices) Load(ctx context.Context, ticker string) (*market.Series, error) {
	if p.calls.Add(1) > 1 {
		return risingSeries(ticker), nil
	}
	close(p.started)
	<-ctx.Done()
	p.stoppedAt = time.Now()
	close(p.stopped)
	return nil, ctx.Err()
}

// A worker cut off from PostgreSQL cannot be told that its lease lapsed,
// so it stops its work itself before the lease can lapse: no other attempt
// ever runs beside it. Once the network heals, the attempt is released
// for asynq's retry, which finishes the job.
func TestAWorkerCutOffFromPostgreSQLStopsBeforeItsLeaseLapses(t *testing.T) {
	ctx := context.Background()
	direct := dbtest.Postgres(t, "jobs")
	behind, pg := dbtest.PostgresBehindSwitch(t, "jobs")
	rdb := dbtest.Redis(t)
	queue := jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})
	prices := &stalledPrices{started: make(chan struct{}), stopped: make(chan struct{})}
	logs := &testlog.Buffer{}
	reg := prometheus.NewRegistry()
	retryAtOnce := func(int, error, *asynq.Task) time.Duration { return 0 }
	w := &jobs.Worker{
		DB: behind, Prices: prices, Sentiment: noNews{}, Events: jobs.NewEvents(rdb, keyspace.Space{}),
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Metrics: jobs.NewMetrics(reg),
		ID: "worker-1", Lease: 2 * time.Second, RetryDelay: retryAtOnce,
	}
	mux := asynq.NewServeMux()
	w.Register(mux)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 1, Queues: map[string]int{jobs.QueueCritical: 1}, LogLevel: asynq.FatalLevel,
		RetryDelayFunc: retryAtOnce, DelayedTaskCheckInterval: 50 * time.Millisecond,
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	job, _, err := direct.CreateJob(ctx, store.NewJob{
		OwnerID: dbtest.User(t, direct).ID, Kind: store.KindPrediction, Ticker: "ABC", Queue: jobs.QueueCritical,
		Params: store.JSON(`{"models":["linreg"],"horizon":7,"recommendation":"evidence"}`),
	})
	require.NoError(t, err)
	require.NoError(t, queue.Enqueue(ctx, job))
	select {
	case <-prices.started:
	case <-time.After(time.Minute):
		t.Fatal("the job never started")
	}

	pg.Stall()
	select {
	case <-prices.stopped:
	case <-time.After(time.Minute):
		t.Fatal("the work went on without its lease")
	}
	require.Equal(t, 1, logs.Count("job attempt lost its lease: no heartbeat reached PostgreSQL; stopping its work"))
	require.Eventually(t, func() bool {
		got, err := direct.Job(ctx, job.ID, 0)
		require.NoError(t, err)
		return got.WorkerLost
	}, time.Minute, 10*time.Millisecond)
	lapsed, err := direct.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.Equal(t, 1, lapsed.Attempts)
	require.True(t, prices.stoppedAt.Before(*lapsed.LeaseExpiresAt),
		"the work stopped at %s, before the lease lapsed at %s", prices.stoppedAt, lapsed.LeaseExpiresAt)

	pg.Heal()
	done := (&fixture{db: direct}).awaitFinal(t, job)
	require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
	require.Equal(t, 2, done.Attempts, "asynq's retry finished it")
	require.Contains(t, done.AttemptError, "lease lapsed without a renewal")
	require.InDelta(t, 1, counter(t, reg, "augur_job_attempts_lost_total", "reason", "lease_lapsed"), 0)
	require.Zero(t, counter(t, reg, "augur_job_attempts_lost_total", "reason", "stale"))
}
