package market_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/store"
)

// replicas is the shared state of worker replicas: one database, one Redis.
type replicas struct {
	db  *store.DB
	rdb *redis.Client
	u   *upstreams
}

// newReplicas starts from an empty cache: the test's database is its own.
func newReplicas(t *testing.T) *replicas {
	return &replicas{db: dbtest.Postgres(t, "market"), rdb: dbtest.Redis(t), u: newUpstreams(t)}
}

// loaded is what a Load on another goroutine returned, for the test's
// goroutine to check: require there would end that goroutine, not the
// test, and the test would wait forever for its result.
type loaded struct {
	s   *market.Series
	err error
}

// load loads ticker, for a goroutine to send back.
func load(l *market.Loader, ticker string) loaded {
	s, err := l.Load(context.Background(), ticker)
	return loaded{s, err}
}

// series is the loaded series, failing the test on an error.
func (res loaded) series(t *testing.T) *market.Series {
	t.Helper()
	require.NoError(t, res.err)
	return res.s
}

// loader is one replica's Loader.
func (r *replicas) loader(t *testing.T, tune func(*market.Config)) *market.Loader {
	t.Helper()
	cfg := r.u.config("yahoo", "stooq", "sample")
	if tune != nil {
		tune(&cfg)
	}
	l, err := market.NewLoader(cfg, r.db, r.rdb, nil)
	require.NoError(t, err)
	return l
}

// age makes the ticker's cache entry look fetched that long ago.
func (r *replicas) age(t *testing.T, ticker string, by time.Duration) {
	t.Helper()
	require.NoError(t, r.db.AgePriceBars(context.Background(), ticker, by))
}

func (r *replicas) cached(t *testing.T, ticker string) ([]market.Bar, string) {
	t.Helper()
	bars, source, _, err := r.db.PriceBars(context.Background(), ticker)
	require.NoError(t, err)
	return bars, source
}

// gate holds every request to a fake until opened, so that concurrent
// loads are certain to overlap.
type gate struct {
	open chan struct{}
	once sync.Once
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) hold(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-g.open:
		case <-r.Context().Done():
			return
		}
		next(w, r)
	}
}

func TestCachedLoadMakesNoUpstreamCall(t *testing.T) {
	r := newReplicas(t)
	bars := market.TradingDays(lastDay, 250, 50)
	r.u.set("CACHEHIT", bars)
	l := r.loader(t, nil)
	ctx := context.Background()

	first, err := l.Load(ctx, "CACHEHIT")
	require.NoError(t, err)
	require.Equal(t, []string{"yahoo:ok"}, outcomes(first.Attempts))

	second, err := l.Load(ctx, "cachehit")
	require.NoError(t, err)
	require.Equal(t, 1, r.u.yahoo.Hits(), "the second load is served from the cache")
	require.Equal(t, []string{"cache:cached"}, outcomes(second.Attempts))
	require.Equal(t, "yahoo", second.Source)
	require.True(t, second.Live)
	require.Equal(t, bars, second.Bars)
	require.Equal(t, first.First, second.First)
	require.Equal(t, first.Last, second.Last)

	_, err = r.rdb.Get(ctx, market.FetchLockKey("CACHEHIT")).Result()
	require.ErrorIs(t, err, redis.Nil, "the fetch lock is released")
}

func TestLocalDataIsNotCached(t *testing.T) {
	r := newReplicas(t)
	l := r.loader(t, func(c *market.Config) { c.Sources = []string{"yahoo", "sample"} })
	s, err := l.Load(context.Background(), "IBM")
	require.NoError(t, err)
	require.Equal(t, "sample", s.Source)
	bars, _ := r.cached(t, "IBM")
	require.Empty(t, bars, "sample bars are local already")
}

func TestConcurrentLoadsInOneProcessShareOneCall(t *testing.T) {
	r := newReplicas(t)
	bars := market.TradingDays(lastDay, 100, 10)
	g := newGate()
	r.u.yahoo.Handle(g.hold(market.YahooHistory(func(string) ([]market.Bar, bool) { return bars, true })))
	l := r.loader(t, nil)

	const callers = 8
	results := make(chan loaded, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() { results <- load(l, "SHARED") })
	}
	require.Eventually(t, func() bool { return l.Waiters("SHARED") == callers }, 10*time.Second, time.Millisecond)
	g.release()
	wg.Wait()
	close(results)

	require.Equal(t, 1, r.u.yahoo.Hits())
	var seen []*market.Series
	for res := range results {
		s := res.series(t)
		require.Equal(t, bars, s.Bars)
		for _, other := range seen {
			require.NotSame(t, other, s, "every caller gets its own copy")
		}
		seen = append(seen, s)
	}
	require.Len(t, seen, callers)
}

func TestTwoReplicasMakeOneCall(t *testing.T) {
	r := newReplicas(t)
	bars := market.TradingDays(lastDay, 100, 10)
	g := newGate()
	r.u.yahoo.Handle(g.hold(market.YahooHistory(func(string) ([]market.Bar, bool) { return bars, true })))
	replicaA, replicaB := r.loader(t, nil), r.loader(t, nil)

	results := make(chan loaded, 2)
	var wg sync.WaitGroup
	for _, l := range []*market.Loader{replicaA, replicaB} {
		wg.Go(func() { results <- load(l, "REPLICA") })
	}
	// One replica is fetching (the fake holds it); the other finds the lock
	// taken and waits for the cache.
	require.Eventually(t, func() bool { return r.u.yahoo.Hits() == 1 }, 10*time.Second, time.Millisecond)
	g.release()
	wg.Wait()
	close(results)

	require.Equal(t, 1, r.u.yahoo.Hits())
	var got []string
	for res := range results {
		s := res.series(t)
		require.Equal(t, bars, s.Bars)
		got = append(got, outcomes(s.Attempts)...)
	}
	require.ElementsMatch(t, []string{"yahoo:ok", "cache:cached"}, got)
}

func TestLoadWaitsForAnotherReplicasFetch(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	bars := market.TradingDays(lastDay, 20, 30)
	lock := market.FetchLockKey("WAITER")
	require.NoError(t, r.rdb.Set(ctx, lock, "other-replica", time.Minute).Err())

	done := make(chan loaded)
	l := r.loader(t, nil)
	go func() { done <- load(l, "WAITER") }()
	// The other replica finishes its fetch; it keeps its lock a moment.
	require.NoError(t, r.db.ReplacePriceBars(ctx, "WAITER", "yahoo", bars))
	s := (<-done).series(t)

	require.Equal(t, bars, s.Bars)
	require.Equal(t, []string{"cache:cached"}, outcomes(s.Attempts))
	require.Zero(t, r.u.yahoo.Hits())
	owner, err := r.rdb.Get(ctx, lock).Result()
	require.NoError(t, err)
	require.Equal(t, "other-replica", owner, "a waiter never releases someone else's lock")
}

func TestLoadStopsWaitingForAStuckReplica(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	r.u.set("STUCK", market.TradingDays(lastDay, 20, 30))
	lock := market.FetchLockKey("STUCK")
	require.NoError(t, r.rdb.Set(ctx, lock, "crashed-replica", time.Minute).Err())

	l := r.loader(t, func(c *market.Config) { c.FetchLockWait = 200 * time.Millisecond })
	s, err := l.Load(ctx, "STUCK")
	require.NoError(t, err)
	require.Equal(t, "yahoo", s.Source)
	require.Equal(t, 1, r.u.yahoo.Hits())
	owner, err := r.rdb.Get(ctx, lock).Result()
	require.NoError(t, err)
	require.Equal(t, "crashed-replica", owner)
}

func TestStaleCacheFetchesOnlyTheTail(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	// Two sessions after the first load (Friday), and the cache is older
	// than its TTL.
	extended := market.TradingDays(lastDay.AddDate(0, 0, 4), 302, 20)
	history := extended[:300]
	require.Equal(t, lastDay, history[len(history)-1].Date)
	r.u.set("TAIL", history)
	l := r.loader(t, nil)
	_, err := l.Load(ctx, "TAIL")
	require.NoError(t, err)

	r.u.set("TAIL", extended)
	r.age(t, "TAIL", 7*time.Hour)

	s, err := l.Load(ctx, "TAIL")
	require.NoError(t, err)
	require.Equal(t, 2, r.u.yahoo.Hits())
	require.Equal(t, lastDay.AddDate(0, 0, -7), period1(t, r.u, 1), "since = last cached day minus the overlap")
	require.Equal(t, extended, s.Bars)
	require.Equal(t, []string{"cache:cached", "yahoo:ok"}, outcomes(s.Attempts))
	require.Contains(t, s.Attempts[0].Reason, "stale")

	cachedBars, _ := r.cached(t, "TAIL")
	require.Equal(t, s.Bars, cachedBars)
	again, err := l.Load(ctx, "TAIL")
	require.NoError(t, err)
	require.Equal(t, 2, r.u.yahoo.Hits(), "the refreshed cache is fresh again")
	require.Equal(t, s.Bars, again.Bars)
}

func TestRevisedHistoryIsReloadedWhole(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	history := market.TradingDays(lastDay, 300, 20)
	r.u.set("SPLIT", history)
	l := r.loader(t, nil)
	_, err := l.Load(ctx, "SPLIT")
	require.NoError(t, err)

	// A 2-for-1 split: the provider now reports every past price halved.
	split := market.TradingDays(lastDay.AddDate(0, 0, 3), 301, 20)
	for i := range split {
		split[i].Open, split[i].High, split[i].Low, split[i].Close, split[i].AdjClose =
			split[i].Open/2, split[i].High/2, split[i].Low/2, split[i].Close/2, split[i].AdjClose/2
	}
	r.u.set("SPLIT", split)
	r.age(t, "SPLIT", 7*time.Hour)

	s, err := l.Load(ctx, "SPLIT")
	require.NoError(t, err)
	require.Equal(t, 3, r.u.yahoo.Hits())
	require.False(t, period1(t, r.u, 1).IsZero(), "first the tail")
	require.True(t, period1(t, r.u, 2).IsZero(), "then, seeing the revision, the whole history")
	require.Equal(t, split, s.Bars)
	require.Equal(t, []string{"cache:cached", "yahoo:ok", "yahoo:ok"}, outcomes(s.Attempts))
	cachedBars, _ := r.cached(t, "SPLIT")
	require.Equal(t, split, cachedBars, "the cache holds only the revised history")
}

func TestStaleCacheBeatsNoData(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	history := market.TradingDays(lastDay, 50, 20)
	r.u.set("OUTAGE", history)
	l := r.loader(t, nil)
	_, err := l.Load(ctx, "OUTAGE")
	require.NoError(t, err)

	r.u.yahoo.Handle(market.Reply(503, "text/html", "<html>down</html>"))
	r.u.stooq.Handle(market.Reply(200, "text/plain", "Exceeded the daily hits limit"))
	r.age(t, "OUTAGE", 7*time.Hour)

	s, err := l.Load(ctx, "OUTAGE")
	require.NoError(t, err)
	require.Equal(t, history, s.Bars)
	require.Equal(t, "yahoo", s.Source)
	require.True(t, s.Live)
	require.Equal(t, []string{"cache:cached", "yahoo:error", "stooq:rate_limited"}, outcomes(s.Attempts),
		"the sample provider is not asked: its data must not be mixed into a live series")
}

// scaled returns bars with every price multiplied by f, as a provider that
// adjusts for dividends (or a split) reports them.
func scaled(bars []market.Bar, f float64) []market.Bar {
	out := make([]market.Bar, len(bars))
	for i, b := range bars {
		b.Open, b.High, b.Low, b.Close, b.AdjClose = b.Open*f, b.High*f, b.Low*f, b.Close*f, b.AdjClose*f
		out[i] = b
	}
	return out
}

func TestAnotherSourceTakingOver(t *testing.T) {
	extended := market.TradingDays(lastDay.AddDate(0, 0, 3), 51, 20)
	history := extended[:50] // what Yahoo served before it went down
	tests := []struct {
		name          string
		sources       []string
		setup         func(u *upstreams)
		wantBars      []market.Bar
		wantSource    string
		wantOutcomes  []string
		wantCacheFrom string
	}{
		{
			name:    "agreeing with the cache, it extends it",
			sources: []string{"yahoo", "stooq"},
			setup: func(u *upstreams) {
				u.stooq.Handle(market.Reply(200, "text/csv", market.StooqCSV(extended[40:])))
			},
			wantBars:      extended,
			wantSource:    "stooq",
			wantOutcomes:  []string{"cache:cached", "yahoo:error", "stooq:ok"},
			wantCacheFrom: "stooq",
		},
		{
			name:    "adjusting differently, it replaces the history",
			sources: []string{"yahoo", "stooq"},
			setup: func(u *upstreams) {
				u.stooq.Handle(func(w http.ResponseWriter, r *http.Request) {
					bars := scaled(extended, 0.98)
					if r.URL.Query().Get("d1") != "" {
						bars = bars[40:]
					}
					market.Reply(200, "text/csv", market.StooqCSV(bars))(w, r)
				})
			},
			wantBars:      scaled(extended, 0.98),
			wantSource:    "stooq",
			wantOutcomes:  []string{"cache:cached", "yahoo:error", "stooq:ok", "stooq:ok"},
			wantCacheFrom: "stooq",
		},
		{
			name:    "a reload shorter than the cache keeps the cache",
			sources: []string{"yahoo", "alphavantage"},
			setup: func(u *upstreams) {
				// A free key: the last 20 days whatever the request, and
				// unadjusted prices that disagree with Yahoo's.
				u.alphaVantage.Handle(market.Reply(200, "application/json", market.AlphaVantageDaily("HANDOVER", scaled(extended[31:], 1.02))))
			},
			wantBars:      history,
			wantSource:    "yahoo",
			wantOutcomes:  []string{"cache:cached", "yahoo:error", "alphavantage:ok", "alphavantage:ok"},
			wantCacheFrom: "yahoo",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplicas(t)
			ctx := context.Background()
			r.u.set("HANDOVER", history)
			l := r.loader(t, func(c *market.Config) { c.Sources = tt.sources })
			_, err := l.Load(ctx, "HANDOVER")
			require.NoError(t, err)

			r.u.yahoo.Handle(market.Reply(503, "text/html", "<html>down</html>"))
			tt.setup(r.u)
			r.age(t, "HANDOVER", 7*time.Hour)

			s, err := l.Load(ctx, "HANDOVER")
			require.NoError(t, err)
			require.Equal(t, tt.wantOutcomes, outcomes(s.Attempts))
			require.Equal(t, tt.wantSource, s.Source)
			require.Equal(t, tt.wantBars, s.Bars)
			cachedBars, source := r.cached(t, "HANDOVER")
			require.Equal(t, tt.wantCacheFrom, source)
			require.Equal(t, tt.wantBars, cachedBars)
		})
	}
}

// BenchmarkLoadFromCache is the cost of a load served by PostgreSQL: a
// 5,000-bar history, no upstream call.
func BenchmarkLoadFromCache(b *testing.B) {
	db := dbtest.Postgres(b, "market")
	ctx := context.Background()
	require.NoError(b, db.ReplacePriceBars(ctx, "BENCH", "yahoo", market.TradingDays(lastDay, 5000, 20)))
	l, err := market.NewLoader(market.Config{Sources: []string{"yahoo"}, YahooURL: "http://127.0.0.1:1"}, db, nil, nil)
	require.NoError(b, err)
	for b.Loop() {
		s, err := l.Load(ctx, "BENCH")
		if err != nil || len(s.Bars) != 5000 {
			b.Fatalf("load: %v", err)
		}
	}
}
