package sentiment

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func newTestFinnhub(key string) func(base string, cfg upstream.Config) source {
	return func(base string, cfg upstream.Config) source {
		return &finnhub{
			news:   upstream.New("finnhub", cfg),
			social: upstream.New("finnhub_social", cfg),
			base:   base,
			key:    key,
		}
	}
}

func TestFinnhubFetch(t *testing.T) {
	news := sample(t, "finnhub_company_news.json")
	social := sample(t, "finnhub_social.json")
	premiumOnly := reply{status: http.StatusForbidden, body: `{"error":"You don't have access to this resource."}`}
	newsOnly := func(r reply) map[string]reply {
		return map[string]reply{"/company-news": r, "/stock/social-sentiment": premiumOnly}
	}
	cases := []sourceCase{
		{
			name:       "company news and social sentiment",
			routes:     map[string]reply{"/company-news": {body: news}, "/stock/social-sentiment": {body: social}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{
					"Social media sentiment on AAPL: 40 mentions in 7 days",
					"Acme expands buyback after record profit",
					"Acme recalls faulty chargers amid fire risk",
				}, titles(b.Articles))
				// (30·0.6 + 10·(−0.2)) / 40
				require.InDelta(t, 0.4, b.Articles[0].Score, 1e-9)
				require.True(t, time.Date(2025, 11, 21, 15, 0, 0, 0, time.UTC).Equal(b.Articles[0].Published))
				require.Positive(t, b.Articles[1].Score)
				require.Negative(t, b.Articles[2].Score)
				require.Equal(t, "https://finnhub.io/api/news?id=abc123", b.Articles[1].URL)
				require.True(t, time.Unix(1763735400, 0).Equal(b.Articles[1].Published))
				require.Empty(t, b.Note)
			},
		},
		{
			name:       "free key: social sentiment 403 falls back to company news",
			routes:     newsOnly(reply{body: news}),
			wantStatus: StatusOK,
			wantReason: "company news only: social sentiment needs a premium Finnhub plan",
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{"Acme expands buyback after record profit", "Acme recalls faulty chargers amid fire risk"}, titles(b.Articles))
			},
		},
		{
			name:       "legacy reddit and twitter social form",
			routes:     map[string]reply{"/company-news": {body: `[]`}, "/stock/social-sentiment": {body: sample(t, "finnhub_social_legacy.json")}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Len(t, b.Articles, 1)
				// (5·0.5 + 15·(−0.5)) / 20
				require.InDelta(t, -0.25, b.Articles[0].Score, 1e-9)
			},
		},
		{
			name:       "social endpoint failing does not fail the source",
			routes:     map[string]reply{"/company-news": {body: news}, "/stock/social-sentiment": {status: 502, body: "bad gateway"}},
			wantStatus: StatusOK,
			wantReason: "social sentiment failed",
			check: func(t *testing.T, b articleBatch) {
				require.Len(t, b.Articles, 2)
			},
		},
		{
			name:       "no social mentions",
			routes:     map[string]reply{"/company-news": {body: news}, "/stock/social-sentiment": {body: `{"symbol":"AAPL","data":[]}`}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Len(t, b.Articles, 2)
				require.Empty(t, b.Note)
			},
		},
		{
			name:       "unknown symbol",
			routes:     newsOnly(reply{body: `[]`}),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Empty(t, b.Articles)
			},
		},
		{
			name:       "rate limited (429 JSON)",
			routes:     newsOnly(reply{status: 429, body: `{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`}),
			wantStatus: StatusRateLimited,
			wantReason: "Remaining Limit: 0",
		},
		{
			name:       "missing token (401)",
			routes:     newsOnly(reply{status: 401, body: `{"error":"Please use an API key."}`}),
			wantStatus: StatusError,
			wantErr:    errRejected,
			wantReason: "Please use an API key.",
		},
		{
			name:       "error object under a 200",
			routes:     newsOnly(reply{body: `{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`}),
			wantStatus: StatusRateLimited,
			wantErr:    upstream.ErrRateLimited,
		},
		{
			name:       "truncated body",
			routes:     newsOnly(reply{body: half(news)}),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "object instead of an array",
			routes:     newsOnly(reply{body: `{"c":0,"d":null}`}),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
	}
	runSourceCases(t, newTestFinnhub(testKey), "AAPL", append(cases, transportCases("/company-news")...))
}

func TestFinnhubRequest(t *testing.T) {
	fake := newFake(t, map[string]reply{"/company-news": {body: `[]`}, "/stock/social-sentiment": {body: `{"data":[]}`}})
	_, err := newTestFinnhub(testKey)(fake.URL, testHTTP()).Fetch(t.Context(), "AAPL", 50)
	require.NoError(t, err)
	require.EqualValues(t, 2, fake.hits.Load())
	for _, req := range fake.seen() {
		require.Equal(t, testKey, req.Header.Get("X-Finnhub-Token"))
		require.NotContains(t, req.URL.RawQuery, testKey, "the key travels in the header only")
		q := req.URL.Query()
		require.Equal(t, "AAPL", q.Get("symbol"))
		from, err := time.Parse(time.DateOnly, q.Get("from"))
		require.NoError(t, err)
		to, err := time.Parse(time.DateOnly, q.Get("to"))
		require.NoError(t, err)
		require.Equal(t, finnhubWindowDays, int(to.Sub(from).Hours()/24))
	}
}
