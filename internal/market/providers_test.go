package market

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

// testNow is the clock of the provider tests: a Monday evening.
var testNow = time.Date(2025, 11, 24, 22, 0, 0, 0, time.UTC)

// testHTTP keeps retries fast; timeouts are generous except where a test
// is about them, because the race detector on a busy machine is slow.
func testHTTP(timeout time.Duration) upstream.Config {
	return upstream.Config{Timeout: timeout, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

// providerCase is one fake-server scenario for a provider.
type providerCase struct {
	name     string
	handler  http.HandlerFunc
	since    time.Time
	timeout  time.Duration // 0 = 5s
	wantBars int
	wantErr  error         // checked with errors.Is
	wantKind upstream.Kind // checked with upstream.KindOf
	wantHits int
}

func runProviderCases(t *testing.T, build func(base string, http upstream.Config) Provider, ticker string, cases []providerCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := NewFakeUpstream(t, tc.handler)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			cfg := testHTTP(timeout)
			reg := prometheus.NewRegistry()
			cfg.Metrics = upstream.NewMetrics(reg)
			p := build(fake.URL, cfg)
			bars, err := p.History(context.Background(), ticker, tc.since)
			require.Equal(t, tc.wantHits, attempts(t, reg), "requests sent")
			if tc.timeout == 0 {
				require.Equal(t, tc.wantHits, fake.Hits(), "requests received")
			} else {
				// A request the client gives up on before the server has
				// read it never reaches the handler, so on a busy machine
				// the server may count fewer than were sent.
				require.LessOrEqual(t, fake.Hits(), tc.wantHits, "requests received")
			}
			switch {
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
			case tc.wantKind != "":
				require.Equal(t, tc.wantKind, upstream.KindOf(err), "got %v", err)
			default:
				require.NoError(t, err)
				require.Len(t, bars, tc.wantBars)
			}
		})
	}
}

// attempts counts the requests the upstream client made, as its metrics
// recorded them: the client's own count, which a timed-out request cannot
// escape the way it can escape the fake server's.
func attempts(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	n := 0.0
	for _, f := range families {
		if f.GetName() != "augur_upstream_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return int(n)
}

func TestYahooProvider(t *testing.T) {
	build := func(base string, cfg upstream.Config) Provider {
		return &yahoo{base: base, http: upstream.New("yahoo", cfg), now: func() time.Time { return testNow }}
	}
	example := string(testdata(t, "yahoo/aapl_5d.json"))
	runProviderCases(t, build, "AAPL", []providerCase{
		{name: "happy path", handler: Reply(200, "application/json", example), wantBars: 3, wantHits: 1},
		{name: "unknown symbol (404)", handler: Reply(404, "application/json", YahooNotFound), wantErr: ErrNoSuchTicker, wantHits: 1},
		{name: "window without data (400)", handler: Reply(400, "application/json", string(testdata(t, "yahoo/bad_request.json"))), since: testNow, wantBars: 0, wantHits: 1},
		{name: "other 4xx is an error, not retried", handler: Reply(422, "application/json", string(testdata(t, "yahoo/intraday_limit.json"))), wantKind: upstream.KindHTTP, wantHits: 1},
		{name: "401 with a non-JSON body", handler: Reply(401, "text/html", "<html>denied</html>"), wantKind: upstream.KindHTTP, wantHits: 1},
		{name: "429 honours Retry-After and retries", handler: Sequence(YahooRateLimited("1"), Reply(200, "application/json", example)), wantBars: 3, wantHits: 2},
		{name: "429 until retries run out", handler: YahooRateLimited(""), wantKind: upstream.KindRateLimited, wantHits: 3},
		{name: "5xx until retries run out", handler: Reply(502, "text/html", "<html>Bad Gateway</html>"), wantKind: upstream.KindHTTP, wantHits: 3},
		{name: "slow upstream", handler: Hang, timeout: 30 * time.Millisecond, wantKind: upstream.KindTimeout, wantHits: 3},
		{name: "truncated body", handler: Reply(200, "application/json", example[:300]), wantErr: ErrMalformed, wantHits: 1},
		{name: "consent page instead of JSON", handler: Reply(200, "text/html", "<html>Before you continue</html>"), wantErr: ErrMalformed, wantHits: 1},
	})

	t.Run("request shape", func(t *testing.T) {
		fake := NewFakeUpstream(t, Reply(200, "application/json", string(YahooChart("^GSPC", nil))))
		p := build(fake.URL, testHTTP(5*time.Second))
		since := time.Date(2025, 11, 17, 0, 0, 0, 0, time.UTC)
		for _, s := range []time.Time{{}, since} {
			_, err := p.History(context.Background(), "^GSPC", s)
			require.NoError(t, err)
		}
		reqs := fake.Requests()
		require.Len(t, reqs, 2)
		require.Equal(t, "/v8/finance/chart/%5EGSPC", reqs[0].EscapedPath())
		full, tail := reqs[0].Query(), reqs[1].Query()
		require.Equal(t, "max", full.Get("range"))
		require.Equal(t, "1d", full.Get("interval"))
		require.Empty(t, full.Get("period1"))
		require.Equal(t, strconv.FormatInt(since.Unix(), 10), tail.Get("period1"))
		require.Equal(t, strconv.FormatInt(time.Date(2025, 11, 25, 0, 0, 0, 0, time.UTC).Unix(), 10), tail.Get("period2"))
		require.Empty(t, tail.Get("range"))
		require.Equal(t, upstream.DefaultUserAgent, fake.UserAgents()[0], "Yahoo answers 429 to non-browser agents")
	})
}

func TestStooqProvider(t *testing.T) {
	build := func(base string, cfg upstream.Config) Provider {
		return &stooq{base: base, key: "test", http: upstream.New("stooq", cfg), now: func() time.Time { return testNow }}
	}
	example := string(testdata(t, "stooq/aapl.csv"))
	runProviderCases(t, build, "AAPL", []providerCase{
		{name: "happy path", handler: Reply(200, "text/csv", example), wantBars: 3, wantHits: 1},
		{name: "unknown symbol (200 No data)", handler: Reply(200, "text/plain", "No data"), wantErr: ErrNoSuchTicker, wantHits: 1},
		{name: "No data in a tail window is just nothing new", handler: Reply(200, "text/plain", "No data"), since: testNow, wantBars: 0, wantHits: 1},
		{name: "daily limit (200)", handler: Reply(200, "text/plain", "Exceeded the daily hits limit"), wantErr: upstream.ErrRateLimited, wantHits: 1},
		{name: "API key page (200)", handler: Reply(200, "text/html", string(testdata(t, "stooq/apikey.html"))), wantErr: ErrKeyRejected, wantHits: 1},
		{name: "proof-of-work wall (200)", handler: Reply(200, "text/html", string(testdata(t, "stooq/pow.html"))), wantErr: ErrMalformed, wantHits: 1},
		{name: "429 with Retry-After", handler: Sequence(YahooRateLimited("1"), Reply(200, "text/csv", example)), wantBars: 3, wantHits: 2},
		{name: "slow upstream", handler: Hang, timeout: 30 * time.Millisecond, wantKind: upstream.KindTimeout, wantHits: 3},
		{name: "garbage body", handler: Reply(200, "application/octet-stream", "\x00\x01\x02garbage"), wantErr: ErrMalformed, wantHits: 1},
	})

	t.Run("no key means no request", func(t *testing.T) {
		fake := NewFakeUpstream(t, Reply(200, "text/csv", example))
		p := &stooq{base: fake.URL, http: upstream.New("stooq", testHTTP(time.Second)), now: time.Now}
		_, err := p.History(context.Background(), "AAPL", time.Time{})
		require.ErrorIs(t, err, upstream.ErrNoKey)
		require.Zero(t, fake.Hits())
	})

	t.Run("request shape", func(t *testing.T) {
		fake := NewFakeUpstream(t, Reply(200, "text/csv", example))
		p := build(fake.URL, testHTTP(5*time.Second))
		_, err := p.History(context.Background(), "BRK-B", time.Date(2025, 11, 17, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		req := fake.Requests()[0]
		require.Equal(t, "/q/d/l/", req.Path)
		q := req.Query()
		require.Equal(t, "brk-b.us", q.Get("s"))
		require.Equal(t, "d", q.Get("i"))
		require.Equal(t, "test", q.Get("apikey"))
		require.Equal(t, "20251117", q.Get("d1"))
		require.Equal(t, "20251125", q.Get("d2"))
	})
}

func TestStooqSymbol(t *testing.T) {
	tests := map[string]string{
		"AAPL":   "aapl.us",
		"BRK-B":  "brk-b.us",
		"BARC.L": "barc.uk",
		"SAP.DE": "sap.de",
		"7203.T": "7203.jp",
		"^GSPC":  "^spx",
		"^DAX":   "^dax",
		"XYZ.PA": "xyz.pa",
	}
	for in, want := range tests {
		require.Equal(t, want, stooqSymbol(in), in)
	}
}

func TestAlphaVantageProvider(t *testing.T) {
	build := func(base string, cfg upstream.Config) Provider {
		return &alphaVantage{base: base, key: "test", http: upstream.New("alphavantage", cfg), now: func() time.Time { return testNow }}
	}
	example := string(testdata(t, "alphavantage/ibm_daily.json"))
	body := func(name string) http.HandlerFunc {
		return Reply(200, "application/json", string(testdata(t, "alphavantage/"+name)))
	}
	runProviderCases(t, build, "IBM", []providerCase{
		{name: "happy path", handler: Reply(200, "application/json", example), wantBars: 2, wantHits: 1},
		{name: "rate limit (200 Information)", handler: body("rate_limit.json"), wantErr: upstream.ErrRateLimited, wantHits: 1},
		{name: "rate limit (200 Note)", handler: body("note.json"), wantErr: upstream.ErrRateLimited, wantHits: 1},
		{name: "bad symbol (200 Error Message)", handler: body("error_message.json"), wantErr: ErrNoSuchTicker, wantHits: 1},
		{name: "demo key (200 Information)", handler: body("demo.json"), wantErr: ErrKeyRejected, wantHits: 1},
		{name: "429 with Retry-After", handler: Sequence(YahooRateLimited("1"), Reply(200, "application/json", example)), wantBars: 2, wantHits: 2},
		{name: "slow upstream", handler: Hang, timeout: 30 * time.Millisecond, wantKind: upstream.KindTimeout, wantHits: 3},
		{name: "truncated body", handler: Reply(200, "application/json", example[:120]), wantErr: ErrMalformed, wantHits: 1},
		{name: "premium on full falls back to compact", handler: Sequence(body("premium.json"), Reply(200, "application/json", example)), wantBars: 2, wantHits: 2},
	})

	t.Run("no key means no request", func(t *testing.T) {
		fake := NewFakeUpstream(t, Reply(200, "application/json", example))
		p := &alphaVantage{base: fake.URL, http: upstream.New("alphavantage", testHTTP(time.Second)), now: time.Now}
		_, err := p.History(context.Background(), "IBM", time.Time{})
		require.ErrorIs(t, err, upstream.ErrNoKey)
		require.Zero(t, fake.Hits())
	})

	t.Run("output size follows the window and remembers a free key", func(t *testing.T) {
		fake := NewFakeUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("outputsize") == "full" {
				body("premium.json")(w, r)
				return
			}
			Reply(200, "application/json", example)(w, r)
		})
		p := build(fake.URL, testHTTP(5*time.Second))
		ctx := context.Background()
		_, err := p.History(ctx, "IBM", testNow.AddDate(0, 0, -10)) // recent tail: compact
		require.NoError(t, err)
		_, err = p.History(ctx, "IBM", time.Time{}) // full is premium: full, then compact
		require.NoError(t, err)
		_, err = p.History(ctx, "IBM", time.Time{}) // known free key: compact only
		require.NoError(t, err)

		var sizes []string
		for _, r := range fake.Requests() {
			q := r.Query()
			require.Equal(t, "TIME_SERIES_DAILY", q.Get("function"))
			require.Equal(t, "IBM", q.Get("symbol"))
			require.Equal(t, "test", q.Get("apikey"))
			sizes = append(sizes, q.Get("outputsize"))
		}
		require.Equal(t, []string{"compact", "full", "compact", "compact"}, sizes)
	})
}
