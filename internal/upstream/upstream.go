// Package upstream is the one HTTP GET client every outside API goes
// through (price feeds and news sources alike), so that timeouts, retries,
// rate limits, circuit breaking, body-size caps and metrics behave the same
// for all of them and are tuned in one place.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout         = 5 * time.Second
	DefaultMaxRetries      = 2
	DefaultBaseBackoff     = 200 * time.Millisecond
	DefaultMaxBackoff      = 5 * time.Second
	DefaultMaxBodyBytes    = 4 << 20
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
	// DefaultUserAgent looks like a desktop browser because Yahoo's edge
	// answers 429 and Finviz 403 to anything that does not.
	DefaultUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// maxErrorBodyBytes bounds what is kept of a non-2xx body: enough for any
// JSON error object, small enough that a hostile error page costs nothing.
const maxErrorBodyBytes = 64 << 10

// Config tunes one upstream client. Zero fields take the Default* values.
type Config struct {
	// Timeout bounds one request, reading the body included.
	Timeout time.Duration
	// MaxRetries is how many retries follow the first try on 5xx, 429,
	// timeouts and network errors. Zero means DefaultMaxRetries; a negative
	// value disables retries.
	MaxRetries int
	// BaseBackoff is the first retry's backoff ceiling; it doubles per retry
	// and the actual sleep is drawn uniformly below it (full jitter), so
	// replicas that failed together do not retry together.
	BaseBackoff time.Duration
	// MaxBackoff caps every backoff, an honoured Retry-After included, so a
	// job never sleeps for the hour an upstream may ask for.
	MaxBackoff time.Duration
	// MaxBodyBytes is the largest accepted 2xx body; larger is KindTooLarge.
	MaxBodyBytes int64
	// UserAgent is sent unless the caller's header sets one.
	UserAgent string
	// BreakerFailures is how many consecutive failed requests open the
	// circuit.
	BreakerFailures uint32
	// BreakerCooldown is how long the circuit stays open before one probe
	// request is let through (half-open).
	BreakerCooldown time.Duration
	// Metrics receives per-request counts and latencies; nil disables them.
	Metrics *Metrics
	// Logger hears of each change of the circuit breaker's state, with the
	// failure that caused it: one line when a source goes down and one when
	// it is back, rather than one per request in between. Nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = DefaultBaseBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = DefaultBreakerFailures
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = DefaultBreakerCooldown
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Kind classifies a failed call so callers can report it.
type Kind string

// The kinds of failure. Callers map them to their own outcomes, e.g. a
// provider attempt "timeout" or "rate_limited".
const (
	KindTimeout     Kind = "timeout"
	KindRateLimited Kind = "rate_limited"
	KindHTTP        Kind = "http_status"
	KindNetwork     Kind = "network"
	// KindUnreachable is a network failure before any byte was exchanged:
	// the name did not resolve or the connection was refused.
	KindUnreachable Kind = "unreachable"
	KindCircuitOpen Kind = "circuit_open"
	KindTooLarge    Kind = "too_large"
	KindCanceled    Kind = "canceled"
)

// Error is returned for every failed call.
type Error struct {
	// Source is the client's name, e.g. "yahoo".
	Source string
	Kind   Kind
	// Status is the HTTP status of the last response, 0 when there was none.
	Status int
	// RetryAfter is the wait the upstream asked for on a 429, uncapped.
	RetryAfter time.Duration
	// Body is the start (at most 64 KiB) of a non-2xx response body, for
	// callers that tell errors apart by the upstream's own error object.
	Body []byte
	// Err is the underlying cause, if any.
	Err error
}

// lastFailure is the failure that opened a circuit, as a circuit_open
// error carries it: shown as its detail (the source is named once
// already), and found by errors.As like any cause.
type lastFailure struct{ failure *Error }

func (l *lastFailure) Error() string { return l.failure.detail() }
func (l *lastFailure) Unwrap() error { return l.failure }

// Error describes the failure as "<source>: <kind> (HTTP <status>): <cause>".
func (e *Error) Error() string {
	return e.Source + ": " + e.detail()
}

// detail is the error without its source: "<kind> (HTTP <status>): <cause>".
func (e *Error) detail() string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or "" when err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// StatusOf returns the HTTP status carried by err, or 0 when err is not an
// *Error or no response was received.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Response is a fully-read, size-capped response with a 2xx status.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Client calls one upstream source; it is safe for concurrent use.
type Client struct {
	source  string
	cfg     Config
	http    *http.Client
	breaker *gobreaker.CircuitBreaker[*Response]
	// lastFailure is the latest failure the breaker counted, named in every
	// circuit_open error: "circuit breaker is open" alone hides the DNS
	// error or outage that opened it from everyone who comes later.
	lastFailure atomic.Pointer[Error]
}

// New returns a client named after its source (used in errors, metrics and
// the breaker).
func New(source string, cfg Config) *Client {
	cfg = cfg.withDefaults()
	c := &Client{
		source: source,
		cfg:    cfg,
		// No client-wide Timeout: each attempt gets its own deadline from
		// the context so that the caller's cancellation also applies.
		http: &http.Client{},
	}
	c.breaker = gobreaker.NewCircuitBreaker[*Response](gobreaker.Settings{
		Name:        source,
		MaxRequests: 1,
		Timeout:     cfg.BreakerCooldown,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= cfg.BreakerFailures
		},
		IsSuccessful: upstreamHealthy,
		// The caller giving up says nothing about the upstream's health.
		IsExcluded:    func(err error) bool { return KindOf(err) == KindCanceled },
		OnStateChange: c.logStateChange,
	})
	return c
}

// logStateChange is the one log line of a source's failures: requests
// that fail while the circuit is closed or open are not logged one by one
// (a dashboard view asks every source for every holding), but the state
// change that counted them is, with the failure that tripped it.
//
// Half-open, one probe let through, is no news: the probe's outcome is.
// A failed probe opens the circuit again and logs again, so a source that
// stays down logs once per cooldown.
func (c *Client) logStateChange(_ string, from, to gobreaker.State) {
	switch to {
	case gobreaker.StateOpen:
		attrs := []any{"source", c.source, "from", from.String()}
		if last := c.lastFailure.Load(); last != nil {
			attrs = append(attrs, "last_failure", last.detail())
		}
		c.cfg.Logger.Warn("upstream source failing", attrs...)
	case gobreaker.StateClosed:
		c.cfg.Logger.Info("upstream source recovered", "source", c.source)
	}
}

// upstreamHealthy tells the breaker which outcomes show a working upstream.
// A 4xx other than 429 means the request was wrong (unknown symbol, bad
// key), and an oversized body means we asked for too much: counting those
// as failures would cut every user off because of one bad request.
func upstreamHealthy(err error) bool {
	if err == nil {
		return true
	}
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch {
	case e.Kind == KindTooLarge:
		return true
	case e.Kind == KindHTTP && e.Status >= 400 && e.Status < 500:
		return true
	}
	return false
}

// retryable reports whether trying again could give a different answer.
func retryable(e *Error) bool {
	switch e.Kind {
	case KindTimeout, KindNetwork, KindUnreachable, KindRateLimited:
		return true
	case KindHTTP:
		return e.Status >= 500
	}
	return false
}

// Get performs a GET with retries, backoff and the circuit breaker. Non-2xx
// after retries → *Error. header may be nil. An unparsable URL is a
// programming error and comes back as a plain error, not an *Error.
func (c *Client) Get(ctx context.Context, rawURL string, header http.Header) (*Response, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", c.source, err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}

	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, c.canceled(err)
		}
		resp, err := c.breaker.Execute(func() (*Response, error) { return c.do(ctx, req) })
		if err == nil {
			return resp, nil
		}
		var e *Error
		if !errors.As(err, &e) {
			// Only the breaker itself returns something else: open, or
			// half-open with its single probe already in flight.
			c.cfg.Metrics.observe(c.source, string(KindCircuitOpen), 0, false)
			if last := c.lastFailure.Load(); last != nil {
				// Wrapped, not only named, so that OutcomeOf can tell a
				// source that cannot be reached from one that fails.
				err = fmt.Errorf("%w (last failure: %w)", err, &lastFailure{last})
			}
			return nil, &Error{Source: c.source, Kind: KindCircuitOpen, Err: err}
		}
		if !retryable(e) || attempt >= c.cfg.MaxRetries {
			return nil, e
		}
		wait := Backoff(c.cfg.BaseBackoff, c.cfg.MaxBackoff, attempt)
		if e.Kind == KindRateLimited && e.RetryAfter > 0 {
			wait = min(e.RetryAfter, c.cfg.MaxBackoff)
		}
		if err := Sleep(ctx, wait); err != nil {
			return nil, c.canceled(err)
		}
	}
}

func (c *Client) canceled(err error) *Error {
	return &Error{Source: c.source, Kind: KindCanceled, Err: err}
}

// do makes one request under its own deadline and reads the whole body, so
// that a slow body counts against Timeout like a slow header.
func (c *Client) do(ctx context.Context, req *http.Request) (*Response, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.http.Do(req.Clone(attemptCtx))
	if err != nil {
		return nil, c.finish(start, c.transportError(ctx, attemptCtx, err))
	}
	defer resp.Body.Close()

	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	limit := c.cfg.MaxBodyBytes
	if !ok {
		limit = min(limit, maxErrorBodyBytes)
	}
	if ok && resp.ContentLength > limit {
		return nil, c.finish(start, c.tooLarge(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		e := c.transportError(ctx, attemptCtx, err)
		e.Status = resp.StatusCode
		return nil, c.finish(start, e)
	}
	if int64(len(body)) > limit {
		if ok {
			return nil, c.finish(start, c.tooLarge(resp.StatusCode))
		}
		body = body[:limit]
	}

	if ok {
		c.finish(start, nil)
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
	}
	e := &Error{
		Source: c.source,
		Kind:   KindHTTP,
		Status: resp.StatusCode,
		Body:   body,
		Err:    fmt.Errorf("unexpected status %q", resp.Status),
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.Kind = KindRateLimited
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return nil, c.finish(start, e)
}

func (c *Client) tooLarge(status int) *Error {
	return &Error{
		Source: c.source,
		Kind:   KindTooLarge,
		Status: status,
		Err:    fmt.Errorf("body larger than %d bytes", c.cfg.MaxBodyBytes),
	}
}

// finish records the attempt's metrics, and a failure the breaker counts
// for later circuit_open errors to name, and passes e through; a nil e is
// a success.
func (c *Client) finish(start time.Time, e *Error) *Error {
	outcome := "ok"
	if e != nil {
		outcome = string(e.Kind)
		// The same failures the breaker counts (see New).
		if e.Kind != KindCanceled && !upstreamHealthy(e) {
			c.lastFailure.Store(e)
		}
	}
	c.cfg.Metrics.observe(c.source, outcome, time.Since(start), true)
	return e
}

// transportError classifies a failure to get or read a response. The
// caller's context wins: if it is done, the failure is theirs, not the
// upstream's.
func (c *Client) transportError(ctx, attemptCtx context.Context, err error) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return c.canceled(ctxErr)
	}
	kind := KindNetwork
	var netErr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(attemptCtx.Err(), context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		kind = KindTimeout
	case errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial"):
		kind = KindUnreachable
	}
	return &Error{Source: c.source, Kind: kind, Err: withoutQuery(err)}
}

// withoutQuery drops the query string from the URL that net/http puts in
// its errors: API keys travel there, and these errors end up in logs and in
// job results.
func withoutQuery(err error) error {
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		return err
	}
	redacted := *urlErr
	if u, parseErr := url.Parse(urlErr.URL); parseErr == nil {
		u.RawQuery, u.Fragment, u.User = "", "", nil
		redacted.URL = u.String()
	} else {
		redacted.URL = "(unparsable URL)"
	}
	return &redacted
}
