package market

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
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

const (
	// overlapDays is how far before the last cached bar a refresh starts,
	// so that late corrections of the last few sessions are picked up and
	// compared with what the cache holds.
	overlapDays = 7
	// revisionTolerance is the relative price change on an already cached
	// day that counts as a revised history (a split, a dividend
	// adjustment, another source) rather than float noise.
	revisionTolerance = 1e-3
	// sharedLoadTimeout bounds a load that outlived every caller waiting
	// for it: long enough for the whole chain with retries and the lock wait.
	sharedLoadTimeout = 2 * time.Minute
	lockKeyPrefix     = "augur:market:fetch:"
)

// releaseLockScript deletes the fetch lock only if it still holds our
// token: after an expiry another replica may own it, and a plain DEL would
// release their lock.
const releaseLockScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

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
	l := &Loader{
		cache:    cache,
		rdb:      rdb,
		unlock:   redis.NewScript(releaseLockScript),
		log:      logger.With("component", "market"),
		ttl:      orDefault(cfg.CacheTTL, DefaultCacheTTL),
		lockTTL:  orDefault(cfg.FetchLockTTL, DefaultFetchLockTTL),
		lockWait: orDefault(cfg.FetchLockWait, DefaultFetchLockWait),
		flights:  map[string]*flight{},
	}
	names, err := ParseSources(names)
	if err != nil {
		return nil, err
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

// Load returns the ticker's full daily history, oldest first. Concurrent
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
		return f.series.clone(), nil
	case <-ctx.Done():
		l.leave(t, f)
		return nil, fmt.Errorf("load prices for %s: %w", t, ctx.Err())
	}
}

// flight is one load shared by every caller that asked for the ticker while
// it ran. Unlike singleflight it counts its callers, so that it is canceled
// when the last one gives up instead of running on for nobody.
type flight struct {
	done    chan struct{}
	series  *Series
	err     error
	cancel  context.CancelFunc
	waiters int
}

// join attaches the caller to the ticker's running load, starting one if
// there is none.
func (l *Loader) join(ctx context.Context, t string) *flight {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.flights[t]; ok {
		f.waiters++
		return f
	}
	// The load outlives the caller that started it if others join, so it
	// keeps ctx's values but not its cancellation.
	shared, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedLoadTimeout)
	f := &flight{done: make(chan struct{}), cancel: cancel, waiters: 1}
	l.flights[t] = f
	go func() {
		defer cancel()
		s, err := l.load(shared, t)
		l.mu.Lock()
		if l.flights[t] == f {
			delete(l.flights, t)
		}
		l.mu.Unlock()
		f.series, f.err = s, err
		close(f.done)
	}()
	return f
}

// leave detaches a caller that gave up; the last one out cancels the load
// and forgets it, so a later caller starts afresh rather than joining a
// canceled load.
func (l *Loader) leave(t string, f *flight) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.cancel()
	if l.flights[t] == f {
		delete(l.flights, t)
	}
}

// cached is what the cache holds for one ticker.
type cached struct {
	bars      []Bar
	source    string
	fetchedAt time.Time
	took      time.Duration
}

func (l *Loader) load(ctx context.Context, t string) (*Series, error) {
	if l.cache == nil || len(l.live) == 0 {
		return l.fetchAll(ctx, t)
	}
	c := l.readCache(ctx, t)
	if l.fresh(c) {
		return l.fromCache(t, c), nil
	}
	release, c, err := l.claim(ctx, t, c)
	if err != nil {
		return nil, &LoadError{Ticker: t, Err: err}
	}
	defer release()
	switch {
	case l.fresh(c):
		return l.fromCache(t, c), nil
	case len(c.bars) == 0:
		return l.fetchAll(ctx, t)
	default:
		return l.refresh(ctx, t, c)
	}
}

// claim makes this replica the one that fetches t, or waits until another
// replica's fetch shows up in the cache. It returns the latest cache entry;
// if that is fresh the caller serves it. After FetchLockWait it gives up
// waiting and fetches anyway: a slow replica must not stall the others.
func (l *Loader) claim(ctx context.Context, t string, c cached) (release func(), latest cached, err error) {
	noop := func() {}
	if l.rdb == nil {
		return noop, c, nil
	}
	key := lockKeyPrefix + t
	token := uuid.NewString()
	poll := min(100*time.Millisecond, l.lockWait/10)
	deadline := time.Now().Add(l.lockWait)
	for {
		ok, err := l.rdb.SetNX(ctx, key, token, l.lockTTL).Result()
		if err != nil && ctx.Err() != nil {
			return nil, c, ctx.Err()
		}
		if err != nil {
			l.log.WarnContext(ctx, "fetch lock unavailable, fetching without it", "ticker", t, "err", err)
			return noop, c, nil
		}
		if ok {
			release = func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if err := l.unlock.Run(ctx, l.rdb, []string{key}, token).Err(); err != nil {
					l.log.WarnContext(ctx, "release fetch lock", "ticker", t, "err", err)
				}
			}
			// Another replica may have saved between our read and the lock.
			return release, l.readCache(ctx, t), nil
		}
		if err := upstream.Sleep(ctx, poll); err != nil {
			return nil, c, err
		}
		if c = l.readCache(ctx, t); l.fresh(c) {
			return noop, c, nil
		}
		if time.Now().After(deadline) {
			l.log.WarnContext(ctx, "gave up waiting for another replica's fetch", "ticker", t, "waited", l.lockWait)
			return noop, c, nil
		}
	}
}

// fetchAll asks the whole chain for the full history.
func (l *Loader) fetchAll(ctx context.Context, t string) (*Series, error) {
	bars, p, attempts, err := l.runChain(ctx, l.providers, t, time.Time{})
	if err != nil {
		return nil, err
	}
	if l.cache != nil && isLive(p.Name()) {
		if err := l.cache.ReplacePriceBars(ctx, t, p.Name(), bars); err != nil {
			l.log.WarnContext(ctx, "price cache write failed", "ticker", t, "err", err)
		}
	}
	return newSeries(t, p.Name(), bars, attempts), nil
}

// refresh fetches only the tail after the cached bars from the live
// providers. If the tail disagrees with the cache on days both have (a
// split, a dividend adjustment, a source that adjusts differently) or does
// not reach back to it, the history is reloaded whole from the provider that
// answered, so a series never mixes adjustments. The stale cache is served
// when every live provider fails, or when the reload would cut the history
// short (Alpha Vantage's free tier gives 100 days): old prices beat none,
// and a long consistent history beats a short one.
func (l *Loader) refresh(ctx context.Context, t string, c cached) (*Series, error) {
	last := c.bars[len(c.bars)-1].Date
	since := last.AddDate(0, 0, -overlapDays)
	attempts := []Attempt{{
		Source:  "cache",
		Outcome: OutcomeCached,
		Reason: fmt.Sprintf("stale: %d bars from %s up to %s, fetched %s ago; fetching since %s",
			len(c.bars), c.source, last.Format(time.DateOnly), time.Since(c.fetchedAt).Round(time.Second), since.Format(time.DateOnly)),
		LatencyMS: milliseconds(c.took),
	}}
	stale := func(why string, err error) *Series {
		l.log.WarnContext(ctx, "serving stale prices", "ticker", t, "why", why, "err", err)
		return newSeries(t, c.source, c.bars, attempts)
	}

	tail, p, tried, err := l.runChain(ctx, l.live, t, since)
	attempts = append(attempts, tried...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return stale("no live provider answered", err), nil
	}
	if continuous(c.bars, tail) {
		if err := l.cache.SavePriceBars(ctx, t, p.Name(), tail); err != nil {
			l.log.WarnContext(ctx, "price cache write failed", "ticker", t, "err", err)
		}
		return newSeries(t, p.Name(), merge(c.bars, tail), attempts), nil
	}

	full, a, err := l.call(ctx, p, t, time.Time{})
	a.Reason = "history revised: full reload; " + a.Reason
	attempts = append(attempts, a)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &LoadError{Ticker: t, Attempts: attempts, Err: ctx.Err()}
		}
		return stale("full reload failed", err), nil
	}
	if full[0].Date.After(c.bars[0].Date.AddDate(0, 1, 0)) {
		attempts[len(attempts)-1].Reason += fmt.Sprintf("; starts %s, the cache %s: keeping the cache",
			full[0].Date.Format(time.DateOnly), c.bars[0].Date.Format(time.DateOnly))
		return stale("reload shorter than the cache", nil), nil
	}
	if err := l.cache.ReplacePriceBars(ctx, t, p.Name(), full); err != nil {
		l.log.WarnContext(ctx, "price cache write failed", "ticker", t, "err", err)
	}
	return newSeries(t, p.Name(), full, attempts), nil
}

// continuous reports whether tail extends cached without a gap and without
// changing any cached day except the last, which may have been a session
// still in progress when it was saved.
func continuous(cachedBars, tail []Bar) bool {
	last := cachedBars[len(cachedBars)-1].Date
	if len(tail) == 0 || tail[0].Date.After(last) {
		return false
	}
	for _, nb := range tail {
		if !nb.Date.Before(last) {
			break
		}
		i, found := slices.BinarySearchFunc(cachedBars, nb.Date, func(b Bar, d time.Time) int { return b.Date.Compare(d) })
		if found && (revised(cachedBars[i].Close, nb.Close) || revised(cachedBars[i].AdjClose, nb.AdjClose)) {
			return false
		}
	}
	return true
}

func revised(old, new float64) bool {
	return math.Abs(old-new) > revisionTolerance*max(math.Abs(old), math.Abs(new))
}

// runChain tries providers in order until one delivers.
func (l *Loader) runChain(ctx context.Context, providers []Provider, t string, since time.Time) ([]Bar, Provider, []Attempt, error) {
	attempts := make([]Attempt, 0, len(providers))
	answered, notFound := 0, 0
	for _, p := range providers {
		bars, a, err := l.call(ctx, p, t, since)
		attempts = append(attempts, a)
		if err == nil {
			return bars, p, attempts, nil
		}
		if ctx.Err() != nil {
			return nil, nil, attempts, &LoadError{Ticker: t, Attempts: attempts, Err: ctx.Err()}
		}
		l.log.InfoContext(ctx, "price source failed", "ticker", t, "source", a.Source, "outcome", a.Outcome, "err", err)
		if a.Outcome != upstream.OutcomeNoKey {
			answered++
			if a.Outcome == upstream.OutcomeNotFound {
				notFound++
			}
		}
	}
	cause := ErrNoData
	if answered > 0 && notFound == answered {
		cause = ErrNoSuchTicker
	}
	return nil, nil, attempts, &LoadError{Ticker: t, Attempts: attempts, Err: cause}
}

// call asks one provider and records the attempt. A full-history request
// that returns no bars counts as "not found": the provider has nothing.
func (l *Loader) call(ctx context.Context, p Provider, t string, since time.Time) ([]Bar, Attempt, error) {
	start := time.Now()
	bars, err := p.History(ctx, t, since)
	if err == nil && since.IsZero() && len(bars) == 0 {
		err = fmt.Errorf("%s returned no bars for %s: %w", p.Name(), t, ErrNoSuchTicker)
	}
	a := Attempt{Source: p.Name(), Outcome: upstream.OutcomeOf(err), LatencyMS: milliseconds(time.Since(start))}
	if err != nil {
		a.Reason = err.Error()
	} else {
		a.Reason = fmt.Sprintf("%d bars", len(bars))
	}
	return bars, a, err
}

func (l *Loader) readCache(ctx context.Context, t string) cached {
	start := time.Now()
	bars, source, fetchedAt, err := l.cache.PriceBars(ctx, t)
	if err != nil {
		l.log.WarnContext(ctx, "price cache read failed, going to the providers", "ticker", t, "err", err)
		return cached{}
	}
	return cached{bars: bars, source: source, fetchedAt: fetchedAt, took: time.Since(start)}
}

func (l *Loader) fresh(c cached) bool {
	return len(c.bars) > 0 && time.Since(c.fetchedAt) < l.ttl
}

func (l *Loader) fromCache(t string, c cached) *Series {
	return newSeries(t, c.source, c.bars, []Attempt{{
		Source:    "cache",
		Outcome:   OutcomeCached,
		Reason:    fmt.Sprintf("%d bars from %s, fetched %s ago", len(c.bars), c.source, time.Since(c.fetchedAt).Round(time.Second)),
		LatencyMS: milliseconds(c.took),
	}})
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

// clone gives each caller sharing one load its own slices to modify.
func (s *Series) clone() *Series {
	c := *s
	c.Bars = slices.Clone(s.Bars)
	c.Attempts = slices.Clone(s.Attempts)
	return &c
}

func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
