package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
)

// superuser is a connection of its own to db's database as the postgres
// superuser, which can do what the trigger refuses the application.
func superuser(t *testing.T, db *store.DB) *sqlx.DB {
	t.Helper()
	conn, err := sqlx.Open("postgres", dbtest.URLOf(t, db))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// record appends n events, one after another.
func record(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.CLI())
	for i := range n {
		l.Record(ctx, audit.Event{Action: audit.QueuePause, Target: fmt.Sprintf("queue:q%d", i), Details: map[string]string{"n": fmt.Sprint(i)}})
	}
}

func newLog(t *testing.T) (*store.DB, *audit.Log, *testlog.Buffer) {
	db := dbtest.Postgres(t, "audit")
	var siem testlog.Buffer
	return db, audit.New(db, slog.New(slog.NewTextHandler(&siem, nil)), &siem), &siem
}

// TestConcurrentAppendsFormOneChain records from many goroutines at once;
// the advisory lock must line them up into one chain with no fork.
func TestConcurrentAppendsFormOneChain(t *testing.T) {
	db, l, siem := newLog(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { record(t, l, 10) })
	}
	wg.Wait()
	report, err := audit.Verify(context.Background(), db)
	require.NoError(t, err)
	require.EqualValues(t, 80, report.Rows)
	require.Equal(t, 80, siem.Count(`"action":"queue.pause"`), "every row also went out as a JSON line")
	require.NotContains(t, siem.String(), "not recorded")
}

func TestRecordTakesActorIPAndRequestIDFromTheContext(t *testing.T) {
	db, l, _ := newLog(t)
	ctx := audit.WithClient(requestid.With(context.Background(), "req-42"), "203.0.113.9")
	audit.SetActor(ctx, audit.UserActor(7, "ann@example.com"))
	l.Record(ctx, audit.Event{Action: audit.TokenCreated, Target: "token:3"})
	l.Record(ctx, audit.Event{Action: audit.SignInFailed, Outcome: audit.Failure, Actor: &audit.Actor{Name: "bob@example.com"}})
	rows, err := db.AuditRows(context.Background(), store.AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	got := rows[1]
	require.Equal(t, "ann@example.com", got.Actor)
	require.EqualValues(t, 7, *got.ActorID)
	require.Equal(t, "203.0.113.9", got.IP)
	require.Equal(t, "req-42", got.RequestID)
	require.Equal(t, audit.Success, got.Outcome)
	require.Equal(t, "bob@example.com", rows[0].Actor)
	require.Nil(t, rows[0].ActorID)
	require.Equal(t, audit.Failure, rows[0].Outcome)
}

func TestTheTableRefusesUpdateDeleteAndTruncate(t *testing.T) {
	db, l, _ := newLog(t)
	record(t, l, 2)
	conn := superuser(t, db)
	for _, stmt := range []string{
		`UPDATE audit_log SET outcome = 'failure'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		_, err := conn.Exec(stmt)
		require.ErrorContains(t, err, "append-only", stmt)
	}
	report, err := audit.Verify(context.Background(), db)
	require.NoError(t, err)
	require.EqualValues(t, 2, report.Rows)
}

// TestVerifyFindsTheFirstBadRow tampers with the chain as a superuser who
// disables the trigger, each way a row can be tampered with, and checks
// that Verify names the row where the chain breaks.
func TestVerifyFindsTheFirstBadRow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper string // %[1]d is the first row's id
		badRow int64  // offset from the first row's id
		reason string
	}{
		{"an edit", `UPDATE audit_log SET target = 'queue:other' WHERE id = %[1]d + 2`, 2, "edited"},
		{"an edit of the hash too", `UPDATE audit_log SET ip = '10.0.0.1', hash = sha256('x') WHERE id = %[1]d + 2`, 2, "edited"},
		{"a deleted middle row", `DELETE FROM audit_log WHERE id = %[1]d + 2`, 3, "prev_hash"},
		{"two rows swapped", `UPDATE audit_log SET id = -id WHERE id IN (%[1]d + 1, %[1]d + 2);
			UPDATE audit_log SET id = CASE id WHEN -(%[1]d + 1) THEN %[1]d + 2 ELSE %[1]d + 1 END WHERE id < 0`, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, l, _ := newLog(t)
			record(t, l, 5)
			rows, err := db.AuditChain(context.Background(), 0, 1)
			require.NoError(t, err)
			first := rows[0].ID
			conn := superuser(t, db)
			_, err = conn.Exec(`ALTER TABLE audit_log DISABLE TRIGGER USER; ` + fmt.Sprintf(tc.tamper, first) + `; ALTER TABLE audit_log ENABLE TRIGGER USER`)
			require.NoError(t, err)
			_, err = audit.Verify(context.Background(), db)
			var broken *audit.BrokenError
			require.ErrorAs(t, err, &broken)
			require.Equal(t, first+tc.badRow, broken.ID, err.Error())
			require.Contains(t, broken.Reason, tc.reason)
		})
	}
}

// TestPruningKeepsAChainThatVerifies backdates the oldest rows (an edit,
// but of rows about to go), prunes, and checks that the rows kept, and
// the row recording the pruning, verify from the oldest kept.
func TestPruningKeepsAChainThatVerifies(t *testing.T) {
	db, l, _ := newLog(t)
	record(t, l, 6)
	rows, err := db.AuditChain(context.Background(), 0, 10)
	require.NoError(t, err)
	conn := superuser(t, db)
	_, err = conn.Exec(fmt.Sprintf(`ALTER TABLE audit_log DISABLE TRIGGER USER;
		UPDATE audit_log SET at = at - interval '500 days' WHERE id <= %d;
		ALTER TABLE audit_log ENABLE TRIGGER USER`, rows[2].ID))
	require.NoError(t, err)

	n, err := l.Prune(context.Background(), 400*24*time.Hour)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	report, err := audit.Verify(context.Background(), db)
	require.NoError(t, err)
	require.Equal(t, rows[3].ID, report.First)
	require.EqualValues(t, 4, report.Rows, "three kept and the pruning's own row")
	last, err := db.AuditRows(context.Background(), store.AuditFilter{Action: string(audit.Pruned), Limit: 1})
	require.NoError(t, err)
	require.Len(t, last, 1)
	require.Equal(t, "system", last[0].Actor)
	var details map[string]string
	require.NoError(t, json.Unmarshal(last[0].Details, &details))
	require.Equal(t, "3", details["deleted"])

	n, err = l.Prune(context.Background(), 0)
	require.NoError(t, err)
	require.Zero(t, n, "0 keeps everything")
	_, err = conn.Exec(`DELETE FROM audit_log`)
	require.True(t, err != nil && strings.Contains(err.Error(), "append-only"), "outside retention's transaction the trigger still refuses")
}
