package sentiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

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

// reasonOf describes a Fetch error for the report, with the wait an upstream
// asked for when it rate limited us.
func reasonOf(err error) string {
	var ue *upstream.Error
	if errors.As(err, &ue) && ue.RetryAfter > 0 {
		return fmt.Sprintf("%v (retry after %v)", err, ue.RetryAfter)
	}
	return err.Error()
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
