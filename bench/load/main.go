// Command load measures what the Augur platform itself costs: it starts a
// private PostgreSQL cluster, a private redis-server, and web and worker
// built from this repository, and measures, in one run on one machine,
// Augur's submit and end-to-end throughput, latency, lost jobs and CPU
// per operation of every process beside the ceilings of the same run
// (PostgreSQL's one-row INSERT commits, bare asynq), then prints one
// table and the goals of issue 10. Everything it started is stopped and
// its temporary folder removed when it ends, also on error or Ctrl-C.
//
//	go run ./bench/load            # or: make bench-load
//	go run ./bench/load --help
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Client counts of the measures.
const (
	lowClients  = 8
	highClients = 16
)

// options are the command's flags.
type options struct {
	users          int
	pgDuration     time.Duration
	asynqTasks     int
	submits        int
	e2eJobs        int
	e2eConcurrency int
	pickupSamples  int
	pickupInterval time.Duration
	fullJobs       int
	drainTimeout   time.Duration
}

func parseFlags(args []string, usage io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.IntVar(&o.users, "users", 64, "users, each with its own API token, that the submissions take turns as")
	fs.DurationVar(&o.pgDuration, "pg-duration", 15*time.Second, "how long each PostgreSQL INSERT baseline runs (whole seconds)")
	fs.IntVar(&o.asynqTasks, "asynq-tasks", 50000, "tasks of each bare asynq measure")
	fs.IntVar(&o.submits, "submits", 5000, "jobs submitted in each submit measure (8 and 16 clients)")
	fs.IntVar(&o.e2eJobs, "e2e-jobs", 5000, "cheap jobs of the end-to-end measure")
	fs.IntVar(&o.e2eConcurrency, "e2e-concurrency", 16, "worker concurrency of the drain and end-to-end measures, and the bare asynq server's")
	fs.IntVar(&o.pickupSamples, "pickup-samples", 40, "interactive jobs submitted to an idle worker")
	fs.DurationVar(&o.pickupInterval, "pickup-interval", 300*time.Millisecond, "time between two idle-pickup submissions")
	fs.IntVar(&o.fullJobs, "full-jobs", 4, "full ^GSPC jobs run one after another, then at once; 0 skips the measure")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 5*time.Minute, "longest wait for submitted jobs to become final")
	fs.Usage = func() {
		fmt.Fprint(usage, `usage: go run ./bench/load [flags]   (make bench-load)

Starts a private PostgreSQL cluster (default durability), a private
redis-server, and web and worker built from this repository; measures
PostgreSQL's one-row INSERT commits (pgbench), bare asynq, Augur's
submit at 8 and 16 clients, its end to end, an idle worker's pickup and
full jobs one after another and at once; prints one table and the goals
of issue 10, then stops everything and removes its temporary folder.
Takes 3 to 5 minutes with the defaults on a 2-core machine.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for name, v := range map[string]int{"users": o.users, "asynq-tasks": o.asynqTasks, "submits": o.submits,
		"e2e-jobs": o.e2eJobs, "e2e-concurrency": o.e2eConcurrency, "pickup-samples": o.pickupSamples} {
		if v < 1 {
			return o, fmt.Errorf("-%s must be at least 1", name)
		}
	}
	if o.pgDuration < time.Second || o.fullJobs < 0 || o.pickupInterval <= 0 || o.drainTimeout <= 0 {
		return o, fmt.Errorf("-pg-duration must be at least 1s, -full-jobs not negative, intervals and timeouts positive")
	}
	return o, nil
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench-load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, opts, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-load:", err)
		os.Exit(1)
	}
}
