package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// audit records every write to jobs and job_computations in a table of
// the test's database, with the transaction that made it, through
// triggers: what each job cost PostgreSQL in commits, counted exactly.
type audit struct {
	conn *sqlx.DB
}

func newAudit(t *testing.T, db *store.DB) *audit {
	t.Helper()
	dbtest.Exec(t, db, `
		CREATE TABLE audit_writes (
			seq    bigserial PRIMARY KEY,
			tbl    text NOT NULL,
			job_id uuid NOT NULL,
			status text,
			xact   xid8 NOT NULL DEFAULT pg_current_xact_id()
		);
		CREATE FUNCTION audit_job() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO audit_writes (tbl, job_id, status) VALUES ('jobs', NEW.id, NEW.status);
			RETURN NEW;
		END $$;
		CREATE FUNCTION audit_computation() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO audit_writes (tbl, job_id) VALUES ('job_computations', coalesce(NEW.job_id, OLD.job_id));
			RETURN NULL;
		END $$;
		CREATE TRIGGER audit_job AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION audit_job();
		CREATE TRIGGER audit_computation AFTER INSERT OR UPDATE OR DELETE ON job_computations
			FOR EACH ROW EXECUTE FUNCTION audit_computation();`)
	conn, err := sqlx.Open("postgres", dbtest.URLOf(t, db))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &audit{conn: conn}
}

// write is one audited write.
type write struct {
	Table  string           `db:"tbl"`
	Status *store.JobStatus `db:"status"`
	Xact   string           `db:"xact"`
}

// writes returns the job's writes in order.
func (a *audit) writes(t *testing.T, id uuid.UUID) []write {
	t.Helper()
	var out []write
	require.NoError(t, a.conn.Select(&out, `SELECT tbl, status, xact::text AS xact FROM audit_writes WHERE job_id = $1 ORDER BY seq`, id))
	return out
}

// commits returns the statuses the job's row was written with, one entry
// per transaction that wrote it, and fails if anything else was written.
func (a *audit) commits(t *testing.T, id uuid.UUID) []store.JobStatus {
	t.Helper()
	var statuses []store.JobStatus
	seen := map[string]bool{}
	for _, w := range a.writes(t, id) {
		require.Equal(t, "jobs", w.Table, "the job wrote to %s", w.Table)
		require.False(t, seen[w.Xact], "two writes of the job in one transaction")
		seen[w.Xact] = true
		statuses = append(statuses, *w.Status)
	}
	return statuses
}

// watch subscribes to the job's events and returns a function that, once
// the job's handler has returned, counts the events it published. It
// publishes a marker on the job's channel and counts what came before it:
// Redis runs commands one at a time, so every PUBLISH the handler made,
// acknowledged before it returned, reaches the subscriber first.
func watch(t *testing.T, f *fixture, id uuid.UUID) (count func() int) {
	t.Helper()
	ctx := context.Background()
	sub := jobs.NewEvents(f.rdb, keyspace.Space{}).Subscribe(ctx, id)
	t.Cleanup(func() { _ = sub.Close() })
	msg, err := sub.Receive(ctx)
	require.NoError(t, err)
	subscribed, ok := msg.(*redis.Subscription)
	require.True(t, ok, "the first message confirms the subscription, not %T", msg)
	return func() int {
		const marker = "end of the test's count"
		require.NoError(t, f.rdb.Publish(ctx, subscribed.Channel, marker).Err())
		n := 0
		for {
			m, err := sub.ReceiveMessage(ctx)
			require.NoError(t, err)
			if m.Payload == marker {
				return n
			}
			n++
		}
	}
}

// process runs the job's task through the worker's handler, as asynq
// would deliver it, and returns the job as it ended.
func (f *fixture) process(t *testing.T, job *store.Job) *store.Job {
	t.Helper()
	task, err := jobs.NewTask(job, jobs.Timeouts{Prediction: time.Minute})
	require.NoError(t, err)
	mux := asynq.NewServeMux()
	f.worker.Register(mux)
	require.NoError(t, mux.ProcessTask(context.Background(), task))
	got, err := f.db.Job(context.Background(), job.ID, 0)
	require.NoError(t, err)
	return got
}

// createCheap stores the cheap job without enqueueing it.
func (f *fixture) createCheap(t *testing.T) *store.Job {
	t.Helper()
	job, _, err := f.db.CreateJob(context.Background(), store.NewJob{
		OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: jobs.QueueCritical,
		Params: cheapParams(t, 0),
	})
	require.NoError(t, err)
	return job
}

// A cheap job ({"ticker":"MSFT","models":["naive"]}) commits its start and
// its end and nothing else, and announces each once. Its twin, the same
// request again, computes too: closed-form models cost less than the
// search for an identical job.
func TestACheapJobCommitsItsStartAndItsEndOnly(t *testing.T) {
	prices, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, nil, nil, nil)
	require.NoError(t, err)
	f := newFixture(t, prices)
	// The job takes milliseconds; the long delay only keeps a stall of a
	// busy machine from making it a job that runs a while.
	f.worker.ProgressEvery = time.Hour
	a := newAudit(t, f.db)
	for _, name := range []string{"first", "its twin"} {
		job := f.createCheap(t)
		published := watch(t, f, job.ID)
		done := f.process(t, job)
		require.Equal(t, store.StatusSucceeded, done.Status, "%s: %s", name, done.Error)
		require.Nil(t, done.ReusedFrom, name)
		require.Contains(t, string(done.Result), `"naive"`, name)
		require.Equal(t, []store.JobStatus{store.StatusRunning, store.StatusSucceeded}, a.commits(t, job.ID), name)
		require.Equal(t, 2, published(), "%s: running and succeeded, once each", name)
	}
}

// progressGatedPrices serves the rising series once the job's progress shows the
// price stage: the job runs until its reporter has written the stage it
// reported before waiting, which no later report replaces.
type progressGatedPrices struct {
	db  *store.DB
	job atomic.Pointer[uuid.UUID]
}

func (g *progressGatedPrices) Load(ctx context.Context, ticker string) (*market.Series, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		job, err := g.db.Job(ctx, *g.job.Load(), 0)
		if err != nil {
			return nil, err
		}
		if strings.Contains(string(job.ProgressDetail), `"prices"`) {
			return risingSeries(ticker), nil
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("the price stage was never written")
		case <-tick.C:
		}
	}
}

// A job that runs a while has its progress written, and announced, even
// when nothing is reported after the stage it is in, and every write is
// announced once.
func TestAJobThatRunsAWhileShowsItsProgress(t *testing.T) {
	prices := &progressGatedPrices{}
	f := newFixture(t, prices)
	prices.db = f.db
	a := newAudit(t, f.db)
	job := f.createCheap(t)
	prices.job.Store(&job.ID)
	published := watch(t, f, job.ID)
	done := f.process(t, job)
	require.Equal(t, store.StatusSucceeded, done.Status, done.Error)
	commits := a.commits(t, job.ID)
	require.GreaterOrEqual(t, len(commits), 3, "the start, the price stage, the end")
	require.Equal(t, store.StatusRunning, commits[0])
	for _, status := range commits[1 : len(commits)-1] {
		require.Equal(t, store.StatusRunning, status, "progress")
	}
	require.Equal(t, store.StatusSucceeded, commits[len(commits)-1])
	require.Equal(t, len(commits), published(), "one event per write")
}
