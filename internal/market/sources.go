package market

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// source is one PRICE_SOURCES name and how to build its provider.
type source struct {
	name string
	// title is how pages name the source's prices (see SourceTitle), and
	// coverage what local data holds (see SourceCoverage).
	title, coverage string
	// live providers ask the network: their answers are cached, and a stale
	// cache is refreshed from them. The others read local data, which is
	// always at hand and never goes stale.
	live bool
	// byDefault puts the source in DefaultSources.
	byDefault bool
	build     func(name string, cfg Config) (Provider, error)
}

// sources is every price provider in the default fallback order: the live
// ones, most generous first, then local data, the bundled sample last so a
// demo works offline. csv is left out of the default because it needs
// DATA_DIR.
var sources = []source{
	{name: "yahoo", title: "Yahoo Finance", live: true, byDefault: true, build: func(name string, cfg Config) (Provider, error) {
		return &yahoo{base: baseURL(cfg.YahooURL, DefaultYahooURL), http: upstream.New(name, cfg.HTTP), now: time.Now}, nil
	}},
	{name: "stooq", title: "Stooq", live: true, byDefault: true, build: func(name string, cfg Config) (Provider, error) {
		return &stooq{base: baseURL(cfg.StooqURL, DefaultStooqURL), key: cfg.StooqKey, http: upstream.New(name, cfg.HTTP), now: time.Now}, nil
	}},
	{name: "alphavantage", title: "Alpha Vantage", live: true, byDefault: true, build: func(name string, cfg Config) (Provider, error) {
		return &alphaVantage{base: baseURL(cfg.AlphaVantageURL, DefaultAlphaVantageURL), key: cfg.AlphaVantageKey, http: upstream.New(name, cfg.HTTP), now: time.Now}, nil
	}},
	{name: "csv", title: "DATA_DIR's CSV file", build: func(_ string, cfg Config) (Provider, error) {
		if cfg.DataDir == "" {
			return nil, errors.New("price source csv needs DATA_DIR")
		}
		return &csvDir{dir: cfg.DataDir}, nil
	}},
	{name: "sample", title: "bundled sample data", coverage: "the 30 Dow Jones stocks of 2000, daily 1991–2000, and the S&P 500, 2000–2020", byDefault: true, build: func(string, Config) (Provider, error) {
		return NewSample(), nil
	}},
}

// SourceTitle is how pages name the prices of the provider called name
// (a Series' Source): "Yahoo Finance", "DATA_DIR's CSV file", "bundled
// sample data". An unknown name, as an old stored result may hold, is
// shown as it is.
func SourceTitle(name string) string {
	if s := lookup(name); s != nil && s.title != "" {
		return s.title
	}
	return name
}

// SourceCoverage says what the local data of the provider called name
// holds, for pages that show its prices (the sample's dates are far from
// today's, and users should know why), or "" when there is nothing to say.
func SourceCoverage(name string) string {
	if s := lookup(name); s != nil {
		return s.coverage
	}
	return ""
}

// SourceNames lists the valid PRICE_SOURCES names.
func SourceNames() []string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.name
	}
	return names
}

// DefaultSources is the PRICE_SOURCES order used when none is configured.
func DefaultSources() []string {
	var names []string
	for _, s := range sources {
		if s.byDefault {
			names = append(names, s.name)
		}
	}
	return names
}

// ParseSources checks a PRICE_SOURCES list and returns it trimmed and
// lower-cased; an unknown or repeated name is an error. It is the rule both
// config validation and NewLoader apply.
func ParseSources(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		if lookup(name) == nil {
			return nil, fmt.Errorf("unknown price source %q (valid: %s)", name, strings.Join(SourceNames(), ", "))
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("price source %q listed twice", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// lookup returns the named source, or nil.
func lookup(name string) *source {
	i := slices.IndexFunc(sources, func(s source) bool { return s.name == name })
	if i < 0 {
		return nil
	}
	return &sources[i]
}

// isLive tells the providers whose answers are worth caching from those
// that read local data. name may come from the cache, so an unknown one
// counts as not live.
func isLive(name string) bool {
	s := lookup(name)
	return s != nil && s.live
}

// baseURL returns the configured base URL without a trailing slash, or the
// real one when none is configured.
func baseURL(configured, real string) string {
	if configured == "" {
		return real
	}
	return strings.TrimRight(configured, "/")
}
