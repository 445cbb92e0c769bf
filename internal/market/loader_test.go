package market_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/ticker"
	"github.com/augurhq/augur/internal/upstream"
)

// upstreams are the three live providers' fakes. By default each says it
// does not know the ticker, in its own way; Yahoo serves whatever is put in
// its series.
type upstreams struct {
	yahoo, stooq, alphaVantage *market.FakeUpstream

	mu     sync.Mutex
	series map[string][]market.Bar
}

func newUpstreams(t *testing.T) *upstreams {
	u := &upstreams{series: map[string][]market.Bar{}}
	u.yahoo = market.NewFakeUpstream(t, market.YahooHistory(func(ticker string) ([]market.Bar, bool) {
		u.mu.Lock()
		defer u.mu.Unlock()
		bars, ok := u.series[ticker]
		return append([]market.Bar(nil), bars...), ok
	}))
	u.stooq = market.NewFakeUpstream(t, market.Reply(200, "text/plain", "No data"))
	u.alphaVantage = market.NewFakeUpstream(t, market.Reply(200, "application/json",
		`{"Error Message":"Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}`))
	return u
}

// set makes Yahoo serve bars for ticker.
func (u *upstreams) set(ticker string, bars []market.Bar) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.series[ticker] = bars
}

// config points every live provider at its fake, with keys, one try per
// call and a breaker that does not trip unless a test wants it to.
func (u *upstreams) config(sources ...string) market.Config {
	return market.Config{
		Sources:         sources,
		StooqKey:        "test",
		AlphaVantageKey: "test",
		YahooURL:        u.yahoo.URL,
		StooqURL:        u.stooq.URL,
		AlphaVantageURL: u.alphaVantage.URL,
		HTTP:            upstream.Config{Timeout: 5 * time.Second, MaxRetries: -1, BreakerFailures: 100},
	}
}

func newLoader(t *testing.T, cfg market.Config, cache market.Cache) *market.Loader {
	t.Helper()
	l, err := market.NewLoader(cfg, cache, nil, nil)
	require.NoError(t, err)
	return l
}

func outcomes(attempts []market.Attempt) []string {
	out := make([]string, len(attempts))
	for i, a := range attempts {
		out[i] = a.Source + ":" + a.Outcome
	}
	return out
}

func loadError(t *testing.T, err error) *market.LoadError {
	t.Helper()
	var le *market.LoadError
	require.ErrorAs(t, err, &le)
	return le
}

var lastDay = time.Date(2025, 11, 21, 0, 0, 0, 0, time.UTC)

func TestChainFallsThroughInOrder(t *testing.T) {
	u := newUpstreams(t)
	u.yahoo.Handle(market.Reply(503, "text/html", "<html>Service Unavailable</html>"))
	bars := market.TradingDays(lastDay, 30, 100)
	u.stooq.Handle(market.Reply(200, "text/csv", market.StooqCSV(bars)))

	s, err := newLoader(t, u.config(), nil).Load(context.Background(), "aapl")
	require.NoError(t, err)
	require.Equal(t, "AAPL", s.Ticker)
	require.Equal(t, "stooq", s.Source)
	require.True(t, s.Live)
	require.Equal(t, bars, s.Bars)
	require.Equal(t, bars[0].Date, s.First)
	require.Equal(t, lastDay, s.Last)
	require.Equal(t, []string{"yahoo:error", "stooq:ok"}, outcomes(s.Attempts))
	require.Equal(t, "source answered an error", s.Attempts[0].Reason, "the 503's detail is for the logs")
	require.Zero(t, u.alphaVantage.Hits(), "the chain stops at the first provider that delivers")
}

func TestChainOutcomes(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(u *upstreams, cfg *market.Config)
		ticker       string
		wantSource   string // "" = the load fails
		wantOutcomes []string
		wantErr      error
		// wantTransient: a provider failed for now, so the job retries.
		wantTransient bool
	}{
		{
			name: "providers without a key are skipped without a request",
			setup: func(u *upstreams, cfg *market.Config) {
				cfg.StooqKey, cfg.AlphaVantageKey = "", ""
			},
			ticker:       "MSFT",
			wantSource:   "sample",
			wantOutcomes: []string{"yahoo:not_found", "stooq:no_key", "alphavantage:no_key", "sample:ok"},
		},
		{
			name: "every provider that answered does not know the ticker",
			setup: func(u *upstreams, cfg *market.Config) {
				cfg.StooqKey = ""
			},
			ticker:       "ZZZZ",
			wantOutcomes: []string{"yahoo:not_found", "stooq:no_key", "alphavantage:not_found", "sample:not_found"},
			wantErr:      market.ErrNoSuchTicker,
		},
		{
			name: "rate limits, timeouts and a full-history answer without bars",
			setup: func(u *upstreams, cfg *market.Config) {
				u.yahoo.Handle(market.YahooRateLimited("30"))
				u.stooq.Handle(market.Hang)
				u.alphaVantage.Handle(market.Reply(200, "application/json",
					`{"Information":"Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day."}`))
				cfg.HTTP.Timeout = 50 * time.Millisecond
				cfg.HTTP.MaxBackoff = time.Millisecond
			},
			ticker:        "ZZZZ",
			wantOutcomes:  []string{"yahoo:rate_limited", "stooq:timeout", "alphavantage:rate_limited", "sample:not_found"},
			wantErr:       market.ErrNoData,
			wantTransient: true,
		},
		{
			name: "not found and an error is no data, not an unknown ticker",
			setup: func(u *upstreams, cfg *market.Config) {
				u.stooq.Handle(market.Reply(200, "text/plain", "Exceeded the daily hits limit"))
				u.alphaVantage.Handle(market.Reply(200, "application/json", `{"Meta Data":{}`))
			},
			ticker:        "ZZZZ",
			wantOutcomes:  []string{"yahoo:not_found", "stooq:rate_limited", "alphavantage:error", "sample:not_found"},
			wantErr:       market.ErrNoData,
			wantTransient: true,
		},
		{
			// Issue 21: offline, the live sources cannot be reached and
			// the sample lacks the ticker; the job failed only after 4
			// attempts and 106 s.
			name: "unreachable sources say nothing: the sample's not found is final",
			setup: func(u *upstreams, cfg *market.Config) {
				cfg.YahooURL, cfg.StooqURL = closedPort(t), closedPort(t)
				cfg.Sources = []string{"yahoo", "stooq", "sample"}
			},
			ticker:       "ZZZZ",
			wantOutcomes: []string{"yahoo:unreachable", "stooq:unreachable", "sample:not_found"},
			wantErr:      market.ErrNoSuchTicker,
		},
		{
			name: "a source that timed out may know the ticker",
			setup: func(u *upstreams, cfg *market.Config) {
				cfg.YahooURL = closedPort(t)
				u.stooq.Handle(market.Hang)
				cfg.Sources = []string{"yahoo", "stooq", "sample"}
				cfg.HTTP.Timeout = 50 * time.Millisecond
				cfg.HTTP.MaxRetries = -1
			},
			ticker:        "ZZZZ",
			wantOutcomes:  []string{"yahoo:unreachable", "stooq:timeout", "sample:not_found"},
			wantErr:       market.ErrNoData,
			wantTransient: true,
		},
		{
			name: "nobody reachable: no verdict, try again",
			setup: func(u *upstreams, cfg *market.Config) {
				cfg.YahooURL = closedPort(t)
				cfg.Sources = []string{"yahoo"}
			},
			ticker:        "IBM",
			wantOutcomes:  []string{"yahoo:unreachable"},
			wantErr:       market.ErrNoData,
			wantTransient: true,
		},
		{
			name: "nobody could be asked",
			setup: func(u *upstreams, cfg *market.Config) {
				cfg.Sources = []string{"stooq", "alphavantage"}
				cfg.StooqKey, cfg.AlphaVantageKey = "", ""
			},
			ticker:       "IBM",
			wantOutcomes: []string{"stooq:no_key", "alphavantage:no_key"},
			wantErr:      market.ErrNoData,
		},
		{
			name: "csv folder before the sample",
			setup: func(u *upstreams, cfg *market.Config) {
				cfg.Sources = []string{"csv", "sample"}
				cfg.DataDir = filepath.Join("testdata", "csv")
			},
			ticker:       "MSFT",
			wantSource:   "csv",
			wantOutcomes: []string{"csv:ok"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstreams(t)
			cfg := u.config()
			tt.setup(u, &cfg)
			s, err := newLoader(t, cfg, nil).Load(context.Background(), tt.ticker)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				if tt.wantErr == market.ErrNoData {
					require.NotErrorIs(t, err, market.ErrNoSuchTicker)
				}
				require.Equal(t, tt.wantOutcomes, outcomes(loadError(t, err).Attempts))
				require.Equal(t, tt.wantTransient, market.Transient(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantSource, s.Source)
			require.False(t, s.Live, "sample and csv data are not live")
			require.Equal(t, tt.wantOutcomes, outcomes(s.Attempts))
			if cfg.StooqKey == "" {
				require.Zero(t, u.stooq.Hits())
			}
		})
	}
}

func TestChainSkipsAnOpenCircuit(t *testing.T) {
	u := newUpstreams(t)
	u.yahoo.Handle(market.Reply(500, "text/plain", "boom"))
	u.stooq.Handle(market.Reply(200, "text/csv", market.StooqCSV(market.TradingDays(lastDay, 5, 10))))
	cfg := u.config()
	cfg.HTTP.BreakerFailures = 1
	cfg.HTTP.BreakerCooldown = time.Hour
	l := newLoader(t, cfg, nil)

	s, err := l.Load(context.Background(), "AAPL")
	require.NoError(t, err)
	require.Equal(t, []string{"yahoo:error", "stooq:ok"}, outcomes(s.Attempts))

	s, err = l.Load(context.Background(), "MSFT")
	require.NoError(t, err)
	require.Equal(t, []string{"yahoo:circuit_open", "stooq:ok"}, outcomes(s.Attempts))
	require.Equal(t, 1, u.yahoo.Hits(), "an open circuit sends nothing")
}

func TestLoadRejectsBadTickersWithoutARequest(t *testing.T) {
	u := newUpstreams(t)
	l := newLoader(t, u.config(), nil)
	for _, symbol := range []string{"", "../../etc/passwd", "A B", "<script>", "^", "^^^^"} {
		_, err := l.Load(context.Background(), symbol)
		require.ErrorIs(t, err, ticker.ErrInvalid, symbol)
	}
	require.Zero(t, u.yahoo.Hits())
}

func TestLoadStopsWhenTheCallerGivesUp(t *testing.T) {
	u := newUpstreams(t)
	ctx, cancel := context.WithCancel(context.Background())
	requestEnded := make(chan struct{})
	u.yahoo.Handle(func(w http.ResponseWriter, r *http.Request) {
		defer close(requestEnded)
		cancel()
		market.Hang(w, r)
	})
	cfg := u.config()
	cfg.HTTP.Timeout = time.Hour // only the cancellation can end the request
	_, err := newLoader(t, cfg, nil).Load(ctx, "AAPL")
	require.ErrorIs(t, err, context.Canceled)
	select {
	case <-requestEnded:
	case <-time.After(30 * time.Second):
		t.Fatal("the upstream request outlived the only caller")
	}
}

func TestASharedLoadSurvivesOneCallerLeaving(t *testing.T) {
	u := newUpstreams(t)
	bars := market.TradingDays(lastDay, 10, 10)
	released := make(chan struct{})
	u.yahoo.Handle(func(w http.ResponseWriter, r *http.Request) {
		<-released
		market.YahooHistory(func(string) ([]market.Bar, bool) { return bars, true })(w, r)
	})
	l := newLoader(t, u.config(), nil)

	leaving, leave := context.WithCancel(context.Background())
	leftErr := make(chan error)
	go func() {
		_, err := l.Load(leaving, "AAPL")
		leftErr <- err
	}()
	require.Eventually(t, func() bool { return u.yahoo.Hits() == 1 }, 10*time.Second, time.Millisecond)
	stayed := make(chan loaded)
	go func() { stayed <- load(l, "AAPL") }()
	require.Eventually(t, func() bool { return l.Waiters("AAPL") == 2 }, 10*time.Second, time.Millisecond)
	leave()
	require.ErrorIs(t, <-leftErr, context.Canceled)
	close(released)

	s := (<-stayed).series(t)
	require.Equal(t, bars, s.Bars)
	require.Equal(t, 1, u.yahoo.Hits(), "the remaining caller got the shared load, not a new one")
}

func TestNewLoader(t *testing.T) {
	tests := []struct {
		name    string
		cfg     market.Config
		wantErr string
	}{
		{name: "defaults", cfg: market.Config{}},
		{name: "every source", cfg: market.Config{Sources: market.SourceNames(), DataDir: "testdata/csv"}},
		{name: "names are case-insensitive", cfg: market.Config{Sources: []string{"Yahoo", " SAMPLE "}}},
		{name: "unknown source", cfg: market.Config{Sources: []string{"yahoo", "bloomberg"}}, wantErr: `unknown price source "bloomberg"`},
		{name: "repeated source", cfg: market.Config{Sources: []string{"sample", "yahoo", "sample"}}, wantErr: "listed twice"},
		{name: "csv without DATA_DIR", cfg: market.Config{Sources: []string{"csv"}}, wantErr: "DATA_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := market.NewLoader(tt.cfg, nil, nil, nil)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, l)
		})
	}
	require.Equal(t, []string{"yahoo", "stooq", "alphavantage", "sample"}, market.DefaultSources())
	require.Subset(t, market.SourceNames(), market.DefaultSources())
}

func TestLoadErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *market.LoadError
		want string
	}{
		{
			name: "no data",
			err: &market.LoadError{Ticker: "MSFT", Err: market.ErrNoData,
				Attempts: []market.Attempt{{Source: "yahoo", Outcome: "timeout"}, {Source: "stooq", Outcome: "no_key"}}},
			want: "no price data for MSFT (yahoo: timeout; stooq: no_key)",
		},
		{
			name: "no such ticker",
			err: &market.LoadError{Ticker: "ZZZZ", Err: market.ErrNoSuchTicker,
				Attempts: []market.Attempt{{Source: "yahoo", Outcome: "not_found"}}},
			want: "no such ticker ZZZZ (yahoo: not_found)",
		},
		{
			name: "bundled tickers",
			err: &market.LoadError{Ticker: "AAPL", Err: market.ErrNoSuchTicker, Bundled: []string{"IBM", "^GSPC"},
				Attempts: []market.Attempt{{Source: "sample", Outcome: "not_found"}}},
			want: "no such ticker AAPL (sample: not_found); the bundled sample data has only IBM and ^GSPC",
		},
		{
			name: "caller gave up",
			err: &market.LoadError{Ticker: "MSFT", Err: context.DeadlineExceeded,
				Attempts: []market.Attempt{{Source: "yahoo", Outcome: "timeout"}}},
			want: "load prices for MSFT: context deadline exceeded (yahoo: timeout)",
		},
		{
			name: "no attempt made",
			err:  &market.LoadError{Ticker: "MSFT", Err: context.Canceled},
			want: "load prices for MSFT: context canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.err.Error())
			require.ErrorIs(t, tt.err, tt.err.Err)
		})
	}
}

// An unknown ticker offline: Yahoo unreachable, no keys for Stooq and Alpha
// Vantage, and a sample that does not have it. The error says so at once, in one
// sentence and names every ticker the sample data has.
func TestOfflineUnknownTickerNamesTheBundledTickers(t *testing.T) {
	unreachable := httptest.NewServer(http.NotFoundHandler())
	unreachable.Close()
	cfg := market.Config{
		YahooURL: unreachable.URL,
		HTTP:     upstream.Config{Timeout: 5 * time.Second, MaxRetries: -1},
	}
	_, err := newLoader(t, cfg, nil).Load(context.Background(), "aapl")
	// Issue 21: this was "no price data", retried for 106 s; an unreachable
	// Yahoo says nothing, so the sample's "not found" is the answer.
	require.ErrorIs(t, err, market.ErrNoSuchTicker)
	require.False(t, market.Transient(err))
	require.EqualError(t, err, "no such ticker AAPL (yahoo: unreachable; stooq: no_key; alphavantage: no_key; sample: not_found); "+
		"the bundled sample data has only AA, AXP, BA, C, CAT, DD, DIS, EK, GE, GM, HD, HON, HWP, IBM, INTC, IP, JNJ, JPM, "+
		"KO, MCD, MMM, MO, MRK, MSFT, PG, SBC, T, UTX, WMT, XOM and ^GSPC")

	bundled, tickersErr := market.NewSample().Tickers()
	require.NoError(t, tickersErr)
	require.Equal(t, bundled, loadError(t, err).Bundled, "the list comes from the sample data")
}

func TestBundledTickersOnlyWhenTheSampleWasAsked(t *testing.T) {
	u := newUpstreams(t)
	_, err := newLoader(t, u.config("yahoo"), nil).Load(context.Background(), "AAPL")
	require.ErrorIs(t, err, market.ErrNoSuchTicker)
	require.Empty(t, loadError(t, err).Bundled)
	require.EqualError(t, err, "no such ticker AAPL (yahoo: not_found)")
}

// period1 returns the since a Yahoo request asked for, or the zero time
// for a full-history request.
func period1(t *testing.T, u *upstreams, request int) time.Time {
	t.Helper()
	q := u.yahoo.Requests()[request].Query()
	if q.Get("range") == "max" {
		return time.Time{}
	}
	secs, err := strconv.ParseInt(q.Get("period1"), 10, 64)
	require.NoError(t, err)
	return time.Unix(secs, 0).UTC()
}

// closedPort returns the URL of a port nothing listens on: connecting is
// refused, as it is offline for a source whose host cannot be reached.
func closedPort(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}
