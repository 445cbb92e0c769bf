package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/jobs"
)

// The operators' commands: accounts, tokens and jobs on the web side,
// the queues on the worker side.

// subcommand is one verb of a command group such as `web users`.
type subcommand struct {
	name  string
	parse func(args []string, usage io.Writer) (action, error)
}

// subcommands makes the parse of a command group: its first argument
// names the verb, whose own parse reads the rest, so that `web users
// set-role -h` describes set-role's arguments.
func subcommands(subs ...subcommand) func([]string, io.Writer) (action, error) {
	return func(args []string, usage io.Writer) (action, error) {
		if len(args) == 0 {
			return nil, errors.New("a subcommand is required")
		}
		if isHelpFlag(args[0]) {
			return nil, flag.ErrHelp
		}
		for _, s := range subs {
			if s.name != args[0] {
				continue
			}
			rest := args[1:]
			if len(rest) == 1 && rest[0] == "help" {
				rest = []string{"-h"}
			}
			return s.parse(rest, usage)
		}
		return nil, fmt.Errorf("unknown subcommand %q", args[0])
	}
}

// withArgs is withFlags for a command that also takes exactly
// len(names) positional arguments, which declare's action reads from
// args once parsed. Flags may come before, between or after them.
func withArgs(names []string, declare func(fs *flag.FlagSet, args []string) action) func([]string, io.Writer) (action, error) {
	return func(args []string, usage io.Writer) (action, error) {
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		values := make([]string, len(names))
		act := declare(fs, values)
		var positional []string
		var err error
		// The flag package stops at the first argument that is not a
		// flag; parse again after each one.
		for {
			if err = fs.Parse(args); err != nil || fs.NArg() == 0 {
				break
			}
			positional = append(positional, fs.Arg(0))
			args = fs.Args()[1:]
		}
		fs.SetOutput(usage)
		fs.PrintDefaults()
		if err != nil {
			return nil, err
		}
		if len(positional) != len(names) {
			return nil, fmt.Errorf("want %s, got %d argument(s)", strings.Join(names, " "), len(positional))
		}
		copy(values, positional)
		return act, nil
	}
}

func operatorWebCommands() []command {
	return []command{
		{name: "users", synopsis: "list | activate USERNAME | deactivate USERNAME | set-role USERNAME user|admin",
			summary: "list accounts, (de)activate one, or change its role; the last active admin stays",
			parse: subcommands(
				subcommand{"list", withoutFlags(listUsers)},
				subcommand{"activate", withArgs([]string{"USERNAME"}, func(_ *flag.FlagSet, args []string) action {
					return func(ctx context.Context, env *runtimeEnv) error { return setUserActive(ctx, env, args[0], true) }
				})},
				subcommand{"deactivate", withArgs([]string{"USERNAME"}, func(_ *flag.FlagSet, args []string) action {
					return func(ctx context.Context, env *runtimeEnv) error { return setUserActive(ctx, env, args[0], false) }
				})},
				subcommand{"set-role", withArgs([]string{"USERNAME", "ROLE"}, func(_ *flag.FlagSet, args []string) action {
					return func(ctx context.Context, env *runtimeEnv) error { return setUserRole(ctx, env, args[0], args[1]) }
				})},
			)},
		{name: "tokens", synopsis: "list [--user USERNAME] | revoke ID",
			summary: "list API tokens (never the tokens themselves) or revoke one",
			parse: subcommands(
				subcommand{"list", withFlags(func(fs *flag.FlagSet) action {
					user := fs.String("user", "", "only this user's tokens")
					return func(ctx context.Context, env *runtimeEnv) error { return listTokens(ctx, env, *user) }
				})},
				subcommand{"revoke", withArgs([]string{"ID"}, func(_ *flag.FlagSet, args []string) action {
					return func(ctx context.Context, env *runtimeEnv) error { return revokeToken(ctx, env, args[0]) }
				})},
			)},
		{name: "audit", synopsis: "verify",
			summary: "walk the audit trail's hash chain from its oldest row; exit 1 naming the first row edited, removed or moved",
			parse:   subcommands(subcommand{"verify", withoutFlags(verifyAudit)})},
		{name: "jobs", synopsis: "retry ID | cancel ID",
			summary: "run a failed or canceled job again as a new job, or cancel a live one",
			parse: subcommands(
				subcommand{"retry", withArgs([]string{"ID"}, func(_ *flag.FlagSet, args []string) action {
					return func(ctx context.Context, env *runtimeEnv) error { return retryJob(ctx, env, args[0]) }
				})},
				subcommand{"cancel", withArgs([]string{"ID"}, func(_ *flag.FlagSet, args []string) action {
					return func(ctx context.Context, env *runtimeEnv) error { return cancelJob(ctx, env, args[0]) }
				})},
			)},
	}
}

func operatorWorkerCommands() []command {
	return []command{
		{name: "queues", summary: "print each queue's tasks by state and latency, and the connected worker servers",
			parse: withoutFlags(printQueues)},
	}
}

// withDB runs f on the database, its schema checked.
func withDB(ctx context.Context, env *runtimeEnv, f func(*store.DB) error) error {
	db, err := openDB(ctx, env.cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db)
}

func listUsers(ctx context.Context, env *runtimeEnv) error {
	return withDB(ctx, env, func(db *store.DB) error {
		users, err := db.ListUsers(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tUSERNAME\tEMAIL\tROLE\tACTIVE\tCREATED")
		for _, u := range users {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%t\t%s\n", u.ID, u.Username, u.Email, u.Role, u.Active, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		return w.Flush()
	})
}

func setUserActive(ctx context.Context, env *runtimeEnv, username string, active bool) error {
	return withDB(ctx, env, func(db *store.DB) error {
		u, err := db.SetUserActive(ctx, username, active)
		if err != nil {
			return err
		}
		recordCLI(ctx, env, db, audit.Event{Action: audit.UserUpdated, Target: audit.UserTarget(u.ID),
			Details: map[string]string{"active": strconv.FormatBool(active)}})
		invalidateTokens(ctx, env, u.ID)
		state := "deactivated: its tokens no longer work"
		if u.Active {
			state = "active"
		}
		fmt.Fprintf(env.stdout, "user %s (%s): %s\n", u.Username, u.Role, state)
		return nil
	})
}

func setUserRole(ctx context.Context, env *runtimeEnv, username, role string) error {
	if role != store.RoleUser && role != store.RoleAdmin {
		return usageError{fmt.Errorf("role %q: must be %s or %s", role, store.RoleUser, store.RoleAdmin)}
	}
	return withDB(ctx, env, func(db *store.DB) error {
		u, err := db.SetUserRole(ctx, username, role)
		if err != nil {
			return err
		}
		recordCLI(ctx, env, db, audit.Event{Action: audit.RoleChanged, Target: audit.UserTarget(u.ID),
			Details: map[string]string{"role": role}})
		invalidateTokens(ctx, env, u.ID)
		fmt.Fprintf(env.stdout, "user %s: role %s\n", u.Username, u.Role)
		return nil
	})
}

func listTokens(ctx context.Context, env *runtimeEnv, username string) error {
	return withDB(ctx, env, func(db *store.DB) error {
		// An unknown user is an error, as in the other commands: an empty
		// list would read as "this user has no tokens".
		if username != "" {
			if _, err := db.UserByUsername(ctx, username); err != nil {
				return fmt.Errorf("user %s: %w", username, err)
			}
		}
		tokens, err := db.ListAPITokens(ctx, username)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tUSER\tNAME\tCREATED\tLAST USED")
		for _, t := range tokens {
			used := "never"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Username, t.Name, t.CreatedAt.UTC().Format(time.RFC3339), used)
		}
		return w.Flush()
	})
}

func revokeToken(ctx context.Context, env *runtimeEnv, arg string) error {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id < 1 {
		return usageError{fmt.Errorf("token ID %q: must be a number from `web tokens list`", arg)}
	}
	return withDB(ctx, env, func(db *store.DB) error {
		t, err := db.RevokeAPIToken(ctx, id)
		if err != nil {
			return err
		}
		recordCLI(ctx, env, db, audit.Event{Action: audit.TokenRevoked, Target: "token:" + strconv.FormatInt(t.ID, 10)})
		invalidateTokens(ctx, env, t.UserID)
		fmt.Fprintf(env.stdout, "token %d (%q) of user %s revoked\n", t.ID, t.Name, t.Username)
		return nil
	})
}

// invalidateTokens tells the running web replicas to forget the user's
// cached API tokens (web.InvalidateUser), and returns once none can serve
// them. The change is committed by now; when Redis cannot be reached no
// replica serves from its cache once web.TokenCacheLease has passed, so
// it waits that out, and a warning is all there is to say.
func invalidateTokens(ctx context.Context, env *runtimeEnv, userID int64) {
	rdb, err := openRedis(ctx, env.cfg)
	if err == nil {
		defer rdb.Close()
		err = web.InvalidateUser(ctx, rdb, keyspace.Of(env.cfg.RedisPrefix, rdb), userID)
	} else {
		select {
		case <-ctx.Done():
		case <-time.After(web.TokenCacheLease):
		}
	}
	if err != nil {
		env.logger.Warn("tell the web replicas to forget the user's cached API tokens", "user_id", userID, "err", err)
	}
}

// withJob runs f with the database, the queue and the job that arg names.
func withJob(ctx context.Context, env *runtimeEnv, arg string, f func(*store.DB, *jobs.Queue, *store.Job) error) error {
	id, err := uuid.Parse(arg)
	if err != nil {
		return usageError{fmt.Errorf("job ID %q: must be a UUID", arg)}
	}
	db, rdb, err := openServices(ctx, env.cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	defer rdb.Close()
	job, err := db.Job(ctx, id, 0)
	if err != nil {
		return err
	}
	return f(db, newQueue(env.cfg, rdb), job)
}

// retryJob runs a failed or canceled job's request again as a new job of
// the same owner: a final job never changes, so its history stays true.
func retryJob(ctx context.Context, env *runtimeEnv, arg string) error {
	return withJob(ctx, env, arg, func(db *store.DB, queue *jobs.Queue, job *store.Job) error {
		if job.Status != store.StatusFailed && job.Status != store.StatusCanceled {
			return fmt.Errorf("job %s is %s: only failed or canceled jobs are retried", job.ID, job.Status)
		}
		retry, _, err := db.CreateJob(ctx, store.NewJob{
			OwnerID: job.OwnerID, Kind: job.Kind, Ticker: job.Ticker, Params: job.Params, Queue: job.Queue,
		})
		if err != nil {
			return err
		}
		recordCLI(ctx, env, db, audit.Event{Action: audit.QueueRetry, Target: jobTarget(job.ID),
			Details: map[string]string{"retry": retry.ID.String()}})
		if err := queue.Enqueue(ctx, retry); err != nil {
			return fmt.Errorf("job %s recorded; the reconciler will queue it: %w", retry.ID, err)
		}
		fmt.Fprintf(env.stdout, "job %s retried as %s on queue %s\n", job.ID, retry.ID, retry.Queue)
		return nil
	})
}

func cancelJob(ctx context.Context, env *runtimeEnv, arg string) error {
	return withJob(ctx, env, arg, func(db *store.DB, queue *jobs.Queue, job *store.Job) error {
		canceled, previous, err := db.OperatorCancelJob(ctx, job.ID, job.OwnerID)
		if errors.Is(err, store.ErrJobFinished) {
			return fmt.Errorf("job %s already finished: %s", job.ID, job.Status)
		}
		if err != nil {
			return err
		}
		recordCLI(ctx, env, db, audit.Event{Action: audit.JobCanceled, Target: jobTarget(job.ID),
			Details: map[string]string{"was": string(previous)}})
		// The row is canceled whatever Redis says: a worker that gets the
		// task anyway skips it.
		if err := queue.Cancel(canceled, previous); err != nil {
			env.logger.Warn("job canceled, but its task was not withdrawn", "job_id", job.ID, "err", err)
		}
		fmt.Fprintf(env.stdout, "job %s canceled (it was %s)\n", job.ID, previous)
		return nil
	})
}

func jobTarget(id uuid.UUID) string { return "job:" + id.String() }

// recordCLI records ev in the audit trail as done by the OS user running
// the command. With AUDIT_STDOUT its JSON line goes to stderr: stdout is
// the command's answer.
func recordCLI(ctx context.Context, env *runtimeEnv, db *store.DB, ev audit.Event) {
	newAuditLog(env.cfg, db, env.logger, env.stderr).Record(audit.WithActor(ctx, audit.CLI()), ev)
}

// verifyAudit walks the audit chain and fails naming its first bad row.
func verifyAudit(ctx context.Context, env *runtimeEnv) error {
	return withDB(ctx, env, func(db *store.DB) error {
		report, err := audit.Verify(ctx, db)
		if err != nil {
			return err
		}
		if report.Rows == 0 {
			fmt.Fprintln(env.stdout, "audit trail: empty")
			return nil
		}
		fmt.Fprintf(env.stdout, "audit trail: %d rows verified, ids %d to %d (rows before %d were pruned by retention, if any)\n",
			report.Rows, report.First, report.Last, report.First)
		return nil
	})
}

func printQueues(ctx context.Context, env *runtimeEnv) error {
	rdb, err := openRedis(ctx, env.cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	queue := newQueue(env.cfg, rdb)
	stats, err := queue.QueueStats(slices.Sorted(maps.Keys(env.cfg.WorkerQueues)))
	if err != nil {
		return err
	}
	servers, err := queue.Servers()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "QUEUE\tPENDING\tACTIVE\tSCHEDULED\tRETRY\tARCHIVED\tLATENCY\tPAUSED")
	for _, q := range stats {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%t\n", q.Queue, q.Pending, q.Active, q.Scheduled, q.Retry, q.Archived,
			q.Latency.Round(time.Millisecond), q.Paused)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "\nworker servers: %d\n", len(servers))
	w = tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	if len(servers) > 0 {
		fmt.Fprintln(w, "HOST\tPID\tCONCURRENCY\tRUNNING\tSTARTED")
	}
	for _, s := range servers {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", s.Host, s.PID, s.Concurrency, len(s.ActiveWorkers), s.Started.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}
