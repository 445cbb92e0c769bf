package sentiment

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

func easternTime(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	return loc
}

func newTestFinviz(t *testing.T) func(base string, cfg upstream.Config) source {
	eastern := easternTime(t)
	return func(base string, cfg upstream.Config) source {
		return &finviz{http: upstream.New("finviz", cfg), base: base, eastern: eastern}
	}
}

func TestFinvizFetch(t *testing.T) {
	page := sample(t, "finviz_quote.html")
	cases := []sourceCase{
		{
			name:       "news table",
			routes:     map[string]reply{"/quote.ashx": {body: page, header: map[string]string{"Content-Type": "text/html"}}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{
					"Acme wins record order",
					"Acme slips after guidance cut",
					"Analysts split on Acme",
					"Acme faces lawsuit over failed product, shares crash",
				}, titles(b.Articles))
				require.Equal(t, "https://news.example.com/r1", b.Articles[0].URL)
				require.True(t, strings.HasPrefix(b.Articles[3].URL, "http://127.0.0.1:"), "relative link resolved against the page: %s", b.Articles[3].URL)
				require.True(t, strings.HasSuffix(b.Articles[3].URL, "/news/271828/acme-faces-lawsuit-over-failed-product"))
				require.Positive(t, b.Articles[0].Score)
				require.Negative(t, b.Articles[1].Score)
				require.Negative(t, b.Articles[3].Score)
			},
		},
		{
			name: "301 from quote.ashx to quote is followed",
			routes: map[string]reply{
				"/quote.ashx": {status: http.StatusMovedPermanently, header: map[string]string{"Location": "/quote?t=AAPL&p=d"}},
				"/quote":      {body: page},
			},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Len(t, b.Articles, 4)
			},
		},
		{
			name:       "empty news table",
			routes:     map[string]reply{"/quote.ashx": {body: `<html><body><table id="news-table"></table></body></html>`}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Empty(t, b.Articles)
			},
		},
		{
			name:       "Cloudflare block page",
			routes:     map[string]reply{"/quote.ashx": {status: http.StatusForbidden, body: sample(t, "finviz_blocked.html")}},
			wantStatus: StatusError,
			wantReason: "HTTP 403",
		},
		{
			name:       "page without a news table",
			routes:     map[string]reply{"/quote.ashx": {body: sample(t, "google_consent.html")}},
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "truncated page keeps the rows that arrived",
			routes:     map[string]reply{"/quote.ashx": {body: page[:strings.Index(page, "Analysts split")]}},
			wantStatus: StatusOK,
			check: func(t *testing.T, b articleBatch) {
				require.Equal(t, []string{"Acme wins record order", "Acme slips after guidance cut"}, titles(b.Articles))
			},
		},
		{
			name:       "truncated before the table",
			routes:     map[string]reply{"/quote.ashx": {body: page[:20]}},
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
		{
			name:       "binary garbage",
			routes:     map[string]reply{"/quote.ashx": {body: "\x00\x1f\x8b\x08garbage"}},
			wantStatus: StatusError,
			wantErr:    errBadResponse,
		},
	}
	runSourceCases(t, newTestFinviz(t), "AAPL", append(cases, transportCases("/quote.ashx")...))
}

func TestFinvizRequest(t *testing.T) {
	fake := newFake(t, map[string]reply{"/quote.ashx": {body: sample(t, "finviz_quote.html")}})
	cfg := testHTTP()
	// An operator's honest User-Agent must not reach Finviz, which blocks
	// anything that is not a browser.
	cfg.UserAgent = "augur/1.0 (+https://augur.example)"
	_, err := newTestFinviz(t)(fake.URL, cfg).Fetch(t.Context(), "AAPL", 10)
	require.NoError(t, err)
	req := fake.lastRequest(t)
	require.Equal(t, "AAPL", req.URL.Query().Get("t"))
	require.Equal(t, upstream.DefaultUserAgent, req.Header.Get("User-Agent"))
}

func TestParseFinvizDates(t *testing.T) {
	eastern := easternTime(t)
	now := time.Date(2025, 11, 24, 11, 0, 0, 0, eastern)
	page, err := url.Parse("https://finviz.com/quote.ashx?t=AAPL")
	require.NoError(t, err)
	articles, err := parseFinviz([]byte(sample(t, "finviz_quote.html")), page, now)
	require.NoError(t, err)
	want := []time.Time{
		time.Date(2025, 11, 24, 10, 15, 0, 0, eastern), // "Today 10:15AM"
		time.Date(2025, 11, 20, 16, 5, 0, 0, eastern),  // "Nov-20-25 04:05PM"
		time.Date(2025, 11, 20, 9, 30, 0, 0, eastern),  // "09:30AM" inherits Nov 20
		time.Date(2025, 11, 19, 7, 0, 0, 0, eastern),   // "Nov-19-25 07:00AM"
	}
	require.Len(t, articles, len(want))
	for i, w := range want {
		require.True(t, w.Equal(articles[i].Published), "row %d: got %v, want %v", i, articles[i].Published, w)
	}
	require.Equal(t, "https://finviz.com/news/271828/acme-faces-lawsuit-over-failed-product", articles[3].URL)
}

func TestFinvizTime(t *testing.T) {
	eastern := easternTime(t)
	now := time.Date(2025, 11, 24, 11, 0, 0, 0, eastern)
	nov20 := time.Date(2025, 11, 20, 0, 0, 0, 0, eastern)
	cases := []struct {
		name      string
		cell      string
		day       time.Time
		published time.Time
		nextDay   time.Time
	}{
		{"dated row", "\r\n   Nov-21-25 09:30AM  ", time.Time{}, time.Date(2025, 11, 21, 9, 30, 0, 0, eastern), time.Date(2025, 11, 21, 0, 0, 0, 0, eastern)},
		{"time only inherits the day", "04:05PM", nov20, time.Date(2025, 11, 20, 16, 5, 0, 0, eastern), nov20},
		{"today", "Today 10:15AM", nov20, time.Date(2025, 11, 24, 10, 15, 0, 0, eastern), time.Date(2025, 11, 24, 0, 0, 0, 0, eastern)},
		{"time only with no day yet", "10:15AM", time.Time{}, time.Time{}, time.Time{}},
		{"unreadable date forgets the day", "Smarch-41-25 10:15AM", nov20, time.Time{}, time.Time{}},
		{"unreadable time keeps the day", "soon", nov20, time.Time{}, nov20},
		{"empty", "", nov20, time.Time{}, nov20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			published, nextDay := finvizTime(tc.cell, tc.day, now)
			require.True(t, tc.published.Equal(published), "published %v, want %v", published, tc.published)
			require.True(t, tc.nextDay.Equal(nextDay), "next day %v, want %v", nextDay, tc.nextDay)
		})
	}
}
