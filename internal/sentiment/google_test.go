package sentiment

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func newTestGoogle(base string, cfg upstream.Config) source {
	return &googleNews{http: upstream.New("google", cfg), base: base}
}

func TestGoogleNewsFetch(t *testing.T) {
	feed := sample(t, "google_news.rss")
	xml := map[string]string{"Content-Type": "application/xml; charset=utf-8"}
	cases := []sourceCase{
		{
			name:       "normal feed",
			routes:     map[string]reply{"/rss/search": {body: feed, header: xml}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				// The " - Publisher" suffix is gone before scoring.
				require.Equal(t, []string{
					"Microsoft shares climb after strong cloud quarter",
					"Analysts warn of slowing PC demand",
				}, titles(b.Articles))
				require.Equal(t, "https://news.google.com/rss/articles/abc123", b.Articles[0].URL)
				require.True(t, time.Date(2025, 11, 24, 14, 3, 0, 0, time.UTC).Equal(b.Articles[0].Published))
				require.Positive(t, b.Articles[0].Score)
				require.Negative(t, b.Articles[1].Score)
			},
		},
		{
			name: "empty feed for an unknown query",
			routes: map[string]reply{"/rss/search": {header: xml, body: `<?xml version="1.0" encoding="UTF-8"?>` +
				`<rss version="2.0"><channel><title>"ZZZZ stock" - Google News</title></channel></rss>`}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Empty(t, b.Articles)
			},
		},
		{
			name:       "HTML consent page",
			routes:     map[string]reply{"/rss/search": {body: sample(t, "google_consent.html")}},
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "broken XML",
			routes:     map[string]reply{"/rss/search": {body: half(feed)}},
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "RSS without a channel",
			routes:     map[string]reply{"/rss/search": {body: `<rss version="2.0"></rss>`}},
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
	}
	runSourceCases(t, newTestGoogle, "MSFT", append(cases, transportCases("/rss/search")...))
}

func TestGoogleNewsRequest(t *testing.T) {
	fake := newFake(t, map[string]reply{"/rss/search": {body: sample(t, "google_news.rss")}})
	_, err := newTestGoogle(fake.URL, testHTTP()).Fetch(t.Context(), "MSFT", 10)
	require.NoError(t, err)
	req := fake.lastRequest(t)
	require.Contains(t, req.URL.RawQuery, "q=MSFT+stock")
	require.Equal(t, "MSFT stock", req.URL.Query().Get("q"))
	require.Equal(t, "US:en", req.URL.Query().Get("ceid"))
}

func TestParseRFC1123(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"Mon, 24 Nov 2025 14:03:00 GMT", time.Date(2025, 11, 24, 14, 3, 0, 0, time.UTC)},
		{" Mon, 24 Nov 2025 09:03:00 -0500 ", time.Date(2025, 11, 24, 14, 3, 0, 0, time.UTC)},
		{"yesterday", time.Time{}},
		{"", time.Time{}},
	}
	for _, tc := range cases {
		require.True(t, tc.want.Equal(parseRFC1123(tc.in)), "%q", tc.in)
	}
}
