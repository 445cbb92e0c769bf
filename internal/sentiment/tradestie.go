package sentiment

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/augurhq/augur/internal/upstream"
)

const tradestieBaseURL = "https://tradestie.com/api/v1"

// tradestie reads Tradestie's daily list of the 50 tickers most discussed on
// r/wallstreetbets. It yields at most one "article" per ticker: the day's
// comment count and mean comment sentiment.
type tradestie struct {
	http *upstream.Client
	base string
}

func (t *tradestie) Name() string { return "tradestie" }

func (t *tradestie) Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error) {
	resp, err := t.http.Get(ctx, endpoint(t.base, "/apps/reddit", nil), nil)
	if err != nil {
		return articleBatch{}, fmt.Errorf("get reddit list: %w", err)
	}
	articles, err := parseTradestie(resp.Body, ticker)
	if err != nil {
		return articleBatch{}, err
	}
	if len(articles) == 0 {
		return articleBatch{Note: ticker + " is not among today's 50 most discussed tickers on r/wallstreetbets"}, nil
	}
	return articleBatch{Articles: firstN(articles, limit)}, nil
}

// parseTradestie picks ticker out of the reddit list. sentiment_score is
// already a small signed number; it is only clamped to [-1, 1].
func parseTradestie(body []byte, ticker string) ([]Article, error) {
	var rows []struct {
		Comments  int     `json:"no_of_comments"`
		Sentiment string  `json:"sentiment"`
		Score     float64 `json:"sentiment_score"`
		Ticker    string  `json:"ticker"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("%w: decode reddit list: %w", errBadResponse, err)
	}
	for _, row := range rows {
		if !strings.EqualFold(strings.TrimSpace(row.Ticker), ticker) {
			continue
		}
		label := collapseSpace(row.Sentiment)
		if label == "" {
			label = "no label"
		}
		return []Article{{
			Title:  fmt.Sprintf("r/wallstreetbets on %s: %d comments, %s", ticker, row.Comments, label),
			Source: "tradestie",
			Score:  clampScore(row.Score),
		}}, nil
	}
	return nil, nil
}
