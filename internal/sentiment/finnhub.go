package sentiment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

const finnhubBaseURL = "https://finnhub.io/api/v1"

// finnhubWindowDays is how many days of company news and social mentions
// are asked for: a week of Finnhub company news already runs to hundreds of
// headlines for a large cap.
const finnhubWindowDays = 7

// finnhub scores Finnhub's company-news headlines with VADER and, when the
// key's plan allows it, puts the social-media sentiment of the same week in
// front of them as one aggregate article.
type finnhub struct {
	news *upstream.Client
	// social has a breaker of its own so that an outage of the premium
	// social endpoint cannot cut off company news.
	social *upstream.Client
	base   string
	key    string
}

func (f *finnhub) Name() string { return "finnhub" }

func (f *finnhub) Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error) {
	if f.key == "" {
		return articleBatch{}, upstream.ErrNoKey
	}
	to := time.Now().UTC()
	window := url.Values{
		"symbol": {ticker},
		"from":   {to.AddDate(0, 0, -finnhubWindowDays).Format(time.DateOnly)},
		"to":     {to.Format(time.DateOnly)},
	}
	// The header keeps the key out of URLs, and so out of error messages.
	header := http.Header{"X-Finnhub-Token": {f.key}}
	resp, err := f.news.Get(ctx, endpoint(f.base, "/company-news", window), header)
	if err != nil {
		return articleBatch{}, fmt.Errorf("get company news: %w", explainStatus(err))
	}
	news, err := parseFinnhubNews(resp.Body)
	if err != nil {
		return articleBatch{}, err
	}
	social, note := f.fetchSocial(ctx, ticker, window, header)
	return articleBatch{Articles: firstN(append(social, news...), limit), Note: note}, nil
}

// fetchSocial returns the social-sentiment article, if any, and a note when
// it could not be had. It never fails the source: company news alone is
// still a useful answer.
func (f *finnhub) fetchSocial(ctx context.Context, ticker string, window url.Values, header http.Header) ([]Article, string) {
	resp, err := f.social.Get(ctx, endpoint(f.base, "/stock/social-sentiment", window), header)
	if upstream.StatusOf(err) == http.StatusForbidden {
		return nil, "company news only: social sentiment needs a premium Finnhub plan"
	}
	if err != nil {
		return nil, "company news only: social sentiment failed: " + causeOf(err)
	}
	article, err := parseFinnhubSocial(resp.Body, ticker)
	if err != nil {
		return nil, "company news only: social sentiment unreadable: " + err.Error()
	}
	if article == nil {
		return nil, ""
	}
	return []Article{*article}, ""
}

// finnhubErrorBody turns an {"error": "..."} object that came with a 2xx
// status into an error, or returns nil when body is not one.
func finnhubErrorBody(body []byte) error {
	msg := upstreamErrorMessage(body)
	switch {
	case msg == "":
		return nil
	case strings.Contains(strings.ToLower(msg), "limit"):
		return fmt.Errorf("%w: %s", upstream.ErrRateLimited, msg)
	}
	return fmt.Errorf("%w: %s", errRejected, msg)
}

// parseFinnhubNews reads a company-news array, newest first as Finnhub
// sends it, and scores each headline.
func parseFinnhubNews(body []byte) ([]Article, error) {
	if err := finnhubErrorBody(body); err != nil {
		return nil, err
	}
	var items []struct {
		Datetime int64  `json:"datetime"`
		Headline string `json:"headline"`
		URL      string `json:"url"`
	}
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("%w: decode company news: %w", errBadResponse, err)
	}
	articles := make([]Article, 0, len(items))
	for _, item := range items {
		title := collapseSpace(item.Headline)
		if title == "" {
			continue
		}
		article := Article{
			Title:  title,
			URL:    strings.TrimSpace(item.URL),
			Source: "finnhub",
			Score:  scoreText(title),
		}
		if item.Datetime > 0 {
			article.Published = time.Unix(item.Datetime, 0).UTC()
		}
		articles = append(articles, article)
	}
	return articles, nil
}

// finnhubSocialPoint is one period of social-sentiment data; score is
// already in [-1, 1].
type finnhubSocialPoint struct {
	AtTime  string  `json:"atTime"`
	Mention int     `json:"mention"`
	Score   float64 `json:"score"`
}

// parseFinnhubSocial folds a social-sentiment answer into one article whose
// score is the mention-weighted mean of the periods' scores. It accepts the
// current {"data": [...]} form and the older split into reddit and twitter.
// No mentions at all is no article.
func parseFinnhubSocial(body []byte, ticker string) (*Article, error) {
	if err := finnhubErrorBody(body); err != nil {
		return nil, err
	}
	var resp struct {
		Data    []finnhubSocialPoint `json:"data"`
		Reddit  []finnhubSocialPoint `json:"reddit"`
		Twitter []finnhubSocialPoint `json:"twitter"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("%w: decode social sentiment: %w", errBadResponse, err)
	}
	var mentions, weighted float64
	var latest time.Time
	for _, points := range [][]finnhubSocialPoint{resp.Data, resp.Reddit, resp.Twitter} {
		for _, p := range points {
			if p.Mention <= 0 {
				continue
			}
			mentions += float64(p.Mention)
			weighted += float64(p.Mention) * clampScore(p.Score)
			if t, err := time.Parse(time.DateTime, p.AtTime); err == nil && t.After(latest) {
				latest = t
			}
		}
	}
	if mentions == 0 {
		return nil, nil
	}
	return &Article{
		Title:     fmt.Sprintf("Social media sentiment on %s: %.0f mentions in %d days", ticker, mentions, finnhubWindowDays),
		Source:    "finnhub",
		Published: latest,
		Score:     clampScore(weighted / mentions),
	}, nil
}
