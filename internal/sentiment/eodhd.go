package sentiment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

const eodhdBaseURL = "https://eodhd.com/api"

// eodhdWindow is how far back EODHD's daily sentiment is asked for. It
// returns one aggregate per day with news, so the window, not the number of
// articles, bounds the answer; older than a month says little about now.
const eodhdWindow = 30 * 24 * time.Hour

// eodhd reads EODHD's daily news-sentiment aggregates: one "article" per
// day, scored with EODHD's own normalized value, already in [-1, 1].
type eodhd struct {
	http *upstream.Client
	base string
	key  string
}

func (e *eodhd) Name() string { return "eodhd" }

func (e *eodhd) Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error) {
	if e.key == "" {
		return articleBatch{}, upstream.ErrNoKey
	}
	symbol := eodhdSymbol(ticker)
	to := time.Now().UTC()
	query := endpoint(e.base, "/sentiments", url.Values{
		"s":         {symbol},
		"from":      {to.Add(-eodhdWindow).Format(time.DateOnly)},
		"to":        {to.Format(time.DateOnly)},
		"api_token": {e.key},
		"fmt":       {"json"},
	})
	resp, err := e.http.Get(ctx, query, nil)
	if err != nil {
		return articleBatch{}, redactKey(fmt.Errorf("get sentiments: %w", explainStatus(err)), e.key)
	}
	articles, err := parseEODHD(resp.Body, symbol)
	if err != nil {
		return articleBatch{}, redactKey(err, e.key)
	}
	return articleBatch{Articles: firstN(articles, limit)}, nil
}

// eodhdSymbol gives a ticker EODHD's exchange suffix. A bare ticker is a US
// listing; a one-letter suffix is a share class (BRK.B), which EODHD writes
// with a dash (BRK-B.US); a longer suffix is taken to be an exchange already.
func eodhdSymbol(ticker string) string {
	base, suffix, found := strings.Cut(ticker, ".")
	switch {
	case !found:
		return ticker + ".US"
	case len(suffix) == 1:
		return base + "-" + suffix + ".US"
	}
	return ticker
}

// parseEODHD reads a sentiments body for symbol, newest day first.
func parseEODHD(body []byte, symbol string) ([]Article, error) {
	var bySymbol map[string]json.RawMessage
	if err := json.Unmarshal(body, &bySymbol); err != nil {
		return nil, fmt.Errorf("%w: decode sentiments: %w", errBadResponse, err)
	}
	if _, ok := bySymbol["error"]; ok {
		return nil, eodhdError(body)
	}
	var days []struct {
		Date       string  `json:"date"`
		Count      int     `json:"count"`
		Normalized float64 `json:"normalized"`
	}
	for key, raw := range bySymbol {
		// EODHD upper-cases the symbol in its answer.
		if strings.EqualFold(key, symbol) {
			if err := json.Unmarshal(raw, &days); err != nil {
				return nil, fmt.Errorf("%w: days of %s: %w", errBadResponse, key, err)
			}
			break
		}
	}
	articles := make([]Article, 0, len(days))
	for _, day := range days {
		date, err := time.Parse(time.DateOnly, day.Date)
		if err != nil || day.Count <= 0 {
			continue
		}
		articles = append(articles, Article{
			Title:     fmt.Sprintf("EODHD news sentiment for %s on %s (%d articles)", symbol, day.Date, day.Count),
			Source:    "eodhd",
			Published: date,
			Score:     clampScore(day.Normalized),
		})
	}
	// EODHD sends newest first; sorting keeps that promise for firstN even
	// if it does not.
	slices.SortStableFunc(articles, func(a, b Article) int { return b.Published.Compare(a.Published) })
	return articles, nil
}

// eodhdError reads an error object that came with a 2xx status:
// {"error":"...","code":403}. Either field may be missing or mistyped.
func eodhdError(body []byte) error {
	var payload struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
	}
	// A field of the wrong type is skipped and the rest still decoded,
	// which is all that is wanted here.
	_ = json.Unmarshal(body, &payload)
	if payload.Error == "" {
		payload.Error = "error object without a message"
	}
	switch payload.Code {
	case 402, 429:
		return fmt.Errorf("%w: %s", upstream.ErrRateLimited, payload.Error)
	case 401, 403:
		return fmt.Errorf("%w: API key refused: %s", errRejected, payload.Error)
	}
	return fmt.Errorf("%w: %s", errRejected, payload.Error)
}
