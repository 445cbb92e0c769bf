package sentiment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func newTestStockGeist(key string) func(base string, cfg upstream.Config) source {
	return func(base string, cfg upstream.Config) source {
		return &stockGeist{http: upstream.New("stockgeist", cfg), base: base, key: key}
	}
}

func TestStockGeistFetch(t *testing.T) {
	metrics := sample(t, "stockgeist_message_metrics.json")
	body := func(status int, s string) map[string]reply {
		return map[string]reply{"/time-series/message-metrics": {status: status, body: s}}
	}
	cases := []sourceCase{
		{
			name:       "message metrics",
			routes:     body(200, metrics),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{
					"StockGeist: 318 messages about AAPL on 2025-11-21, 61% positive",
					"StockGeist: 204 messages about AAPL on 2025-11-20, 35% positive",
				}, titles(b.Articles))
				require.InDelta(t, 2*0.61-1, b.Articles[0].Score, 1e-9)
				require.InDelta(t, 2*0.35-1, b.Articles[1].Score, 1e-9)
				require.True(t, time.Date(2025, 11, 21, 0, 0, 0, 0, time.UTC).Equal(b.Articles[0].Published))
			},
		},
		{
			name:       "days without messages or index are left out",
			routes:     body(200, `{"metadata":{"status_code":200,"message":"OK"},"body":[{"timestamp":"2025-11-21T00:00:00","total_count":0,"pos_index":0.5},{"timestamp":"2025-11-20T00:00:00","total_count":12},{"timestamp":"not a time","total_count":3,"pos_index":0.9}]}`),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Empty(t, b.Articles)
			},
		},
		{
			name:       "bad token inside a 200",
			routes:     body(200, `{"metadata":{"status_code":401,"message":"Invalid token"},"body":[]}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
			wantReason: "Invalid token",
		},
		{
			name:       "out of credits inside a 200",
			routes:     body(200, `{"metadata":{"status_code":429,"message":"Not enough credits"},"body":[]}`),
			wantStatus: StatusRateLimited,
			wantErr:    upstream.ErrRateLimited,
		},
		{
			name:       "bad token (403)",
			routes:     body(403, `{"metadata":{"status_code":403,"message":"Forbidden"}}`),
			wantStatus: StatusError,
			wantErr:    errRejected,
		},
		{
			name:       "gateway error page (502)",
			routes:     body(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
			wantStatus: StatusError,
			wantReason: "HTTP 502",
		},
		{
			name:       "v2 layout without the envelope",
			routes:     body(200, `{"server_timestamp":"2025-11-21T15:00:00","data":{"AAPL":[]}}`),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "truncated body",
			routes:     body(200, half(metrics)),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
	}
	runSourceCases(t, newTestStockGeist(testKey), "AAPL", append(cases, transportCases("/time-series/message-metrics")...))
}

func TestStockGeistRequest(t *testing.T) {
	fake := newFake(t, map[string]reply{"/time-series/message-metrics": {body: sample(t, "stockgeist_message_metrics.json")}})
	_, err := newTestStockGeist(testKey)(fake.URL, testHTTP()).Fetch(t.Context(), "AAPL", 15)
	require.NoError(t, err)
	q := fake.lastRequest(t).URL.Query()
	require.Equal(t, testKey, q.Get("token"))
	require.Equal(t, "AAPL", q.Get("symbol"))
	require.Equal(t, "1d", q.Get("timeframe"))
	start, err := time.Parse(stockGeistTimeLayout, q.Get("start"))
	require.NoError(t, err)
	end, err := time.Parse(stockGeistTimeLayout, q.Get("end"))
	require.NoError(t, err)
	require.Equal(t, 15, int(end.Sub(start).Hours()/24))
}
