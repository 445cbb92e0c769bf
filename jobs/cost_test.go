package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// cheapParams are the stored parameters of the cheap job,
// {"ticker":"MSFT","models":["naive"]}, as a submission normalizes them;
// seed makes a computation of its own.
func cheapParams(tb testing.TB, seed int64) store.JSON {
	tb.Helper()
	p := jobs.PredictionParams{Models: []string{registry.NamePersistence}, Seed: seed}
	require.Nil(tb, p.Normalize(registry.Known, sentiment.PresetNames()))
	doc, err := json.Marshal(p)
	require.NoError(tb, err)
	return doc
}

// costBench is a worker as cmd/worker builds it (the sample prices through
// the loader with the PostgreSQL cache, events on Redis, JSON logs) on a
// private database and Redis, and a connection of its own to read
// PostgreSQL's counters.
type costBench struct {
	db    *store.DB
	rdb   *redis.Client
	queue *jobs.Queue
	mux   *asynq.ServeMux
	stats *sqlx.DB
	owner int64
}

func newCostBench(b *testing.B) *costBench {
	db := dbtest.Postgres(b, "jobs")
	// As many connections as handlers, kept idle, so that no backend
	// starts or exits while the CPU of the backends is counted.
	db.SetPool(store.Pool{MaxOpen: 32, MaxIdle: 32})
	rdb := dbtest.Redis(b)
	prices, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, db, rdb, nil)
	require.NoError(b, err)
	w := &jobs.Worker{
		DB: db, Prices: prices, Sentiment: noNews{}, Events: jobs.NewEvents(rdb, keyspace.Space{}),
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Metrics: jobs.NewMetrics(prometheus.NewRegistry()),
		ID:      "bench", Lease: time.Minute,
	}
	mux := asynq.NewServeMux()
	w.Register(mux)
	stats, err := sqlx.Open("postgres", dbtest.URLOf(b, db))
	require.NoError(b, err)
	stats.SetMaxOpenConns(1)
	b.Cleanup(func() { _ = stats.Close() })
	return &costBench{
		db: db, rdb: rdb, mux: mux, stats: stats, owner: dbtest.User(b, db).ID,
		queue: jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute}),
	}
}

// counters is everything one side of a run reads.
type counters struct {
	self, postgres, redis time.Duration
	xacts, updates        int64
	publishes, commands   int64
}

// read reads the counters. A PostgreSQL backend that flushed its
// statistics less than a second ago holds the next ones until it has been
// idle for 10 s (PGSTAT_IDLE_INTERVAL), so read waits that long first.
func (c *costBench) read(b *testing.B) counters {
	time.Sleep(11 * time.Second)
	ctx := context.Background()
	var out counters
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	out.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())

	var pids []int
	require.NoError(b, c.stats.SelectContext(ctx, &pids, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`))
	for _, pid := range pids {
		out.postgres += processCPU(b, pid)
	}
	_, err := c.stats.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`)
	require.NoError(b, err)
	require.NoError(b, c.stats.GetContext(ctx, &out.xacts, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`))
	require.NoError(b, c.stats.GetContext(ctx, &out.updates, `SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'jobs'`))

	info, err := c.rdb.Info(ctx, "server", "commandstats").Result()
	require.NoError(b, err)
	for line := range strings.Lines(info) {
		line = strings.TrimSpace(line)
		if pid, ok := strings.CutPrefix(line, "process_id:"); ok {
			n, err := strconv.Atoi(pid)
			require.NoError(b, err)
			out.redis = processCPU(b, n)
		}
		name, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		n, err := strconv.ParseInt(calls, 10, 64)
		require.NoError(b, err)
		if name != "cmdstat_info" {
			out.commands += n
		}
		if name == "cmdstat_publish" {
			out.publishes = n
		}
	}
	return out
}

// processCPU is the user and system CPU a process has used, from
// /proc/<pid>/stat; a process that is gone counts nothing.
func processCPU(b *testing.B, pid int) time.Duration {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	require.NoError(b, err)
	// The command name may hold spaces; the fields after it do not.
	fields := strings.Fields(line[strings.LastIndexByte(line, ')')+2:])
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	require.NoError(b, err)
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	require.NoError(b, err)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// BenchmarkCheapJob measures the platform's own cost per cheap job
// ({"ticker":"MSFT","models":["naive"]}) on the worker's side: b.N jobs
// are stored and enqueued first, then an asynq server with 16 handlers
// runs them all. It reports the CPU per job of this process (the worker:
// handlers, asynq, clients), of the database's PostgreSQL backends and of
// the private redis-server; PostgreSQL transactions and jobs row updates
// per job; Redis PUBLISHes and commands per job; and the size of a
// result, as JSON text and as PostgreSQL stores it (compressed).
// "identical" runs the same request every time, so all but the first
// take an earlier result or compute it again, as the worker decides;
// "distinct" gives every job a seed of its own, so none is the same
// computation as another.
//
//	go test -run '^$' -bench CheapJob -benchtime 2000x ./jobs
func BenchmarkCheapJob(b *testing.B) {
	for _, distinct := range []bool{false, true} {
		name := "identical"
		if distinct {
			name = "distinct"
		}
		b.Run(name, func(b *testing.B) {
			c := newCostBench(b)
			ctx := context.Background()
			ids := make([]string, b.N)
			for i := range b.N {
				seed := int64(0)
				if distinct {
					seed = int64(i + 1)
				}
				job, _, err := c.db.CreateJob(ctx, store.NewJob{
					OwnerID: c.owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: jobs.QueueCritical,
					Params: cheapParams(b, seed),
				})
				require.NoError(b, err)
				require.NoError(b, c.queue.Enqueue(ctx, job))
				ids[i] = job.ID.String()
			}
			require.NoError(b, c.rdb.ConfigResetStat(ctx).Err())
			srv := asynq.NewServerFromRedisClient(c.rdb, asynq.Config{
				Concurrency: 16,
				Queues:      map[string]int{jobs.QueueCritical: 1},
				LogLevel:    asynq.FatalLevel,
			})
			before := c.read(b)
			b.ResetTimer()
			start := time.Now()
			require.NoError(b, srv.Start(c.mux))
			polls := int64(0)
			for {
				polls++
				var live int
				require.NoError(b, c.stats.GetContext(ctx, &live, `SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')`))
				if live == 0 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			after := c.read(b)
			srv.Shutdown()

			var failed int
			require.NoError(b, c.stats.GetContext(ctx, &failed, `SELECT count(*) FROM jobs WHERE status <> 'succeeded'`))
			require.Zero(b, failed, "every job succeeds")
			var result struct {
				Text   int `db:"text"`
				Stored int `db:"stored"`
			}
			require.NoError(b, c.stats.GetContext(ctx, &result, `SELECT max(length(result::text)) AS text,
				max(pg_column_size(result)) AS stored FROM jobs`))
			n := float64(b.N)
			perJob := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
			b.ReportMetric(n/elapsed.Seconds(), "jobs/s")
			b.ReportMetric(perJob(after.self-before.self+after.postgres-before.postgres+after.redis-before.redis), "cpu-ms/job")
			b.ReportMetric(perJob(after.self-before.self), "worker-ms/job")
			b.ReportMetric(perJob(after.postgres-before.postgres), "pg-ms/job")
			b.ReportMetric(perJob(after.redis-before.redis), "redis-ms/job")
			// The polls above are transactions of the stats connection.
			b.ReportMetric(float64(after.xacts-before.xacts-polls)/n, "pg-xacts/job")
			b.ReportMetric(float64(after.updates-before.updates)/n, "job-updates/job")
			b.ReportMetric(float64(after.publishes-before.publishes)/n, "publishes/job")
			b.ReportMetric(float64(after.commands-before.commands)/n, "redis-cmds/job")
			b.ReportMetric(float64(result.Text), "result-bytes")
			b.ReportMetric(float64(result.Stored), "result-stored-bytes")
			b.ReportMetric(0, "ns/op")
		})
	}
}
