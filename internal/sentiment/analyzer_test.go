package sentiment

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/testlog"
)

// aaplOnReddit is a Tradestie list in which AAPL appears.
const aaplOnReddit = `[{"no_of_comments":97,"sentiment":"Bullish","sentiment_score":0.141,"ticker":"AAPL"},{"no_of_comments":150,"sentiment":"Bearish","sentiment_score":-0.092,"ticker":"TSLA"}]`

// world is one fake per source, each answering like its real upstream, and
// a Config pointing at them with every key set.
type world struct {
	fakes map[string]*fakeAPI
	cfg   Config
}

// happyRoutes are the realistic samples. For AAPL they give finviz 4
// articles, eodhd 3, alphavantage 2, tradestie 1, finnhub 3 (social + 2
// news), stockgeist 2 and google 2.
func happyRoutes(t *testing.T) map[string]map[string]reply {
	return map[string]map[string]reply{
		"finviz":       {"/quote.ashx": {body: sample(t, "finviz_quote.html")}},
		"eodhd":        {"/sentiments": {body: sample(t, "eodhd_sentiments.json")}},
		"alphavantage": {"/query": {body: sample(t, "alphavantage_news.json")}},
		"tradestie":    {"/apps/reddit": {body: aaplOnReddit}},
		"finnhub": {
			"/company-news":           {body: sample(t, "finnhub_company_news.json")},
			"/stock/social-sentiment": {body: sample(t, "finnhub_social.json")},
		},
		"stockgeist": {"/time-series/message-metrics": {body: sample(t, "stockgeist_message_metrics.json")}},
		"google":     {"/rss/search": {body: sample(t, "google_news.rss")}},
	}
}

// newWorld starts the fakes; override replaces the routes of the sources it
// names.
func newWorld(t *testing.T, override map[string]map[string]reply) *world {
	t.Helper()
	routes := happyRoutes(t)
	maps.Copy(routes, override)
	w := &world{
		fakes: make(map[string]*fakeAPI),
		cfg: Config{
			EODHDKey: testKey, AlphaVantageKey: testKey, FinnhubKey: testKey, StockGeistKey: testKey,
			HTTP: testHTTP(),
		},
	}
	for _, name := range SourceNames() {
		w.fakes[name] = newFake(t, routes[name])
	}
	w.cfg.FinvizURL = w.fakes["finviz"].URL
	w.cfg.EODHDURL = w.fakes["eodhd"].URL
	w.cfg.AlphaVantageURL = w.fakes["alphavantage"].URL
	w.cfg.TradestieURL = w.fakes["tradestie"].URL
	w.cfg.FinnhubURL = w.fakes["finnhub"].URL
	w.cfg.StockGeistURL = w.fakes["stockgeist"].URL
	w.cfg.GoogleNewsURL = w.fakes["google"].URL
	return w
}

func (w *world) analyzer(t *testing.T, rdb *redis.Client) *Analyzer {
	t.Helper()
	a, err := New(w.cfg, rdb, slog.New(slog.NewTextHandler(t.Output(), nil)))
	require.NoError(t, err)
	return a
}

// hits returns how many requests each source's fake got.
func (w *world) hits() map[string]int {
	out := make(map[string]int, len(w.fakes))
	for name, f := range w.fakes {
		out[name] = int(f.hits.Load())
	}
	return out
}

// bySource maps each source of a report to one field of its status.
func bySource[T any](r *Report, field func(SourceStatus) T) map[string]T {
	out := make(map[string]T, len(r.Sources))
	for _, s := range r.Sources {
		out[s.Source] = field(s)
	}
	return out
}

// statuses maps each source of a report to its status.
func statuses(r *Report) map[string]string {
	return bySource(r, func(s SourceStatus) string { return s.Status })
}

// articleCounts maps each source of a report to the articles it gave.
func articleCounts(r *Report) map[string]int {
	return bySource(r, func(s SourceStatus) int { return s.Articles })
}

// sourceOrder lists a report's sources in the order they were walked.
func sourceOrder(r *Report) []string {
	out := make([]string, len(r.Sources))
	for i, s := range r.Sources {
		out[i] = s.Source
	}
	return out
}

func TestAnalyzeFallsThroughInOrder(t *testing.T) {
	w := newWorld(t, map[string]map[string]reply{
		"finviz":       {"/quote.ashx": {status: http.StatusServiceUnavailable, body: "upstream down"}},
		"alphavantage": {"/query": {body: `{"Information":"Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day."}`}},
	})
	w.cfg.EODHDKey = ""
	report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "aapl"})
	require.NoError(t, err)

	require.Equal(t, "AAPL", report.Ticker)
	require.Equal(t, SourceNames(), sourceOrder(report))
	require.Equal(t, map[string]string{
		"finviz": StatusError, "eodhd": StatusNoKey, "alphavantage": StatusRateLimited,
		"tradestie": StatusOK, "finnhub": StatusOK, "stockgeist": StatusOK, "google": StatusOK,
	}, statuses(report))
	require.Equal(t, map[string]int{
		"finviz": 0, "eodhd": 0, "alphavantage": 0, "tradestie": 1, "finnhub": 3, "stockgeist": 2, "google": 2,
	}, articleCounts(report))
	require.Len(t, report.Articles, 8)
	require.Equal(t, "tradestie", report.Articles[0].Source, "articles keep the priority order")
	require.Zero(t, w.hits()["eodhd"], "a source without a key is never called")
	require.Equal(t, report.Positive+report.Negative+report.Neutral, len(report.Articles))
	for _, s := range report.Sources {
		if s.Status != StatusOK && s.Status != StatusNoKey {
			require.NotEmpty(t, s.Reason, s.Source)
			require.NotContains(t, s.Reason, testKey)
		}
	}
}

func TestAnalyzeStopsAtNumArticles(t *testing.T) {
	cases := []struct {
		num      int
		articles map[string]int // sources that gave articles; every later one is skipped
	}{
		{num: 3, articles: map[string]int{"finviz": 3}},
		{num: 4, articles: map[string]int{"finviz": 4}},
		{num: 6, articles: map[string]int{"finviz": 4, "eodhd": 2}},
		{num: 9, articles: map[string]int{"finviz": 4, "eodhd": 3, "alphavantage": 2}},
	}
	for _, tc := range cases {
		t.Run("", func(t *testing.T) {
			w := newWorld(t, nil)
			report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "AAPL", NumArticles: tc.num})
			require.NoError(t, err)
			require.Len(t, report.Articles, tc.num)
			hits := w.hits()
			for _, s := range report.Sources {
				if n, reached := tc.articles[s.Source]; reached {
					require.Equal(t, StatusOK, s.Status, s.Source)
					require.Equal(t, n, s.Articles, s.Source)
					continue
				}
				require.Equal(t, StatusSkipped, s.Status, s.Source)
				require.Contains(t, s.Reason, "already collected")
				require.Zero(t, hits[s.Source], "%s was skipped but called", s.Source)
			}
		})
	}
}

func TestAnalyzeSkipsOpenCircuit(t *testing.T) {
	w := newWorld(t, map[string]map[string]reply{
		"finviz": {"/quote.ashx": {status: http.StatusBadGateway, body: "bad gateway"}},
	})
	w.cfg.Sources = []string{"finviz", "google"}
	w.cfg.HTTP.BreakerFailures = 1
	w.cfg.HTTP.BreakerCooldown = time.Hour
	a := w.analyzer(t, nil)

	first, err := a.Analyze(t.Context(), Request{Ticker: "MSFT"})
	require.NoError(t, err)
	require.Equal(t, StatusError, statuses(first)["finviz"])

	second, err := a.Analyze(t.Context(), Request{Ticker: "MSFT"})
	require.NoError(t, err)
	require.Equal(t, StatusCircuitOpen, statuses(second)["finviz"])
	require.Equal(t, StatusOK, statuses(second)["google"])
	require.Equal(t, 1, w.hits()["finviz"], "the open circuit sent no request")
}

func TestAnalyzePresets(t *testing.T) {
	cases := []struct {
		preset      string
		numArticles int
		sources     []string
		articles    map[string]int
	}{
		{preset: "hft", sources: []string{"finviz"}, articles: map[string]int{"finviz": 4}},
		{preset: "retail", sources: []string{"tradestie", "finviz"}, articles: map[string]int{"tradestie": 1, "finviz": 4}},
		{preset: "quant", sources: []string{"alphavantage", "finviz"}, articles: map[string]int{"alphavantage": 2, "finviz": 4}},
		{preset: "academic", sources: []string{"google", "finviz"}, articles: map[string]int{"google": 2, "finviz": 4}},
		{preset: "fintech", sources: []string{"stockgeist", "finviz"}, articles: map[string]int{"stockgeist": 2, "finviz": 4}},
		{preset: " Retail ", numArticles: 1, sources: []string{"tradestie", "finviz"}, articles: map[string]int{"tradestie": 1, "finviz": 0}},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			w := newWorld(t, nil)
			report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "AAPL", Preset: tc.preset, NumArticles: tc.numArticles})
			require.NoError(t, err)
			require.Equal(t, tc.sources, sourceOrder(report))
			require.Equal(t, tc.articles, articleCounts(report))
			for name, n := range w.hits() {
				if _, used := tc.articles[name]; !used || tc.articles[name] == 0 {
					require.Zero(t, n, "%s is not used by preset %s", name, tc.preset)
				}
			}
		})
	}
}

func TestAnalyzeUnknownPreset(t *testing.T) {
	w := newWorld(t, nil)
	_, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "AAPL", Preset: "yolo"})
	require.ErrorIs(t, err, ErrUnknownPreset)
	require.ErrorContains(t, err, "hft, retail, quant, academic, fintech")
	for name, n := range w.hits() {
		require.Zero(t, n, name)
	}
}

func TestAnalyzeAllFailing(t *testing.T) {
	w := newWorld(t, map[string]map[string]reply{
		"finviz":       {"/quote.ashx": {delay: 5 * time.Second}},
		"alphavantage": {"/query": {body: `{"Note":"Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}`}},
		"tradestie":    {"/apps/reddit": {status: http.StatusInternalServerError}},
		"finnhub":      {"/company-news": {status: http.StatusTooManyRequests, body: `{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`}},
		"stockgeist":   {"/time-series/message-metrics": {body: `{"metadata":{"status_code":401,"message":"Invalid token"},"body":[]}`}},
		"google":       {"/rss/search": {body: sample(t, "google_consent.html")}},
	})
	w.cfg.EODHDKey = ""
	w.cfg.HTTP.Timeout = 100 * time.Millisecond
	report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "MSFT"})
	require.ErrorIs(t, err, ErrNoArticles)
	require.EqualError(t, err, "no sentiment source available for MSFT: finviz: source timed out; "+
		"eodhd: no API key configured; alphavantage: rate limited by source; tradestie: source answered an error; "+
		"finnhub: rate limited by source; stockgeist: source answered an error; google: source answered an error")
	require.NotNil(t, report, "the report comes with the error")
	require.Equal(t, SourceNames(), sourceOrder(report))
	require.Empty(t, report.Articles)
	require.NotNil(t, report.Articles)
	// Issue 9, defect 10: this read as a measured neutral score.
	require.Equal(t, LabelUnavailable, report.Label)
	require.Nil(t, report.Polarity)
	doc, err := json.Marshal(report)
	require.NoError(t, err)
	require.Contains(t, string(doc), `"polarity":null,"label":"unavailable"`)
}

func TestAnalyzeEmptySourcesIsNoArticles(t *testing.T) {
	w := newWorld(t, map[string]map[string]reply{
		"finviz": {"/quote.ashx": {body: `<table id="news-table"></table>`}},
	})
	w.cfg.Sources = []string{"finviz"}
	report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "AAPL"})
	require.ErrorIs(t, err, ErrNoArticles)
	require.ErrorContains(t, err, "finviz: no articles")
	require.Equal(t, StatusOK, report.Sources[0].Status)
	require.Equal(t, "no articles", report.Sources[0].Reason)
}

func TestAnalyzeDeduplicates(t *testing.T) {
	// Google carries Finviz's first headline (with a publisher suffix and
	// other spacing) and Finviz's second URL under a new title.
	feed := `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>` +
		`<item><title>Acme  wins record ORDER - Reuters</title><link>https://news.google.com/rss/articles/x1</link><source url="https://reuters.example">Reuters</source></item>` +
		`<item><title>Acme guidance cut hits shares</title><link>https://news.example.com/m1</link></item>` +
		`<item><title>Acme names a new chief executive</title><link>https://news.google.com/rss/articles/x3</link></item>` +
		`</channel></rss>`
	w := newWorld(t, map[string]map[string]reply{"google": {"/rss/search": {body: feed}}})
	w.cfg.Sources = []string{"finviz", "google"}
	report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "AAPL"})
	require.NoError(t, err)
	require.Len(t, report.Articles, 5)
	require.Equal(t, "Acme names a new chief executive", report.Articles[4].Title)
	google := report.Sources[1]
	require.Equal(t, 1, google.Articles)
	require.Equal(t, "2 duplicates dropped", google.Reason)
}

func TestAnalyzeDropsNULFromUpstreamText(t *testing.T) {
	// JSON may carry U+0000 as \u0000; PostgreSQL's jsonb refuses it, so
	// the report must not hold it.
	news := `[{"category":"company","datetime":1763735400,"headline":"Acme\u0000 beats estimates",` +
		`"id":1,"image":"","related":"AAPL","source":"Wire\u0000","summary":"","url":"https://news.example.com/n\u00001"}]`
	w := newWorld(t, map[string]map[string]reply{"finnhub": {
		"/company-news":           {body: news},
		"/stock/social-sentiment": {body: sample(t, "finnhub_social.json")},
	}})
	w.cfg.Sources = []string{"finnhub"}
	report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "AAPL", NumArticles: 3})
	require.NoError(t, err)
	doc, err := json.Marshal(report)
	require.NoError(t, err)
	require.NotContains(t, string(doc), `\u0000`)
	require.Contains(t, string(doc), `"title":"Acme beats estimates"`)
	require.Contains(t, string(doc), `"url":"https://news.example.com/n1"`)
}

func TestAnalyzeCache(t *testing.T) {
	rdb := dbtest.Redis(t)
	w := newWorld(t, nil)
	a := w.analyzer(t, rdb)

	first, err := a.Analyze(t.Context(), Request{Ticker: "AAPL"})
	require.NoError(t, err)
	hitsAfterFirst := w.hits()
	for _, s := range first.Sources {
		require.False(t, s.Cached, s.Source)
	}

	second, err := a.Analyze(t.Context(), Request{Ticker: "AAPL"})
	require.NoError(t, err)
	require.Equal(t, hitsAfterFirst, w.hits(), "the second run reached no upstream")
	require.Equal(t, first.Articles, second.Articles)
	require.Equal(t, first.Polarity, second.Polarity)
	for _, s := range second.Sources {
		if s.Status != StatusSkipped {
			require.True(t, s.Cached, s.Source)
			require.Equal(t, StatusOK, s.Status, s.Source)
		}
	}

	ttl, err := rdb.TTL(t.Context(), "augur:sentiment:finviz:AAPL").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, DefaultCacheTTL)

	// Another Analyzer (another worker replica) shares the cache.
	third, err := w.analyzer(t, rdb).Analyze(t.Context(), Request{Ticker: "AAPL"})
	require.NoError(t, err)
	require.Equal(t, hitsAfterFirst, w.hits())
	require.Equal(t, first.Articles, third.Articles)
}

func TestAnalyzeWithoutCacheCallsAgain(t *testing.T) {
	w := newWorld(t, nil)
	w.cfg.Sources = []string{"finviz"}
	a := w.analyzer(t, nil)
	for range 2 {
		_, err := a.Analyze(t.Context(), Request{Ticker: "AAPL"})
		require.NoError(t, err)
	}
	require.Equal(t, 2, w.hits()["finviz"])
}

func TestArticleCacheServesOnlyWhatItHas(t *testing.T) {
	rdb := dbtest.Redis(t)
	c := &articleCache{rdb: rdb, ttl: time.Minute}
	full := make([]Article, 50)
	for i := range full {
		full[i] = Article{Title: string(rune('A' + i)), Source: "finviz"}
	}
	require.NoError(t, c.put(t.Context(), "finviz", "FULL", 50, articleBatch{Articles: full}))
	require.NoError(t, c.put(t.Context(), "google", "SHORT", 50, articleBatch{Articles: full[:4], Note: "n"}))

	cases := []struct {
		name, source, ticker string
		limit                int
		hit                  bool
		articles             int
	}{
		{"full page serves a smaller request", "finviz", "FULL", 20, true, 20},
		{"full page serves the same request", "finviz", "FULL", 50, true, 50},
		{"full page may hide more", "finviz", "FULL", 60, false, 0},
		{"short answer was everything there was", "google", "SHORT", 200, true, 4},
		{"absent", "eodhd", "FULL", 10, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			batch, hit, err := c.get(t.Context(), tc.source, tc.ticker, tc.limit)
			require.NoError(t, err)
			require.Equal(t, tc.hit, hit)
			require.Len(t, batch.Articles, tc.articles)
		})
	}

	require.NoError(t, rdb.Set(t.Context(), cacheKey("finviz", "BAD"), "{not json", time.Minute).Err())
	_, hit, err := c.get(t.Context(), "finviz", "BAD", 10)
	require.Error(t, err)
	require.False(t, hit)
}

func TestAnalyzeSourcesOverride(t *testing.T) {
	w := newWorld(t, nil)
	w.cfg.Sources = []string{" Google ", "finviz"}
	report, err := w.analyzer(t, nil).Analyze(t.Context(), Request{Ticker: "AAPL"})
	require.NoError(t, err)
	require.Equal(t, []string{"google", "finviz"}, sourceOrder(report))
	require.Equal(t, map[string]int{"google": 2, "finviz": 4}, articleCounts(report))
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*Config)
		wantErr error
	}{
		{"unknown source", func(c *Config) { c.Sources = []string{"finviz", "bloomberg"} }, ErrUnknownSource},
		{"source twice", func(c *Config) { c.Sources = []string{"finviz", "FINVIZ"} }, nil},
		{"too many articles", func(c *Config) { c.NumArticles = MaxNumArticles + 1 }, nil},
		{"negative articles", func(c *Config) { c.NumArticles = -1 }, nil},
		{"negative cache TTL", func(c *Config) { c.CacheTTL = -time.Second }, nil},
		{"relative base URL", func(c *Config) { c.FinnhubURL = "finnhub.local/api" }, nil},
		{"non-HTTP base URL", func(c *Config) { c.GoogleNewsURL = "ftp://news.example" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cfg Config
			tc.edit(&cfg)
			_, err := New(cfg, nil, nil)
			require.Error(t, err)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

func TestAnalyzeRejectsBadRequest(t *testing.T) {
	w := newWorld(t, nil)
	a := w.analyzer(t, nil)
	for _, req := range []Request{
		{Ticker: ""},
		{Ticker: "   "},
		{Ticker: "AAPL&apikey=x"},
		{Ticker: "^"},
		{Ticker: "AAPL", NumArticles: -3},
		{Ticker: "AAPL", NumArticles: MaxNumArticles + 1},
	} {
		_, err := a.Analyze(t.Context(), req)
		require.ErrorIs(t, err, ErrInvalidRequest, "%+v", req)
	}
	for name, n := range w.hits() {
		require.Zero(t, n, name)
	}
}

func TestAnalyzeCanceled(t *testing.T) {
	w := newWorld(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	report, err := w.analyzer(t, nil).Analyze(ctx, Request{Ticker: "AAPL"})
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrNoArticles)
	require.Nil(t, report)
}

func TestNames(t *testing.T) {
	require.Equal(t, []string{"finviz", "eodhd", "alphavantage", "tradestie", "finnhub", "stockgeist", "google"}, SourceNames())
	require.Equal(t, []string{"hft", "retail", "quant", "academic", "fintech"}, PresetNames())
	for _, p := range presets {
		for _, s := range p.sources {
			require.Contains(t, SourceNames(), s, "preset %s", p.name)
		}
	}
}

func TestADegradedReportHadASourceFail(t *testing.T) {
	t.Parallel()
	report := func(statuses ...string) *Report {
		r := &Report{}
		for _, s := range statuses {
			r.Sources = append(r.Sources, SourceStatus{Source: "s", Status: s})
		}
		return r
	}
	require.False(t, report().Degraded())
	require.False(t, report(StatusOK, StatusNoKey, StatusSkipped).Degraded(), "a missing key or a source not reached is the setup")
	for _, failed := range []string{StatusError, StatusTimeout, StatusRateLimited, StatusUnreachable, StatusCircuitOpen} {
		require.True(t, report(StatusOK, failed).Degraded(), failed)
	}
}

// Issue 21, item 12: a report showed "lookup finviz.com on
// 10.255.255.53:53". Users read a cause; the log keeps the detail, tied to
// the request by its id.
func TestFailureReasonsCarryNoNetworkText(t *testing.T) {
	w := newWorld(t, map[string]map[string]reply{
		"tradestie": {"/apps/reddit": {status: http.StatusBadGateway, body: `upstream 10.0.0.7:8080 refused`}},
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	w.cfg.FinvizURL = closed.URL
	w.cfg.Sources = []string{"finviz", "tradestie"}
	logs := &testlog.Buffer{}
	a, err := New(w.cfg, nil, slog.New(requestid.NewHandler(slog.NewJSONHandler(logs, nil))))
	require.NoError(t, err)

	report, err := a.Analyze(requestid.With(t.Context(), "req-12"), Request{Ticker: "MSFT"})
	require.ErrorIs(t, err, ErrNoArticles)
	require.Equal(t, map[string]string{"finviz": "source unreachable", "tradestie": "source answered an error"},
		bySource(report, func(s SourceStatus) string { return s.Reason }))
	require.EqualError(t, err, "no sentiment source available for MSFT: finviz: source unreachable; tradestie: source answered an error")
	host := strings.TrimPrefix(closed.URL, "http://")
	for _, shown := range []string{err.Error(), fmt.Sprint(report.Sources)} {
		require.NotContains(t, shown, host)
		require.NotContains(t, shown, "10.0.0.7")
		require.NotContains(t, shown, "refused")
	}
	require.Equal(t, 2, logs.Count(`"request_id":"req-12"`), "one line per failed source: %s", logs)
	require.Contains(t, logs.String(), "dial tcp "+host+": connect: connection refused", "the log keeps the address")
	require.Contains(t, logs.String(), `"status":"error","error":"get reddit list: tradestie: http_status (HTTP 502)`, "and the status")
}
