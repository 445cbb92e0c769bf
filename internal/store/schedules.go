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

// MaxSchedules is how many schedules one user may keep.
const MaxSchedules = 20

// ErrTooManySchedules means the user has MaxSchedules already.
var ErrTooManySchedules = fmt.Errorf("at most %d schedules per user", MaxSchedules)

// Schedule runs a watchlist as a batch at each occurrence of a cron
// expression in a time zone.
type Schedule struct {
	ID          int64     `db:"id"`
	OwnerID     int64     `db:"owner_id"`
	WatchlistID int64     `db:"watchlist_id"`
	Cron        string    `db:"cron"`
	TimeZone    string    `db:"time_zone"`
	Params      JSON      `db:"params"`
	CatchUp     bool      `db:"catch_up"`
	Paused      bool      `db:"paused"`
	NextRunAt   time.Time `db:"next_run_at"`
	// LastRunAt is the occurrence that ran last, nil before the first.
	LastRunAt *time.Time `db:"last_run_at"`
	CreatedAt time.Time  `db:"created_at"`
	// WatchlistName names the schedule's watchlist on a page.
	WatchlistName string `db:"watchlist_name"`
	// LastBatchID is the batch of the last run, if it made one.
	LastBatchID *uuid.UUID `db:"last_batch_id"`
}

const scheduleSelect = `SELECT s.id, s.owner_id, s.watchlist_id, s.cron, s.time_zone, s.params, s.catch_up, s.paused,
		s.next_run_at, s.last_run_at, s.created_at, w.name AS watchlist_name,
		(SELECT r.batch_id FROM schedule_runs r WHERE r.schedule_id = s.id ORDER BY r.occurrence_at DESC LIMIT 1) AS last_batch_id
	FROM schedules s JOIN watchlists w ON w.id = s.watchlist_id`

// NewSchedule is a schedule as its owner asks for it, its first
// occurrence already computed.
type NewSchedule struct {
	OwnerID, WatchlistID int64
	Cron, TimeZone       string
	Params               JSON
	CatchUp              bool
	NextRunAt            time.Time
}

// CreateSchedule stores a schedule of the owner's own watchlist
// (ErrNotFound for another's).
func (db *DB) CreateSchedule(ctx context.Context, n NewSchedule) (*Schedule, error) {
	var id int64
	err := db.inTx(ctx, nil, func(tx querier) error {
		var count int
		if err := tx.get(ctx, &count, `SELECT count(*) FROM schedules s, (SELECT 1 FROM users WHERE id = $1 FOR UPDATE) u
			WHERE s.owner_id = $1`, n.OwnerID); err != nil {
			return fmt.Errorf("count schedules: %w", err)
		}
		if count >= MaxSchedules {
			return ErrTooManySchedules
		}
		err := tx.get(ctx, &id, `INSERT INTO schedules (owner_id, watchlist_id, cron, time_zone, params, catch_up, next_run_at)
			SELECT $1, w.id, $3, $4, $5, $6, $7 FROM watchlists w WHERE w.id = $2 AND w.owner_id = $1
			RETURNING id`, n.OwnerID, n.WatchlistID, n.Cron, n.TimeZone, n.Params, n.CatchUp, n.NextRunAt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.Schedule(ctx, id, n.OwnerID)
}

// Schedule returns one schedule; ownerID 0 finds anyone's (an admin).
func (db *DB) Schedule(ctx context.Context, id, ownerID int64) (*Schedule, error) {
	var s Schedule
	err := db.get(ctx, &s, scheduleSelect+` WHERE s.id = $1 AND ($2 = 0 OR s.owner_id = $2)`, id, ownerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read schedule %d: %w", id, err)
	}
	return &s, nil
}

// Schedules lists the owner's schedules, or everyone's for ownerID 0.
func (db *DB) Schedules(ctx context.Context, ownerID int64) ([]Schedule, error) {
	var out []Schedule
	if err := db.selectAll(ctx, &out, scheduleSelect+` WHERE $1 = 0 OR s.owner_id = $1 ORDER BY s.owner_id, s.id`, ownerID); err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return out, nil
}

// PauseSchedule pauses or resumes the owner's schedule. A resumed
// schedule's next occurrence is next: the caller computes it from now, so
// that the occurrences missed while paused never run.
func (db *DB) PauseSchedule(ctx context.Context, id, ownerID int64, paused bool, next time.Time) error {
	n, err := db.exec(ctx, `UPDATE schedules SET paused = $3,
			next_run_at = CASE WHEN $3 THEN next_run_at ELSE $4 END
		WHERE id = $1 AND owner_id = $2`, id, ownerID, paused, next)
	if err != nil {
		return fmt.Errorf("pause schedule %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteSchedule deletes the owner's schedule; its batches stay.
func (db *DB) DeleteSchedule(ctx context.Context, id, ownerID int64) error {
	n, err := db.exec(ctx, `DELETE FROM schedules WHERE id = $1 AND owner_id = $2`, id, ownerID)
	if err != nil {
		return fmt.Errorf("delete schedule %d: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Occurrence is what a due schedule does now, as its rule decides.
type Occurrence struct {
	// Run says whether a batch runs for At; else At and the Skipped
	// occurrences before it are passed over.
	Run bool
	At  time.Time
	// Skipped counts the occurrences missed and not run.
	Skipped int
	// Next is the schedule's next occurrence after now.
	Next time.Time
}

// Fired is one occurrence a FireDueSchedule call handled.
type Fired struct {
	ScheduleID int64
	Occurrence Occurrence
	// Batch is the batch made, nil when none was (skipped or refused),
	// and Jobs its jobs; Refused says why a batch due was not made.
	Batch   *uuid.UUID
	Jobs    []*Job
	Refused error
}

// FireDueSchedule takes one due schedule that no other worker holds and,
// in one transaction, records its occurrence, makes its batch (under the
// cap, as a submission would) and moves it to its next occurrence. plan
// says what the occurrence is from the schedule and the database's now.
// An occurrence is recorded once (schedule_runs' key), so however many
// workers look, it runs at most once. It returns nil when nothing is due.
func (db *DB) FireDueSchedule(ctx context.Context, plan func(s *Schedule, now time.Time) (Occurrence, error),
	maxUnfinished int, rule DispatchRule, queue string) (*Fired, error) {
	var fired *Fired
	err := db.inTx(ctx, nil, func(tx querier) error {
		var s Schedule
		err := tx.get(ctx, &s, `SELECT id, owner_id, watchlist_id, cron, time_zone, params, catch_up, paused, next_run_at,
				last_run_at, created_at
			FROM schedules WHERE NOT paused AND next_run_at <= now() ORDER BY next_run_at
			LIMIT 1 FOR UPDATE SKIP LOCKED`)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find a due schedule: %w", err)
		}
		var now time.Time
		if err := tx.get(ctx, &now, `SELECT now()`); err != nil {
			return err
		}
		occ, err := plan(&s, now)
		if err != nil {
			return fmt.Errorf("schedule %d: %w", s.ID, err)
		}
		fired = &Fired{ScheduleID: s.ID, Occurrence: occ}
		// The occurrence is recorded first: one already recorded (a clock
		// stepped back) is not run again, and the schedule moves on.
		n, err := tx.exec(ctx, `INSERT INTO schedule_runs (schedule_id, occurrence_at, skipped)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, s.ID, occ.At, occ.Skipped)
		if err != nil {
			return fmt.Errorf("record run of schedule %d: %w", s.ID, err)
		}
		if n == 0 {
			fired.Occurrence.Run = false
		}
		if fired.Occurrence.Run {
			if err := fireBatch(ctx, tx, &s, fired, maxUnfinished, rule, queue); err != nil {
				return err
			}
		}
		lastRun := sql.NullTime{Time: occ.At, Valid: fired.Occurrence.Run}
		if _, err := tx.exec(ctx, `UPDATE schedules SET next_run_at = $2, last_run_at = coalesce($3, last_run_at) WHERE id = $1`,
			s.ID, occ.Next, lastRun); err != nil {
			return fmt.Errorf("move schedule %d on: %w", s.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fired, nil
}

// fireBatch makes the batch of the schedule's occurrence in tx and records
// it on the occurrence's run. A refusal (the cap) is recorded instead, and
// the schedule moves on: its next occurrence tries again.
func fireBatch(ctx context.Context, tx querier, s *Schedule, fired *Fired, maxUnfinished int, rule DispatchRule, queue string) error {
	var tickers pq.StringArray
	if err := tx.get(ctx, &tickers, `SELECT tickers FROM watchlists WHERE id = $1`, s.WatchlistID); err != nil {
		return fmt.Errorf("read watchlist of schedule %d: %w", s.ID, err)
	}
	if _, err := tx.exec(ctx, `SAVEPOINT batch`); err != nil {
		return err
	}
	id, jobs, err := createBatch(ctx, tx, NewBatch{OwnerID: s.OwnerID, WatchlistID: s.WatchlistID, Tickers: tickers,
		Params: s.Params, Queue: queue}, maxUnfinished, rule)
	var capped *BatchOverCapError
	switch {
	case errors.As(err, &capped):
		if _, err := tx.exec(ctx, `ROLLBACK TO SAVEPOINT batch`); err != nil {
			return err
		}
		fired.Refused = capped
		_, err = tx.exec(ctx, `UPDATE schedule_runs SET error = $3 WHERE schedule_id = $1 AND occurrence_at = $2`,
			s.ID, fired.Occurrence.At, capped.Error())
		return err
	case err != nil:
		return err
	}
	fired.Batch, fired.Jobs = &id, jobs
	_, err = tx.exec(ctx, `UPDATE schedule_runs SET batch_id = $3 WHERE schedule_id = $1 AND occurrence_at = $2`,
		s.ID, fired.Occurrence.At, id)
	return err
}
