package sentiment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

const alphaVantageBaseURL = "https://www.alphavantage.co"

// alphaVantage reads Alpha Vantage's NEWS_SENTIMENT feed, which scores each
// article per ticker itself.
type alphaVantage struct {
	http *upstream.Client
	base string
	key  string
}

func (a *alphaVantage) Name() string { return "alphavantage" }

func (a *alphaVantage) Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error) {
	if a.key == "" {
		return articleBatch{}, upstream.ErrNoKey
	}
	query := endpoint(a.base, "/query", url.Values{
		"function": {"NEWS_SENTIMENT"},
		"tickers":  {ticker},
		"sort":     {"LATEST"},
		"limit":    {strconv.Itoa(limit)},
		"apikey":   {a.key},
	})
	resp, err := a.http.Get(ctx, query, nil)
	if err != nil {
		return articleBatch{}, redactKey(fmt.Errorf("get NEWS_SENTIMENT: %w", err), a.key)
	}
	articles, err := parseAlphaVantageNews(resp.Body, ticker)
	if err != nil {
		return articleBatch{}, redactKey(err, a.key)
	}
	return articleBatch{Articles: firstN(articles, limit)}, nil
}

// alphaVantageTimeLayout is time_published. Alpha Vantage does not name the
// zone; it is read as UTC, as its public clients do.
const alphaVantageTimeLayout = "20060102T150405"

// avNumber is a score Alpha Vantage sends as a JSON string ("0.229511") in
// some fields and as a number in others. An unreadable one is marked
// invalid rather than failing the whole feed over one article.
type avNumber struct {
	value float64
	valid bool
}

func (n *avNumber) UnmarshalJSON(data []byte) error {
	v, err := strconv.ParseFloat(string(bytes.Trim(data, `"`)), 64)
	*n = avNumber{value: v, valid: err == nil}
	return nil
}

type avNewsResponse struct {
	Information  string `json:"Information"`
	Note         string `json:"Note"`
	ErrorMessage string `json:"Error Message"`
	Feed         []struct {
		Title           string `json:"title"`
		URL             string `json:"url"`
		TimePublished   string `json:"time_published"`
		TickerSentiment []struct {
			Ticker    string   `json:"ticker"`
			Relevance avNumber `json:"relevance_score"`
			Score     avNumber `json:"ticker_sentiment_score"`
		} `json:"ticker_sentiment"`
	} `json:"feed"`
}

// parseAlphaVantageNews reads a NEWS_SENTIMENT body. An article's score is
// its ticker_sentiment_score for ticker times that ticker's relevance_score:
// Article has no weight of its own, so this is how an article that mentions
// the ticker only in passing counts for little in the report's mean.
// Articles that do not score ticker at all are left out.
func parseAlphaVantageNews(body []byte, ticker string) ([]Article, error) {
	var resp avNewsResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: decode NEWS_SENTIMENT: %w", errBadResponse, err)
	}
	// Every Alpha Vantage error is an HTTP 200 with a one-key object.
	switch {
	case resp.Note != "":
		return nil, fmt.Errorf("%w: %s", upstream.ErrRateLimited, resp.Note)
	case resp.ErrorMessage != "":
		return nil, fmt.Errorf("%w: %s", errRejected, resp.ErrorMessage)
	case resp.Information != "":
		return nil, classifyAlphaVantageInformation(resp.Information)
	case resp.Feed == nil:
		return nil, fmt.Errorf("%w: NEWS_SENTIMENT without a feed", errBadResponse)
	}
	var articles []Article
	for _, item := range resp.Feed {
		title := collapseSpace(item.Title)
		if title == "" {
			continue
		}
		for _, ts := range item.TickerSentiment {
			if !strings.EqualFold(strings.TrimSpace(ts.Ticker), ticker) {
				continue
			}
			relevance := clampScore(ts.Relevance.value)
			if !ts.Score.valid || !ts.Relevance.valid || relevance <= 0 {
				break
			}
			article := Article{
				Title:  title,
				URL:    strings.TrimSpace(item.URL),
				Source: "alphavantage",
				Score:  clampScore(ts.Score.value * relevance),
			}
			if t, err := time.Parse(alphaVantageTimeLayout, item.TimePublished); err == nil {
				article.Published = t
			}
			articles = append(articles, article)
			break
		}
	}
	return articles, nil
}

// classifyAlphaVantageInformation reads the free text of an "Information"
// body, the only place Alpha Vantage says which of its errors it means.
func classifyAlphaVantageInformation(info string) error {
	lower := strings.ToLower(info)
	switch {
	// Checked first: the daily-limit text also invites a premium plan.
	case strings.Contains(lower, "rate limit") || strings.Contains(lower, "call frequency"):
		return fmt.Errorf("%w: %s", upstream.ErrRateLimited, info)
	case strings.Contains(lower, "premium"):
		return fmt.Errorf("%w: premium feature: %s", errRejected, info)
	case strings.Contains(lower, "demo") || strings.Contains(lower, "api key"):
		return fmt.Errorf("%w: API key refused: %s", errRejected, info)
	case strings.Contains(lower, "invalid inputs"):
		return fmt.Errorf("%w: unknown ticker: %s", errRejected, info)
	}
	return fmt.Errorf("%w: %s", errRejected, info)
}
