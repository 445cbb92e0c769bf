package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/config"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/forecast/registry"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web"
	"github.com/augurhq/augur/internal/web/api"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// BenchmarkSubmit measures the submit path, POST /api/v1/predictions with
// a Bearer token, through the real handler on the real PostgreSQL and
// Redis, at 8 and 16 clients, each client with users of its own (so the
// per-user row lock does not serialise them). Beside ns/op it reports the
// CPU each submission cost this process (web), the PostgreSQL backends of
// the benchmark's database and the Redis server, read from /proc, and the
// PostgreSQL backends started per 1,000 submissions (pool churn), and the
// median and 99th percentile of a submission's time. The pool
// and the limits are the production defaults of config, with the rate and
// unfinished-job limits raised out of the way (they are still checked).
//
//	go test -run '^$' -bench Submit -benchtime 3000x ./internal/web
func BenchmarkSubmit(b *testing.B) {
	for _, clients := range []int{8, 16} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) { benchSubmit(b, clients) })
	}
}

// usersPerClient is how many users each benchmark client submits for in turn.
const usersPerClient = 8

func benchSubmit(b *testing.B, clients int) {
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	db := dbtest.Postgres(b, "bench")
	db.SetPool(store.Pool{MaxOpen: cfg.DBPool.MaxOpen, MaxIdle: cfg.DBPool.MaxIdle, MaxLifetime: cfg.DBPool.MaxLifetime})
	rdb := dbtest.Redis(b)
	loader, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	handler, err := web.New(web.Deps{
		Kernel: kernel.Config{
			DB:     db,
			Redis:  rdb,
			Queue:  jobs.NewQueue(rdb, jobs.Timeouts{Prediction: time.Minute, Sentiment: time.Minute}),
			Events: jobs.NewEvents(rdb, keyspace.Space{}),
			Prices: portfolio.NewMarketPrices(loader),
			// Production logs a JSON line per request; encoding it is part of the cost.
			Logger:         slog.New(slog.NewJSONHandler(io.Discard, nil)),
			Registry:       prometheus.NewRegistry(),
			Audit:          audit.New(db, slog.New(slog.DiscardHandler), nil),
			StreamsPerUser: cfg.EventStreamsPerUser,
			StreamsMax:     cfg.EventStreamsMax,
			Accounts: kernel.Accounts{
				Store:    db.SessionStore(0),
				Lifetime: cfg.SessionLifetime, IdleTimeout: cfg.SessionIdleTimeout,
				SecretKey:           "bench-secret",
				LoginPerMinutePerIP: cfg.LoginPerMinutePerIP, LoginPerHourPerAccount: cfg.LoginPerHourPerAccount,
			},
		},
		API: api.Config{
			KnownModel:             registry.Known,
			Presets:                []string{"hft", "retail"},
			SubmitPerMinute:        1_000_000,
			MaxUnfinishedJobs:      1_000_000,
			InteractiveJobsPerUser: cfg.InteractiveJobsPerUser,
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(handler.Close)
	// Enough users that none has more than a few dozen unfinished jobs by
	// the end, as MAX_UNFINISHED_JOBS (100 by default) keeps it in
	// production: each submission counts its user's unfinished jobs.
	tokens := make([]string, usersPerClient*clients)
	for i := range tokens {
		tokens[i] = dbtest.Token(b, db)
	}
	cpu := newCPUMeter(b, dbtest.URLOf(b, db), rdb.Info(context.Background(), "server").Val())

	// One submission per client first, so the pool and the statements warm up.
	submit := func(token string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/predictions", strings.NewReader(`{"ticker":"MSFT","models":["naive"]}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("submit: %d %s", w.Code, w.Body)
		}
	}
	for _, token := range tokens {
		submit(token)
	}

	var next atomic.Int64
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	cpu.start()
	b.ResetTimer()
	var mu sync.Mutex
	var latencies []time.Duration
	b.RunParallel(func(pb *testing.PB) {
		// Each client takes turns among users of its own, so no two
		// clients wait for one user's row lock.
		first := int(next.Add(1)-1) % clients * usersPerClient
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			start := time.Now()
			submit(tokens[first+i%usersPerClient])
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	cpu.report(b)
	slices.Sort(latencies)
	for _, q := range []struct {
		unit string
		at   float64
	}{{"p50-ms", 0.50}, {"p99-ms", 0.99}} {
		b.ReportMetric(float64(latencies[int(q.at*float64(len(latencies)-1))].Microseconds())/1000, q.unit)
	}
}

// cpuMeter reads the CPU time of this process, of the PostgreSQL backends
// serving one database, and of the Redis server, from /proc.
type cpuMeter struct {
	admin    *sqlx.DB
	redisPID int
	before   struct{ web, pg, redis time.Duration }
	backends map[int]time.Duration // PostgreSQL backend pid → CPU at start
	sessions int64                 // sessions the database had had at start
}

func newCPUMeter(b *testing.B, dbURL, redisInfo string) *cpuMeter {
	admin, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Close() })
	admin.SetMaxOpenConns(1)
	m := &cpuMeter{admin: admin}
	for line := range strings.SplitSeq(redisInfo, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			m.redisPID, _ = strconv.Atoi(v)
		}
	}
	return m
}

// backendPIDs lists the benchmark database's PostgreSQL backends but the meter's own.
func (m *cpuMeter) backendPIDs() []int {
	var pids []int
	_ = m.admin.Select(&pids, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	return pids
}

// sessionCount is how many sessions the benchmark's database has had
// (PostgreSQL 14+ counts them at connection).
func (m *cpuMeter) sessionCount() int64 {
	var n int64
	_, _ = m.admin.Exec(`SELECT pg_stat_clear_snapshot()`)
	_ = m.admin.Get(&n, `SELECT sessions FROM pg_stat_database WHERE datname = current_database()`)
	return n
}

func (m *cpuMeter) start() {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	m.before.web = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	m.before.redis = procCPU(m.redisPID)
	m.sessions = m.sessionCount()
	m.backends = map[int]time.Duration{}
	for _, pid := range m.backendPIDs() {
		m.backends[pid] = procCPU(pid)
	}
}

func (m *cpuMeter) report(b *testing.B) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	web := time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) - m.before.web
	redis := procCPU(m.redisPID) - m.before.redis
	// Backends that ended during the run took their CPU with them; the
	// sessions opened (pool churn) are reported beside.
	var pg time.Duration
	for _, pid := range m.backendPIDs() {
		pg += procCPU(pid) - m.backends[pid]
	}
	n := float64(b.N)
	b.ReportMetric(float64(web.Microseconds())/n, "web-µs/op")
	b.ReportMetric(float64(pg.Microseconds())/n, "pg-µs/op")
	b.ReportMetric(float64(redis.Microseconds())/n, "redis-µs/op")
	b.ReportMetric(float64((web+pg+redis).Microseconds())/n, "cpu-µs/op")
	b.ReportMetric(float64(m.sessionCount()-m.sessions)*1000/n, "pg-new-backends/1k")
}

// procCPU is a process's user and system CPU time from /proc/<pid>/stat.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after its closing parenthesis, where field 3 (state) is index 0.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
