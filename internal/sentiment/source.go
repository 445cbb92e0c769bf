package sentiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// source is one upstream of the chain.
type source interface {
	// Name is the short name used in SENTIMENT_SOURCES, presets, cache keys
	// and reports.
	Name() string
	// Fetch returns up to limit scored articles about ticker, newest first
	// where the upstream says when they were published. It returns
	// upstream.ErrNoKey, without any request, when the source needs a key
	// that is not set.
	Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error)
}

// sourceSpec is one SENTIMENT_SOURCES name and how to build its source.
type sourceSpec struct {
	name string
	// configuredURL picks the source's base URL out of Config; "" means
	// realURL.
	configuredURL func(Config) string
	realURL       string
	build         func(k sourceKit) source
}

// sourceKit is what a source is built from.
type sourceKit struct {
	cfg Config
	// base is the configured base URL, or the real one.
	base string
	// http is an upstream client named after the source, so the source's
	// metrics and circuit breaker carry its name.
	http *upstream.Client
	// eastern is US/Eastern, Finviz's clock.
	eastern *time.Location
}

// sourceTable is every source in the default priority order, the original
// app's.
var sourceTable = []sourceSpec{
	{"finviz", func(c Config) string { return c.FinvizURL }, finvizBaseURL, func(k sourceKit) source {
		return &finviz{http: k.http, base: k.base, eastern: k.eastern}
	}},
	{"eodhd", func(c Config) string { return c.EODHDURL }, eodhdBaseURL, func(k sourceKit) source {
		return &eodhd{http: k.http, base: k.base, key: k.cfg.EODHDKey}
	}},
	{"alphavantage", func(c Config) string { return c.AlphaVantageURL }, alphaVantageBaseURL, func(k sourceKit) source {
		return &alphaVantage{http: k.http, base: k.base, key: k.cfg.AlphaVantageKey}
	}},
	{"tradestie", func(c Config) string { return c.TradestieURL }, tradestieBaseURL, func(k sourceKit) source {
		return &tradestie{http: k.http, base: k.base}
	}},
	{"finnhub", func(c Config) string { return c.FinnhubURL }, finnhubBaseURL, func(k sourceKit) source {
		return &finnhub{news: k.http, social: upstream.New("finnhub_social", k.cfg.HTTP), base: k.base, key: k.cfg.FinnhubKey}
	}},
	{"stockgeist", func(c Config) string { return c.StockGeistURL }, stockGeistBaseURL, func(k sourceKit) source {
		return &stockGeist{http: k.http, base: k.base, key: k.cfg.StockGeistKey}
	}},
	{"google", func(c Config) string { return c.GoogleNewsURL }, googleNewsBaseURL, func(k sourceKit) source {
		return &googleNews{http: k.http, base: k.base}
	}},
}

// SourceNames returns every source name in the default priority order.
func SourceNames() []string {
	names := make([]string, len(sourceTable))
	for i, s := range sourceTable {
		names[i] = s.name
	}
	return names
}

// ParseSources checks a SENTIMENT_SOURCES list and returns it trimmed and
// lower-cased. An unknown name gives an error wrapping ErrUnknownSource; a
// repeated one is an error too. It is the rule both config validation and
// New apply.
func ParseSources(names []string) ([]string, error) {
	known := SourceNames()
	order := make([]string, 0, len(names))
	for _, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownSource, name, strings.Join(known, ", "))
		}
		if slices.Contains(order, name) {
			return nil, fmt.Errorf("sentiment source %q listed twice", name)
		}
		order = append(order, name)
	}
	return order, nil
}

// articleBatch is what one source returned for one ticker.
type articleBatch struct {
	Articles []Article `json:"articles"`
	// Note explains a partial or empty answer (a premium endpoint the key
	// cannot use, a ticker the upstream does not cover); it becomes the
	// source's reason in the report.
	Note string `json:"note,omitempty"`
}

// Errors the chain turns into a source status, next to upstream's ErrNoKey
// and ErrRateLimited. They never leave the package except wrapped in a
// reason string.
var (
	// errRejected means the upstream answered and refused the request: a bad
	// or under-privileged key, an unknown ticker.
	errRejected = errors.New("request rejected")
	// errBadResponse means the body was not the shape the upstream documents.
	errBadResponse = errors.New("unexpected response")
)

// reasonOf describes a Fetch error in full for the logs, with the wait an
// upstream asked for when it rate limited us.
func reasonOf(err error) string {
	return err.Error() + retryAfter(err)
}

// causeOf describes a Fetch error for the report, which users read: the
// outcome's cause in a few words ("source unreachable"), never the error's
// text, which may name hosts and addresses ("lookup finviz.com on
// 10.255.255.53:53"); the log line keeps that.
func causeOf(err error) string {
	return upstream.Cause(upstream.OutcomeOf(err)) + retryAfter(err)
}

// retryAfter is " (retry after 30s)" when the upstream said how long its
// rate limit lasts, which is worth telling users too, or "".
func retryAfter(err error) string {
	var ue *upstream.Error
	if errors.As(err, &ue) && ue.RetryAfter > 0 {
		return fmt.Sprintf(" (retry after %v)", ue.RetryAfter)
	}
	return ""
}

// upstreamErrorMessage returns the "error" string Finnhub and EODHD put in
// their error bodies, or "" when body has none.
func upstreamErrorMessage(body []byte) string {
	var payload struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &payload) != nil {
		return ""
	}
	return payload.Error
}

// explainStatus turns a failed Get into the error a keyed JSON API meant:
// 401 and 403 are a key problem, 402 a used-up quota (a rate limit that
// resets tomorrow), and the upstream's own "error" text is kept as the
// reason. Anything else is returned as it is.
func explainStatus(err error) error {
	var ue *upstream.Error
	if !errors.As(err, &ue) || (ue.Kind != upstream.KindHTTP && ue.Kind != upstream.KindRateLimited) {
		return err
	}
	detail := ""
	if msg := upstreamErrorMessage(ue.Body); msg != "" {
		detail = ": " + msg
	}
	switch ue.Status {
	case 401, 403:
		return fmt.Errorf("%w: API key refused%s: %w", errRejected, detail, err)
	case 402:
		return fmt.Errorf("%w: quota used up%s: %w", upstream.ErrRateLimited, detail, err)
	}
	if detail != "" {
		return fmt.Errorf("%w%s", err, detail)
	}
	return err
}

// redactedError hides an API key that ended up in an error message, copied
// there by the HTTP client with the request URL or echoed back by the
// upstream (Alpha Vantage's limit message names the key), so that it never
// reaches a report or a log.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactKey returns err with every occurrence of key (raw or URL-escaped)
// replaced; errors.Is and errors.As still see the original chain.
func redactKey(err error, key string) error {
	if err == nil || key == "" {
		return err
	}
	msg := err.Error()
	redacted := strings.ReplaceAll(msg, key, "REDACTED")
	redacted = strings.ReplaceAll(redacted, url.QueryEscape(key), "REDACTED")
	if redacted == msg {
		return err
	}
	return &redactedError{msg: redacted, err: err}
}

// endpoint joins a configured base URL, a path and a query.
func endpoint(base, path string, query url.Values) string {
	u := strings.TrimRight(base, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// firstN returns at most n of articles.
func firstN(articles []Article, n int) []Article {
	if len(articles) > n {
		return articles[:n]
	}
	return articles
}
