package sentiment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

const stockGeistBaseURL = "https://api.stockgeist.ai"

// stockGeistTimeLayout is the UTC timestamp of StockGeist's parameters and
// answers.
const stockGeistTimeLayout = "2006-01-02T15:04:05"

// stockGeist reads StockGeist's daily message metrics through the API its
// official client uses (the documented "legacy" envelope). Each day with
// messages becomes one article; pos_index, the share of positive messages in
// [0, 1], is mapped to [-1, 1] as 2·pos_index − 1.
type stockGeist struct {
	http *upstream.Client
	base string
	key  string
}

func (s *stockGeist) Name() string { return "stockgeist" }

func (s *stockGeist) Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error) {
	if s.key == "" {
		return articleBatch{}, upstream.ErrNoKey
	}
	end := time.Now().UTC()
	query := endpoint(s.base, "/time-series/message-metrics", url.Values{
		"token":     {s.key},
		"symbol":    {ticker},
		"timeframe": {"1d"},
		"filter":    {"total_count,pos_index"},
		// One point per day: limit days back give at most limit articles.
		"start": {end.AddDate(0, 0, -limit).Format(stockGeistTimeLayout)},
		"end":   {end.Format(stockGeistTimeLayout)},
	})
	resp, err := s.http.Get(ctx, query, nil)
	if err != nil {
		return articleBatch{}, redactKey(fmt.Errorf("get message metrics: %w", explainStatus(err)), s.key)
	}
	articles, err := parseStockGeist(resp.Body, ticker)
	if err != nil {
		return articleBatch{}, redactKey(err, s.key)
	}
	return articleBatch{Articles: firstN(articles, limit)}, nil
}

// parseStockGeist reads a message-metrics envelope about ticker, newest day
// first. The
// envelope carries its own status code, which can say "error" under an HTTP
// 200.
func parseStockGeist(body []byte, ticker string) ([]Article, error) {
	var resp struct {
		Metadata struct {
			StatusCode int    `json:"status_code"`
			Message    string `json:"message"`
		} `json:"metadata"`
		Body []struct {
			Timestamp  string   `json:"timestamp"`
			TotalCount int      `json:"total_count"`
			PosIndex   *float64 `json:"pos_index"`
		} `json:"body"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: decode message metrics: %w", errBadResponse, err)
	}
	switch code := resp.Metadata.StatusCode; {
	case code == 0:
		return nil, fmt.Errorf("%w: message metrics without a status", errBadResponse)
	case code == 429:
		return nil, fmt.Errorf("%w: %s", upstream.ErrRateLimited, resp.Metadata.Message)
	case code == 401 || code == 403:
		return nil, fmt.Errorf("%w: API key refused: %s", errRejected, resp.Metadata.Message)
	case code != 200:
		return nil, fmt.Errorf("%w: status %d: %s", errRejected, code, resp.Metadata.Message)
	case resp.Body == nil:
		return nil, fmt.Errorf("%w: message metrics without a body", errBadResponse)
	}
	articles := make([]Article, 0, len(resp.Body))
	for _, point := range resp.Body {
		if point.PosIndex == nil || point.TotalCount <= 0 {
			continue
		}
		day, err := time.Parse(stockGeistTimeLayout, point.Timestamp)
		if err != nil {
			continue
		}
		positive := max(0, min(1, *point.PosIndex))
		articles = append(articles, Article{
			Title: fmt.Sprintf("StockGeist: %d messages about %s on %s, %.0f%% positive",
				point.TotalCount, ticker, day.Format(time.DateOnly), positive*100),
			Source:    "stockgeist",
			Published: day,
			Score:     clampScore(2*positive - 1),
		})
	}
	// The official client pages backwards, so points come oldest first;
	// firstN must keep the newest.
	slices.SortStableFunc(articles, func(a, b Article) int { return b.Published.Compare(a.Published) })
	return articles, nil
}
