package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/internal/upstream"
	"github.com/augurhq/augur/jobs"
)

// flakyPrices is a price source that fails the first failures calls with a
// transient error (err, or a connection reset), then serves a short rising
// series.
type flakyPrices struct {
	failures int32
	err      error
	calls    atomic.Int32
}

func (f *flakyPrices) Load(_ context.Context, ticker string) (*market.Series, error) {
	if f.calls.Add(1) <= f.failures {
		if f.err != nil {
			return nil, f.err
		}
		return nil, errors.New("upstream hiccup: connection reset by peer")
	}
	return risingSeries(ticker), nil
}

// risingSeries is a short rising price history, enough for linreg.
func risingSeries(ticker string) *market.Series {
	bars := make([]market.Bar, 300)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range bars {
		c := 100 + float64(i) + float64(i%7)
		bars[i] = market.Bar{Date: start.AddDate(0, 0, i), Open: c, High: c, Low: c, Close: c, AdjClose: c}
	}
	return &market.Series{Ticker: ticker, Source: "test", Bars: bars, First: bars[0].Date, Last: bars[len(bars)-1].Date}
}

type noNews struct{}

func (noNews) Analyze(context.Context, sentiment.Request) (*sentiment.Report, error) {
	return nil, sentiment.ErrNoArticles
}

type fixture struct {
	db     *store.DB
	rdb    *redis.Client
	worker *jobs.Worker
	queue  *jobs.Queue
	owner  int64
	logs   *testlog.Buffer
}

func (f *fixture) newWorker(id string, prices jobs.PriceLoader) *jobs.Worker {
	return &jobs.Worker{
		DB: f.db, Prices: prices, Sentiment: noNews{}, Events: jobs.NewEvents(f.rdb, keyspace.Space{}),
		Logger:  slog.New(slog.NewTextHandler(f.logs, nil)),
		Metrics: jobs.NewMetrics(prometheus.NewRegistry()),
		ID:      id, Lease: time.Minute,
	}
}

// newFixture runs a worker whose failed tasks are retried at once, so a
// test walks through every attempt quickly.
func newFixture(t *testing.T, prices jobs.PriceLoader) *fixture {
	t.Helper()
	return newFixtureRetryingAfter(t, prices, 0)
}

// newFixtureRetryingAfter runs a worker whose failed tasks wait delay for
// their retry.
func newFixtureRetryingAfter(t *testing.T, prices jobs.PriceLoader, delay time.Duration) *fixture {
	t.Helper()
	return newFixtureWith(t, prices, delay, func(*jobs.Worker) {})
}

// newFixtureWith runs a worker whose failed tasks wait delay for their
// retry, changed by configure before it starts.
func newFixtureWith(t *testing.T, prices jobs.PriceLoader, delay time.Duration, configure func(*jobs.Worker)) *fixture {
	t.Helper()
	db := dbtest.Postgres(t, "jobs")
	rdb := dbtest.Redis(t)
	u := dbtest.User(t, db)
	f := &fixture{db: db, rdb: rdb, owner: u.ID, logs: &testlog.Buffer{},
		queue: jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})}
	retryDelay := func(int, error, *asynq.Task) time.Duration { return delay }
	w := f.newWorker("worker-a", prices)
	w.RetryDelay = retryDelay
	configure(w)
	f.worker = w
	mux := asynq.NewServeMux()
	w.Register(mux)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:    2,
		Queues:         map[string]int{jobs.QueueCritical: 1},
		RetryDelayFunc: retryDelay,
		// Look for due retries often.
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		LogLevel:                 asynq.FatalLevel,
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	return f
}

func (f *fixture) submit(t *testing.T, ticker string) *store.Job {
	t.Helper()
	job := f.create(t, ticker)
	require.NoError(t, f.queue.Enqueue(context.Background(), job))
	return job
}

// create stores a queued job without enqueueing it, as a submit does when
// Redis is down.
func (f *fixture) create(t *testing.T, ticker string) *store.Job {
	t.Helper()
	job, _, err := f.db.CreateJob(context.Background(), store.NewJob{
		OwnerID: f.owner, Kind: store.KindPrediction, Ticker: ticker, Queue: jobs.QueueCritical,
		Params: store.JSON(`{"models":["linreg"],"horizon":7,"recommendation":"evidence"}`),
	})
	require.NoError(t, err)
	return job
}

func (f *fixture) awaitFinal(t *testing.T, job *store.Job) *store.Job {
	t.Helper()
	var got *store.Job
	require.Eventually(t, func() bool {
		var err error
		got, err = f.db.Job(context.Background(), job.ID, 0)
		return err == nil && got.Final()
	}, time.Minute, 20*time.Millisecond)
	return got
}

func TestTransientFailureIsRetriedThenSucceeds(t *testing.T) {
	prices := &flakyPrices{failures: 2}
	f := newFixture(t, prices)
	job := f.awaitFinal(t, f.submit(t, "ABC"))
	require.Equal(t, store.StatusSucceeded, job.Status, job.Error)
	require.Equal(t, 3, job.Attempts)
	require.Empty(t, job.Error, "a success clears the last attempt's error")
}

// A live provider that failed for now, before a fallback without the
// ticker, is an outage to wait out, not a verdict on the ticker (found by
// the fault suite's upstream scenario).
func TestAJobWaitingForItsRetrySaysWhyAndUntilWhen(t *testing.T) {
	prices := &flakyPrices{failures: 1}
	f := newFixtureRetryingAfter(t, prices, time.Hour)
	submitted := time.Now()
	job := f.submit(t, "ABC")
	var got *store.Job
	require.Eventually(t, func() bool {
		var err error
		got, err = f.db.Job(context.Background(), job.ID, 0)
		return err == nil && got.WaitsForRetry()
	}, time.Minute, 20*time.Millisecond)
	require.Equal(t, store.StatusRunning, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.Contains(t, got.AttemptError, "connection reset by peer")
	// asynq holds the task for the hour its RetryDelayFunc gave, and the
	// row says when that hour ends.
	require.NotNil(t, got.RetryAt)
	require.WithinRange(t, *got.RetryAt, submitted.Add(time.Hour), time.Now().Add(time.Hour))
	require.Nil(t, got.LeaseExpiresAt, "no attempt holds a job waiting for its retry")
	require.Equal(t, int32(1), prices.calls.Load())
}

func TestNoDataWhileAProviderIsDownIsRetried(t *testing.T) {
	prices := &flakyPrices{failures: 1, err: &market.LoadError{Ticker: "ABC", Err: market.ErrNoData, Attempts: []market.Attempt{
		{Source: "yahoo", Outcome: upstream.OutcomeError}, {Source: "sample", Outcome: upstream.OutcomeNotFound},
	}}}
	f := newFixture(t, prices)
	job := f.awaitFinal(t, f.submit(t, "ABC"))
	require.Equal(t, store.StatusSucceeded, job.Status, job.Error)
	require.Equal(t, 2, job.Attempts)
}

func TestFailureAfterTheLastRetryEndsFailed(t *testing.T) {
	prices := &flakyPrices{failures: 1000}
	f := newFixture(t, prices)
	job := f.awaitFinal(t, f.submit(t, "ABC"))
	require.Equal(t, store.StatusFailed, job.Status)
	require.Equal(t, jobs.MaxRetry+1, job.Attempts, "the first try and every retry")
	require.Contains(t, job.Error, "connection reset by peer")
	require.EqualValues(t, jobs.MaxRetry+1, prices.calls.Load())

	// The failure is recorded in the job row, so asynq keeps no archived
	// task that would count in asynq_queue_size as work still to do.
	require.Eventually(t, func() bool {
		_, err := f.queue.Task(jobs.QueueCritical, job.ID)
		return errors.Is(err, jobs.ErrNoTask)
	}, time.Minute, 20*time.Millisecond)
	require.Zero(t, queueSize(t, f.queue, jobs.QueueCritical))
}

// queueSize reads asynq_queue_size for the queue from the queue's
// Prometheus collector.
func queueSize(t *testing.T, q *jobs.Queue, queue string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(q.Collector())
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, family := range families {
		if family.GetName() != "asynq_queue_size" {
			continue
		}
		for _, m := range family.GetMetric() {
			for _, label := range m.GetLabel() {
				if label.GetName() == "queue" && label.GetValue() == queue {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no asynq_queue_size for queue %s", queue)
	return 0
}

func TestDuplicateDeliveryNeverRunsAFinishedJobAgain(t *testing.T) {
	prices := &flakyPrices{}
	f := newFixture(t, prices)
	job := f.awaitFinal(t, f.submit(t, "ABC"))
	require.Equal(t, store.StatusSucceeded, job.Status)

	// asynq delivers at least once: hand the same task to the handler again.
	again := f.process(t, job)
	require.Equal(t, job.Attempts, again.Attempts, "not started again")
	require.Equal(t, job.FinishedAt, again.FinishedAt)
	require.JSONEq(t, string(job.Result), string(again.Result))
	require.EqualValues(t, 1, prices.calls.Load())
}

func TestUnknownTickerFailsAtOnceWithOneSentence(t *testing.T) {
	// Only the bundled sample data: what a machine without network or keys has.
	prices, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, nil, nil, nil)
	require.NoError(t, err)
	f := newFixture(t, prices)
	job := f.awaitFinal(t, f.submit(t, "AAPL"))
	require.Equal(t, store.StatusFailed, job.Status)
	require.Equal(t, 1, job.Attempts, "an unknown ticker is not retried")
	require.Equal(t, "no such ticker AAPL (sample: not_found); the bundled sample data has only AA, AXP, BA, C, CAT, DD, DIS, "+
		"EK, GE, GM, HD, HON, HWP, IBM, INTC, IP, JNJ, JPM, KO, MCD, MMM, MO, MRK, MSFT, PG, SBC, T, UTX, WMT, XOM and ^GSPC",
		job.Error)
}
