package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/pgcluster"
)

// measures are the run's rows, named for the goals that compare them.
type measures struct {
	pg8, pg16, asynqEnqueue row
	// asynqE2E handles as many tasks as Augur's end to end, and
	// asynqE2ESteady the many more of asynqEnqueue, where asynq's start-up
	// no longer counts.
	asynqE2E, asynqE2ESteady      row
	submit8, submit16, drain, e2e row
	pickup                        row
	fullSeq, fullConc             *row // nil when skipped
}

// rows lists the measures in the table's order.
func (m measures) rows() []row {
	rows := []row{m.pg8, m.pg16, m.asynqEnqueue, m.asynqE2E, m.asynqE2ESteady, m.submit8, m.submit16, m.drain, m.e2e, m.pickup}
	if m.fullSeq != nil && m.fullConc != nil {
		rows = append(rows, *m.fullSeq, *m.fullConc)
	}
	return rows
}

// run sets up the private deployment, measures, prints, and tears
// everything down. progress gets a line per step.
func run(ctx context.Context, opts options, out, progress io.Writer) (err error) {
	started := time.Now()
	loadStart := loadAverage()
	dir, err := newRunDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c := &cluster{procs: &procs{dir: dir}, clock: newClock()}
	defer func() {
		if c.db != nil {
			c.db.Close()
		}
		// The logs' ends explain a failure, not an interrupt.
		if err != nil && ctx.Err() == nil {
			for _, name := range []string{"web", "worker", "postgres"} {
				if tail := c.logTail(name, 15); tail != "" {
					fmt.Fprintf(progress, "--- last lines of %s's log:\n%s\n", name, tail)
				}
			}
		}
		c.killAll()
	}()
	step := func(format string, args ...any) {
		fmt.Fprintf(progress, "[%5.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
	}
	m, err := c.measure(ctx, opts, step)
	if err != nil {
		return err
	}
	step("done")

	fmt.Fprintf(out, "\nAugur platform load, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	printMachine(out, loadStart)
	fmt.Fprintln(out)
	printTable(out, m.rows())
	fmt.Fprintln(out)
	printNotes(out, opts)
	fmt.Fprintln(out, "\ngoals (issue 10), this run:")
	printGoals(out, judge(m))
	fmt.Fprintf(out, "\nrun time %.0f s\n", time.Since(started).Seconds())
	return nil
}

// measure starts the servers and takes every measure in turn, telling
// step as it goes.
func (c *cluster) measure(ctx context.Context, opts options, step func(format string, args ...any)) (m measures, err error) {
	step("building web and worker; starting PostgreSQL and Redis in %s", c.dir)
	if err := c.build(ctx); err != nil {
		return m, err
	}
	if err := c.startPostgres(ctx); err != nil {
		return m, err
	}
	if err := c.startRedis(ctx); err != nil {
		return m, err
	}

	step("PostgreSQL one-row INSERT commits, %d and %d clients, %v each", lowClients, highClients, opts.pgDuration)
	if err := c.createBaselineDB(ctx); err != nil {
		return m, err
	}
	if m.pg8, err = c.pgBaseline(ctx, lowClients, opts.pgDuration); err != nil {
		return m, err
	}
	if m.pg16, err = c.pgBaseline(ctx, highClients, opts.pgDuration); err != nil {
		return m, err
	}

	step("bare asynq: %d enqueues, then %d and %d tasks end to end (server concurrency %d)", opts.asynqTasks, opts.e2eJobs, opts.asynqTasks, opts.e2eConcurrency)
	if m.asynqEnqueue, err = c.asynqEnqueue(ctx, highClients, opts.asynqTasks); err != nil {
		return m, err
	}
	// The server checks an empty queue as often as Augur's worker does by
	// default, so that the two end-to-end measures differ only in the work
	// around the task.
	checkInterval, err := workerTaskCheckInterval()
	if err != nil {
		return m, err
	}
	if m.asynqE2E, err = c.asynqEndToEnd(ctx, "bare asynq end to end, no-op handler, as many tasks as Augur's",
		highClients, opts.e2eConcurrency, opts.e2eJobs, checkInterval); err != nil {
		return m, err
	}
	if m.asynqE2ESteady, err = c.asynqEndToEnd(ctx, "bare asynq end to end, no-op handler, steady",
		highClients, opts.e2eConcurrency, opts.asynqTasks, checkInterval); err != nil {
		return m, err
	}

	step("Augur: migrating, creating %d users, starting web", opts.users)
	if err := c.prepareAugur(ctx, opts.users); err != nil {
		return m, err
	}
	if err := c.startWeb(ctx); err != nil {
		return m, err
	}
	s := newSubmitter(c.webPort, c.tokens, highClients)
	if err := s.warm(ctx, highClients); err != nil {
		return m, fmt.Errorf("warm-up: %w", err)
	}

	step("Augur submit, %d jobs at %d clients, then at %d, no worker running", opts.submits, lowClients, highClients)
	var ids8, ids16 []string
	if m.submit8, ids8, err = c.submitPhase(ctx, s, lowClients, opts.submits); err != nil {
		return m, err
	}
	if m.submit16, ids16, err = c.submitPhase(ctx, s, highClients, opts.submits); err != nil {
		return m, err
	}

	step("Augur: a worker of concurrency %d drains the %d submitted jobs", opts.e2eConcurrency, len(ids8)+len(ids16))
	if m.drain, err = c.drainPhase(ctx, opts.e2eConcurrency, append(append([]string{}, ids8...), ids16...), opts.drainTimeout); err != nil {
		return m, err
	}
	for _, sub := range []struct {
		r   *row
		ids []string
	}{{&m.submit8, ids8}, {&m.submit16, ids16}} {
		o, err := c.outcomeOf(ctx, sub.ids)
		if err != nil {
			return m, err
		}
		sub.r.lost = o.lost(len(sub.ids))
	}

	step("Augur end to end: %d cheap jobs at %d clients, worker concurrency %d", opts.e2eJobs, highClients, opts.e2eConcurrency)
	if m.e2e, err = c.endToEndPhase(ctx, s, highClients, opts.e2eJobs, opts.drainTimeout); err != nil {
		return m, err
	}

	step("Augur idle pickup: a worker at its default concurrency, %d interactive jobs, one every %v", opts.pickupSamples, opts.pickupInterval)
	if err := c.startWorker(ctx, 0); err != nil {
		return m, err
	}
	// Idle means past its start-up: the measure is of a worker waiting.
	select {
	case <-ctx.Done():
		return m, ctx.Err()
	case <-time.After(2 * time.Second):
	}
	if m.pickup, err = c.pickupPhase(ctx, s, opts.pickupSamples, opts.pickupInterval, opts.drainTimeout); err != nil {
		return m, err
	}

	if opts.fullJobs > 0 {
		step("Augur full jobs: %d default ^GSPC predictions one after another, then at once", opts.fullJobs)
		seq, conc, err := c.fullJobsPhase(ctx, s, opts.fullJobs, opts.drainTimeout)
		if err != nil {
			return m, err
		}
		m.fullSeq, m.fullConc = &seq, &conc
	}
	c.stopWorker()
	return m, nil

}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// version runs a command that prints a version and returns the first
// line it printed.
func version(prog string, args ...string) string {
	b, err := exec.Command(prog, args...).Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

// printMachine says what the figures were measured on.
func printMachine(w io.Writer, loadStart string) {
	postgres, _ := pgcluster.Bin("postgres")
	pgbench, err := pgbenchPath()
	if err != nil {
		pgbench = "none (Go loop)"
	} else {
		pgbench = version(pgbench, "--version")
	}
	fmt.Fprintf(w, "commit %s; %d CPUs (nproc); load average %s at start, %s at end\n",
		version("git", "describe", "--always", "--dirty"), runtime.NumCPU(), loadStart, loadAverage())
	fmt.Fprintf(w, "%s; %s; %s; %s\n", runtime.Version(), version(postgres, "--version"), pgbench,
		version("redis-server", "--version"))
}

// workerTaskCheckInterval is Augur's worker's WORKER_TASK_CHECK_INTERVAL
// when the environment leaves it unset.
func workerTaskCheckInterval() (time.Duration, error) {
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	if err != nil {
		return 0, fmt.Errorf("the worker's default configuration: %w", err)
	}
	return cfg.TaskCheckInterval, nil
}
