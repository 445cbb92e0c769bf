package sentiment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func newTestAlphaVantage(key string) func(base string, cfg upstream.Config) source {
	return func(base string, cfg upstream.Config) source {
		return &alphaVantage{http: upstream.New("alphavantage", cfg), base: base, key: key}
	}
}

func TestAlphaVantageFetch(t *testing.T) {
	feed := sample(t, "alphavantage_news.json")
	body := func(s string) map[string]reply { return map[string]reply{"/query": {body: s}} }
	cases := []sourceCase{
		{
			name:       "news sentiment",
			routes:     body(feed),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				// The BTC-only article does not score AAPL and is left out.
				require.Equal(t, []string{"Acme Corp beats estimates on strong cloud demand", "Supplier warns on margins"}, titles(b.Articles))
				require.InDelta(t, 0.301145*0.512, b.Articles[0].Score, 1e-9)
				require.InDelta(t, -0.371*0.12, b.Articles[1].Score, 1e-9)
				require.Equal(t, "https://news.example.com/a1", b.Articles[0].URL)
				require.True(t, time.Date(2025, 11, 21, 14, 30, 0, 0, time.UTC).Equal(b.Articles[0].Published))
			},
		},
		{
			name:       "empty feed",
			routes:     body(`{"items":"0","sentiment_score_definition":"...","relevance_score_definition":"...","feed":[]}`),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Empty(t, b.Articles)
			},
		},
		{
			name:       "daily limit (Information)",
			routes:     body(`{"Information":"Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}`),
			wantStatus: StatusRateLimited,
			wantErr:    upstream.ErrRateLimited,
			wantReason: "25 requests per day",
		},
		{
			// The key Alpha Vantage echoes back must not reach the report.
			name:       "daily limit, newer wording",
			routes:     body(`{"Information":"We have detected your API key as ` + testKey + ` and our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans."}`),
			wantStatus: StatusRateLimited,
			wantErr:    upstream.ErrRateLimited,
		},
		{
			name:       "legacy rate limit (Note)",
			routes:     body(`{"Note":"Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}`),
			wantStatus: StatusRateLimited,
			wantErr:    upstream.ErrRateLimited,
		},
		{
			name:       "unknown ticker",
			routes:     body(`{"Information":"Invalid inputs. Please refer to the API documentation https://www.alphavantage.co/documentation#newsapi and try again."}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
			wantReason: "unknown ticker",
		},
		{
			name:       "demo key",
			routes:     body(`{"Information":"The **demo** API key is for demo purposes only. Please claim your free API key at (https://www.alphavantage.co/support/#api-key) to explore our full API offerings."}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
			wantReason: "API key refused",
		},
		{
			name:       "premium parameter",
			routes:     body(`{"Information":"Thank you for using Alpha Vantage! The limit parameter above 50 is a premium feature."}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
			wantReason: "premium feature",
		},
		{
			name:       "bad request (Error Message)",
			routes:     body(`{"Error Message":"Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for NEWS_SENTIMENT."}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
		},
		{
			name:       "scores as numbers, odd and missing values",
			routes:     body(`{"feed":[{"title":"Numbers","url":"u1","time_published":"bad","ticker_sentiment":[{"ticker":"aapl","relevance_score":1,"ticker_sentiment_score":0.5}]},{"title":"Missing relevance","ticker_sentiment":[{"ticker":"AAPL","ticker_sentiment_score":"0.9"}]},{"title":"Garbled","ticker_sentiment":[{"ticker":"AAPL","relevance_score":"high","ticker_sentiment_score":"0.9"}]}]}`),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{"Numbers"}, titles(b.Articles))
				require.InDelta(t, 0.5, b.Articles[0].Score, 1e-9)
				require.True(t, b.Articles[0].Published.IsZero())
			},
		},
		{
			name:       "object without a feed",
			routes:     body(`{"items":"0"}`),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "truncated body",
			routes:     body(half(feed)),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "HTML instead of JSON",
			routes:     body("<html><body>502 Bad Gateway</body></html>"),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
	}
	runSourceCases(t, newTestAlphaVantage(testKey), "AAPL", append(cases, transportCases("/query")...))
}

func TestAlphaVantageRequest(t *testing.T) {
	fake := newFake(t, map[string]reply{"/query": {body: sample(t, "alphavantage_news.json")}})
	_, err := newTestAlphaVantage(testKey)(fake.URL, testHTTP()).Fetch(t.Context(), "AAPL", 50)
	require.NoError(t, err)
	q := fake.lastRequest(t).URL.Query()
	require.Equal(t, "NEWS_SENTIMENT", q.Get("function"))
	require.Equal(t, "AAPL", q.Get("tickers"))
	require.Equal(t, "50", q.Get("limit"))
	require.Equal(t, testKey, q.Get("apikey"))
}
