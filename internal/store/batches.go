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

// NewBatch is one prediction request over many tickers, as admitted.
type NewBatch struct {
	OwnerID int64
	// WatchlistID is the watchlist the tickers came from; 0 when given
	// as a list.
	WatchlistID int64
	Tickers     []string
	// Params are the prediction's parameters, the same for every ticker.
	Params JSON
	// Queue is the queue of every job of the batch.
	Queue     string
	RequestID string
}

// BatchOverCapError refuses a batch whose jobs would take the owner past
// the cap on unfinished jobs: a batch counts as its jobs.
type BatchOverCapError struct {
	Unfinished, Asked, Max int
}

func (e *BatchOverCapError) Error() string {
	return fmt.Sprintf("a batch of %d jobs would take you past %d unfinished jobs (you have %d); wait for some to finish, or ask for fewer tickers",
		e.Asked, e.Max, e.Unfinished)
}

// Batch is a batch and how far its jobs have got.
type Batch struct {
	ID          uuid.UUID      `db:"id"`
	OwnerID     int64          `db:"owner_id"`
	WatchlistID sql.NullInt64  `db:"watchlist_id"`
	Params      JSON           `db:"params"`
	Tickers     pq.StringArray `db:"tickers"`
	CreatedAt   time.Time      `db:"created_at"`
	CanceledAt  *time.Time     `db:"canceled_at"`
	// The counts of its jobs by status.
	Queued    int `db:"queued"`
	Running   int `db:"running"`
	Succeeded int `db:"succeeded"`
	Failed    int `db:"failed"`
	Canceled  int `db:"canceled"`
}

// Done counts the batch's jobs that are final.
func (b *Batch) Done() int { return b.Succeeded + b.Failed + b.Canceled }

// Status names where the batch stands: "canceled" once canceled,
// "finished" when every job is final, "running" before.
func (b *Batch) Status() string {
	switch {
	case b.CanceledAt != nil:
		return "canceled"
	case b.Final():
		return "finished"
	}
	return "running"
}

// Final reports whether every job of the batch is final.
func (b *Batch) Final() bool { return b.Done() == len(b.Tickers) }

// batchSelect reads batches with their job counts.
const batchSelect = `SELECT b.id, b.owner_id, b.watchlist_id, b.params, b.tickers, b.created_at, b.canceled_at,
		count(*) FILTER (WHERE j.status = 'queued') AS queued,
		count(*) FILTER (WHERE j.status = 'running') AS running,
		count(*) FILTER (WHERE j.status = 'succeeded') AS succeeded,
		count(*) FILTER (WHERE j.status = 'failed') AS failed,
		count(*) FILTER (WHERE j.status = 'canceled') AS canceled
	FROM batches b LEFT JOIN jobs j ON j.batch_id = b.id`

// CreateBatch stores the batch and one queued job per ticker in one
// transaction, or none of it. The jobs are held for their owner's turn
// when rule holds jobs (the caller then dispatches, as workers do), and
// dispatched at once otherwise (the caller enqueues them). Past the cap
// on unfinished jobs (maxUnfinished), counting the batch's, it is a
// *BatchOverCapError.
func (db *DB) CreateBatch(ctx context.Context, n NewBatch, maxUnfinished int, rule DispatchRule) (*Batch, []*Job, error) {
	var id uuid.UUID
	var jobs []*Job
	err := db.inTx(ctx, nil, func(tx querier) error {
		var err error
		id, jobs, err = createBatch(ctx, tx, n, maxUnfinished, rule)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	b, err := db.Batch(ctx, id, n.OwnerID)
	return b, jobs, err
}

// createBatch is CreateBatch within the transaction tx.
func createBatch(ctx context.Context, tx querier, n NewBatch, maxUnfinished int, rule DispatchRule) (uuid.UUID, []*Job, error) {
	id := uuid.New()
	ids := make([]uuid.UUID, len(n.Tickers))
	for i := range ids {
		ids[i] = uuid.New()
	}
	var watchlist sql.NullInt64
	if n.WatchlistID != 0 {
		watchlist = sql.NullInt64{Int64: n.WatchlistID, Valid: true}
	}
	// The owner's row lock is the one single submissions take for the
	// same cap (admit_job_by_rule).
	var unfinished int
	if err := tx.get(ctx, &unfinished, `SELECT count(j.*) FROM (SELECT id FROM users WHERE id = $1 FOR UPDATE) u
		LEFT JOIN jobs j ON j.owner_id = u.id AND j.status IN ('queued', 'running')`, n.OwnerID); err != nil {
		return uuid.Nil, nil, fmt.Errorf("count unfinished jobs: %w", err)
	}
	if unfinished+len(n.Tickers) > maxUnfinished {
		return uuid.Nil, nil, &BatchOverCapError{Unfinished: unfinished, Asked: len(n.Tickers), Max: maxUnfinished}
	}
	if _, err := tx.exec(ctx, `INSERT INTO batches (id, owner_id, watchlist_id, params, tickers) VALUES ($1, $2, $3, $4, $5)`,
		id, n.OwnerID, watchlist, n.Params, pq.Array(n.Tickers)); err != nil {
		return uuid.Nil, nil, fmt.Errorf("insert batch: %w", err)
	}
	var rows []jobRow
	if err := tx.selectAll(ctx, &rows, `INSERT INTO jobs (id, owner_id, kind, ticker, params, queue, request_id, batch_id, dispatched_at)
		SELECT t.id, $3, 'prediction', t.ticker, $4, $5, nullif($6, ''), $7, CASE WHEN $8 THEN NULL ELSE now() END
		FROM unnest($1::uuid[], $2::text[]) AS t (id, ticker)
		RETURNING `+jobColumns, pq.Array(ids), pq.Array(n.Tickers), n.OwnerID, n.Params, n.Queue, n.RequestID, id, rule.Holds()); err != nil {
		return uuid.Nil, nil, fmt.Errorf("insert the batch's jobs: %w", err)
	}
	jobs := make([]*Job, len(rows))
	for i := range rows {
		j := rows[i].job()
		jobs[i] = &j
	}
	return id, jobs, nil
}

// Batch returns the owner's batch with its counts, or ErrNotFound.
func (db *DB) Batch(ctx context.Context, id uuid.UUID, owner int64) (*Batch, error) {
	var b Batch
	err := db.get(ctx, &b, batchSelect+` WHERE b.id = $1 AND b.owner_id = $2 GROUP BY b.id`, id, owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read batch %s: %w", id, err)
	}
	return &b, nil
}

// Batches lists the owner's most recent batches, newest first.
func (db *DB) Batches(ctx context.Context, owner int64, limit int) ([]Batch, error) {
	var out []Batch
	if err := db.selectAll(ctx, &out, batchSelect+` WHERE b.owner_id = $1 GROUP BY b.id
		ORDER BY b.created_at DESC, b.id DESC LIMIT $2`, owner, limit); err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return out, nil
}

// CanceledJob is a job a batch's cancel ended, with the status it had.
type CanceledJob struct {
	Job      *Job
	Previous JobStatus
}

// CancelBatch cancels every unfinished job of the owner's batch, in one
// statement, and returns them with the status each had, for the caller
// to withdraw their tasks. A batch whose jobs are all final is canceled
// all the same (it changes nothing) and returns none.
func (db *DB) CancelBatch(ctx context.Context, id uuid.UUID, owner int64) ([]CanceledJob, error) {
	var rows []struct {
		jobRow
		Previous JobStatus `db:"previous"`
	}
	err := db.inTx(ctx, nil, func(tx querier) error {
		n, err := tx.exec(ctx, `UPDATE batches SET canceled_at = coalesce(canceled_at, now()) WHERE id = $1 AND owner_id = $2`, id, owner)
		if err != nil {
			return fmt.Errorf("cancel batch %s: %w", id, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return tx.selectAll(ctx, &rows, `WITH prev AS (
				SELECT id AS prev_id, status AS previous FROM jobs
				WHERE batch_id = $1 AND owner_id = $2 AND status IN ('queued', 'running') FOR UPDATE
			)
			UPDATE jobs SET status = 'canceled', finished_at = now(), error = $3
			FROM prev WHERE id = prev_id
			RETURNING `+jobColumns+`, previous`, id, owner, canceledByUser)
	})
	if err != nil {
		return nil, err
	}
	out := make([]CanceledJob, len(rows))
	for i := range rows {
		j := rows[i].job()
		out[i] = CanceledJob{Job: &j, Previous: rows[i].Previous}
	}
	return out, nil
}

// BatchRow is one ticker of a batch: its job, and the figures of its
// result that a table of many tickers shows.
type BatchRow struct {
	JobID  uuid.UUID `db:"job_id"`
	Ticker string    `db:"ticker"`
	Status JobStatus `db:"status"`
	Error  string    `db:"error"`
	// Action is the recommendation (BUY, SELL, HOLD); "" until the job
	// succeeds.
	Action    string          `db:"action"`
	LastClose sql.NullFloat64 `db:"last_close"`
	// Models holds, per model, the last point of its forecast, its
	// verdict against persistence and whether it beat persistence.
	Models JSON `db:"models"`
	// PreviousJobID and PreviousAction are the same ticker's job in the
	// batch before this one of the same watchlist (or, for a list given
	// as such, of the same tickers), when it succeeded.
	PreviousJobID  *uuid.UUID `db:"previous_job_id"`
	PreviousAction string     `db:"previous_action"`
	PreviousModels JSON       `db:"previous_models"`
}

// Changed reports whether the recommendation differs from the previous
// batch's for the ticker; false when either is missing.
func (r *BatchRow) Changed() bool {
	return r.Action != "" && r.PreviousAction != "" && r.Action != r.PreviousAction
}

// batchModels is the SQL expression of BatchRow.Models for the job row j.
const batchModels = `(SELECT jsonb_object_agg(m.key, jsonb_build_object(
		'forecast', m.value->'forecast'->-1, 'verdict', m.value->'verdict',
		'beats_persistence', m.value->'beats_persistence'))
	FROM jsonb_each(CASE WHEN jsonb_typeof(%[1]s.result->'models') = 'object' THEN %[1]s.result->'models' END) m)`

// BatchRows returns the rows of the owner's batch in the order of its
// tickers, read from the results in PostgreSQL (a few hundred bytes a
// ticker, never the whole results).
func (db *DB) BatchRows(ctx context.Context, id uuid.UUID, owner int64) ([]BatchRow, error) {
	var out []BatchRow
	err := db.selectAll(ctx, &out, `WITH b AS (
			SELECT * FROM batches WHERE id = $1 AND owner_id = $2
		), prev AS (
			SELECT p.id FROM batches p, b
			WHERE p.owner_id = b.owner_id AND p.created_at < b.created_at AND p.id <> b.id
				AND (CASE WHEN b.watchlist_id IS NOT NULL THEN p.watchlist_id = b.watchlist_id ELSE p.tickers = b.tickers END)
			ORDER BY p.created_at DESC LIMIT 1
		)
		SELECT j.id AS job_id, j.ticker, j.status, coalesce(j.error, '') AS error,
			coalesce(j.result->'recommendation'->>'action', '') AS action,
			(j.result->>'last_close')::float8 AS last_close,
			coalesce(`+fmt.Sprintf(batchModels, "j")+`, '{}') AS models,
			pj.id AS previous_job_id,
			coalesce(pj.result->'recommendation'->>'action', '') AS previous_action,
			coalesce(`+fmt.Sprintf(batchModels, "pj")+`, '{}') AS previous_models
		FROM b JOIN jobs j ON j.batch_id = b.id
		LEFT JOIN jobs pj ON pj.batch_id = (SELECT id FROM prev) AND pj.ticker = j.ticker AND pj.status = 'succeeded'
		ORDER BY array_position(b.tickers, j.ticker)`, id, owner)
	if err != nil {
		return nil, fmt.Errorf("read rows of batch %s: %w", id, err)
	}
	return out, nil
}
