package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

// auditSQL records every change of a job's status, attempt or result, and
// every other write only an attempt makes (progress, the error of a failed
// attempt), with the database's clock and the writing connection's
// application_name (the worker's name; see startWorker). It is the
// harness's own table, created in its private database only: Augur's
// schema does not carry it.
const auditSQL = `
CREATE TABLE chaos_audit (
    seq            bigserial PRIMARY KEY,
    job_id         uuid NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    writer         text NOT NULL DEFAULT current_setting('application_name'),
    old_status     text NOT NULL,
    new_status     text NOT NULL,
    old_attempts   integer NOT NULL,
    attempts       integer NOT NULL,
    result_written boolean NOT NULL,
    -- a write that only an attempt makes: progress, the result, a failed
    -- attempt's error, success
    attempt_write  boolean NOT NULL,
    error          text
);
CREATE FUNCTION chaos_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IS DISTINCT FROM NEW.status OR OLD.attempts IS DISTINCT FROM NEW.attempts
       OR OLD.result IS DISTINCT FROM NEW.result OR OLD.progress IS DISTINCT FROM NEW.progress
       OR OLD.progress_detail IS DISTINCT FROM NEW.progress_detail
       OR OLD.attempt_error IS DISTINCT FROM NEW.attempt_error THEN
        INSERT INTO chaos_audit (job_id, old_status, new_status, old_attempts, attempts, result_written, attempt_write, error)
        VALUES (NEW.id, OLD.status, NEW.status, OLD.attempts, NEW.attempts, OLD.result IS DISTINCT FROM NEW.result,
            OLD.result IS DISTINCT FROM NEW.result OR OLD.progress IS DISTINCT FROM NEW.progress
            OR OLD.progress_detail IS DISTINCT FROM NEW.progress_detail
            OR OLD.attempt_error IS DISTINCT FROM NEW.attempt_error
            OR NEW.status = 'succeeded' AND OLD.status <> 'succeeded',
            NEW.error);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER chaos_audit AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION chaos_audit();`

// staleWritesSQL counts the writes of attempts that did not hold their job
// (issue 18, item 1): a write only an attempt makes (progress, a result,
// success, an attempt's error; or a failure, other than the reconciler's
// or an administrator's close, which belong to no attempt) whose writer is
// not the worker that started the job's attempt as it stood. The holder of
// attempt n is the writer of the update that set attempts to n.
const staleWritesSQL = `SELECT count(*) FROM chaos_audit w
	JOIN chaos_audit s ON s.job_id = w.job_id AND s.attempts = w.attempts AND s.attempts <> s.old_attempts
	WHERE w.job_id = ANY($1::uuid[]) AND w.writer <> s.writer
	  AND (w.attempt_write OR w.old_status = 'running' AND w.new_status = 'failed'
	       AND w.error NOT LIKE 'gave up after retries: %' AND w.error <> 'an administrator deleted its task')`

// finalStatuses are the statuses a job never leaves.
var finalStatuses = pq.StringArray{"succeeded", "failed", "canceled"}

// row is one line of the suite's table.
type row struct {
	scenario                      string
	accepted, succeeded, failed   int
	lost, duplicated, overlapping int
	backwards                     int
	// staleWrites counts writes of attempts that no longer held their job.
	staleWrites int
	// unavailable counts 503 answers to submits (each retried), and
	// serverErrors every other 5xx, which must never happen.
	unavailable, serverErrors int
	recovery                  time.Duration
}

func (r row) String() string {
	return fmt.Sprintf("| %-53s | %8d | %9d | %6d | %4d | %10d | %11d | %12d | %9d | %4d | %9d | %10.1f |",
		r.scenario, r.accepted, r.succeeded, r.failed, r.lost, r.duplicated, r.overlapping, r.staleWrites, r.backwards,
		r.unavailable, r.serverErrors, r.recovery.Seconds())
}

// tableHeader heads the rows printed by TestChaos.
const tableHeader = "| scenario                                              | accepted | succeeded | failed | lost | duplicated | overlapping | stale writes | backwards |  503 | other 5xx | recovery s |\n" +
	"|-------------------------------------------------------|---------:|----------:|-------:|-----:|-----------:|------------:|-------------:|----------:|-----:|----------:|-----------:|"

// awaitFinal waits until every accepted job is final or, after limit, gives
// up; the jobs still live then are lost.
func (c *cluster) awaitFinal(ids []string, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var final int
		err := c.db.Get(&final, `SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[]) AND status = ANY($2)`, pq.StringArray(ids), finalStatuses)
		if err == nil && final == len(ids) || time.Now().After(deadline) {
			return
		}
		<-tick.C
	}
}

// liveJobs returns the jobs among ids that are not final yet.
func (c *cluster) liveJobs(ids []string) []string {
	c.t.Helper()
	var live []string
	if err := c.db.Select(&live, `SELECT id FROM jobs WHERE id = ANY($1::uuid[]) AND NOT status = ANY($2)`, pq.StringArray(ids), finalStatuses); err != nil {
		c.t.Fatal(err)
	}
	return live
}

// drainedAfter is how long after fault the last of the jobs live at the
// fault became final (by the database's clock, as finished_at is).
func (c *cluster) drainedAfter(live []string, fault time.Time) time.Duration {
	c.t.Helper()
	if len(live) == 0 {
		return 0
	}
	var last time.Time
	if err := c.db.Get(&last, `SELECT coalesce(max(finished_at), now()) FROM jobs WHERE id = ANY($1::uuid[])`, pq.StringArray(live)); err != nil {
		c.t.Fatal(err)
	}
	return max(last.Sub(fault), 0)
}

// check fills the row's counts from the database, its audit trail and the
// workers' logs.
func (c *cluster) check(r *row, ids []string) {
	c.t.Helper()
	ctx := context.Background()
	r.accepted = len(ids)
	var counts []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := c.db.SelectContext(ctx, &counts, `SELECT status, count(*) AS n FROM jobs WHERE id = ANY($1::uuid[]) GROUP BY status`, pq.StringArray(ids)); err != nil {
		c.t.Fatal(err)
	}
	final := 0
	for _, n := range counts {
		switch n.Status {
		case "succeeded":
			r.succeeded = n.N
		case "failed", "canceled":
			r.failed += n.N
		}
		if slices.Contains(finalStatuses, n.Status) {
			final += n.N
		}
	}
	r.lost = len(ids) - final
	// A job is duplicated when the database saw it reach a final status, or
	// its result written, more than once, or when more than one attempt ran
	// to its end (two computations of one job).
	duplicated := map[string]bool{}
	var twice []string
	if err := c.db.SelectContext(ctx, &twice, `SELECT job_id FROM chaos_audit
		WHERE job_id = ANY($1::uuid[])
		GROUP BY job_id
		HAVING count(*) FILTER (WHERE new_status = ANY($2) AND NOT old_status = ANY($2)) > 1
		    OR count(*) FILTER (WHERE result_written) > 1`, pq.StringArray(ids), finalStatuses); err != nil {
		c.t.Fatal(err)
	}
	for _, id := range twice {
		duplicated[id] = true
	}
	if err := c.db.GetContext(ctx, &r.backwards, `SELECT count(DISTINCT job_id) FROM chaos_audit
		WHERE job_id = ANY($1::uuid[]) AND old_status = ANY($2) AND new_status <> old_status`, pq.StringArray(ids), finalStatuses); err != nil {
		c.t.Fatal(err)
	}
	if err := c.db.GetContext(ctx, &r.staleWrites, staleWritesSQL, pq.StringArray(ids)); err != nil {
		c.t.Fatal(err)
	}
	attempts := c.attempts()
	// The overlap check reads the workers' log messages; should they be
	// reworded, it must fail rather than find nothing to compare.
	if r.succeeded > 0 && len(attempts) == 0 {
		c.t.Errorf("%d jobs succeeded, yet the workers' logs show no %q line: update the harness's log reading", r.succeeded, "job started")
	}
	wanted := map[string]bool{}
	for _, id := range ids {
		wanted[id] = true
	}
	for id, runs := range attempts {
		if !wanted[id] {
			continue
		}
		completed := 0
		for _, a := range runs {
			if a.completed {
				completed++
			}
		}
		if completed > 1 {
			duplicated[id] = true
		}
		if overlapping(runs) {
			r.overlapping++
			for _, a := range runs {
				c.t.Logf("job %s overlaps: attempt %d on %s from %s to %s", id, a.number, a.worker,
					a.start.Format(time.StampMicro), a.end.Format(time.StampMicro))
			}
		}
	}
	r.duplicated = len(duplicated)
}

// attempt is one worker's run of one job, read from its log: from "job
// started" until the line that ends the attempt, or the worker's death.
type attempt struct {
	worker     string
	number     int
	start, end time.Time
	completed  bool // it ran to a recorded outcome (succeeded or failed)
}

// endings are the log messages that end an attempt, and whether each means
// the attempt ran the job to its outcome. "stale attempt N refused" (a
// write of an attempt that another had taken the job from) ends one too.
var endings = map[string]bool{
	"job succeeded":                  true,
	"job failed":                     true,
	"job canceled":                   false,
	"job attempt failed, will retry": false,
	"job attempt lost its lease: no heartbeat reached PostgreSQL; stopping its work":            false,
	"job ended while this attempt ran (closed by the reconciler or an administrator); stopping": false,
	"could not record the job's outcome; its result is lost and asynq will run it again":        false,
}

// attempts reads every worker's log and returns the attempts of each job.
func (c *cluster) attempts() map[string][]*attempt {
	c.t.Helper()
	c.mu.Lock()
	workers := slices.Clone(c.workers)
	c.mu.Unlock()
	byJob := map[string][]*attempt{}
	now := time.Now()
	for _, w := range workers {
		f, err := os.Open(filepath.Join(c.dir, w.name+".log"))
		if err != nil {
			c.t.Fatal(err)
		}
		open := map[string]*attempt{} // by job id and attempt number
		lines := bufio.NewScanner(f)
		lines.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for lines.Scan() {
			var rec struct {
				Time    time.Time `json:"time"`
				Msg     string    `json:"msg"`
				JobID   string    `json:"job_id"`
				Attempt int       `json:"attempt"`
			}
			if json.Unmarshal(lines.Bytes(), &rec) != nil || rec.JobID == "" {
				continue
			}
			key := fmt.Sprintf("%s/%d", rec.JobID, rec.Attempt)
			if rec.Msg == "job started" {
				a := &attempt{worker: w.name, number: rec.Attempt, start: rec.Time}
				open[key] = a
				byJob[rec.JobID] = append(byJob[rec.JobID], a)
				continue
			}
			done, ok := endings[rec.Msg]
			if strings.HasPrefix(rec.Msg, "stale attempt ") {
				done, ok = false, true
			}
			if ok && open[key] != nil {
				open[key].end, open[key].completed = rec.Time, done
				delete(open, key)
			}
		}
		f.Close()
		if err := lines.Err(); err != nil {
			c.t.Fatal(err)
		}
		// An attempt that never logged its end ran until its worker was
		// killed, or runs still.
		for _, a := range open {
			a.end = now
			if !w.killedAt.IsZero() {
				a.end = w.killedAt
			}
		}
	}
	return byJob
}

// overlapping reports whether two of a job's attempts ran at the same time.
func overlapping(runs []*attempt) bool {
	runs = slices.Clone(runs)
	slices.SortFunc(runs, func(a, b *attempt) int { return a.start.Compare(b.start) })
	var end time.Time
	for i, a := range runs {
		if i > 0 && a.start.Before(end) {
			return true
		}
		if a.end.After(end) {
			end = a.end
		}
	}
	return false
}

// redisClient returns a client of the cluster's Redis, closed when the
// test ends.
func (c *cluster) redisClient() *redis.Client {
	c.t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(c.redisPort)})
	c.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// inspector returns an asynq Inspector on the cluster's Redis.
func (c *cluster) inspector() *asynq.Inspector {
	c.t.Helper()
	return asynq.NewInspectorFromRedisClient(c.redisClient())
}

// enqueuedAfter waits until every one of ids has a task in Redis, or has
// left queued (a worker took it, so it had one), and returns how long
// after since the last one got there. It looks every 50 ms.
func (c *cluster) enqueuedAfter(ids []string, since time.Time) time.Duration {
	c.t.Helper()
	inspector := c.inspector()
	waiting := ids
	c.await("every job has its task", func() bool {
		var queued []struct {
			ID    string `db:"id"`
			Queue string `db:"queue"`
		}
		if err := c.db.Select(&queued, `SELECT id, queue FROM jobs WHERE id = ANY($1::uuid[]) AND status = 'queued'`,
			pq.StringArray(waiting)); err != nil {
			return false
		}
		waiting = waiting[:0:0]
		for _, job := range queued {
			if _, err := inspector.GetTaskInfo(job.Queue, job.ID); err != nil {
				waiting = append(waiting, job.ID)
			}
		}
		return len(waiting) == 0
	})
	return time.Since(since)
}

// logLines counts the lines of w's log whose message starts with prefix.
func (c *cluster) logLines(w *worker, prefix string) int {
	c.t.Helper()
	f, err := os.Open(filepath.Join(c.dir, w.name+".log"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	n := 0
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for lines.Scan() {
		var rec struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(lines.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, prefix) {
			n++
		}
	}
	return n
}
