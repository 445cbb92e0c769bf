package jobs_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/jobs"
)

// returnBound is how soon after Redis returns its jobs must be final in
// these tests: a probe, a pass and the jobs themselves, far below the
// reconciler's interval here (10 minutes), which is what they waited for
// before.
const returnBound = 20 * time.Second

// watched runs, until the test ends, a reconciler whose ticks are 10
// minutes apart and whose grace is as long, with its RedisWatch.
func (f *fixture) watched(t *testing.T) {
	t.Helper()
	r := f.reconciler()
	r.Interval, r.Grace = 10*time.Minute, 10*time.Minute
	r.Logger = slog.New(slog.NewTextHandler(f.logs, nil))
	watch := &jobs.RedisWatch{Reconciler: r, Redis: f.rdb, Logger: r.Logger, Every: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	wg.Go(func() { watch.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// awaitFinalWithin waits until every job is final, for at most limit.
func (f *fixture) awaitFinalWithin(t *testing.T, limit time.Duration, submitted ...*store.Job) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, job := range submitted {
			got, err := f.db.Job(context.Background(), job.ID, 0)
			require.NoError(t, err)
			if !got.Final() {
				return false
			}
		}
		return true
	}, limit, 20*time.Millisecond, "the jobs are enqueued and run once Redis is back")
}

// Issue 18, item 10: jobs stored while Redis was down were enqueued at the
// reconciler's next tick after it returned, 44 s later at the defaults.
// The watch notices Redis's return and the reconciler passes at once, over
// the young jobs too.
func TestJobsStoredWhileRedisWasDownRunAsSoonAsItReturns(t *testing.T) {
	f := newFixture(t, &flakyPrices{})
	f.watched(t)

	dbtest.StopRedis(t)
	var stored []*store.Job
	for _, ticker := range []string{"ABC", "DEF", "GHI"} {
		job := f.create(t, ticker)
		require.Error(t, f.queue.Enqueue(context.Background(), job), "Redis is down")
		stored = append(stored, job)
	}
	time.Sleep(300 * time.Millisecond) // a few probes find Redis down
	dbtest.StartRedis(t)
	back := time.Now()
	f.awaitFinalWithin(t, returnBound, stored...)
	t.Logf("%d jobs stored during the outage were final %s after Redis returned", len(stored), time.Since(back).Round(time.Millisecond))
	require.Positive(t, f.logs.Count("reconciled jobs with the queue at once: Redis answers again after an outage"))
}

// After Redis loses its data the queued jobs' tasks are gone: they waited
// for the reconciler's next tick, up to a minute with the workers idle.
// The missing marker says Redis was emptied, even when no probe saw it
// down.
func TestQueuedJobsRunAsSoonAsRedisComesBackEmpty(t *testing.T) {
	db := dbtest.Postgres(t, "jobs")
	rdb := dbtest.Redis(t)
	f := &fixture{db: db, rdb: rdb, owner: dbtest.User(t, db).ID, logs: &testlog.Buffer{},
		queue: jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})}
	f.watched(t)
	// The watch has set its marker before Redis loses it. (Without a
	// watch there is none: the test then fails below, where it matters.)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if rdb.Exists(context.Background(), "augur:reconciler:marker").Val() == 1 {
			break
		}
	}
	queued := []*store.Job{f.submit(t, "ABC"), f.submit(t, "DEF")}

	dbtest.RestartRedis(t)
	back := time.Now()
	// Only now does a worker serve the queue: the tasks it finds are the
	// reconciler's.
	w := f.newWorker("worker-a", &flakyPrices{})
	mux := asynq.NewServeMux()
	w.Register(mux)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: 2, Queues: map[string]int{jobs.QueueCritical: 1}, LogLevel: asynq.FatalLevel,
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	f.awaitFinalWithin(t, returnBound, queued...)
	t.Logf("%d jobs queued when Redis lost its data were final %s after it returned", len(queued), time.Since(back).Round(time.Millisecond))
	require.Positive(t, f.logs.Count("reconciled jobs with the queue at once: Redis lost its data")+
		f.logs.Count("reconciled jobs with the queue at once: Redis answers again after an outage"))
}

// A submission whose enqueue failed, because Redis was out of this
// process's reach alone, wakes the reconciler once Redis answers it: the
// workers, whose Redis never went away, had nothing to notice.
func TestAFailedEnqueueWakesTheReconcilerWhenRedisAnswers(t *testing.T) {
	f := newFixture(t, &flakyPrices{})
	f.watched(t)
	cut := dbtest.NewSwitch(t, dbtest.RedisAddr(t))
	webRedis := redis.NewClient(&redis.Options{Addr: cut.Addr(), MaxRetries: -1})
	t.Cleanup(func() { webRedis.Close() })
	web := jobs.NewQueue(webRedis, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})

	cut.Off()
	job := f.create(t, "ABC")
	require.Error(t, web.Enqueue(context.Background(), job), "Redis is out of the web's reach")
	time.Sleep(300 * time.Millisecond)
	cut.On(t)
	back := time.Now()
	f.awaitFinalWithin(t, returnBound, job)
	t.Logf("the job was final %s after Redis answered the web again", time.Since(back).Round(time.Millisecond))
	require.Equal(t, 1, f.logs.Count("reconciled jobs with the queue at once: a job's enqueue failed"))
}
