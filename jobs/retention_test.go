package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	trail "github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// TestPrunerPrunesTheAuditTrailByItsOwnRetention: the hourly pass removes
// audit rows past AUDIT_RETENTION, not JOB_RETENTION, and what it keeps
// still verifies.
func TestPrunerPrunesTheAuditTrailByItsOwnRetention(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Postgres(t, "jobs")
	logger := slog.New(slog.DiscardHandler)
	log := trail.New(db, logger, nil)
	for _, queue := range []string{"a", "b", "c"} {
		log.Record(trail.WithActor(ctx, trail.System), trail.Event{Action: trail.QueuePause, Target: "queue:" + queue})
	}
	rows, err := db.AuditChain(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	// Two rows 40 days old: past a 30-day retention, within 400 days.
	conn, err := sqlx.Open("postgres", dbtest.URLOf(t, db))
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Exec(fmt.Sprintf(`ALTER TABLE audit_log DISABLE TRIGGER USER;
		UPDATE audit_log SET at = at - interval '40 days' WHERE id <= %d;
		ALTER TABLE audit_log ENABLE TRIGGER USER`, rows[1].ID))
	require.NoError(t, err)

	rules := store.Retention{Jobs: 30 * 24 * time.Hour, IdempotencyKeys: time.Hour, Prices: time.Hour, Batch: 100}
	for _, tc := range []struct {
		retention time.Duration
		want      int64
	}{
		{400 * 24 * time.Hour, 0}, // the jobs' 30 days do not apply
		{0, 0},                    // keep forever
		{30 * 24 * time.Hour, 2},
	} {
		p := &jobs.Pruner{DB: db, Logger: logger, Rules: rules, Audit: log, AuditRetention: tc.retention}
		pruned, err := p.PruneOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, tc.want, pruned.AuditRows, "retention %s", tc.retention)
	}
	report, err := trail.Verify(ctx, db)
	require.NoError(t, err)
	require.Equal(t, rows[2].ID, report.First)
}
