package app

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

func TestOperatorCommandsHelp(t *testing.T) {
	cases := []struct{ line, want string }{
		{"web users --help", "usage: web users list |"},
		{"web users -h", "usage: web users list |"},
		{"web help users", "usage: web users list |"},
		{"web users help", "usage: web users list |"},
		{"web users list -h", "usage: web users"},
		{"web users deactivate --help", "usage: web users"},
		{"web users set-role help", "usage: web users"},
		{"web users set-role alice admin -h", "usage: web users"},
		{"web tokens -h", "usage: web tokens list [--user USERNAME] | revoke ID"},
		{"web tokens list --help", "-user string"},
		{"web tokens revoke -h", "usage: web tokens"},
		{"web jobs --help", "usage: web jobs retry ID | cancel ID"},
		{"web jobs retry -h", "usage: web jobs"},
		{"web jobs cancel help", "usage: web jobs"},
		{"web backup --help", "-weekly int"},
		{"web help backup", "usage: web backup"},
		{"web restore -h", "-file string"},
		{"worker queues --help", "usage: worker queues\n"},
		{"worker help queues", "usage: worker queues\n"},
		{"worker queues help", "usage: worker queues\n"},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tc.line)
			require.Equal(t, 0, code, "stderr: %s", stderr)
			require.Contains(t, stdout, tc.want)
			require.Empty(t, stderr, "nothing started, nothing logged")
		})
	}
}

func TestOperatorCommandsRefuseBadLines(t *testing.T) {
	cases := []struct{ line, complaint string }{
		{"web users", "a subcommand is required"},
		{"web users delete alice", `unknown subcommand "delete"`},
		{"web users list --bogus", "flag provided but not defined: -bogus"},
		{"web users list extra", `unexpected argument "extra"`},
		{"web users deactivate", "want USERNAME, got 0 argument(s)"},
		{"web users deactivate alice bob", "want USERNAME, got 2 argument(s)"},
		{"web users set-role alice", "want USERNAME ROLE, got 1 argument(s)"},
		{"web users set-role alice root", `role "root": must be user or admin`},
		{"web tokens revoke x1", `token ID "x1": must be a number`},
		{"web tokens list --user", "flag needs an argument: -user"},
		{"web jobs retry 42", `job ID "42": must be a UUID`},
		{"web jobs cancel", "want ID, got 0 argument(s)"},
		{"web jobs cancel --force 6f1c", "flag provided but not defined: -force"},
		{"web backup --daily 0", "--daily must be at least 1"},
		{"web backup --bogus", "flag provided but not defined: -bogus"},
		{"web restore", "--file is required"},
		{"worker queues --bogus", "flag provided but not defined: -bogus"},
		{"worker queues extra", `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tc.line)
			require.Equal(t, 2, code, "stderr: %s", stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tc.complaint)
			require.Contains(t, stderr, "usage: "+strings.Join(strings.Fields(tc.line)[:2], " "))
		})
	}
}

// opsEnv is a migrated database of the test's own, made by `web migrate`,
// and the test binary's Redis.
type opsEnv struct {
	env map[string]string
	db  *store.DB
}

func newOpsEnv(t *testing.T) *opsEnv {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL": dbtest.URL(dbtest.UniqueName(t, "ops")),
		"REDIS_URL":    dbtest.RedisURL(t),
	}
	dbtest.Redis(t) // empties it
	code, _, stderr := runCLI(t, env, "web migrate --create-db")
	require.Equal(t, 0, code, stderr)
	db, err := store.Open(context.Background(), env["DATABASE_URL"])
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return &opsEnv{env: env, db: db}
}

func (o *opsEnv) run(t *testing.T, line string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLI(t, o.env, line)
}

// printedToken matches the token line that `web create-user` prints.
var printedToken = regexp.MustCompile(`(?m)^(\S{30,})$`)

func TestUsersCommands(t *testing.T) {
	o := newOpsEnv(t)
	code, stdout, stderr := o.run(t, "web create-user --email root@example.com --username root --admin")
	require.Equal(t, 0, code, stderr)
	token := printedToken.FindStringSubmatch(stdout)[1]
	code, _, stderr = o.run(t, "web create-user --email ann@example.com --username ann")
	require.Equal(t, 0, code, stderr)

	code, stdout, _ = o.run(t, "web users list")
	require.Equal(t, 0, code)
	require.Regexp(t, `(?m)^1\s+root\s+root@example\.com\s+admin\s+true\s`, stdout)
	require.Regexp(t, `(?m)^2\s+ann\s+ann@example\.com\s+user\s+true\s`, stdout)

	// The last admin stays an active admin.
	code, stdout, stderr = o.run(t, "web users set-role root user")
	require.Equal(t, 1, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "user root: it is the last active admin")
	code, _, stderr = o.run(t, "web users deactivate ROOT")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "last active admin")

	// With a second admin, the first may go, and its token stops working.
	code, stdout, _ = o.run(t, "web users set-role ann admin")
	require.Equal(t, 0, code)
	require.Equal(t, "user ann: role admin\n", stdout)
	code, stdout, _ = o.run(t, "web users deactivate root")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "user root (admin): deactivated")
	_, err := o.db.UserByTokenDigest(context.Background(), auth.TokenDigest(token))
	require.ErrorIs(t, err, store.ErrNotFound)
	code, _, stderr = o.run(t, "web users set-role ann user")
	require.Equal(t, 1, code, "root is inactive: ann is the last")
	require.Contains(t, stderr, "last active admin")
	code, stdout, _ = o.run(t, "web users activate root")
	require.Equal(t, 0, code)
	require.Equal(t, "user root (admin): active\n", stdout)

	code, _, stderr = o.run(t, "web users deactivate nobody")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "user nobody: not found")
}

func TestTokensCommands(t *testing.T) {
	o := newOpsEnv(t)
	code, stdout, stderr := o.run(t, "web create-user --email a@example.com --username alice")
	require.Equal(t, 0, code, stderr)
	token := printedToken.FindStringSubmatch(stdout)[1]
	code, _, stderr = o.run(t, "web create-user --email b@example.com --username bob")
	require.Equal(t, 0, code, stderr)
	ctx := context.Background()
	_, err := o.db.UserByTokenDigest(ctx, auth.TokenDigest(token))
	require.NoError(t, err)

	code, stdout, _ = o.run(t, "web tokens list")
	require.Equal(t, 0, code)
	require.Regexp(t, `(?m)^1\s+alice\s+cli\s+\S+\s+\S+`, stdout)
	require.Regexp(t, `(?m)^2\s+bob\s+cli\s+\S+\s+never$`, stdout)
	require.NotContains(t, stdout, token)
	code, stdout, _ = o.run(t, "web tokens list --user bob")
	require.Equal(t, 0, code)
	require.NotContains(t, stdout, "alice")
	code, stdout, stderr = o.run(t, "web tokens list --user nosuch")
	require.Equal(t, 1, code, "an unknown user is an error, as in the other commands")
	require.Empty(t, stdout)
	require.Contains(t, stderr, "user nosuch: not found")

	code, stdout, _ = o.run(t, "web tokens revoke 1")
	require.Equal(t, 0, code)
	require.Equal(t, "token 1 (\"cli\") of user alice revoked\n", stdout)
	_, err = o.db.UserByTokenDigest(ctx, auth.TokenDigest(token))
	require.ErrorIs(t, err, store.ErrNotFound)
	code, _, stderr = o.run(t, "web tokens revoke 1")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "api token 1: not found")
}

func TestJobsCommands(t *testing.T) {
	o := newOpsEnv(t)
	ctx := context.Background()
	owner := dbtest.User(t, o.db)
	rdb := dbtest.Redis(t)
	queue := jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute})
	newJob := func() *store.Job {
		job, _, err := o.db.CreateJob(ctx, store.NewJob{OwnerID: owner.ID, Kind: store.KindPrediction, Ticker: "MSFT",
			Params: store.JSON(`{"models":["linreg"]}`), Queue: "default"})
		require.NoError(t, err)
		require.NoError(t, queue.Enqueue(ctx, job))
		return job
	}

	// Cancel a queued job: the row is canceled and its task withdrawn.
	queued := newJob()
	code, stdout, stderr := o.run(t, "web jobs cancel "+queued.ID.String())
	require.Equal(t, 0, code, stderr)
	require.Equal(t, fmt.Sprintf("job %s canceled (it was queued)\n", queued.ID), stdout)
	got, err := o.db.Job(ctx, queued.ID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusCanceled, got.Status)
	require.Equal(t, "canceled by an operator", got.Error, "the owner is not told they canceled it")
	_, err = queue.Task("default", queued.ID)
	require.ErrorIs(t, err, jobs.ErrNoTask)
	code, _, stderr = o.run(t, "web jobs cancel "+queued.ID.String())
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "already finished: canceled")

	// Retry a failed job: a new queued job with the same request, its
	// task on the same queue; the failed one stays as it was.
	failed := newJob()
	started, err := o.db.StartJob(ctx, failed.ID, "worker-a", time.Minute)
	require.NoError(t, err)
	require.NoError(t, o.db.FinishJob(ctx, started.Attempt(), store.StatusFailed, nil, "provider down"))
	code, stdout, stderr = o.run(t, "web jobs retry "+failed.ID.String())
	require.Equal(t, 0, code, stderr)
	m := regexp.MustCompile(`^job \S+ retried as (\S+) on queue default\n$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	retries, err := o.db.ListJobs(ctx, owner.ID, nil, 10)
	require.NoError(t, err)
	require.Equal(t, m[1], retries[0].ID.String(), "the newest job is the retry")
	retry := retries[0]
	require.Equal(t, store.StatusQueued, retry.Status)
	require.Equal(t, failed.Ticker, retry.Ticker)
	require.JSONEq(t, string(failed.Params), string(retry.Params))
	_, err = queue.Task("default", retry.ID)
	require.NoError(t, err)
	again, err := o.db.Job(ctx, failed.ID, 0)
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, again.Status)
	require.Equal(t, "provider down", again.Error)

	// A live job is not retried; an unknown one is not found.
	code, _, stderr = o.run(t, "web jobs retry "+retry.ID.String())
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "is queued: only failed or canceled jobs are retried")
	code, _, stderr = o.run(t, "web jobs cancel 00000000-0000-0000-0000-000000000001")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "not found")
}

func TestWorkerQueuesCommand(t *testing.T) {
	s := newStack(t)
	env := map[string]string{"REDIS_URL": dbtest.RedisURL(t), "WORKER_QUEUES": "critical=6,default=3,low=1"}
	// Queued with no worker: the queue shows one pending task, no server.
	s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["linreg"]}`)
	code, stdout, stderr := runCLI(t, env, "worker queues")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `(?m)^QUEUE\s+PENDING\s+ACTIVE\s+SCHEDULED\s+RETRY\s+ARCHIVED\s+LATENCY\s+PAUSED$`, stdout)
	var pendingQueues int
	for _, name := range []string{"critical", "default", "low"} {
		row := regexp.MustCompile(`(?m)^` + name + `\s+(\d+)\s+0\s+0\s+0\s+0\s+\S+\s+false$`).FindStringSubmatch(stdout)
		require.NotNil(t, row, "a row for every served queue, seen or not:\n%s", stdout)
		if row[1] == "1" {
			pendingQueues++
		}
	}
	require.Equal(t, 1, pendingQueues, stdout)
	require.Contains(t, stdout, "worker servers: 0\n")

	// A running worker shows up, with its concurrency.
	s.startWorker()
	require.Eventually(t, func() bool {
		_, stdout, _ = runCLI(t, env, "worker queues")
		return strings.Contains(stdout, "worker servers: 1\n")
	}, 10*time.Second, 100*time.Millisecond, stdout)
	require.Regexp(t, `(?m)^HOST\s+PID\s+CONCURRENCY\s+RUNNING\s+STARTED\n\S+\s+\d+\s+2\s+\d+\s+\S+$`, stdout)
}
