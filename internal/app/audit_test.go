package app

import (
	"context"
	"fmt"
	"os/user"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// TestOperatorCommandsAreAuditedAsTheOSUser runs each audited command and
// finds its row, by the OS user who ran it; then `web audit verify`
// passes, and fails naming the row once a superuser edits one or deletes
// one from the middle.
func TestOperatorCommandsAreAuditedAsTheOSUser(t *testing.T) {
	o := newOpsEnv(t)
	ctx := context.Background()
	me, err := user.Current()
	require.NoError(t, err)
	actor := "cli:" + me.Username

	ok := func(line string) string {
		t.Helper()
		code, stdout, stderr := o.run(t, line)
		require.Equal(t, 0, code, "%s: %s", line, stderr)
		return stdout
	}
	ok("web create-user --email root@example.com --username root --admin")
	ok("web create-user --email ann@example.com --username ann")
	ann, err := o.db.UserByUsername(ctx, "ann")
	require.NoError(t, err)
	ok("web users set-role ann admin")
	ok("web users deactivate ann")
	tokens, err := o.db.ListAPITokens(ctx, "ann")
	require.NoError(t, err)
	ok("web tokens revoke " + strconv.FormatInt(tokens[0].ID, 10))
	job, _, err := o.db.CreateJob(ctx, store.NewJob{OwnerID: ann.ID, Kind: store.KindPrediction, Ticker: "MSFT",
		Params: store.JSON(`{"models":["linreg"]}`), Queue: "default"})
	require.NoError(t, err)
	require.NoError(t, jobs.NewQueue(dbtest.Redis(t), jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute}).Enqueue(ctx, job))
	ok("web jobs cancel " + job.ID.String())
	ok("web jobs retry " + job.ID.String())

	for _, tc := range []struct {
		action audit.Action
		target string
	}{
		{audit.UserCreated, audit.UserTarget(ann.ID)},
		{audit.TokenCreated, audit.UserTarget(ann.ID)},
		{audit.RoleChanged, audit.UserTarget(ann.ID)},
		{audit.UserUpdated, audit.UserTarget(ann.ID)},
		{audit.TokenRevoked, "token:" + strconv.FormatInt(tokens[0].ID, 10)},
		{audit.JobCanceled, "job:" + job.ID.String()},
		{audit.QueueRetry, "job:" + job.ID.String()},
	} {
		rows, err := o.db.AuditRows(ctx, store.AuditFilter{Action: string(tc.action), Target: tc.target, Limit: 1})
		require.NoError(t, err)
		require.Len(t, rows, 1, "no %s row on %s", tc.action, tc.target)
		require.Equal(t, actor, rows[0].Actor, tc.action)
		require.Equal(t, audit.Success, rows[0].Outcome)
	}

	stdout := ok("web audit verify")
	require.Regexp(t, `audit trail: \d+ rows verified`, stdout)

	all, err := o.db.AuditChain(ctx, 0, 100)
	require.NoError(t, err)
	require.Greater(t, len(all), 4)
	conn, err := sqlx.Open("postgres", o.env["DATABASE_URL"])
	require.NoError(t, err)
	defer conn.Close()
	tamper := func(stmt string) {
		t.Helper()
		_, err := conn.Exec(`ALTER TABLE audit_log DISABLE TRIGGER USER; ` + stmt + `; ALTER TABLE audit_log ENABLE TRIGGER USER`)
		require.NoError(t, err)
	}
	verifyFailsAt := func(id int64) {
		t.Helper()
		code, _, stderr := o.run(t, "web audit verify")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, fmt.Sprintf("audit chain broken at row %d", id))
	}

	// An edit of a middle row is found at that row.
	tamper(fmt.Sprintf(`UPDATE audit_log SET actor = 'someone-else' WHERE id = %d`, all[2].ID))
	verifyFailsAt(all[2].ID)
	// Put back, the chain verifies again; deleted, the row after it fails.
	tamper(fmt.Sprintf(`UPDATE audit_log SET actor = %s WHERE id = %d`, pq.QuoteLiteral(all[2].Actor), all[2].ID))
	ok("web audit verify")
	tamper(fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, all[2].ID))
	verifyFailsAt(all[3].ID)
}

func TestAuditVerifyHelp(t *testing.T) {
	for _, line := range []string{"web audit --help", "web audit verify -h", "web help audit"} {
		code, stdout, stderr := runCLI(t, nil, line)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "usage: web audit verify", line)
	}
}
