package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// LatestLeaderboard returns the newest leaderboard job that succeeded and
// the one being computed now (queued or running); either may be nil. The
// leaderboard is the same for every user, so owners do not matter here.
func (db *DB) LatestLeaderboard(ctx context.Context) (done, live *Job, err error) {
	var newest jobRow
	err = db.get(ctx, &newest, `SELECT `+jobColumns+` FROM jobs
		WHERE kind = 'leaderboard' AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1`)
	switch {
	case err == nil:
		j := newest.job()
		done = &j
	case !errors.Is(err, sql.ErrNoRows):
		return nil, nil, fmt.Errorf("load the newest leaderboard: %w", err)
	}
	var computing jobRow
	err = db.get(ctx, &computing, `SELECT `+jobColumns+` FROM jobs
		WHERE kind = 'leaderboard' AND status IN ('queued', 'running')`)
	switch {
	case err == nil:
		l := computing.job()
		live = &l
	case !errors.Is(err, sql.ErrNoRows):
		return nil, nil, fmt.Errorf("load the live leaderboard: %w", err)
	}
	return done, live, nil
}

// CreateLeaderboardJob queues a leaderboard job for ownerID unless one is
// already queued or running, in which case it returns that one and
// created = false. A unique index makes this safe against concurrent
// callers: only one of them creates the job.
func (db *DB) CreateLeaderboardJob(ctx context.Context, ownerID int64, params JSON, queue string) (job *Job, created bool, err error) {
	if len(params) == 0 {
		params = JSON(`{}`)
	}
	var row jobRow
	err = db.get(ctx, &row, `INSERT INTO jobs (id, owner_id, kind, params, queue)
		VALUES ($1, $2, 'leaderboard', $3, $4)
		ON CONFLICT (kind) WHERE kind = 'leaderboard' AND status IN ('queued', 'running') DO NOTHING
		RETURNING `+jobColumns, uuid.New(), ownerID, params, queue)
	if err == nil {
		j := row.job()
		return &j, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("insert leaderboard job: %w", err)
	}
	_, live, err := db.LatestLeaderboard(ctx)
	if err != nil {
		return nil, false, err
	}
	if live == nil {
		// The live job finished between the insert and the lookup; the
		// caller may simply ask again.
		return nil, false, fmt.Errorf("leaderboard job finished while another was requested: %w", ErrJobFinished)
	}
	return live, false, nil
}
