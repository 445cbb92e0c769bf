package market

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// DefaultStooqURL is Stooq's English host; stooq.pl answers with Polish
// column names.
const DefaultStooqURL = "https://stooq.com"

// stooq reads Stooq's daily CSV download, which needs an API key since 2026.
type stooq struct {
	base string
	key  string
	http *upstream.Client
	now  func() time.Time
}

func (s *stooq) Name() string { return "stooq" }

func (s *stooq) History(ctx context.Context, ticker string, since time.Time) ([]Bar, error) {
	if s.key == "" {
		return nil, fmt.Errorf("stooq: %w (STOOQ_API_KEY)", upstream.ErrNoKey)
	}
	q := url.Values{"s": {stooqSymbol(ticker)}, "i": {"d"}, "apikey": {s.key}}
	if !since.IsZero() {
		q.Set("d1", since.Format("20060102"))
		q.Set("d2", day(s.now()).AddDate(0, 0, 1).Format("20060102"))
	}
	resp, err := s.http.Get(ctx, s.base+"/q/d/l/?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("stooq %s: %w", ticker, err)
	}
	bars, err := parseStooq(resp.Body, since)
	if errors.Is(err, ErrNoSuchTicker) && !since.IsZero() {
		// "No data" also means an empty date range: nothing new yet.
		return []Bar{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stooq %s: %w", ticker, err)
	}
	return bars, nil
}

// stooqSuffixes maps Yahoo-style exchange suffixes, which Augur's tickers
// use, to Stooq's market suffixes.
var stooqSuffixes = map[string]string{
	".L":  ".uk",
	".DE": ".de",
	".F":  ".de",
	".T":  ".jp",
	".HK": ".hk",
	".BD": ".hu",
}

// stooqIndices maps Yahoo index symbols to Stooq's where the two differ.
var stooqIndices = map[string]string{
	"^GSPC": "^spx",
	"^IXIC": "^ndq",
}

// stooqSymbol turns MSFT into msft.us, BARC.L into barc.uk and ^GSPC into
// ^spx: Stooq wants lower case and a market suffix on every stock.
func stooqSymbol(ticker string) string {
	if s, ok := stooqIndices[ticker]; ok {
		return s
	}
	if strings.HasPrefix(ticker, "^") {
		return strings.ToLower(ticker)
	}
	if i := strings.LastIndex(ticker, "."); i > 0 {
		if suffix, ok := stooqSuffixes[ticker[i:]]; ok {
			return strings.ToLower(ticker[:i]) + suffix
		}
		return strings.ToLower(ticker)
	}
	return strings.ToLower(ticker) + ".us"
}

// parseStooq reads Stooq's CSV. Stooq reports every problem with HTTP 200
// and a plain-text or HTML body, so the body's shape is the only signal.
func parseStooq(body []byte, since time.Time) ([]Bar, error) {
	text := bytes.TrimSpace(body)
	lower := bytes.ToLower(text)
	switch {
	case len(text) == 0:
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	case bytes.HasPrefix(lower, []byte("no data")):
		return nil, fmt.Errorf("%w: stooq says %q", ErrNoSuchTicker, "No data")
	case bytes.Contains(lower, []byte("exceeded the daily hits limit")):
		return nil, fmt.Errorf("%w: stooq daily hits limit exceeded", upstream.ErrRateLimited)
	case text[0] == '<':
		if bytes.Contains(lower, []byte("apikey")) || bytes.Contains(lower, []byte("api key")) {
			return nil, fmt.Errorf("%w: stooq answered with its get-an-API-key page", ErrKeyRejected)
		}
		return nil, fmt.Errorf("%w: stooq answered with an HTML page (bot check?)", ErrMalformed)
	}
	bars, err := parseCSV(text, since)
	if err != nil {
		return nil, fmt.Errorf("stooq: %w", err)
	}
	return bars, nil
}
