package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/upstream"
	"github.com/augurhq/augur/jobs"
)

// gatedPrices holds its first caller until release is closed, so a test
// can act while a job is running; later callers get prices at once.
type gatedPrices struct {
	calls   atomic.Int32
	started chan struct{}
	release chan struct{}
}

func newGatedPrices() *gatedPrices {
	return &gatedPrices{started: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedPrices) Load(ctx context.Context, ticker string) (*market.Series, error) {
	if g.calls.Add(1) == 1 {
		close(g.started)
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return risingSeries(ticker), nil
}

func (g *gatedPrices) awaitStart(t *testing.T) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(time.Minute):
		t.Fatal("the job never started")
	}
}

func (f *fixture) reconciler() *jobs.Reconciler {
	return &jobs.Reconciler{
		DB: f.db, Queue: f.queue, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Interval: time.Minute, Batch: 100,
	}
}

// Issue 9, defect 2: Redis restarted empty while a job ran, the reconciler
// took the running job for a missing one and enqueued it again, and a second
// worker ran it at the same time as the first.
func TestRedisLosingItsDataNeverRunsARunningJobTwice(t *testing.T) {
	ctx := context.Background()
	prices := newGatedPrices()
	f := newFixture(t, prices)
	job := f.submit(t, "ABC")
	prices.awaitStart(t)

	dbtest.RestartRedis(t)
	pass, err := f.reconciler().ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, pass, "a running job whose worker holds it is not missing")
	_, err = f.queue.Task(jobs.QueueCritical, job.ID)
	require.ErrorIs(t, err, jobs.ErrNoTask, "nothing was enqueued")

	// A copy of the task reaches another worker anyway (asynq's own lease
	// ran out, say): it refuses the job while the first worker holds it.
	task, err := jobs.NewTask(job, jobs.Timeouts{Prediction: time.Minute})
	require.NoError(t, err)
	mux := asynq.NewServeMux()
	f.newWorker("worker-b", prices).Register(mux)
	require.NoError(t, mux.ProcessTask(ctx, task))
	running, err := f.db.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusRunning, running.Status)
	require.Equal(t, 1, running.Attempts, "the second worker did not start an attempt")
	require.Equal(t, "worker-a", running.WorkerID)
	require.EqualValues(t, 1, prices.calls.Load(), "the second worker did no work")

	close(prices.release)
	done := f.awaitFinal(t, job)
	require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
	require.Equal(t, 1, done.Attempts)
	require.EqualValues(t, 1, prices.calls.Load())
}

// loseLease ends the attempt's hold on the job as a killed worker's ends:
// its last heartbeat promised only a moment more. It returns once the job
// reads as worker lost.
func (f *fixture) loseLease(t *testing.T, job *store.Job, attempt store.Attempt) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, f.db.Heartbeat(ctx, attempt, time.Millisecond))
	require.Eventually(t, func() bool {
		got, err := f.db.Job(ctx, job.ID, 0)
		require.NoError(t, err)
		return got.WorkerLost
	}, 10*time.Second, 10*time.Millisecond)
}

// The other side of defect 2: once the worker holding a running job falls
// silent, the job is lost and the reconciler enqueues it again.
func TestAJobWhoseWorkerIsLostIsEnqueuedAgain(t *testing.T) {
	ctx := context.Background()
	prices := &flakyPrices{}
	f := newFixture(t, prices)
	// A worker took the job, and then it and the job's task were lost.
	job := f.create(t, "ABC")
	started, err := f.db.StartJob(ctx, job.ID, "worker-gone", time.Minute)
	require.NoError(t, err)

	r := f.reconciler()
	pass, err := r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, pass, "held while its lease is live")

	f.loseLease(t, job, started.Attempt())
	pass, err = r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, jobs.Pass{Enqueued: 1}, pass)

	done := f.awaitFinal(t, job)
	require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
	require.Equal(t, 2, done.Attempts)
	require.Equal(t, "worker-a", done.WorkerID)
	require.EqualValues(t, 1, prices.calls.Load())
}

// A worker killed mid-job leaves its task active in asynq until asynq's
// own lease lapses and its recoverer comes by, up to a minute and a half.
// Once the job's lease has lapsed, the reconciler's rescue task takes the
// job over without waiting for that, and only once.
func TestAJobOfADeadWorkerIsTakenOverWhileAsynqStillHoldsItsTask(t *testing.T) {
	ctx := context.Background()
	prices := &flakyPrices{}
	f := newFixture(t, prices) // its worker serves the critical queue only
	job, _, err := f.db.CreateJob(ctx, store.NewJob{
		OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "ABC", Queue: jobs.QueueDefault,
		Params: store.JSON(`{"models":["linreg"],"horizon":7,"recommendation":"evidence"}`),
	})
	require.NoError(t, err)

	// A worker that takes the task and then says nothing: asynq keeps the
	// task active (this server lives and renews asynq's lease), while the
	// job's own lease lapses, as a killed worker's does.
	taken := make(chan struct{})
	stuck := asynq.NewServerFromRedisClient(f.rdb, asynq.Config{
		Concurrency: 1, Queues: map[string]int{jobs.QueueDefault: 1}, LogLevel: asynq.FatalLevel,
		ShutdownTimeout: time.Second,
	})
	require.NoError(t, stuck.Start(asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		close(taken)
		<-ctx.Done()
		return ctx.Err()
	})))
	t.Cleanup(stuck.Shutdown)
	require.NoError(t, f.queue.Enqueue(ctx, job))
	select {
	case <-taken:
	case <-time.After(time.Minute):
		t.Fatal("the stuck worker never took the task")
	}
	lost, err := f.db.StartJob(ctx, job.ID, "worker-killed", time.Minute)
	require.NoError(t, err)
	r := f.reconciler()
	pass, err := r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, pass, "a live lease is left alone")
	f.loseLease(t, job, lost.Attempt())

	pass, err = r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, jobs.Pass{Enqueued: 1}, pass)
	pass, err = r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, pass, "one rescue per lost attempt")
	inspector := asynq.NewInspectorFromRedisClient(f.rdb)
	original, err := inspector.GetTaskInfo(jobs.QueueDefault, job.ID.String())
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStateActive, original.State, "asynq still holds the first task")

	// A live worker on the job's queue takes the rescue.
	w := f.newWorker("worker-b", prices)
	mux := asynq.NewServeMux()
	w.Register(mux)
	srv := asynq.NewServerFromRedisClient(f.rdb, asynq.Config{
		Concurrency: 1, Queues: map[string]int{jobs.QueueDefault: 1}, LogLevel: asynq.FatalLevel,
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	done := f.awaitFinal(t, job)
	require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
	require.Equal(t, 2, done.Attempts)
	require.Equal(t, "worker-b", done.WorkerID)
	require.EqualValues(t, 1, prices.calls.Load())
}

// Issue 9, defects 3 and 4: after Redis restarted empty the asynq client
// never listed its queues again, so every lookup answered "queue not
// found": the reconciler counted tasks asynq had as re-enqueued, and never
// noticed archived ones. Once it closed a job, the archived task stayed and
// inflated asynq_queue_size.
func TestReconcilerSeesArchivedTasksAfterRedisRestartsEmpty(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "jobs")
	rdb := dbtest.Redis(t)
	f := &fixture{db: db, rdb: rdb, owner: dbtest.User(t, db).ID,
		queue: jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})}
	lost := f.submit(t, "ABC") // the client now takes the queue for listed
	dbtest.RestartRedis(t)
	kept := f.submit(t, "XYZ") // enqueued after the restart

	r := f.reconciler()
	pass, err := r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, jobs.Pass{Enqueued: 1}, pass, "only the lost job was enqueued; the kept one was there")
	for _, job := range []*store.Job{lost, kept} {
		info, err := f.queue.Task(jobs.QueueCritical, job.ID)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStatePending, info.State)
	}

	// Both tasks fail for good where the job rows cannot be told (say
	// PostgreSQL was down), so asynq archives them with the jobs open.
	var handled atomic.Int32
	mux := asynq.NewServeMux()
	mux.HandleFunc(jobs.TypePrediction, func(context.Context, *asynq.Task) error {
		handled.Add(1)
		return fmt.Errorf("record failure: connection refused: %w", asynq.SkipRetry)
	})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Queues: map[string]int{jobs.QueueCritical: 1}, LogLevel: asynq.FatalLevel,
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	var total jobs.Pass
	require.Eventually(t, func() bool {
		pass, err := r.ReconcileOnce(ctx)
		require.NoError(t, err)
		total.Enqueued += pass.Enqueued
		total.Closed += pass.Closed
		total.Discarded += pass.Discarded
		return total.Closed == 2
	}, time.Minute, 20*time.Millisecond)
	require.Equal(t, jobs.Pass{Closed: 2, Discarded: 2}, total)
	require.EqualValues(t, 2, handled.Load())
	for _, job := range []*store.Job{lost, kept} {
		got, err := db.Job(ctx, job.ID, 0)
		require.NoError(t, err)
		require.Equal(t, store.StatusFailed, got.Status)
		require.Contains(t, got.Error, "gave up after retries: record failure: connection refused")
		_, err = f.queue.Task(jobs.QueueCritical, job.ID)
		require.ErrorIs(t, err, jobs.ErrNoTask, "a final job keeps no archived task")
	}
	require.Zero(t, queueSize(t, f.queue, jobs.QueueCritical), "nothing is left to do")

	pass, err = r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, pass, "a quiet pass counts nothing")
}

// Issue 9, defect 8: a finished computation was thrown away when its result
// write fell into a PostgreSQL outage, and asynq ran the whole job again.
func TestAResultOutlivesAFailingFinalWrite(t *testing.T) {
	prices := &flakyPrices{}
	f := newFixture(t, prices)
	// The next three writes of a final status fail as they do while the
	// server shuts down; sequences are not transactional, so each failed
	// write still counts.
	dbtest.Exec(t, f.db, `
		CREATE SEQUENCE outage_writes;
		CREATE FUNCTION outage() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.status IN ('succeeded', 'failed') AND nextval('outage_writes') <= 3 THEN
				RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = 'admin_shutdown';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER outage BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION outage();`)

	job := f.awaitFinal(t, f.submit(t, "ABC"))
	require.Equal(t, store.StatusSucceeded, job.Status, job.Error)
	require.Equal(t, 1, job.Attempts, "the model ran once")
	require.EqualValues(t, 1, prices.calls.Load())
	require.NotEmpty(t, job.Result)
	require.Equal(t, 3, f.logs.Count("recording the job's outcome failed; keeping the result and trying again"))
	// The worker logs its success after the write that awaitFinal saw.
	require.Eventually(t, func() bool { return f.logs.Count("job outcome recorded after retries") == 1 },
		time.Minute, 10*time.Millisecond, "the final write's success is logged")
}

// Issue 9, defect 10: a prediction whose news sources all failed carried a
// neutral sentiment of 0 and a recommendation that said no sentiment was
// given, as if the user had not asked.
func TestUnavailableSentimentNeverReadsAsNeutral(t *testing.T) {
	ctx := context.Background()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	news, err := sentiment.New(sentiment.Config{
		Sources: []string{"finviz"}, FinvizURL: down.URL, HTTP: upstream.Config{MaxRetries: -1},
	}, nil, nil)
	require.NoError(t, err)

	f := newFixture(t, &flakyPrices{})
	job, _, err := f.db.CreateJob(ctx, store.NewJob{
		OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "ABC", Queue: jobs.QueueCritical,
		Params: store.JSON(`{"models":["linreg"],"horizon":7,"recommendation":"evidence","sentiment":true}`),
	})
	require.NoError(t, err)
	task, err := jobs.NewTask(job, jobs.Timeouts{Prediction: time.Minute})
	require.NoError(t, err)
	w := f.newWorker("worker-b", &flakyPrices{})
	w.Sentiment = news
	mux := asynq.NewServeMux()
	w.Register(mux)
	require.NoError(t, mux.ProcessTask(ctx, task))

	done, err := f.db.Job(ctx, job.ID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
	var res struct {
		Sentiment struct {
			Label    string   `json:"label"`
			Polarity *float64 `json:"polarity"`
		} `json:"sentiment"`
		SentimentError string `json:"sentiment_error"`
		Recommendation struct {
			Reasons []string `json:"reasons"`
		} `json:"recommendation"`
	}
	require.NoError(t, json.Unmarshal(done.Result, &res))
	require.Equal(t, sentiment.LabelUnavailable, res.Sentiment.Label)
	require.Nil(t, res.Sentiment.Polarity, "no polarity, not a polarity of 0")
	require.Equal(t, "no sentiment source available for ABC: finviz: source answered an error", res.SentimentError)
	require.Contains(t, res.Recommendation.Reasons,
		"News sentiment was asked for but is unavailable (no sentiment source available for ABC: finviz: source answered an error).")
	for _, reason := range res.Recommendation.Reasons {
		require.NotContains(t, reason, "was given")
		require.NotContains(t, reason, "neutral")
	}
}
