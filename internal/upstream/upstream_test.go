package upstream

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/testlog"
)

// fake is an upstream whose answers are scripted per hit; hits past the
// script repeat its last step.
type fake struct {
	t     *testing.T
	srv   *httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	steps []http.HandlerFunc
	seen  []http.Header
}

func newFake(t *testing.T, steps ...http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{t: t, steps: steps}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.hits.Add(1)
		f.mu.Lock()
		f.seen = append(f.seen, r.Header.Clone())
		step := f.steps[min(int(n), len(f.steps))-1]
		f.mu.Unlock()
		step(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// script replaces the remaining behaviour of the fake.
func (f *fake) script(steps ...http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = steps
	f.hits.Store(0)
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func rateLimited(retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Edge: Too Many Requests"))
	}
}

// hang blocks until the client goes away, so a timeout test never depends
// on how long the server sleeps.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// fast keeps retries and breaker cooldowns short so tests spend no time
// sleeping; behaviour, not timing, is what they check.
func fast(cfg Config) Config {
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Millisecond
	}
	return cfg
}

func TestGetRetriesAndStatuses(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		steps      []http.HandlerFunc
		wantHits   int64
		wantKind   Kind // "" = success
		wantStatus int
		wantBody   string
	}{
		{
			name:     "5xx then success is retried",
			steps:    []http.HandlerFunc{status(503, "busy"), status(502, "bad gateway"), status(200, `{"ok":true}`)},
			wantHits: 3, wantBody: `{"ok":true}`,
		},
		{
			name:     "5xx until retries run out",
			steps:    []http.HandlerFunc{status(500, "boom")},
			wantHits: 3, wantKind: KindHTTP, wantStatus: 500,
		},
		{
			name:     "retries disabled",
			cfg:      Config{MaxRetries: -1},
			steps:    []http.HandlerFunc{status(500, "boom")},
			wantHits: 1, wantKind: KindHTTP, wantStatus: 500,
		},
		{
			name: "404 is not retried",
			steps: []http.HandlerFunc{status(404,
				`{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}`)},
			wantHits: 1, wantKind: KindHTTP, wantStatus: 404,
		},
		{
			name:     "401 is not retried",
			steps:    []http.HandlerFunc{status(401, `{"error":"Invalid API key"}`)},
			wantHits: 1, wantKind: KindHTTP, wantStatus: 401,
		},
		{
			name:     "429 with Retry-After is retried and then succeeds",
			cfg:      Config{MaxBackoff: 2 * time.Millisecond},
			steps:    []http.HandlerFunc{rateLimited("1"), status(200, "Date,Close\n")},
			wantHits: 2, wantBody: "Date,Close\n",
		},
		{
			name:     "429 until retries run out",
			cfg:      Config{MaxBackoff: 2 * time.Millisecond},
			steps:    []http.HandlerFunc{rateLimited("1")},
			wantHits: 3, wantKind: KindRateLimited, wantStatus: 429,
		},
		{
			name:     "429 without Retry-After uses backoff",
			steps:    []http.HandlerFunc{rateLimited(""), rateLimited(""), status(204, "")},
			wantHits: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.steps...)
			c := New("test", fast(tt.cfg))
			resp, err := c.Get(context.Background(), f.srv.URL, nil)
			require.Equal(t, tt.wantHits, f.hits.Load())
			if tt.wantKind == "" {
				require.NoError(t, err)
				require.Equal(t, tt.wantBody, string(resp.Body))
				return
			}
			require.Nil(t, resp)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tt.wantKind, e.Kind)
			require.Equal(t, tt.wantStatus, e.Status)
			require.Equal(t, "test", e.Source)
			require.Equal(t, tt.wantKind, KindOf(err))
			require.Equal(t, tt.wantStatus, StatusOf(err))
		})
	}
}

func TestRateLimitedErrorKeepsRetryAfterAndBody(t *testing.T) {
	f := newFake(t, rateLimited("120"))
	c := New("yahoo", fast(Config{MaxRetries: -1}))
	_, err := c.Get(context.Background(), f.srv.URL, nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindRateLimited, e.Kind)
	require.Equal(t, 2*time.Minute, e.RetryAfter, "the upstream's wish is reported uncapped")
	require.Equal(t, "Edge: Too Many Requests", string(e.Body))
	require.Equal(t, `yahoo: rate_limited (HTTP 429): unexpected status "429 Too Many Requests"`, e.Error())
}

func TestTimeout(t *testing.T) {
	slowBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = w.Write([]byte("Date,Open"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		retries  int
		wantHits int64
	}{
		{"no response headers", hang, -1, 1},
		{"body stalls after headers", slowBody, -1, 1},
		{"timeouts are retried", hang, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handler)
			c := New("slow", fast(Config{Timeout: 20 * time.Millisecond, MaxRetries: tt.retries}))
			_, err := c.Get(context.Background(), f.srv.URL, nil)
			require.Equal(t, KindTimeout, KindOf(err), "got %v", err)
			require.Equal(t, tt.wantHits, f.hits.Load())
		})
	}
}

func TestBodySizeCap(t *testing.T) {
	chunked := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			// Flushing before writing forces chunked encoding, i.e. no
			// Content-Length to reject early.
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantKind Kind
	}{
		{"at the cap", status(200, strings.Repeat("x", 10)), ""},
		{"over the cap with Content-Length", status(200, strings.Repeat("x", 11)), KindTooLarge},
		{"over the cap, chunked", chunked(strings.Repeat("x", 11)), KindTooLarge},
		{"error bodies are truncated, not rejected", status(404, strings.Repeat("x", 100)), KindHTTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handler)
			c := New("big", fast(Config{MaxBodyBytes: 10}))
			resp, err := c.Get(context.Background(), f.srv.URL, nil)
			require.Equal(t, int64(1), f.hits.Load(), "size problems are never retried")
			if tt.wantKind == "" {
				require.NoError(t, err)
				require.Len(t, resp.Body, 10)
				return
			}
			require.Equal(t, tt.wantKind, KindOf(err), "got %v", err)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.LessOrEqual(t, len(e.Body), 10)
		})
	}
}

func TestNetworkErrorsHideTheQuery(t *testing.T) {
	f := newFake(t, status(200, "ok"))
	f.srv.Close() // connection refused from now on
	_, err := New("keyed", fast(Config{MaxRetries: -1})).Get(context.Background(), f.srv.URL+"/query?apikey=SECRET123&symbol=IBM", nil)
	require.Equal(t, KindUnreachable, KindOf(err), "got %v", err)
	require.NotContains(t, err.Error(), "SECRET123")
	require.Contains(t, err.Error(), "/query")
}

func TestNetworkErrorIsRetried(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil { // the handler's goroutine may not end the test
			t.Error(err)
			return
		}
		conn.Close()
	})
	c := New("flaky", fast(Config{}))
	_, err := c.Get(context.Background(), f.srv.URL, nil)
	require.Equal(t, KindNetwork, KindOf(err), "got %v", err)
	require.Equal(t, int64(3), f.hits.Load())
}

func TestBreaker(t *testing.T) {
	const cooldown = 50 * time.Millisecond
	newClient := func() *Client {
		return New("shaky", fast(Config{MaxRetries: -1, BreakerFailures: 3, BreakerCooldown: cooldown}))
	}
	get := func(c *Client, f *fake) error {
		_, err := c.Get(context.Background(), f.srv.URL, nil)
		return err
	}

	t.Run("opens after consecutive failures and half-opens after the cooldown", func(t *testing.T) {
		f := newFake(t, status(500, "down"))
		c := newClient()
		for range 3 {
			require.Equal(t, KindHTTP, KindOf(get(c, f)))
		}
		require.Equal(t, int64(3), f.hits.Load())

		err := get(c, f)
		require.Equal(t, KindCircuitOpen, KindOf(err))
		require.Equal(t, int64(3), f.hits.Load(), "an open circuit sends no request")

		f.script(status(200, "back"))
		time.Sleep(2 * cooldown)
		require.NoError(t, get(c, f), "the half-open probe goes through")
		require.NoError(t, get(c, f), "a successful probe closes the circuit")
		require.Equal(t, int64(2), f.hits.Load())
	})

	t.Run("a failed probe opens the circuit again", func(t *testing.T) {
		f := newFake(t, status(503, "down"))
		c := newClient()
		for range 3 {
			_ = get(c, f)
		}
		time.Sleep(2 * cooldown)
		require.Equal(t, KindHTTP, KindOf(get(c, f)))
		require.Equal(t, KindCircuitOpen, KindOf(get(c, f)))
		require.Equal(t, int64(4), f.hits.Load())
	})

	t.Run("client errors do not count", func(t *testing.T) {
		f := newFake(t, status(404, "no such symbol"))
		c := newClient()
		for range 10 {
			require.Equal(t, KindHTTP, KindOf(get(c, f)))
		}
		require.Equal(t, int64(10), f.hits.Load())
	})

	t.Run("rate limits count", func(t *testing.T) {
		f := newFake(t, rateLimited(""))
		c := newClient()
		for range 3 {
			require.Equal(t, KindRateLimited, KindOf(get(c, f)))
		}
		require.Equal(t, KindCircuitOpen, KindOf(get(c, f)))
	})

	// Issue 9, defect 10: after one DNS error every later call said only
	// circuit_open, hiding why.
	t.Run("an open circuit names the failure that opened it", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		refused := "http://" + l.Addr().String() + "/quote?apikey=secret"
		require.NoError(t, l.Close())
		c := New("shaky", fast(Config{MaxRetries: -1, BreakerFailures: 1, BreakerCooldown: time.Hour}))
		_, err = c.Get(context.Background(), refused, nil)
		require.Equal(t, KindUnreachable, KindOf(err))

		for range 2 {
			_, err = c.Get(context.Background(), refused, nil)
			require.Equal(t, KindCircuitOpen, KindOf(err))
			require.Equal(t, OutcomeUnreachable, OutcomeOf(err), "open because it cannot be reached")
			require.Regexp(t, `^shaky: circuit_open: circuit breaker is open \(last failure: unreachable: Get "http://127\.0\.0\.1:\d+/quote": .*connection refused\)$`, err.Error())
		}
	})

	t.Run("retries stop once the circuit opens", func(t *testing.T) {
		f := newFake(t, status(500, "down"))
		c := New("shaky", fast(Config{MaxRetries: 10, BreakerFailures: 2, BreakerCooldown: time.Hour}))
		err := get(c, f)
		require.Equal(t, KindCircuitOpen, KindOf(err))
		require.Equal(t, OutcomeCircuitOpen, OutcomeOf(err), "open because it fails, not because it is out of reach")
		require.Equal(t, int64(2), f.hits.Load())
	})
}

// Issue 21, item 15: every request to a failing source logged a line.
// The client logs the breaker's changes instead: once when the source goes
// down, with the failure that tripped it, and once when it is back.
func TestBreakerLogsStateChangesOnly(t *testing.T) {
	f := newFake(t, status(500, "down"), status(500, "down"), status(200, "ok"))
	logs := &testlog.Buffer{}
	c := New("shaky", fast(Config{
		MaxRetries: -1, BreakerFailures: 2, BreakerCooldown: 20 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	}))
	get := func() error {
		_, err := c.Get(context.Background(), f.srv.URL, nil)
		return err
	}
	for range 10 {
		require.Error(t, get())
	}
	require.Equal(t, int64(2), f.hits.Load(), "the open circuit stops the rest")
	require.Equal(t, 1, logs.Count(`"msg":"upstream source failing"`), "%s", logs)
	require.Contains(t, logs.String(), `"last_failure":"http_status (HTTP 500)`)
	require.Eventually(t, func() bool { return get() == nil }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, logs.Count(`"msg":"upstream source recovered"`), "%s", logs)
	require.Equal(t, 2, strings.Count(logs.String(), "\n"), "nothing else: %s", logs)
}

func TestCancellation(t *testing.T) {
	t.Run("canceled before the call", func(t *testing.T) {
		f := newFake(t, status(200, "ok"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := New("c", Config{}).Get(ctx, f.srv.URL, nil)
		require.Equal(t, KindCanceled, KindOf(err))
		require.ErrorIs(t, err, context.Canceled)
		require.Zero(t, f.hits.Load())
	})

	t.Run("canceled during the backoff sleep", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
			cancel()
			w.WriteHeader(503)
		})
		// An hour of backoff: the test only finishes if the sleep wakes
		// up on cancellation.
		c := New("c", Config{BaseBackoff: time.Hour, MaxBackoff: time.Hour})
		_, err := c.Get(ctx, f.srv.URL, nil)
		require.Equal(t, KindCanceled, KindOf(err), "got %v", err)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, int64(1), f.hits.Load())
	})

	t.Run("canceled mid-request does not trip the breaker", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			cancel()
			<-r.Context().Done()
		})
		c := New("c", Config{Timeout: time.Hour, BreakerFailures: 1})
		_, err := c.Get(ctx, f.srv.URL, nil)
		require.Equal(t, KindCanceled, KindOf(err), "got %v", err)

		f.script(status(200, "ok"))
		_, err = c.Get(context.Background(), f.srv.URL, nil)
		require.NoError(t, err)
	})
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		wantUA string
	}{
		{"browser-like UA by default", nil, DefaultUserAgent},
		{"caller's UA wins", http.Header{"User-Agent": {"augur-test/1"}}, "augur-test/1"},
		{"whatever the key's case", http.Header{"user-agent": {"augur-test/2"}}, "augur-test/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, status(200, "ok"))
			header := http.Header{"Accept": {"application/json"}}
			for k, v := range tt.header {
				header[k] = v
			}
			_, err := New("h", Config{}).Get(context.Background(), f.srv.URL, header)
			require.NoError(t, err)
			require.Equal(t, tt.wantUA, f.seen[0].Get("User-Agent"))
			require.Equal(t, "application/json", f.seen[0].Get("Accept"))
		})
	}
}

func TestInvalidURLIsAPlainError(t *testing.T) {
	_, err := New("bad", Config{}).Get(context.Background(), "http://[::1", nil)
	require.Error(t, err)
	require.Empty(t, KindOf(err))
}

func TestConcurrentGets(t *testing.T) {
	f := newFake(t, status(200, "ok"))
	c := New("many", Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.Get(context.Background(), f.srv.URL, nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(20), f.hits.Load())
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	require.Same(t, m.requests, NewMetrics(reg).requests, "registering twice reuses the collectors")

	f := newFake(t, status(503, ""), status(200, "ok"))
	c := New("yahoo", fast(Config{Metrics: m, BreakerFailures: 2, BreakerCooldown: time.Hour}))
	_, err := c.Get(context.Background(), f.srv.URL, nil)
	require.NoError(t, err)
	f.script(status(500, ""))
	_, err = c.Get(context.Background(), f.srv.URL, nil)
	require.Equal(t, KindCircuitOpen, KindOf(err))

	got := map[string]float64{}
	var observations uint64
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, fam := range families {
		for _, metric := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			require.Equal(t, "yahoo", labels["source"])
			switch fam.GetName() {
			case "augur_upstream_requests_total":
				got[labels["outcome"]] = metric.GetCounter().GetValue()
			case "augur_upstream_request_seconds":
				observations = metric.GetHistogram().GetSampleCount()
			}
		}
	}
	// 503, 200; then 500, 500 (the circuit opens) and a refused retry.
	require.Equal(t, map[string]float64{"ok": 1, "http_status": 3, "circuit_open": 1}, got)
	require.Equal(t, uint64(4), observations, "only requests actually sent are timed")
}

func TestErrorUnwrap(t *testing.T) {
	cause := errors.New("connection reset")
	err := error(&Error{Source: "s", Kind: KindNetwork, Err: cause})
	require.ErrorIs(t, err, cause)
	require.Equal(t, "s: network: connection reset", err.Error())
	require.Empty(t, KindOf(cause))
	require.Zero(t, StatusOf(cause))
}
