// Package app wires Augur's programs together: it reads the configuration,
// builds every dependency once, runs the web server or the worker, and shuts
// them down gracefully. The mains only call Main.
package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
)

// program is one of Augur's binaries and its subcommands; the first
// command is the default.
type program struct {
	name, about string
	commands    []command
}

// command is one subcommand of a program.
type command struct {
	name string
	// synopsis shows the command's arguments in its usage line.
	synopsis string
	summary  string
	// parse reads the command's arguments and returns the work they ask
	// for. It writes the flags' descriptions to usage, and returns
	// flag.ErrHelp for -h and any other error for arguments it refuses.
	parse func(args []string, usage io.Writer) (action, error)
	// anyConfig runs the command even when the configuration is invalid,
	// with a nil cfg: `web config` shows the settings it cannot load.
	anyConfig bool
}

// action is the work of a command once its arguments are parsed.
type action func(ctx context.Context, env *runtimeEnv) error

// runtimeEnv is what every action gets.
type runtimeEnv struct {
	cfg    *config.Config
	logger *slog.Logger
	lookup func(string) (string, bool)
	stdout io.Writer
	// stderr takes the output of the programs a command runs.
	stderr io.Writer
	// stdin is where --password-stdin reads.
	stdin io.Reader
}

// Exit codes: 2 is the convention for a command line that was refused.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError is an action's error that the command line caused: run
// answers it like a refused command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Main runs program ("web" or "worker") with its arguments and returns the
// process exit code.
func Main(name string, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, name, args, os.LookupEnv, os.Stdout, os.Stderr, adoptRedisLog)
}

// adoptRedisLog sends go-redis's own log lines (a Sentinel switching
// masters, a pool that cannot dial) through the process's logger, as JSON
// in production, rather than as go-redis's plain lines on stderr that a
// log pipeline cannot parse. go-redis keeps one logger for the whole
// process, so only Main sets it, never a test.
func adoptRedisLog(logger *slog.Logger) { redis.SetLogger(redisLog{logger}) }

// redisLog is go-redis's Logging on a slog.Logger.
type redisLog struct{ logger *slog.Logger }

// Printf logs one line of go-redis's as a warning: it logs only what went
// wrong or changed.
func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// run is Main with its surroundings passed in; adopt, when not nil, is
// given the process's logger once there is one. Asking for help, in any of
// its spellings, prints usage to stdout and runs nothing; a command line it
// does not understand prints usage to stderr and exits 2.
func run(ctx context.Context, name string, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer, adopt func(*slog.Logger)) int {
	var prog program
	switch name {
	case "web":
		prog = program{name: name, about: "web serves Augur's pages and JSON API.", commands: webCommands()}
	case "worker":
		prog = program{name: name, about: "worker runs Augur's prediction, sentiment and model leaderboard jobs.", commands: workerCommands()}
	default:
		fmt.Fprintf(stderr, "unknown program %q\n", name)
		return exitUsage
	}

	if len(args) > 0 && args[0] == "help" {
		if len(args) == 1 {
			prog.usage(stdout)
			return exitOK
		}
		// "help <command>" is "<command> -h".
		args = []string{args[1], "-h"}
	}
	cmd := &prog.commands[0]
	if len(args) > 0 {
		switch first := args[0]; {
		case isHelpFlag(first):
			prog.usage(stdout)
			return exitOK
		case strings.HasPrefix(first, "-"):
			fmt.Fprintf(stderr, "%s: unknown flag %s\n\n", prog.name, first)
			prog.usage(stderr)
			return exitUsage
		default:
			if cmd = prog.command(first); cmd == nil {
				fmt.Fprintf(stderr, "%s: unknown command %q\n\n", prog.name, first)
				prog.usage(stderr)
				return exitUsage
			}
			args = args[1:]
		}
	}
	// "<command> help" is "<command> -h" too.
	if len(args) == 1 && args[0] == "help" {
		args = []string{"-h"}
	}

	var flagHelp bytes.Buffer
	act, err := cmd.parse(args, &flagHelp)
	switch {
	case errors.Is(err, flag.ErrHelp):
		cmd.usage(stdout, prog.name, flagHelp.String())
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "%s %s: %v\n\n", prog.name, cmd.name, err)
		cmd.usage(stderr, prog.name, flagHelp.String())
		return exitUsage
	}

	env := &runtimeEnv{lookup: lookup, stdout: stdout, stderr: stderr, stdin: os.Stdin}
	cfg, err := config.Load(lookup)
	switch {
	case err == nil:
		env.cfg, env.logger = cfg, newLogger(cfg, stderr)
	case cmd.anyConfig:
		env.logger = slog.New(slog.NewTextHandler(stderr, nil))
	default:
		fmt.Fprintf(stderr, "%s: %v\n", prog.name, err)
		return exitError
	}
	if adopt != nil {
		adopt(env.logger)
	}
	if err := act(ctx, env); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", prog.name, cmd.name, err)
		if errors.As(err, new(usageError)) {
			fmt.Fprintln(stderr)
			cmd.usage(stderr, prog.name, flagHelp.String())
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

// isHelpFlag reports whether arg asks for help the way the flag package
// understands it.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

func (p *program) command(name string) *command {
	for i := range p.commands {
		if p.commands[i].name == name {
			return &p.commands[i]
		}
	}
	return nil
}

func (p *program) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s [command] [flags]\n\n%s\n\ncommands:\n", p.name, p.about)
	for i, c := range p.commands {
		summary := c.summary
		if i == 0 {
			summary += " (the default)"
		}
		fmt.Fprintf(w, "  %-12s %s\n", c.name, summary)
	}
	fmt.Fprintf(w, "  %-12s %s\n", "help", "print this help, or a command's: "+p.name+" help <command>")
	fmt.Fprintln(w, "\nSettings come from the environment; `web config` lists them.")
}

func (c *command) usage(w io.Writer, program, flags string) {
	line := strings.TrimSpace(strings.Join([]string{program, c.name, c.synopsis}, " "))
	fmt.Fprintf(w, "usage: %s\n\n%s.\n", line, c.summary)
	if flags != "" {
		fmt.Fprintf(w, "\nflags:\n%s", flags)
	}
}

// withoutFlags makes the parse of a command that takes no arguments.
func withoutFlags(act action) func([]string, io.Writer) (action, error) {
	return withFlags(func(*flag.FlagSet) action { return act })
}

// withFlags makes a command's parse from a function that declares its flags
// on fs and returns the action, which reads them once parsed.
func withFlags(declare func(fs *flag.FlagSet) action) func([]string, io.Writer) (action, error) {
	return func(args []string, usage io.Writer) (action, error) {
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		// The flag package would print its own usage; run prints ours.
		fs.SetOutput(io.Discard)
		act := declare(fs)
		err := fs.Parse(args)
		// Described whatever the outcome: run shows it only on -h or a
		// refused command line.
		fs.SetOutput(usage)
		fs.PrintDefaults()
		if err != nil {
			return nil, err
		}
		if fs.NArg() > 0 {
			return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		return act, nil
	}
}

// newLogger builds the one logger of the process. Every line logged with a
// request's context (or a job's, in the worker) names its request id.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(requestid.NewHandler(h))
}

// openDB connects to PostgreSQL and, unless migrating, refuses a schema
// that is behind this binary.
func openDB(ctx context.Context, cfg *config.Config, checkSchema bool) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	db.SetPool(store.Pool{MaxOpen: cfg.DBPool.MaxOpen, MaxIdle: cfg.DBPool.MaxIdle, MaxLifetime: cfg.DBPool.MaxLifetime})
	if checkSchema {
		if err := db.CheckSchema(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// openServices connects to PostgreSQL (checking its schema) and Redis, the
// two services both programs need.
func openServices(ctx context.Context, cfg *config.Config) (*store.DB, *redis.Client, error) {
	db, err := openDB(ctx, cfg, true)
	if err != nil {
		return nil, nil, err
	}
	rdb, err := openRedis(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, rdb, nil
}

// openRedis connects to Redis: the server of REDIS_URL, or, with
// REDIS_SENTINEL_ADDRS, whichever server the Sentinels name master, now and
// after every failover. asynq's server, client and inspector are all built
// on this one client (asynq.New…FromRedisClient), so they follow a failover
// with it, as asynq.RedisFailoverClientOpt would have them do.
func openRedis(ctx context.Context, cfg *config.Config) (*redis.Client, error) {
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	var rdb *redis.Client
	if len(cfg.RedisSentinelAddrs) > 0 {
		rdb = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:    cfg.RedisSentinelMaster,
			SentinelAddrs: cfg.RedisSentinelAddrs,
			Username:      opts.Username,
			Password:      opts.Password,
			DB:            opts.DB,
			TLSConfig:     opts.TLSConfig,
		})
	} else {
		rdb = redis.NewClient(opts)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pingCtx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("connect to redis: %w", err)
	}
	return rdb, nil
}

// newRegistry returns a Prometheus registry with the Go and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo())
	return reg
}

// serveMetrics runs the /metrics listener, with deps' health checks beside
// it, until ctx ends. An empty address disables it.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, deps dependencies, logger *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	deps.healthHandlers(mux)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	go func() {
		logger.Info("metrics listening", "addr", addr)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener", "err", err)
		}
	}()
}
