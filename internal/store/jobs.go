package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// JobKind is what a job computes.
type JobKind string

// Job kinds.
const (
	KindPrediction  JobKind = "prediction"
	KindSentiment   JobKind = "sentiment"
	KindLeaderboard JobKind = "leaderboard"
)

// JobStatus is where a job is in its life: queued and running are live;
// the other three are final. A worker never moves a job out of a final
// status (FinishJob, StartJob and every attempt's write refuse to); the
// one way back is an admin's ReopenFailedJob, from failed to queued.
type JobStatus string

// Job statuses.
const (
	StatusQueued    JobStatus = "queued"
	StatusRunning   JobStatus = "running"
	StatusSucceeded JobStatus = "succeeded"
	StatusFailed    JobStatus = "failed"
	StatusCanceled  JobStatus = "canceled"
)

// Final reports whether s is a status a job never leaves.
func (s JobStatus) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCanceled
}

// ErrIdempotencyMismatch means an Idempotency-Key was reused with a different request.
var ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")

// ErrJobFinished means the job already reached a final status.
var ErrJobFinished = errors.New("job already finished")

// ErrJobHeld means another worker runs the job and its lease is live, so
// starting it again would run it twice at once.
var ErrJobHeld = errors.New("job is held by another live worker")

// ErrNotHeld means the attempt is stale: it no longer holds the job,
// because its lease lapsed and another attempt took the job, or the job
// went back to queued or is gone. The write that says so changed nothing.
// Errors that match it are a *NotHeldError, which says what holds the job
// now.
var ErrNotHeld = errors.New("job no longer held by this attempt")

// Attempt is one run of a job by one worker: the job, the attempt's number
// (the job's attempts count once StartJob began it) and the worker. Every
// write an attempt makes (Heartbeat, SetProgress, ReleaseJob, FinishJob,
// FinishReused, ClaimComputation) takes it, and lands only while the job
// is running under exactly this attempt: a worker cut off from PostgreSQL
// until its lease lapsed and another attempt took the job gets ErrNotHeld
// and changes nothing, whenever its write arrives. The number alone would
// fence while attempts only count up; the worker keeps the fence should
// they ever not, and names who was refused.
type Attempt struct {
	JobID  uuid.UUID
	Number int
	Worker string
}

// Attempt is the attempt that StartJob began on the job it returned.
func (j *Job) Attempt() Attempt {
	return Attempt{JobID: j.ID, Number: j.Attempts, Worker: j.WorkerID}
}

// NotHeldError is ErrNotHeld with what holds the job now: the attempt
// whose write was refused, and the job's status, attempt and worker as
// the refusal found them. Holder is the zero Attempt when the job is gone.
type NotHeldError struct {
	Refused Attempt
	Holder  Attempt
	Status  JobStatus
}

func (e *NotHeldError) Error() string {
	if e.Holder.JobID == uuid.Nil {
		return fmt.Sprintf("attempt %d of job %s on %s refused: the job no longer exists",
			e.Refused.Number, e.Refused.JobID, e.Refused.Worker)
	}
	return fmt.Sprintf("attempt %d of job %s on %s refused: the job is %s under attempt %d on %s",
		e.Refused.Number, e.Refused.JobID, e.Refused.Worker, e.Status, e.Holder.Number, e.Holder.Worker)
}

// Is makes a NotHeldError match ErrNotHeld.
func (e *NotHeldError) Is(target error) bool { return target == ErrNotHeld }

// heldBy is the fence of an attempt's write, on the job's row: the
// statement's $1, $2 and $3 are the Attempt's JobID, Number and Worker.
const heldBy = `id = $1 AND status = 'running' AND attempts = $2 AND worker_id = $3`

// notHeldByALiveAttempt is what lets a job be started, or closed by no
// attempt: it is queued, or running with no live lease (released for a
// retry, or its worker cut off or dead).
const notHeldByALiveAttempt = `(status = 'queued'
			OR status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now()))`

// refusal says why the write of attempt a matched no row, as the job
// stands now:
//   - nil when the job is final with the status ended, which only this
//     attempt's own final write of it can have set (it landed, and its
//     answer was lost): pass "" when the write was not a final one;
//   - ErrJobFinished when the job reached a final status while this
//     attempt held it: its owner canceled it, or the reconciler or an
//     administrator closed it;
//   - a *NotHeldError (ErrNotHeld) when another attempt holds it, it went
//     back to queued, or it is gone;
//   - held when the job is running under this very attempt, which the
//     write's fence would have matched: a condition of the write other
//     than the fence refused it.
func (db *DB) refusal(ctx context.Context, a Attempt, ended JobStatus, held error) error {
	var row struct {
		Status   JobStatus      `db:"status"`
		Attempts int            `db:"attempts"`
		WorkerID sql.NullString `db:"worker_id"`
	}
	err := db.get(ctx, &row, `SELECT status, attempts, worker_id FROM jobs WHERE id = $1`, a.JobID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &NotHeldError{Refused: a}
	case err != nil:
		return fmt.Errorf("read job %s after its write was refused: %w", a.JobID, err)
	}
	mine := row.Attempts == a.Number && row.WorkerID.String == a.Worker
	switch {
	case !mine || row.Status == StatusQueued:
		return &NotHeldError{Refused: a, Status: row.Status,
			Holder: Attempt{JobID: a.JobID, Number: row.Attempts, Worker: row.WorkerID.String}}
	case ended != "" && row.Status == ended:
		return nil
	case row.Status.Final():
		return ErrJobFinished
	}
	return held
}

// Job is one prediction, sentiment or leaderboard request and its outcome.
// A value the job does not have (yet) is the zero value: "" for a string,
// nil for a time or a job id, so that a page shows it with {{with}} and
// nothing outside this package sees how the database spells NULL.
type Job struct {
	ID             uuid.UUID
	OwnerID        int64
	Kind           JobKind
	Ticker         string
	Params         JSON
	Status         JobStatus
	Queue          string
	Progress       int
	ProgressDetail JSON
	Attempts       int
	Error          string
	Result         JSON
	IdempotencyKey string
	RequestHash    []byte
	CreatedAt      time.Time
	StartedAt      *time.Time
	FinishedAt     *time.Time
	// WorkerID names the worker of the latest attempt.
	WorkerID string
	// HeartbeatAt is when that worker last said it was still on the job.
	HeartbeatAt *time.Time
	// LeaseExpiresAt is when the running attempt's hold lapses unless its
	// worker renews it; nil when no attempt holds the job.
	LeaseExpiresAt *time.Time
	// WorkerLost is computed on read with the database's clock: the job is
	// running but its worker let the lease lapse (killed, or cut off), so
	// it waits for a retry.
	WorkerLost bool
	// RequestID is the id of the HTTP request that submitted the job.
	RequestID string
	// Reused is set when the job took an identical job's result instead of
	// computing it.
	Reused bool
	// ReusedFrom names that job when it is the same owner's; another
	// user's job id is not this owner's to see.
	ReusedFrom *uuid.UUID
	// AttemptError is what ended the job's last failed attempt, when one
	// failed and asynq retries the job.
	AttemptError string
	// RetryAt is when the next attempt is due; nil while an attempt runs.
	RetryAt *time.Time
	// DispatchedAt is when the job's task was put in Redis; nil while the
	// job, queued, is held in PostgreSQL until its owner's turn (see
	// docs/fairness.md).
	DispatchedAt *time.Time
}

// WaitsForTurn reports whether the job is queued but held in PostgreSQL:
// other users' jobs go first, and a worker dispatches it in its owner's
// turn.
func (j *Job) WaitsForTurn() bool {
	return j.Status == StatusQueued && j.DispatchedAt == nil
}

// WaitsForRetry reports whether the job is live with no attempt running
// because the last one failed and asynq retries it at RetryAt.
func (j *Job) WaitsForRetry() bool {
	return !j.Final() && j.RetryAt != nil
}

// Final reports whether the job reached a status it never leaves.
func (j *Job) Final() bool {
	return j.Status.Final()
}

// Held reports whether a worker attempt holds the running job with a live
// lease: it must then not be started again, nor re-enqueued.
func (j *Job) Held() bool {
	return j.Status == StatusRunning && j.LeaseExpiresAt != nil && !j.WorkerLost
}

// jobRow is a job as jobColumns read it, NULLs and all. sqlx could scan
// NULLs into Job's pointers directly, but its strings would then have to
// be *string too, and Job would carry the columns' names; a row type of
// its own keeps database/sql inside this package. The price is one copy
// per job read (job) and a small allocation per time that is set, which
// next to the round trip that read the row does not show.
type jobRow struct {
	ID             uuid.UUID      `db:"id"`
	OwnerID        int64          `db:"owner_id"`
	Kind           JobKind        `db:"kind"`
	Ticker         string         `db:"ticker"`
	Params         JSON           `db:"params"`
	Status         JobStatus      `db:"status"`
	Queue          string         `db:"queue"`
	Progress       int            `db:"progress"`
	ProgressDetail JSON           `db:"progress_detail"`
	Attempts       int            `db:"attempts"`
	Error          sql.NullString `db:"error"`
	Result         JSON           `db:"result"`
	IdempotencyKey sql.NullString `db:"idempotency_key"`
	RequestHash    []byte         `db:"request_hash"`
	CreatedAt      time.Time      `db:"created_at"`
	StartedAt      sql.NullTime   `db:"started_at"`
	FinishedAt     sql.NullTime   `db:"finished_at"`
	WorkerID       sql.NullString `db:"worker_id"`
	HeartbeatAt    sql.NullTime   `db:"heartbeat_at"`
	LeaseExpiresAt sql.NullTime   `db:"lease_expires_at"`
	WorkerLost     bool           `db:"worker_lost"`
	RequestID      sql.NullString `db:"request_id"`
	Reused         bool           `db:"reused"`
	ReusedFrom     uuid.NullUUID  `db:"reused_from"`
	AttemptError   sql.NullString `db:"attempt_error"`
	RetryAt        sql.NullTime   `db:"retry_at"`
	DispatchedAt   sql.NullTime   `db:"dispatched_at"`
}

// job is the row as a Job: NULL becomes "" or nil.
func (r *jobRow) job() Job {
	return Job{
		ID: r.ID, OwnerID: r.OwnerID, Kind: r.Kind, Ticker: r.Ticker, Params: r.Params,
		Status: r.Status, Queue: r.Queue, Progress: r.Progress, ProgressDetail: r.ProgressDetail,
		Attempts: r.Attempts, Error: r.Error.String, Result: r.Result,
		IdempotencyKey: r.IdempotencyKey.String, RequestHash: r.RequestHash, CreatedAt: r.CreatedAt,
		StartedAt: timeOrNil(r.StartedAt), FinishedAt: timeOrNil(r.FinishedAt),
		WorkerID: r.WorkerID.String, HeartbeatAt: timeOrNil(r.HeartbeatAt),
		LeaseExpiresAt: timeOrNil(r.LeaseExpiresAt), WorkerLost: r.WorkerLost,
		RequestID: r.RequestID.String, Reused: r.Reused, ReusedFrom: uuidOrNil(r.ReusedFrom),
		AttemptError: r.AttemptError.String, RetryAt: timeOrNil(r.RetryAt),
		DispatchedAt: timeOrNil(r.DispatchedAt),
	}
}

// jobsOf turns the rows of a listing into Jobs.
func jobsOf(rows []jobRow) []Job {
	jobs := make([]Job, len(rows))
	for i := range rows {
		jobs[i] = rows[i].job()
	}
	return jobs
}

// timeOrNil is Job's spelling of a nullable time.
func timeOrNil(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// uuidOrNil is Job's spelling of a nullable job id.
func uuidOrNil(id uuid.NullUUID) *uuid.UUID {
	if !id.Valid {
		return nil
	}
	return &id.UUID
}

// jobColumns are read by every query that returns jobs. worker_lost is the
// one rule for a lapsed lease, judged by the database's clock, which also
// wrote the lease.
const jobColumns = `id, owner_id, kind, ticker, params, status, queue, progress, progress_detail,
	attempts, error, result, idempotency_key, request_hash, created_at, started_at, finished_at,
	worker_id, heartbeat_at, lease_expires_at, request_id, reused, reused_from, attempt_error, retry_at,
	dispatched_at, coalesce(status = 'running' AND lease_expires_at < now(), false) AS worker_lost`

// NewJob is what a submission stores.
type NewJob struct {
	OwnerID int64
	Kind    JobKind
	Ticker  string
	Params  JSON
	// Queue is the queue asked for; AdmitJob's rule may send the job to
	// another.
	Queue          string
	IdempotencyKey string // "" = none
	RequestHash    []byte
	// RequestID is the submitting request's id ("" = none).
	RequestID string
}

// CreateJob inserts a queued job. With an idempotency key already used by
// the same owner it returns the earlier job and replayed = true when the
// request hash matches, or ErrIdempotencyMismatch when it does not.
func (db *DB) CreateJob(ctx context.Context, n NewJob) (job *Job, replayed bool, err error) {
	key, params := n.columns()
	id := uuid.New()
	var row newJobRow
	err = db.get(ctx, &row, insertJobQuery+`
		ON CONFLICT (owner_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING `+newJobReturning,
		id, n.OwnerID, n.Kind, n.Ticker, params, n.Queue, key, n.RequestHash, n.RequestID)
	if err == nil {
		return n.stored(id, n.Queue, row), false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) || !key.Valid {
		return nil, false, fmt.Errorf("insert job: %w", err)
	}
	// The key was taken: replay the first job when the request is the same.
	var earlier jobRow
	err = db.get(ctx, &earlier, `SELECT `+jobColumns+` FROM jobs WHERE owner_id = $1 AND idempotency_key = $2`,
		n.OwnerID, key)
	if err != nil {
		return nil, false, fmt.Errorf("load job for idempotency key: %w", err)
	}
	return replayOf(earlier.job(), n.RequestHash)
}

// replayOf answers a submission whose idempotency key earlier holds: a
// replay of earlier when the request is the same, ErrIdempotencyMismatch
// when it is not.
func replayOf(earlier Job, requestHash []byte) (*Job, bool, error) {
	if string(earlier.RequestHash) != string(requestHash) {
		return nil, false, ErrIdempotencyMismatch
	}
	return &earlier, true, nil
}

// insertJobQuery stores a new job; its other columns take their defaults
// (queued, no progress, no attempt), which NewJob.stored mirrors.
const insertJobQuery = `INSERT INTO jobs (id, owner_id, kind, ticker, params, queue, idempotency_key, request_hash, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''))`

// newJobReturning is all a new job's insert reads back: what the database
// made of the row. Everything else the caller sent, or is a default.
const newJobReturning = `params, created_at, dispatched_at`

// newJobRow is what newJobReturning returns.
type newJobRow struct {
	Params       JSON         `db:"params"`
	CreatedAt    time.Time    `db:"created_at"`
	DispatchedAt sql.NullTime `db:"dispatched_at"`
}

// stored is the job that inserting n as id on queue made: the columns n
// gave, the defaults of a new row, and what the database returned (params
// as jsonb keeps them, so the answer reads as every later read will).
func (n *NewJob) stored(id uuid.UUID, queue string, row newJobRow) *Job {
	return &Job{
		ID: id, OwnerID: n.OwnerID, Kind: n.Kind, Ticker: n.Ticker, Params: row.Params,
		Status: StatusQueued, Queue: queue, IdempotencyKey: n.IdempotencyKey, RequestHash: n.RequestHash,
		CreatedAt: row.CreatedAt, RequestID: n.RequestID, DispatchedAt: timeOrNil(row.DispatchedAt),
	}
}

// columns returns the idempotency key and params as stored: NULL for no
// key, and {} for no params.
func (n *NewJob) columns() (sql.NullString, JSON) {
	var key sql.NullString
	if n.IdempotencyKey != "" {
		key = sql.NullString{String: n.IdempotencyKey, Valid: true}
	}
	params := n.Params
	if len(params) == 0 {
		params = JSON(`{}`)
	}
	return key, params
}

// AdmissionRule is an admission policy as the store executes it: plain
// values, applied by admit_job_by_rule (migration 00013) to the owner's
// unfinished jobs as they stand. The store only executes the rule; what
// the values are is internal/admission's to decide.
type AdmissionRule struct {
	// MaxUnfinished caps the owner's queued and running jobs: a job is
	// refused while the owner has this many or more.
	MaxUnfinished int
	// ShareQueue is the queue of which one owner gets only a share: a job
	// asked for it goes to OverflowQueue once the owner already has
	// SharePerOwner unfinished jobs there. "" shares no queue.
	ShareQueue    string
	SharePerOwner int
	OverflowQueue string
	// Dispatch decides whether the job is put in Redis at once or held
	// for its owner's turn; the zero value dispatches every job at once.
	Dispatch DispatchRule
}

// Admission is the store's answer to a submission under an AdmissionRule.
type Admission struct {
	// Job is the job stored, or the earlier one when Replayed; nil when
	// Refused, and after CheckAdmission unless Replayed.
	Job      *Job
	Replayed bool
	// Refused says the cap refused the job: the owner has Unfinished
	// queued and running jobs, MaxUnfinished or more.
	Refused    bool
	Unfinished int
	// Queue is where the job goes, or went: the asked-for queue, or the
	// rule's overflow queue. Empty when Replayed or Refused.
	Queue string
}

// Dispatched reports whether the job stored is to be put in Redis now;
// false when it is held for its owner's turn (or was not stored).
func (a Admission) Dispatched() bool {
	return a.Job != nil && !a.Replayed && a.Job.DispatchedAt != nil
}

// admitJobQuery applies the rule to a submission and, when $14 is true,
// stores the job it admits under the owner's row lock, dispatched or held
// by the dispatch rule (see migrations 00013 and 00014).
const admitJobQuery = `SELECT outcome, earlier_id, unfinished, queue, created_at, params, dispatched_at
	FROM admit_job_by_rule($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`

// admitted is what admit_job_by_rule answers.
type admitted struct {
	Outcome    string         `db:"outcome"`
	EarlierID  uuid.NullUUID  `db:"earlier_id"`
	Unfinished sql.NullInt64  `db:"unfinished"`
	Queue      sql.NullString `db:"queue"`
	CreatedAt  sql.NullTime   `db:"created_at"`
	Params     JSON           `db:"params"`
	Dispatched sql.NullTime   `db:"dispatched_at"`
}

// CheckAdmission answers what AdmitJob would answer now, without a lock
// and without storing anything: the replay when the idempotency key is
// taken, a refusal when the cap refuses the job, or the queue it would
// go to. It is the look a caller takes before spending something on the
// submission (a rate limit) that a replay or a refusal must not use up;
// AdmitJob then decides again, exactly, under the owner's lock.
func (db *DB) CheckAdmission(ctx context.Context, n NewJob, rule AdmissionRule) (Admission, error) {
	return db.admit(ctx, uuid.Nil, n, rule, false)
}

// AdmitJob stores a queued job when rule admits it, in one round trip
// and under the owner's row lock, so that two submissions cannot both
// slip under the cap. With an idempotency key the owner already used it
// answers as CreateJob does: the earlier job as a replay, or
// ErrIdempotencyMismatch; a replay is answered whatever the rule says.
func (db *DB) AdmitJob(ctx context.Context, n NewJob, rule AdmissionRule) (Admission, error) {
	return db.admit(ctx, uuid.New(), n, rule, true)
}

// admit runs admit_job_by_rule for CheckAdmission (store false) and
// AdmitJob (store true).
func (db *DB) admit(ctx context.Context, id uuid.UUID, n NewJob, rule AdmissionRule, store bool) (Admission, error) {
	key, params := n.columns()
	var got admitted
	if err := db.get(ctx, &got, admitJobQuery, id, n.OwnerID, n.Kind, n.Ticker, params, n.Queue, key,
		n.RequestHash, n.RequestID, rule.MaxUnfinished, rule.ShareQueue, rule.SharePerOwner, rule.OverflowQueue, store,
		rule.Dispatch.PerOwner, rule.Dispatch.AheadPerSlot); err != nil {
		return Admission{}, fmt.Errorf("admit job of owner %d: %w", n.OwnerID, err)
	}
	a := Admission{Unfinished: int(got.Unfinished.Int64), Queue: got.Queue.String}
	switch got.Outcome {
	case "replay":
		job, _, err := db.replay(ctx, got.EarlierID.UUID, n.RequestHash)
		if err != nil {
			return Admission{}, err
		}
		return Admission{Job: job, Replayed: true}, nil
	case "refused":
		a.Refused = true
	case "inserted":
		a.Job = n.stored(id, a.Queue, newJobRow{Params: got.Params, CreatedAt: got.CreatedAt.Time, DispatchedAt: got.Dispatched})
	}
	return a, nil
}

// replay returns the job stored earlier under the submission's
// idempotency key, when it was the same request.
func (db *DB) replay(ctx context.Context, earlier uuid.UUID, requestHash []byte) (*Job, bool, error) {
	var row jobRow
	if err := db.get(ctx, &row, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, earlier); err != nil {
		return nil, false, fmt.Errorf("load job for idempotency key: %w", err)
	}
	return replayOf(row.job(), requestHash)
}

// Job returns a job by id. ownerID > 0 restricts it to that owner's jobs, so
// another user's job is indistinguishable from a missing one.
func (db *DB) Job(ctx context.Context, id uuid.UUID, ownerID int64) (*Job, error) {
	var row jobRow
	err := db.get(ctx, &row, `SELECT `+jobColumns+` FROM jobs WHERE id = $1 AND ($2 = 0 OR owner_id = $2)`, id, ownerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load job %s: %w", id, err)
	}
	j := row.job()
	return &j, nil
}

// JobCursor marks a position in a newest-first listing.
type JobCursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// ListJobs returns up to limit of the owner's jobs, newest first, strictly
// after the cursor when one is given.
func (db *DB) ListJobs(ctx context.Context, ownerID int64, after *JobCursor, limit int) ([]Job, error) {
	var rows []jobRow
	var err error
	if after == nil {
		err = db.selectAll(ctx, &rows, `SELECT `+jobColumns+` FROM jobs WHERE owner_id = $1
			ORDER BY created_at DESC, id DESC LIMIT $2`, ownerID, limit)
	} else {
		err = db.selectAll(ctx, &rows, `SELECT `+jobColumns+` FROM jobs WHERE owner_id = $1
			AND (created_at, id) < ($2, $3)
			ORDER BY created_at DESC, id DESC LIMIT $4`, ownerID, after.CreatedAt, after.ID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobsOf(rows), nil
}

// startColumns are the columns StartJob returns: what a worker needs to
// run the job and name it in its logs and metrics. The others are left
// out because a job being started has no use for them: its result and
// finish time are NULL, its error was just cleared, its lease is live
// (worker_lost is false), reused_from is only ever written with the
// result, and the idempotency key, request hash and progress detail are
// the submission's and the watchers' business.
const startColumns = `id, owner_id, kind, ticker, params, status, queue, progress, attempts,
	created_at, started_at, worker_id, heartbeat_at, lease_expires_at, request_id`

// StartJob marks a queued or running job running for a new attempt of the
// named worker, counts the attempt, and gives the attempt a hold on the job
// until lease from now, which Heartbeat renews. A job that is already final
// gives ErrJobFinished, so a redelivered task never runs a finished job
// again; a running job whose lease is live gives ErrJobHeld, so one job
// never runs on two workers at once. The job returned has the fields of
// startColumns; the others are zero.
func (db *DB) StartJob(ctx context.Context, id uuid.UUID, worker string, lease time.Duration) (*Job, error) {
	var row jobRow
	err := db.get(ctx, &row, `UPDATE jobs SET status = 'running', attempts = attempts + 1,
			started_at = coalesce(started_at, now()), error = NULL, retry_at = NULL,
			worker_id = $2, heartbeat_at = now(), lease_expires_at = now() + $3 * interval '1 microsecond'
		WHERE id = $1 AND `+notHeldByALiveAttempt+`
		RETURNING `+startColumns, id, worker, lease.Microseconds())
	if errors.Is(err, sql.ErrNoRows) {
		current, lookErr := db.Job(ctx, id, 0)
		switch {
		case lookErr != nil:
			return nil, lookErr
		case current.Final():
			return nil, ErrJobFinished
		}
		return nil, ErrJobHeld
	}
	if err != nil {
		return nil, fmt.Errorf("start job %s: %w", id, err)
	}
	j := row.job()
	return &j, nil
}

// Heartbeat renews attempt a's hold on its running job until lease from
// now. ErrNotHeld (another attempt took the job) or ErrJobFinished (the
// job ended, canceled say) means the attempt lost the job and must stop.
// A hold whose lease lapsed is renewed as long as no other attempt took
// the job.
func (db *DB) Heartbeat(ctx context.Context, a Attempt, lease time.Duration) error {
	n, err := db.exec(ctx, `UPDATE jobs SET heartbeat_at = now(),
			lease_expires_at = now() + $4 * interval '1 microsecond'
		WHERE `+heldBy, a.JobID, a.Number, a.Worker, lease.Microseconds())
	if err != nil {
		return fmt.Errorf("heartbeat of job %s: %w", a.JobID, err)
	}
	if n == 0 {
		return db.refusal(ctx, a, "", ErrNotHeld)
	}
	return nil
}

// ReleaseJob ends attempt a's hold on its running job, which failed and
// will be retried, so the retry may start at once rather than wait out the
// lease. It records what went wrong and, when known, when the retry is due
// (retryAt zero: not known). An attempt that no longer holds the job
// changes nothing and gets ErrNotHeld, or ErrJobFinished if the job ended.
func (db *DB) ReleaseJob(ctx context.Context, a Attempt, attemptErr string, retryAt time.Time) error {
	n, err := db.exec(ctx, `UPDATE jobs SET lease_expires_at = NULL, attempt_error = $4, retry_at = $5
		WHERE `+heldBy, a.JobID, a.Number, a.Worker, attemptErr, sql.NullTime{Time: retryAt, Valid: !retryAt.IsZero()})
	if err != nil {
		return fmt.Errorf("release job %s: %w", a.JobID, err)
	}
	if n == 0 {
		return db.refusal(ctx, a, "", ErrNotHeld)
	}
	return nil
}

// SetProgress records attempt a's progress on its running job. It returns
// ErrJobFinished when the job ended meanwhile (its owner canceled it, for
// instance), and ErrNotHeld when another attempt took it: either tells
// the worker to stop.
func (db *DB) SetProgress(ctx context.Context, a Attempt, percent int, detail JSON) error {
	n, err := db.exec(ctx, `UPDATE jobs SET progress = greatest(progress, $4), progress_detail = $5
		WHERE `+heldBy, a.JobID, a.Number, a.Worker, percent, detail)
	if err != nil {
		return fmt.Errorf("set progress of job %s: %w", a.JobID, err)
	}
	if n == 0 {
		return db.refusal(ctx, a, "", ErrNotHeld)
	}
	return nil
}

// FinishJob ends attempt a's job with a final status and its result or
// error, in one UPDATE fenced by the attempt. When the job is no longer
// running under a, nothing is written: ErrNotHeld when another attempt
// took it (a stale attempt's outcome must not land on a job a newer one
// holds), ErrJobFinished when it ended otherwise (canceled, say), so that
// neither a duplicate delivery nor a late write moves a finished job
// backwards or overwrites its result. A retry of a write that landed
// while its answer was lost finds the status it wrote and returns nil.
// The same statement records the job's webhook deliveries
// (jobEventsRecorded), so an event is never lost nor made twice.
func (db *DB) FinishJob(ctx context.Context, a Attempt, status JobStatus, result JSON, errMsg string) error {
	var msg sql.NullString
	if errMsg != "" {
		msg = sql.NullString{String: errMsg, Valid: true}
	}
	var n int
	err := db.get(ctx, &n, `WITH done AS (UPDATE jobs SET status = $4, result = coalesce($5, result), error = $6,
			progress = CASE WHEN $4 = 'succeeded' THEN 100 ELSE progress END,
			progress_detail = CASE WHEN $4 = 'succeeded' THEN NULL ELSE progress_detail END,
			finished_at = now()
		WHERE `+heldBy+finishedJobReturning("jobs")+`)`+jobEventsRecorded, a.JobID, a.Number, a.Worker, status, result, msg)
	if err != nil {
		return fmt.Errorf("finish job %s: %w", a.JobID, err)
	}
	if n == 0 {
		return db.refusal(ctx, a, status, fmt.Errorf("finish job %s: no row changed", a.JobID))
	}
	return nil
}

// CloseJob ends a live job as failed with errMsg on behalf of no attempt:
// the reconciler closing a job whose task asynq gave up on, or an
// administrator deleting its task. It is not fenced by an attempt, having
// none, but must not clobber one either: a job that an attempt holds with
// a live lease is that attempt's to finish, and is left alone with
// ErrJobHeld. A job whose attempt let its lease lapse (a worker killed or
// cut off) is closed: the lapsed lease says it may be, and that attempt's
// writes are refused from then on, the job being no longer running. A job
// already final gives ErrJobFinished, a missing one ErrNotFound.
func (db *DB) CloseJob(ctx context.Context, id uuid.UUID, errMsg string) error {
	var n int
	err := db.get(ctx, &n, `WITH done AS (UPDATE jobs SET status = 'failed', error = $2, finished_at = now()
		WHERE id = $1 AND `+notHeldByALiveAttempt+finishedJobReturning("jobs")+`)`+jobEventsRecorded, id, errMsg)
	if err != nil {
		return fmt.Errorf("close job %s: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	job, err := db.Job(ctx, id, 0)
	switch {
	case err != nil:
		return err
	case job.Final():
		return ErrJobFinished
	}
	return ErrJobHeld
}

// ReopenFailedJob puts a failed job back to queued, its error, result and
// finish time cleared, for an admin who retries its task: a worker skips
// the task of a final job, so without this a retry would do nothing. It is
// the one way a final job moves backwards, and only from failed. A job
// still queued or running is left as it is (its task is retrying on its
// own); a succeeded or canceled one gives ErrJobFinished, a missing one
// ErrNotFound.
func (db *DB) ReopenFailedJob(ctx context.Context, id uuid.UUID) error {
	n, err := db.exec(ctx, `UPDATE jobs SET status = 'queued', error = NULL, result = NULL,
			progress = 0, progress_detail = NULL, finished_at = NULL
		WHERE id = $1 AND status = 'failed'`, id)
	if err != nil {
		return fmt.Errorf("reopen job %s: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	job, err := db.Job(ctx, id, 0)
	if err != nil {
		return err
	}
	if job.Final() {
		return ErrJobFinished
	}
	return nil
}

// The error a canceled job is left with says who canceled it.
const (
	canceledByUser     = "canceled by the user"
	canceledByOperator = "canceled by an operator"
)

// CancelJob marks the owner's live job canceled, on the owner's request,
// and returns it with the status it had before. A final job gives
// ErrJobFinished; another owner's job gives ErrNotFound.
func (db *DB) CancelJob(ctx context.Context, id uuid.UUID, ownerID int64) (job *Job, previous JobStatus, err error) {
	return db.cancelJob(ctx, id, ownerID, canceledByUser)
}

// OperatorCancelJob is CancelJob for an operator's `web jobs cancel`: the
// job's error says an operator canceled it, so its owner is not told that
// they did.
func (db *DB) OperatorCancelJob(ctx context.Context, id uuid.UUID, ownerID int64) (job *Job, previous JobStatus, err error) {
	return db.cancelJob(ctx, id, ownerID, canceledByOperator)
}

func (db *DB) cancelJob(ctx context.Context, id uuid.UUID, ownerID int64, reason string) (job *Job, previous JobStatus, err error) {
	var row struct {
		jobRow
		Previous JobStatus `db:"previous"`
	}
	// prev's columns are renamed so that jobColumns' unqualified names
	// can only mean the updated row.
	err = db.get(ctx, &row, `WITH prev AS (
			SELECT id AS prev_id, status AS previous FROM jobs WHERE id = $1 AND owner_id = $2 FOR UPDATE
		)
		UPDATE jobs SET status = 'canceled', finished_at = now(), error = $3
		FROM prev WHERE id = prev_id AND previous IN ('queued', 'running')
		RETURNING `+jobColumns+`, previous`, id, ownerID, reason)
	if errors.Is(err, sql.ErrNoRows) {
		if _, lookErr := db.Job(ctx, id, ownerID); lookErr != nil {
			return nil, "", lookErr
		}
		return nil, "", ErrJobFinished
	}
	if err != nil {
		return nil, "", fmt.Errorf("cancel job %s: %w", id, err)
	}
	canceled := row.job()
	return &canceled, row.Previous, nil
}

// LiveJobs returns up to limit queued or running jobs dispatched before
// the given time, oldest first: the reconciler's candidates. A job held
// for its turn is not among them: it has no task in Redis to miss. (A
// running job is, whatever its dispatch says: during a rolling deploy a
// reconciler older than fair turns may have enqueued a held job.)
func (db *DB) LiveJobs(ctx context.Context, dispatchedBefore time.Time, limit int) ([]Job, error) {
	var rows []jobRow
	err := db.selectAll(ctx, &rows, `SELECT `+jobColumns+` FROM jobs
		WHERE status IN ('queued', 'running') AND coalesce(dispatched_at,
			CASE WHEN status = 'running' THEN created_at END) < $1
		ORDER BY created_at LIMIT $2`, dispatchedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("list live jobs: %w", err)
	}
	return jobsOf(rows), nil
}

// JobTiming is a job's status and the times of its life, without its
// params or result. As in Job, nil is a time not reached yet; being all
// plain values and pointers, it is scanned as it is.
type JobTiming struct {
	ID         uuid.UUID  `db:"id"`
	Status     JobStatus  `db:"status"`
	CreatedAt  time.Time  `db:"created_at"`
	StartedAt  *time.Time `db:"started_at"`
	FinishedAt *time.Time `db:"finished_at"`
}

// JobTimings returns the timing of each of the jobs that exists, in no
// particular order: what a load test needs of thousands of jobs, without
// reading their results.
func (db *DB) JobTimings(ctx context.Context, ids []uuid.UUID) ([]JobTiming, error) {
	var out []JobTiming
	if err := db.selectAll(ctx, &out, `SELECT id, status, created_at, started_at, finished_at
		FROM jobs WHERE id = ANY($1::uuid[])`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("read job timings: %w", err)
	}
	return out, nil
}

// AnyLiveJob reports whether any job is queued or running.
func (db *DB) AnyLiveJob(ctx context.Context) (bool, error) {
	var live bool
	if err := db.get(ctx, &live, `SELECT EXISTS (SELECT 1 FROM jobs WHERE status IN ('queued', 'running'))`); err != nil {
		return false, fmt.Errorf("look for live jobs: %w", err)
	}
	return live, nil
}
