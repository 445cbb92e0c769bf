package market

// Fake upstreams shared by the provider tests here and the Loader tests in
// package market_test (hence exported: they exist only in the test binary).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FakeUpstream is an httptest server whose behaviour can be swapped and
// which records every request it receives.
type FakeUpstream struct {
	*httptest.Server
	mu       sync.Mutex
	handler  http.HandlerFunc
	requests []*url.URL
	agents   []string
}

// NewFakeUpstream starts a fake serving h; it stops with the test.
func NewFakeUpstream(t testing.TB, h http.HandlerFunc) *FakeUpstream {
	t.Helper()
	f := &FakeUpstream{handler: h}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.URL)
		f.agents = append(f.agents, r.Header.Get("User-Agent"))
		h := f.handler
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// Handle replaces the fake's behaviour.
func (f *FakeUpstream) Handle(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handler = h
}

// Hits is the number of requests received so far.
func (f *FakeUpstream) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// Requests returns the URLs received, oldest first.
func (f *FakeUpstream) Requests() []*url.URL {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*url.URL(nil), f.requests...)
}

// UserAgents returns the User-Agent of every request, oldest first.
func (f *FakeUpstream) UserAgents() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.agents...)
}

// Reply answers every request with status, content type and body.
func Reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// Hang never answers; the client's timeout or cancellation ends the request.
func Hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// Sequence answers the n-th request with the n-th handler and repeats the
// last one after that.
func Sequence(handlers ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := handlers[min(n, len(handlers)-1)]
		n++
		mu.Unlock()
		h(w, r)
	}
}

// YahooRateLimited is Yahoo's edge answer to a client it does not like.
func YahooRateLimited(retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Edge: Too Many Requests"))
	}
}

// YahooNotFound is the chart API's answer for an unknown symbol.
const YahooNotFound = `{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}`

// YahooChart renders bars as a chart API v8 document, each bar stamped at
// the New York open like the real API.
func YahooChart(symbol string, bars []Bar) []byte {
	type quote struct {
		Open   []float64 `json:"open"`
		High   []float64 `json:"high"`
		Low    []float64 `json:"low"`
		Close  []float64 `json:"close"`
		Volume []int64   `json:"volume"`
	}
	var q quote
	var adj, ts = []float64{}, []int64{}
	for _, b := range bars {
		ts = append(ts, b.Date.Add(14*time.Hour+30*time.Minute).Unix())
		q.Open = append(q.Open, b.Open)
		q.High = append(q.High, b.High)
		q.Low = append(q.Low, b.Low)
		q.Close = append(q.Close, b.Close)
		q.Volume = append(q.Volume, b.Volume)
		adj = append(adj, b.AdjClose)
	}
	doc := map[string]any{"chart": map[string]any{
		"result": []any{map[string]any{
			"meta": map[string]any{
				"currency": "USD", "symbol": symbol, "gmtoffset": -18000, "timezone": "EST",
				"exchangeTimezoneName": "America/New_York", "dataGranularity": "1d",
			},
			"timestamp": ts,
			"indicators": map[string]any{
				"quote":    []quote{q},
				"adjclose": []any{map[string]any{"adjclose": adj}},
			},
		}},
		"error": nil,
	}}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// YahooHistory serves the chart API from series (ticker → bars) and
// honours range=max and period1 like the real one; unknown tickers get the
// real 404.
func YahooHistory(series func(ticker string) ([]Bar, bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		symbol, ok := strings.CutPrefix(r.URL.Path, "/v8/finance/chart/")
		bars, known := series(symbol)
		if !ok || !known {
			Reply(http.StatusNotFound, "application/json", YahooNotFound)(w, r)
			return
		}
		if p1 := r.URL.Query().Get("period1"); p1 != "" {
			secs, err := strconv.ParseInt(p1, 10, 64)
			if err != nil {
				http.Error(w, "bad period1", http.StatusBadRequest)
				return
			}
			since := time.Unix(secs, 0).UTC()
			var window []Bar
			for _, b := range bars {
				if !b.Date.Before(since) {
					window = append(window, b)
				}
			}
			bars = window
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(YahooChart(symbol, bars))
	}
}

// StooqCSV renders bars as Stooq's daily CSV.
func StooqCSV(bars []Bar) string {
	var b strings.Builder
	b.WriteString("Date,Open,High,Low,Close,Volume\n")
	for _, bar := range bars {
		fmt.Fprintf(&b, "%s,%g,%g,%g,%g,%d\n", bar.Date.Format(time.DateOnly), bar.Open, bar.High, bar.Low, bar.Close, bar.Volume)
	}
	return b.String()
}

// AlphaVantageDaily renders bars as a TIME_SERIES_DAILY document.
func AlphaVantageDaily(symbol string, bars []Bar) string {
	series := map[string]map[string]string{}
	for _, b := range bars {
		series[b.Date.Format(time.DateOnly)] = map[string]string{
			"1. open": strconv.FormatFloat(b.Open, 'f', 4, 64), "2. high": strconv.FormatFloat(b.High, 'f', 4, 64),
			"3. low": strconv.FormatFloat(b.Low, 'f', 4, 64), "4. close": strconv.FormatFloat(b.Close, 'f', 4, 64),
			"5. volume": strconv.FormatInt(b.Volume, 10),
		}
	}
	doc, err := json.Marshal(map[string]any{
		"Meta Data": map[string]string{
			"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": symbol,
			"4. Output Size": "Compact", "5. Time Zone": "US/Eastern",
		},
		"Time Series (Daily)": series,
	})
	if err != nil {
		panic(err)
	}
	return string(doc)
}

// TradingDays returns n synthetic weekday bars ending on last, with prices
// rising from start so that every bar is distinguishable.
func TradingDays(last time.Time, n int, start float64) []Bar {
	bars := make([]Bar, 0, n)
	for d := last; len(bars) < n; d = d.AddDate(0, 0, -1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		bars = append(bars, Bar{})
		bars[len(bars)-1].Date = d
	}
	for i, j := 0, len(bars)-1; i < j; i, j = i+1, j-1 {
		bars[i], bars[j] = bars[j], bars[i]
	}
	for i := range bars {
		p := start + float64(i)/4
		bars[i].Open, bars[i].High, bars[i].Low, bars[i].Close, bars[i].AdjClose = p-0.5, p+1, p-1, p, p
		bars[i].Volume = int64(1_000_000 + i)
	}
	return bars
}

// FetchLockKey exposes the Redis key of a ticker's fetch lock to the
// Loader tests, which play the part of another replica holding it.
func FetchLockKey(ticker string) string { return lockKeyPrefix + ticker }

// Waiters reports how many callers share the ticker's load in progress, so
// tests can tell when concurrent callers have joined it.
func (l *Loader) Waiters(ticker string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.flights[ticker]; ok {
		return f.waiters
	}
	return 0
}
