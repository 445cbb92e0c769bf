package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/admission"
	"github.com/augurhq/augur/internal/backtest"
	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/upstream"
	"github.com/augurhq/augur/internal/webhook"
	"github.com/augurhq/augur/jobs"
)

func workerCommands() []command {
	return append([]command{
		{name: "run", summary: "run jobs from the queues", parse: withoutFlags(runWorker)},
		{name: "backtest", synopsis: backtest.Synopsis(), summary: backtest.Summary(), parse: parseBacktest},
	}, operatorWorkerCommands()...)
}

func runWorker(ctx context.Context, env *runtimeEnv) error {
	cfg, logger := env.cfg, env.logger
	db, rdb, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	defer rdb.Close()

	reg := newRegistry()
	w, err := newWorker(cfg, db, rdb, logger, reg)
	if err != nil {
		return err
	}
	serveMetrics(ctx, cfg.MetricsAddr, reg, dependencies{db, rdb}, logger)
	if err := w.server.Start(w.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	logger.Info("worker running", "concurrency", cfg.WorkerConcurrency, "queues", cfg.WorkerQueues)
	reconcileCtx, stopReconciler := context.WithCancel(ctx)
	var background sync.WaitGroup
	background.Go(func() { w.reconciler.Run(reconcileCtx) })
	background.Go(func() { w.redisWatch.Run(reconcileCtx) })
	background.Go(func() { w.pruner.Run(reconcileCtx) })
	background.Go(func() { w.dispatcher.Run(reconcileCtx, w.id, cfg.WorkerConcurrency) })
	background.Go(func() { w.scheduler.Run(reconcileCtx) })

	<-ctx.Done()
	logger.Info("draining worker", "timeout", cfg.ShutdownTimeout)
	stopReconciler()
	background.Wait()
	// Shutdown stops taking tasks, waits up to ShutdownTimeout for running
	// ones, and hands the rest back to the queue for another replica.
	w.server.Shutdown()
	logger.Info("worker stopped")
	return nil
}

// workerParts is a worker's asynq server, its handlers, its reconciler
// with the watch that brings its passes forward when Redis returns, its
// pruner, the dispatcher of held jobs and the scheduler of watchlists'
// batches; id names the worker.
type workerParts struct {
	server     *asynq.Server
	mux        *asynq.ServeMux
	reconciler *jobs.Reconciler
	redisWatch *jobs.RedisWatch
	pruner     *jobs.Pruner
	dispatcher *jobs.Dispatcher
	scheduler  *jobs.Scheduler
	id         string
}

// newWorker builds everything a worker runs, registering its metrics on reg.
func newWorker(cfg *config.Config, db *store.DB, rdb *redis.Client, logger *slog.Logger, reg prometheus.Registerer) (*workerParts, error) {
	upstreamMetrics := upstream.NewMetrics(reg)
	marketCfg, sentimentCfg := cfg.Market, cfg.Sentiment
	marketCfg.HTTP.Metrics = upstreamMetrics
	sentimentCfg.HTTP.Metrics = upstreamMetrics
	marketCfg.CacheMetrics = market.NewCacheMetrics(reg)
	prices, err := market.NewLoader(marketCfg, db, rdb, logger)
	if err != nil {
		return nil, err
	}
	news, err := sentiment.New(sentimentCfg, rdb, logger)
	if err != nil {
		return nil, err
	}
	space := keyspace.Of(cfg.RedisPrefix, rdb)
	queue := newQueue(cfg, rdb)
	if cfg.MetricsQueueCollector {
		// Each scrape scans every queue in Redis, and counts the jobs
		// held for their turn in PostgreSQL: one replica is enough.
		reg.MustRegister(queue.Collector(), jobs.HeldCollector(db))
	}
	reg.MustRegister(dependencies{db, rdb})

	// One budget of a thread per core for every model the worker runs, so
	// that jobs running at once share the cores instead of each LSTM
	// splitting its batches over all of them (see internal/compute).
	// GOMAXPROCS, not NumCPU: it follows a container's CPU limit.
	budget := compute.NewBudget(runtime.GOMAXPROCS(0))
	reg.MustRegister(newComputeMetrics(budget))

	worker := &jobs.Worker{
		DB: db, Prices: prices, Sentiment: news, Events: jobs.NewEvents(rdb, space),
		Logger: logger, Metrics: jobs.NewMetrics(reg),
		ID: workerID(), Lease: cfg.JobLease, RetryDelay: jobs.RetryDelay,
		NewsLifetime: cfg.Sentiment.CacheLifetime(),
	}
	sealer, err := webhook.NewSealer(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	guard := webhook.Guard{Allowed: cfg.WebhookAllowedNetworks}
	deliverer := &jobs.Deliverer{
		DB: db, Queue: queue, Sealer: sealer, Sender: &webhook.Sender{Client: guard.Client()},
		Logger: logger, Metrics: jobs.NewWebhookMetrics(reg),
	}
	worker.Webhooks = deliverer
	// The web holds a user's jobs past their turn by the same rule
	// (admission.Dispatch); each task that ends lets the next turn in.
	dispatcher := jobs.NewDispatcher(db, queue, admission.Dispatch(cfg.DispatchedJobsPerUser), logger)
	mux := asynq.NewServeMux()
	mux.Use(dispatcher.AfterEachTask)
	worker.Register(mux)
	deliverer.Register(mux)
	server := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:     cfg.WorkerConcurrency,
		Queues:          cfg.WorkerQueues,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          asynqLogger{logger.With("component", "asynq")},
		LogLevel:        asynq.WarnLevel,
		RetryDelayFunc:  jobs.RetryDelay,
		// Handlers keep running through SIGTERM until ShutdownTimeout:
		// asynq cancels them itself when that runs out. Every task's
		// models share the worker's compute budget.
		BaseContext: func() context.Context { return compute.WithBudget(context.Background(), budget) },
		// An idle worker sleeps between half and one and a half
		// TaskCheckInterval after each empty look, so a new job waits
		// out the rest of that sleep: at asynq's 1 s, 541 ms at the
		// median and 1.2 s at the 95th percentile; at the default 50 ms,
		// 35 and 63 ms (BenchmarkIdleWorkerPickup). Each look runs one
		// script per queue: over 30 s idle on 2 cores, the worker used
		// 0.7-0.8% of a core at 50 ms (0.07-0.1% at 1 s, 1.0% at 40 ms)
		// and redis-server 0.3-0.4% (0.13% with no worker at all).
		TaskCheckInterval: cfg.TaskCheckInterval,
		// Retries and scheduled tasks keep asynq's 5 s
		// DelayedTaskCheckInterval. Augur schedules nothing, and a
		// retry waits 15 s or more by design (asynq's backoff), or
		// is the task of a dead worker, which the recoverer finds a
		// minute or more late: 5 s more is small beside either, and
		// each check runs two scripts per queue.
		DelayedTaskCheckInterval: 5 * time.Second,
	})
	reconciler := &jobs.Reconciler{
		DB: db, Queue: queue, Logger: logger,
		Interval: cfg.ReconcileInterval, Grace: cfg.ReconcileInterval, Batch: 500,
		Metrics:    jobs.NewReconcilerMetrics(reg),
		Dispatcher: dispatcher,
		Webhooks:   deliverer,
	}
	pruner := &jobs.Pruner{
		DB: db, Logger: logger, Interval: jobs.RetentionInterval,
		Rules: store.Retention{
			Jobs: cfg.JobRetention, IdempotencyKeys: jobs.IdempotencyKeyRetention,
			Prices: jobs.PriceRetention, Batch: 1000,
		},
		Audit: newAuditLog(cfg, db, logger, os.Stdout), AuditRetention: cfg.AuditRetention,
	}
	redisWatch := &jobs.RedisWatch{Reconciler: reconciler, Redis: rdb, Keyspace: space, Logger: logger}
	scheduler := &jobs.Scheduler{
		DB: db, Dispatcher: dispatcher, Logger: logger, Interval: jobs.ScheduleInterval,
		MaxUnfinished: cfg.MaxUnfinishedJobs,
	}
	return &workerParts{server: server, mux: mux, reconciler: reconciler, redisWatch: redisWatch, pruner: pruner,
		dispatcher: dispatcher, scheduler: scheduler, id: worker.ID}, nil
}

// computeMetrics exports how the worker's models ran their parallel
// sections (compute.Budget.Stats): a rising share of serial ones means the
// cores were busy with other models, and an LSTM ran its batch parts one
// after the other.
type computeMetrics struct {
	budget   *compute.Budget
	sections *prometheus.Desc
}

func newComputeMetrics(budget *compute.Budget) computeMetrics {
	return computeMetrics{budget: budget, sections: prometheus.NewDesc("augur_compute_sections_total",
		"Parallel sections of model work (an LSTM batch's parts) by how they ran: parallel while the compute budget had a core free, serial on the model's own goroutine when other models held every core.",
		[]string{"ran"}, nil)}
}

// Describe implements prometheus.Collector.
func (m computeMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.sections }

// Collect implements prometheus.Collector.
func (m computeMetrics) Collect(ch chan<- prometheus.Metric) {
	stats := m.budget.Stats()
	ch <- prometheus.MustNewConstMetric(m.sections, prometheus.CounterValue, float64(stats.Parallel), "parallel")
	ch <- prometheus.MustNewConstMetric(m.sections, prometheus.CounterValue, float64(stats.Serial), "serial")
}

// workerID names this process in the jobs it runs, so that an operator
// looking at a held or lost job knows which host and process to look at.
func workerID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

func parseBacktest(args []string, usage io.Writer) (action, error) {
	opts, err := backtest.ParseFlags(args, usage)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, env *runtimeEnv) error {
		err := backtest.Run(ctx, opts, env.stdout)
		if errors.Is(err, backtest.ErrUsage) {
			return usageError{err}
		}
		return err
	}, nil
}

// asynqLogger routes asynq's logs through slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...))
	os.Exit(1)
}
