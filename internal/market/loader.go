package market

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/ticker"
	"github.com/augurhq/augur/internal/upstream"
)

// Defaults for zero Config fields.
const (
	DefaultCacheTTL      = 6 * time.Hour
	DefaultFetchLockTTL  = time.Minute
	DefaultFetchLockWait = 30 * time.Second
)

// Config is everything market needs, filled by internal/config from env vars.
type Config struct {
	// Sources is PRICE_SOURCES: provider names in fallback order; empty
	// means DefaultSources().
	Sources []string
	// DataDir is DATA_DIR for the csv provider ("" = csv provider unavailable).
	DataDir                   string
	StooqKey, AlphaVantageKey string
	// YahooURL, StooqURL and AlphaVantageURL are base URLs; "" = the real ones.
	YahooURL, StooqURL, AlphaVantageURL string
	// HTTP tunes the upstream client of every live provider.
	HTTP upstream.Config
	// CacheTTL is how long cached bars are served without asking a
	// provider; zero means DefaultCacheTTL.
	CacheTTL time.Duration
	// FetchLockTTL is how long one replica's claim to fetch a ticker lasts
	// if it never releases it (a crash); zero means DefaultFetchLockTTL.
	FetchLockTTL time.Duration
	// FetchLockWait is how long a replica waits for another replica's fetch
	// of the same ticker before fetching itself; zero means
	// DefaultFetchLockWait.
	FetchLockWait time.Duration
	// CacheMetrics counts cache hits and misses; nil counts nothing.
	CacheMetrics *CacheMetrics
}

// CacheMetrics counts how loads went with the price cache: a hit is served
// from fresh cached bars, a miss asks a provider (for the whole history or
// the tail after a stale entry).
type CacheMetrics struct {
	hits, misses prometheus.Counter
}

// NewCacheMetrics registers augur_price_cache_hits_total and
// augur_price_cache_misses_total.
func NewCacheMetrics(reg prometheus.Registerer) *CacheMetrics {
	m := &CacheMetrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "augur_price_cache_hits_total",
			Help: "Price loads served from fresh cached bars.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "augur_price_cache_misses_total",
			Help: "Price loads that had to ask a provider: nothing cached, or the cached bars were stale.",
		}),
	}
	reg.MustRegister(m.hits, m.misses)
	return m
}

func (m *CacheMetrics) count(hit bool) {
	switch {
	case m == nil:
	case hit:
		m.hits.Inc()
	default:
		m.misses.Inc()
	}
}

// Cache stores live providers' bars between loads. *store.DB implements it.
type Cache interface {
	// PriceBars returns the ticker's cached bars oldest first, the source
	// and time of the latest save; no bars and no error when nothing is
	// cached.
	PriceBars(ctx context.Context, ticker string) (bars []Bar, source string, fetchedAt time.Time, err error)
	// SavePriceBars inserts or updates bars by date and marks them fetched now.
	SavePriceBars(ctx context.Context, ticker, source string, bars []Bar) error
	// ReplacePriceBars swaps the ticker's whole cached history for bars, for
	// when the history was revised or another source took over.
	ReplacePriceBars(ctx context.Context, ticker, source string, bars []Bar) error
}

// Loader loads a ticker's history through the cache and the provider chain.
// It is safe for concurrent use.
type Loader struct {
	providers []Provider
	live      []Provider // the providers a stale cache entry is refreshed from
	cache     Cache
	rdb       *redis.Client
	unlock    *redis.Script
	log       *slog.Logger
	ttl       time.Duration
	lockTTL   time.Duration
	lockWait  time.Duration
	metrics   *CacheMetrics

	mu      sync.Mutex
	flights map[string]*flight // loads in progress, by ticker
}

// NewLoader builds the chain from cfg. cache and rdb may be nil (no cache /
// no cross-replica lock). It fails on an unknown or repeated source name and
// on csv without a DataDir.
func NewLoader(cfg Config, cache Cache, rdb *redis.Client, logger *slog.Logger) (*Loader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	names := cfg.Sources
	if len(names) == 0 {
		names = DefaultSources()
	}
	names, err := ParseSources(names)
	if err != nil {
		return nil, err
	}
	l := &Loader{
		cache:    cache,
		rdb:      rdb,
		unlock:   redis.NewScript(releaseLockScript),
		log:      logger.With("component", "market"),
		ttl:      orDefault(cfg.CacheTTL, DefaultCacheTTL),
		lockTTL:  orDefault(cfg.FetchLockTTL, DefaultFetchLockTTL),
		lockWait: orDefault(cfg.FetchLockWait, DefaultFetchLockWait),
		metrics:  cfg.CacheMetrics,
		flights:  map[string]*flight{},
	}
	if cfg.HTTP.Logger == nil {
		cfg.HTTP.Logger = l.log
	}
	for _, name := range names {
		src := lookup(name)
		p, err := src.build(name, cfg)
		if err != nil {
			return nil, err
		}
		l.providers = append(l.providers, p)
		if src.live {
			l.live = append(l.live, p)
		}
	}
	return l, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Load returns the ticker's full daily history, oldest first, to be read
// and not modified (see Series). Concurrent
// loads of one ticker in this process share one fetch, and replicas sharing
// Redis let one of them fetch while the others wait for the cache. When no
// provider delivers, the error is a *LoadError wrapping ErrNoSuchTicker (all
// that answered do not know the ticker) or ErrNoData; a symbol that breaks
// the ticker rule gives an error wrapping ticker.ErrInvalid, and no provider
// is asked.
func (l *Loader) Load(ctx context.Context, symbol string) (*Series, error) {
	t, err := ticker.Normalize(symbol)
	if err != nil {
		return nil, fmt.Errorf("load prices: %w", err)
	}
	f := l.join(ctx, t)
	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return f.series.view(), nil
	case <-ctx.Done():
		l.leave(t, f)
		return nil, fmt.Errorf("load prices for %s: %w", t, ctx.Err())
	}
}

// load is the work of one flight: a fresh cache entry if there is one;
// otherwise, under the cross-replica lock, the whole chain for a ticker
// never cached or a refresh of a stale entry.
func (l *Loader) load(ctx context.Context, t string) (*Series, error) {
	if l.cache == nil || len(l.live) == 0 {
		return l.fetchAll(ctx, t)
	}
	c := l.readCache(ctx, t)
	if l.fresh(c) {
		l.metrics.count(true)
		return l.fromCache(t, c), nil
	}
	release, c, err := l.claim(ctx, t, c)
	if err != nil {
		return nil, &LoadError{Ticker: t, Err: err}
	}
	defer release()
	// Another replica may have filled the cache while this one waited for
	// the lock: that is a hit too.
	l.metrics.count(l.fresh(c))
	switch {
	case l.fresh(c):
		return l.fromCache(t, c), nil
	case len(c.bars) == 0:
		return l.fetchAll(ctx, t)
	default:
		return l.refresh(ctx, t, c)
	}
}

func newSeries(t, source string, bars []Bar, attempts []Attempt) *Series {
	return &Series{
		Ticker:   t,
		Source:   source,
		Live:     isLive(source),
		First:    bars[0].Date,
		Last:     bars[len(bars)-1].Date,
		Bars:     bars,
		Attempts: attempts,
	}
}

func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
