package sentiment

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func newTestTradestie(base string, cfg upstream.Config) source {
	return &tradestie{http: upstream.New("tradestie", cfg), base: base}
}

func TestTradestieFetch(t *testing.T) {
	list := sample(t, "tradestie_reddit.json")
	body := func(s string) map[string]reply { return map[string]reply{"/apps/reddit": {body: s}} }
	cases := []sourceCase{
		{
			name:       "ticker in the top 50",
			routes:     body(list),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{"r/wallstreetbets on NVDA: 412 comments, Bullish"}, titles(b.Articles))
				require.InDelta(t, 0.187, b.Articles[0].Score, 1e-9)
				require.Empty(t, b.Note)
			},
		},
		{
			name:       "ticker not discussed",
			routes:     body(`[{"no_of_comments":150,"sentiment":"Bearish","sentiment_score":-0.092,"ticker":"TSLA"}]`),
			wantStatus: StatusOK,
			wantReason: "not among today's 50 most discussed",
			check: func(t *testing.T, b articleBatch) {
				require.Empty(t, b.Articles)
			},
		},
		{
			name:       "score outside [-1, 1] is clamped",
			routes:     body(`[{"no_of_comments":3,"sentiment":"Bullish","sentiment_score":4.5,"ticker":"nvda"}]`),
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Len(t, b.Articles, 1)
				require.Equal(t, 1.0, b.Articles[0].Score)
			},
		},
		{
			name:       "error object instead of the list",
			routes:     body(`{"error":"Service temporarily unavailable"}`),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "truncated body",
			routes:     body(half(list)),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "HTML instead of JSON",
			routes:     body("<!DOCTYPE html><html><body>Moved to tradestie.com</body></html>"),
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
	}
	runSourceCases(t, newTestTradestie, "NVDA", append(cases, transportCases("/apps/reddit")...))
}
