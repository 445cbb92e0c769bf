package sentiment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/ticker"
	"github.com/augurhq/augur/internal/upstream"
)

// Bounds of the number of articles per run.
const (
	DefaultNumArticles = 10
	// MaxNumArticles is the one cap on articles per run, for the API, the
	// job parameters and SENTIMENT_NUM_ARTICLES alike. It keeps a request
	// from walking every source for pages nobody reads; no preset asks for
	// more than 50.
	MaxNumArticles = 100
)

// fetchPage is the fewest articles a source is asked for, even when the run
// needs fewer: every upstream answers a page in one request anyway, and a
// cached full page serves later runs that need more.
const fetchPage = 50

// Errors callers branch on.
var (
	// ErrNoArticles means no source gave a single article; the report that
	// comes with it says what each source did.
	ErrNoArticles = errors.New("no sentiment source available")
	// ErrUnknownPreset means Request.Preset names no preset.
	ErrUnknownPreset = errors.New("unknown sentiment preset")
	// ErrUnknownSource means Config.Sources names a source that does not
	// exist.
	ErrUnknownSource = errors.New("unknown sentiment source")
	// ErrInvalidRequest means the ticker or the number of articles is not
	// acceptable; retrying will not help.
	ErrInvalidRequest = errors.New("invalid sentiment request")
)

// Config is filled by internal/config from env vars.
type Config struct {
	// Sources is SENTIMENT_SOURCES, the order sources are tried in; nil
	// means SourceNames().
	Sources []string
	// NumArticles is how many articles a run collects unless its preset or
	// request says otherwise; 0 means DefaultNumArticles.
	NumArticles int
	// API keys; a source whose key is empty reports no_key and is passed
	// over without a request.
	EODHDKey, AlphaVantageKey, FinnhubKey, StockGeistKey string
	// Base URLs, the part before the endpoint path (for tests and proxies);
	// "" means the real service.
	FinvizURL, EODHDURL, AlphaVantageURL, TradestieURL, FinnhubURL, StockGeistURL, GoogleNewsURL string
	// HTTP tunes the upstream client of every source; each source gets its
	// own client, and so its own circuit breaker.
	HTTP upstream.Config
	// CacheTTL is how long a source's answer is cached; 0 means
	// DefaultCacheTTL.
	CacheTTL time.Duration
}

// CacheLifetime is how long a source's answer is cached under c: what a
// result built on the news may be reused for.
func (c Config) CacheLifetime() time.Duration { return cmp.Or(c.CacheTTL, DefaultCacheTTL) }

// Request is one ticker's run.
type Request struct {
	Ticker string
	// Preset, when set, chooses the sources and the number of articles.
	Preset string
	// NumArticles, when positive, overrides the configured or preset number.
	NumArticles int
}

// Analyzer walks the sentiment sources for a ticker. It is safe for
// concurrent use; its sources' circuit breakers are shared by all runs.
type Analyzer struct {
	sources     map[string]source
	order       []string
	numArticles int
	cache       *articleCache
	logger      *slog.Logger
}

// preset is a named choice of sources and article count for one kind of
// user.
type preset struct {
	name        string
	numArticles int
	sources     []string
}

// presets is a fixed table, never written to.
var presets = []preset{
	{name: "hft", numArticles: 10, sources: []string{"finviz"}},
	{name: "retail", numArticles: 5, sources: []string{"tradestie", "finviz"}},
	{name: "quant", numArticles: 20, sources: []string{"alphavantage", "finviz"}},
	{name: "academic", numArticles: 50, sources: []string{"google", "finviz"}},
	{name: "fintech", numArticles: 15, sources: []string{"stockgeist", "finviz"}},
}

// PresetNames returns the names Request.Preset accepts.
func PresetNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.name
	}
	return names
}

// New builds the sources once, so that their circuit breakers live as long
// as the Analyzer. rdb nil disables the cache; logger nil discards logs.
func New(cfg Config, rdb *redis.Client, logger *slog.Logger) (*Analyzer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	eastern, err := time.LoadLocation("America/New_York")
	if err != nil {
		return nil, fmt.Errorf("load Finviz's time zone (install tzdata or import time/tzdata): %w", err)
	}
	a := &Analyzer{
		sources:     make(map[string]source, len(sourceTable)),
		order:       SourceNames(),
		numArticles: DefaultNumArticles,
		logger:      logger,
	}
	if cfg.HTTP.Logger == nil {
		cfg.HTTP.Logger = logger.With("component", "sentiment")
	}
	for _, spec := range sourceTable {
		base := spec.configuredURL(cfg)
		if base == "" {
			base = spec.realURL
		} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s base URL %q: want an absolute http(s) URL", spec.name, base)
		}
		a.sources[spec.name] = spec.build(sourceKit{cfg: cfg, base: base, http: upstream.New(spec.name, cfg.HTTP), eastern: eastern})
	}
	if len(cfg.Sources) > 0 {
		if a.order, err = ParseSources(cfg.Sources); err != nil {
			return nil, err
		}
	}
	if cfg.NumArticles != 0 {
		if err := checkNumArticles(cfg.NumArticles); err != nil {
			return nil, err
		}
		a.numArticles = cfg.NumArticles
	}
	if cfg.CacheTTL < 0 {
		return nil, fmt.Errorf("negative sentiment cache TTL %v", cfg.CacheTTL)
	}
	if rdb != nil {
		a.cache = &articleCache{rdb: rdb, ttl: cfg.CacheLifetime()}
	}
	return a, nil
}

// Analyze collects up to the wanted number of articles about the ticker,
// walking the sources in order and stopping once enough are in. The report
// has every source's status, those never reached included ("skipped"). When
// no source gave an article, the report comes back together with an error
// wrapping ErrNoArticles.
func (a *Analyzer) Analyze(ctx context.Context, req Request) (*Report, error) {
	symbol, err := ticker.Normalize(req.Ticker)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	order, want, err := a.plan(req)
	if err != nil {
		return nil, err
	}
	report := &Report{Ticker: symbol, Preset: strings.ToLower(strings.TrimSpace(req.Preset))}
	seen := make(map[string]bool)
	for _, name := range order {
		if have := len(report.Articles); have >= want {
			report.Sources = append(report.Sources, SourceStatus{
				Source: name,
				Status: StatusSkipped,
				Reason: fmt.Sprintf("%d articles already collected", have),
			})
			continue
		}
		status, batch := a.fetch(ctx, a.sources[name], symbol, want-len(report.Articles))
		var notes []string
		if batch.Note != "" {
			notes = append(notes, batch.Note)
		}
		duplicates := 0
		for _, article := range batch.Articles {
			if len(report.Articles) == want {
				break
			}
			article = storable(article)
			if isDuplicate(seen, article) {
				duplicates++
				continue
			}
			report.Articles = append(report.Articles, article)
			status.Articles++
		}
		if duplicates > 0 {
			notes = append(notes, fmt.Sprintf("%d duplicates dropped", duplicates))
		}
		if status.Status == StatusOK {
			if len(batch.Articles) == 0 && batch.Note == "" {
				notes = append(notes, "no articles")
			}
			status.Reason = strings.Join(notes, "; ")
		}
		report.Sources = append(report.Sources, status)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sentiment for %s: %w", symbol, err)
	}
	summarize(report)
	if len(report.Articles) == 0 {
		return report, fmt.Errorf("%w for %s: %s", ErrNoArticles, symbol, describeSources(report.Sources))
	}
	return report, nil
}

// plan returns the source order and article count for req.
func (a *Analyzer) plan(req Request) ([]string, int, error) {
	order, want := a.order, a.numArticles
	if name := strings.ToLower(strings.TrimSpace(req.Preset)); name != "" {
		i := slices.IndexFunc(presets, func(p preset) bool { return p.name == name })
		if i < 0 {
			return nil, 0, fmt.Errorf("%w %q (known: %s)", ErrUnknownPreset, req.Preset, strings.Join(PresetNames(), ", "))
		}
		order, want = presets[i].sources, presets[i].numArticles
	}
	if req.NumArticles != 0 {
		if err := checkNumArticles(req.NumArticles); err != nil {
			return nil, 0, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		}
		want = req.NumArticles
	}
	return order, want, nil
}

// checkNumArticles holds a configured or requested number of articles to
// 1..MaxNumArticles.
func checkNumArticles(n int) error {
	if n < 1 || n > MaxNumArticles {
		return fmt.Errorf("%d articles per run: want 1..%d", n, MaxNumArticles)
	}
	return nil
}

// fetch asks one source, through the cache, for at least need articles.
func (a *Analyzer) fetch(ctx context.Context, src source, ticker string, need int) (SourceStatus, articleBatch) {
	start := time.Now()
	status := SourceStatus{Source: src.Name(), Status: StatusOK}
	limit := max(need, fetchPage)
	batch, hit, err := a.cache.get(ctx, src.Name(), ticker, limit)
	if err != nil {
		a.logger.WarnContext(ctx, "sentiment cache read failed", "source", src.Name(), "ticker", ticker, "error", err)
	}
	if hit {
		status.Cached = true
		status.LatencyMS = milliseconds(time.Since(start))
		return status, batch
	}
	batch, err = src.Fetch(ctx, ticker, limit)
	status.LatencyMS = milliseconds(time.Since(start))
	if err != nil {
		status.Status = upstream.OutcomeOf(err)
		status.Reason = causeOf(err)
		if status.Status != StatusNoKey {
			// The request id the log handler adds ties this detail to the
			// job whose report shows only the cause.
			a.logger.WarnContext(ctx, "sentiment source failed",
				"source", src.Name(), "ticker", ticker, "status", status.Status, "error", reasonOf(err))
		}
		return status, articleBatch{}
	}
	if err := a.cache.put(ctx, src.Name(), ticker, limit, batch); err != nil {
		a.logger.WarnContext(ctx, "sentiment cache write failed", "source", src.Name(), "ticker", ticker, "error", err)
	}
	return status, batch
}

// storable returns the article with the NUL character taken out of its
// text fields. Upstream text is whatever a feed or a scraped page held, and
// PostgreSQL's jsonb refuses U+0000 in a string: one such headline would
// make every attempt to record the report fail the same way. Invalid UTF-8
// needs nothing here, as encoding/json writes it as U+FFFD.
func storable(a Article) Article {
	a.Title = strings.ReplaceAll(a.Title, "\x00", "")
	a.URL = strings.ReplaceAll(a.URL, "\x00", "")
	a.Source = strings.ReplaceAll(a.Source, "\x00", "")
	return a
}

// isDuplicate reports whether an article with the same URL or the same
// title (ignoring case and spacing) was seen, and records this one. Several
// sources syndicate the same wire story.
func isDuplicate(seen map[string]bool, article Article) bool {
	keys := []string{"title:" + strings.ToLower(collapseSpace(article.Title))}
	if u := strings.TrimSpace(article.URL); u != "" {
		keys = append(keys, "url:"+u)
	}
	duplicate := false
	for _, k := range keys {
		duplicate = duplicate || seen[k]
		seen[k] = true
	}
	return duplicate
}

// describeSources sums up what every source did, for ErrNoArticles.
func describeSources(statuses []SourceStatus) string {
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		what := upstream.Cause(s.Status)
		if s.Status == StatusOK {
			what = "no articles"
		}
		parts[i] = s.Source + ": " + what
	}
	return strings.Join(parts, "; ")
}

func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
