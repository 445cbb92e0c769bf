package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// DefaultAlphaVantageURL is the Alpha Vantage API host.
const DefaultAlphaVantageURL = "https://www.alphavantage.co"

// compactSpan is how far back outputsize=compact (the last 100 trading
// days) safely reaches, in calendar days.
const compactSpan = 130 * 24 * time.Hour

// errPremium means the request used a parameter the key's plan lacks.
var errPremium = errors.New("premium feature")

// alphaVantage reads TIME_SERIES_DAILY. Free keys get only the last 100
// bars (outputsize=full is premium) and 25 calls a day.
type alphaVantage struct {
	base string
	key  string
	http *upstream.Client
	now  func() time.Time
	// compactOnly is set once the key turned out not to have full history,
	// so later loads do not spend a call of the daily quota to learn it.
	compactOnly atomic.Bool
}

func (a *alphaVantage) Name() string { return "alphavantage" }

func (a *alphaVantage) History(ctx context.Context, ticker string, since time.Time) ([]Bar, error) {
	if a.key == "" {
		return nil, fmt.Errorf("alphavantage: %w (ALPHA_VANTAGE_API_KEY)", upstream.ErrNoKey)
	}
	compact := a.compactOnly.Load() || (!since.IsZero() && a.now().Sub(since) < compactSpan)
	bars, err := a.fetch(ctx, ticker, since, compact)
	if !compact && errors.Is(err, errPremium) {
		a.compactOnly.Store(true)
		bars, err = a.fetch(ctx, ticker, since, true)
	}
	if err != nil {
		return nil, fmt.Errorf("alphavantage %s: %w", ticker, err)
	}
	return bars, nil
}

func (a *alphaVantage) fetch(ctx context.Context, ticker string, since time.Time, compact bool) ([]Bar, error) {
	size := "full"
	if compact {
		size = "compact"
	}
	q := url.Values{
		"function":   {"TIME_SERIES_DAILY"},
		"symbol":     {ticker},
		"outputsize": {size},
		"datatype":   {"json"},
		"apikey":     {a.key},
	}
	resp, err := a.http.Get(ctx, a.base+"/query?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	return parseAlphaVantage(resp.Body, since)
}

type alphaVantageBar struct {
	Open   string `json:"1. open"`
	High   string `json:"2. high"`
	Low    string `json:"3. low"`
	Close  string `json:"4. close"`
	Volume string `json:"5. volume"`
}

// parseAlphaVantage reads a TIME_SERIES_DAILY document. Alpha Vantage
// answers every error with HTTP 200 and a one-key object, so the keys decide:
// "Note" is a rate limit, "Error Message" a bad symbol, and "Information"
// is read for what it says.
func parseAlphaVantage(body []byte, since time.Time) ([]Bar, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if raw, ok := doc["Time Series (Daily)"]; ok {
		var series map[string]alphaVantageBar
		if err := json.Unmarshal(raw, &series); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		bars := make([]Bar, 0, len(series))
		for date, v := range series {
			if b, ok := alphaVantageRow(date, v); ok {
				bars = append(bars, b)
			}
		}
		return tidy(bars, since), nil
	}
	if msg, ok := message(doc, "Error Message"); ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchTicker, msg)
	}
	if msg, ok := message(doc, "Note"); ok {
		return nil, fmt.Errorf("%w: %s", upstream.ErrRateLimited, msg)
	}
	if msg, ok := message(doc, "Information"); ok {
		lower := strings.ToLower(msg)
		switch {
		case strings.Contains(lower, "rate limit"):
			return nil, fmt.Errorf("%w: %s", upstream.ErrRateLimited, msg)
		case strings.Contains(lower, "premium"):
			return nil, fmt.Errorf("%w: %s", errPremium, msg)
		case strings.Contains(lower, "demo") || strings.Contains(lower, "api key"):
			return nil, fmt.Errorf("%w: %s", ErrKeyRejected, msg)
		case strings.Contains(lower, "invalid inputs"):
			return nil, fmt.Errorf("%w: %s", ErrNoSuchTicker, msg)
		}
		return nil, fmt.Errorf("alphavantage says: %s", msg)
	}
	return nil, fmt.Errorf("%w: no time series and no error message", ErrMalformed)
}

// message returns doc[key] when it is a string, shortened for reports.
func message(doc map[string]json.RawMessage, key string) (string, bool) {
	raw, ok := doc[key]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	const maxLen = 300
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "…"
	}
	return s, true
}

func alphaVantageRow(date string, v alphaVantageBar) (Bar, bool) {
	d, ok := parseDay(date)
	if !ok {
		return Bar{}, false
	}
	number := func(s string) float64 {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0
		}
		return f
	}
	b := Bar{Date: d, Open: number(v.Open), High: number(v.High), Low: number(v.Low), Close: number(v.Close)}
	if !validPrice(b.Close) {
		return Bar{}, false
	}
	if vol := number(v.Volume); vol > 0 && vol < 1e18 {
		b.Volume = int64(vol)
	}
	return complete(b), true
}
