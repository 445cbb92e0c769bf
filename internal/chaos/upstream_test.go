package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
)

// flakyUpstream is a fake Yahoo chart API and Google News RSS feed, in the
// shapes of reference/data-sources.md, that fails a share of its requests:
// a 500, a 429 with Retry-After, or a reply slower than the client's
// timeout.
type flakyUpstream struct {
	*httptest.Server
	rss []byte

	mu     sync.Mutex
	served map[string]int // outcome → requests
}

// newFlakyUpstream starts the fake; about failRate of its answers fail.
func newFlakyUpstream(t *testing.T, failRate float64, slow time.Duration) *flakyUpstream {
	t.Helper()
	rss, err := os.ReadFile("../sentiment/testdata/google_news.rss")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyUpstream{rss: rss, served: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outcome := "ok"
		switch p := rand.Float64(); {
		case p < failRate/3:
			outcome = "500"
		case p < 2*failRate/3:
			outcome = "429"
		case p < failRate:
			outcome = "slow"
		}
		f.mu.Lock()
		f.served[outcome]++
		f.mu.Unlock()
		switch outcome {
		case "500":
			http.Error(w, "upstream trouble", http.StatusInternalServerError)
			return
		case "429":
			w.Header().Set("Retry-After", "1")
			http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
			return
		case "slow":
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/v8/finance/chart/"):
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(yahooChart(strings.TrimPrefix(r.URL.Path, "/v8/finance/chart/"), 600))
		case r.URL.Path == "/rss/search":
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = w.Write(f.rss)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// yahooChart is a /v8/finance/chart document of n daily bars ending
// yesterday, on a gentle random walk.
func yahooChart(symbol string, n int) []byte {
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	var stamps []int64
	var open, high, low, closes, volume []float64
	price := 100.0
	for day := end.AddDate(0, 0, -n*7/5); !day.After(end); day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		next := price * (1 + (rand.Float64()-0.5)/50)
		stamps = append(stamps, day.Add(14*time.Hour+30*time.Minute).Unix())
		open, closes = append(open, price), append(closes, next)
		high, low = append(high, max(price, next)*1.005), append(low, min(price, next)*0.995)
		volume = append(volume, 1e6)
		price = next
	}
	doc := map[string]any{"chart": map[string]any{"error": nil, "result": []any{map[string]any{
		"meta":      map[string]any{"symbol": symbol, "currency": "USD", "exchangeTimezoneName": "America/New_York", "gmtoffset": -18000},
		"timestamp": stamps,
		"indicators": map[string]any{
			"quote":    []any{map[string]any{"open": open, "high": high, "low": low, "close": closes, "volume": volume}},
			"adjclose": []any{map[string]any{"adjclose": closes}},
		},
	}}}}
	b, _ := json.Marshal(doc)
	return b
}

// upstreamChaos: prices come from a fake Yahoo (with the bundled sample
// as the last resort) and news from a fake Google News, both failing 30%
// of requests with 500s, 429s and replies slower than UPSTREAM_TIMEOUT.
// Jobs must complete, and each result must name the sources it tried,
// the degraded ones included. Recovery is not measured (0): the fault
// lasts the whole scenario.
func upstreamChaos(t *testing.T) row {
	fake := newFlakyUpstream(t, 0.3, 1500*time.Millisecond)
	c := newCluster(t, options{workers: 2, concurrency: 2, extraEnv: []string{
		"PRICE_SOURCES=yahoo,sample",
		"SENTIMENT_SOURCES=google",
		"UPSTREAM_URLS=yahoo=" + fake.URL + ",google=" + fake.URL,
		"UPSTREAM_TIMEOUT=1s",
		// No retries: a failed request degrades its source at once, so
		// many results have a degraded source to name.
		"UPSTREAM_MAX_RETRIES=0",
	}})
	cl := newClient(c)
	// Distinct tickers, so the price and news caches do not hide the fake.
	n := size(20, 100)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ticker := fmt.Sprintf("Z%c%c", 'A'+i/26, 'A'+i%26)
			cl.submit(context.Background(), "upstream-"+ticker, `{"ticker":"`+ticker+`","models":["naive"],"sentiment":true}`)
		}()
	}
	wg.Wait()
	var r row
	finish(t, c, cl, &r)

	var results []string
	if err := c.db.Select(&results, `SELECT result FROM jobs WHERE id = ANY($1::uuid[]) AND result IS NOT NULL`, pq.StringArray(cl.ids())); err != nil {
		t.Fatal(err)
	}
	degraded := 0
	for _, doc := range results {
		var res resultDoc
		if err := json.Unmarshal([]byte(doc), &res); err != nil {
			t.Fatalf("result: %v\n%s", err, doc)
		}
		if len(res.Prices.Attempts) == 0 || res.Sentiment == nil && res.SentimentError == "" {
			t.Errorf("a result names no source it tried: %s", doc)
		}
		yahooFailed := res.Prices.Source != "yahoo"
		if yahooFailed && !slices.ContainsFunc(res.Prices.Attempts, func(a attemptDoc) bool { return a.Source == "yahoo" && a.Outcome != "ok" }) {
			t.Errorf("prices came from %s, yet the result does not say how yahoo failed: %s", res.Prices.Source, doc)
		}
		googleFailed := res.SentimentError != ""
		if res.Sentiment != nil {
			googleFailed = slices.ContainsFunc(res.Sentiment.Sources, func(s sourceDoc) bool { return s.Source == "google" && s.Status != "ok" })
			// The only news source failed: the sentiment is unavailable,
			// never a measured neutral (defect 10).
			if googleFailed && res.Sentiment.Label != "unavailable" {
				t.Errorf("google failed, yet the sentiment reads %q: %s", res.Sentiment.Label, doc)
			}
		}
		if yahooFailed || googleFailed {
			degraded++
		}
	}
	fake.mu.Lock()
	t.Logf("fake upstream answered %v; %d of %d results name a degraded source", fake.served, degraded, len(results))
	fake.mu.Unlock()
	return r
}

// resultDoc is the part of a prediction's result that names its sources.
type resultDoc struct {
	Prices struct {
		Source   string       `json:"source"`
		Attempts []attemptDoc `json:"attempts"`
	} `json:"prices"`
	Sentiment *struct {
		Label   string      `json:"label"`
		Sources []sourceDoc `json:"sources"`
	} `json:"sentiment"`
	SentimentError string `json:"sentiment_error"`
}

// attemptDoc is one price provider's attempt in a result.
type attemptDoc struct {
	Source  string `json:"source"`
	Outcome string `json:"outcome"`
}

// sourceDoc is one news source's status in a result.
type sourceDoc struct {
	Source string `json:"source"`
	Status string `json:"status"`
}
