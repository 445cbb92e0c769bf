package sentiment

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/upstream"
)

// testKey is the API key every keyed fake expects; tests check it never
// shows up in a reason.
const testKey = "k3y-s3cr3t"

// reply is one canned upstream answer.
type reply struct {
	status int // 0 means 200
	header map[string]string
	body   string
	// delay holds the answer back, to let the client's timeout fire.
	delay time.Duration
}

// fakeAPI is an upstream stand-in that replays canned answers per path and
// remembers what it was asked.
type fakeAPI struct {
	*httptest.Server
	hits atomic.Int32

	mu       sync.Mutex
	requests []*http.Request
}

// newFake starts a fake serving routes (path → reply); other paths get 404.
func newFake(t *testing.T, routes map[string]reply) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.mu.Lock()
		f.requests = append(f.requests, r.Clone(context.Background()))
		f.mu.Unlock()
		answer, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if answer.delay > 0 {
			select {
			case <-time.After(answer.delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range answer.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(max(answer.status, http.StatusOK))
		_, _ = w.Write([]byte(answer.body))
	}))
	t.Cleanup(f.Close)
	return f
}

// seen returns the requests the fake got, oldest first.
func (f *fakeAPI) seen() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// lastRequest returns the newest request the fake got.
func (f *fakeAPI) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	requests := f.seen()
	require.NotEmpty(t, requests, "the fake got no request")
	return requests[len(requests)-1]
}

// testHTTP is an upstream config that answers fast and predictably: no
// retries, and a breaker that does not open unless a test asks for it.
func testHTTP() upstream.Config {
	return upstream.Config{
		Timeout:         2 * time.Second,
		MaxRetries:      -1,
		BreakerFailures: 1000,
	}
}

// sample reads a realistic upstream answer from testdata.
func sample(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(data)
}

// sourceCase is one upstream behaviour a source client must handle.
type sourceCase struct {
	name   string
	routes map[string]reply
	// timeout, when set, replaces the client's request timeout.
	timeout    time.Duration
	wantStatus string
	// wantErr, when set, must be in the error chain.
	wantErr error
	// wantReason, when set, must be part of the reason or note.
	wantReason string
	check      func(t *testing.T, batch articleBatch)
}

// runSourceCases runs every case against a fresh fake and a fresh client
// built by newSource.
func runSourceCases(t *testing.T, newSource func(base string, cfg upstream.Config) source, ticker string, cases []sourceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t, tc.routes)
			cfg := testHTTP()
			if tc.timeout > 0 {
				cfg.Timeout = tc.timeout
			}
			batch, err := newSource(fake.URL, cfg).Fetch(t.Context(), ticker, fetchPage)
			require.Equal(t, tc.wantStatus, upstream.OutcomeOf(err), "error: %v", err)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			}
			reason := batch.Note
			if err != nil {
				reason = reasonOf(err)
				require.Empty(t, batch.Articles)
			}
			require.NotContains(t, reason, testKey, "the API key leaked into the reason")
			if tc.wantReason != "" {
				require.Contains(t, reason, tc.wantReason)
			}
			for _, a := range batch.Articles {
				require.NotEmpty(t, a.Title)
				require.GreaterOrEqual(t, a.Score, -1.0)
				require.LessOrEqual(t, a.Score, 1.0)
			}
			if tc.check != nil {
				tc.check(t, batch)
			}
		})
	}
}

// transportCases are the failures every client meets the same way: a 429
// with Retry-After, an upstream slower than the timeout and a 5xx. Each
// client's own test adds the bodies that are wrong in its own format.
func transportCases(path string) []sourceCase {
	return []sourceCase{
		{
			name:       "429 with Retry-After",
			routes:     map[string]reply{path: {status: 429, header: map[string]string{"Retry-After": "30"}, body: `{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`}},
			wantStatus: StatusRateLimited,
			wantReason: "retry after 30s",
		},
		{
			name:       "slow upstream hits the timeout",
			routes:     map[string]reply{path: {delay: 5 * time.Second}},
			timeout:    50 * time.Millisecond,
			wantStatus: StatusTimeout,
		},
		{
			name:       "server error",
			routes:     map[string]reply{path: {status: 503, body: "<html>Service Unavailable</html>"}},
			wantStatus: StatusError,
			wantReason: "HTTP 503",
		},
	}
}

// titles lists the titles of articles, in order.
func titles(articles []Article) []string {
	out := make([]string, len(articles))
	for i, a := range articles {
		out[i] = a.Title
	}
	return out
}

// half returns the first half of s: a body cut off mid-stream.
func half(s string) string { return s[:len(s)/2] }
