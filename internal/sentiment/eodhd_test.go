package sentiment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func newTestEODHD(key string) func(base string, cfg upstream.Config) source {
	return func(base string, cfg upstream.Config) source {
		return &eodhd{http: upstream.New("eodhd", cfg), base: base, key: key}
	}
}

func TestEODHDFetch(t *testing.T) {
	days := sample(t, "eodhd_sentiments.json")
	body := func(status int, s string) map[string]reply {
		return map[string]reply{"/sentiments": {status: status, body: s}}
	}
	cases := []sourceCase{
		{
			name:       "daily sentiment",
			routes:     body(200, days),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{
					"EODHD news sentiment for AAPL.US on 2025-11-21 (23 articles)",
					"EODHD news sentiment for AAPL.US on 2025-11-20 (18 articles)",
					"EODHD news sentiment for AAPL.US on 2025-11-19 (9 articles)",
				}, titles(b.Articles))
				require.InDelta(t, 0.6152, b.Articles[0].Score, 1e-9)
				require.InDelta(t, -0.1207, b.Articles[2].Score, 1e-9)
				require.True(t, time.Date(2025, 11, 21, 0, 0, 0, 0, time.UTC).Equal(b.Articles[0].Published))
			},
		},
		{
			name:       "oldest first is put newest first",
			routes:     body(200, `{"AAPL.US":[{"date":"2025-11-19","count":9,"normalized":-0.1},{"date":"2025-11-21","count":3,"normalized":0.2}]}`),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Len(t, b.Articles, 2)
				require.True(t, b.Articles[0].Published.After(b.Articles[1].Published))
			},
		},
		{
			name:       "no days",
			routes:     body(200, `{"AAPL.US":[]}`),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Empty(t, b.Articles)
			},
		},
		{
			name:       "quota used up (402)",
			routes:     body(402, `{"error":"You exceeded your daily API requests limit.","code":402}`),
			wantStatus: StatusRateLimited,
			wantErr:    upstream.ErrRateLimited,
			wantReason: "daily API requests limit",
		},
		{
			name:       "bad token (401)",
			routes:     body(401, `{"error":"Unauthenticated","code":401}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
			wantReason: "Unauthenticated",
		},
		{
			name:       "error object under a 200",
			routes:     body(200, `{"error":"Symbol not found","code":404}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
			wantReason: "Symbol not found",
		},
		{
			name:       "quota error object under a 200",
			routes:     body(200, `{"error":"Limit reached","code":429}`),
			wantStatus: StatusRateLimited,
			wantErr:    upstream.ErrRateLimited,
		},
		{
			name:       "days of the wrong type",
			routes:     body(200, `{"AAPL.US":{"date":"2025-11-21"}}`),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "truncated body",
			routes:     body(200, half(days)),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "top-level array",
			routes:     body(200, `[]`),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
	}
	runSourceCases(t, newTestEODHD(testKey), "AAPL", append(cases, transportCases("/sentiments")...))
}

func TestEODHDRequest(t *testing.T) {
	fake := newFake(t, map[string]reply{"/sentiments": {body: sample(t, "eodhd_sentiments.json")}})
	_, err := newTestEODHD(testKey)(fake.URL, testHTTP()).Fetch(t.Context(), "AAPL", 50)
	require.NoError(t, err)
	q := fake.lastRequest(t).URL.Query()
	require.Equal(t, "AAPL.US", q.Get("s"))
	require.Equal(t, testKey, q.Get("api_token"))
	require.Equal(t, "json", q.Get("fmt"))
	from, err := time.Parse(time.DateOnly, q.Get("from"))
	require.NoError(t, err)
	to, err := time.Parse(time.DateOnly, q.Get("to"))
	require.NoError(t, err)
	require.Equal(t, eodhdWindow, to.Sub(from))
}

func TestEODHDSymbol(t *testing.T) {
	cases := map[string]string{
		"AAPL":       "AAPL.US",
		"BRK.B":      "BRK-B.US",
		"VOD.LSE":    "VOD.LSE",
		"BTC-USD.CC": "BTC-USD.CC",
	}
	for ticker, want := range cases {
		require.Equal(t, want, eodhdSymbol(ticker), ticker)
	}
}
