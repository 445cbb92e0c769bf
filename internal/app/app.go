// Package app wires Augur's programs together: it reads the configuration,
// builds every dependency once, runs the web server or the worker, and shuts
// them down gracefully. The mains only call Main.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/store"
)

// command is one subcommand of a program.
type command struct {
	name, usage string
	run         func(ctx context.Context, env *runtimeEnv, args []string) error
}

// runtimeEnv is what every command gets.
type runtimeEnv struct {
	cfg    *config.Config
	logger *slog.Logger
	stdout io.Writer
}

// Main runs program ("web" or "worker") with its arguments and returns the
// process exit code.
func Main(program string, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, program, args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
		return 1
	}
	return 0
}

func run(ctx context.Context, program string, args []string, stdout, stderr io.Writer) error {
	var cmds []command
	switch program {
	case "web":
		cmds = webCommands()
	case "worker":
		cmds = workerCommands()
	default:
		return fmt.Errorf("unknown program %q", program)
	}
	name := cmds[0].name
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	for _, c := range cmds {
		if c.name != name {
			continue
		}
		cfg, err := config.Load(os.LookupEnv)
		if err != nil {
			return err
		}
		env := &runtimeEnv{cfg: cfg, logger: newLogger(cfg, stderr), stdout: stdout}
		return c.run(ctx, env, args)
	}
	fmt.Fprintf(stderr, "usage: %s <command>\n\ncommands:\n", program)
	for _, c := range cmds {
		fmt.Fprintf(stderr, "  %-12s %s\n", c.name, c.usage)
	}
	if name == "help" {
		return nil
	}
	return fmt.Errorf("unknown command %q", name)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB connects to PostgreSQL and, unless migrating, refuses a schema
// that is behind this binary.
func openDB(ctx context.Context, cfg *config.Config, checkSchema bool) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
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

func openRedis(ctx context.Context, cfg *config.Config) (*redis.Client, error) {
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opts)
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
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serveMetrics runs the /metrics listener until ctx ends. An empty address
// disables it.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, logger *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
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

// parseFlags parses a subcommand's flags, printing usage on error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	return fs.Parse(args)
}
