package sentiment

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

const googleNewsBaseURL = "https://news.google.com"

// googleNews searches Google News' RSS feed for "<TICKER> stock", as the
// original app did, and scores the titles with VADER.
type googleNews struct {
	http *upstream.Client
	base string
}

func (g *googleNews) Name() string { return "google" }

func (g *googleNews) Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error) {
	feed := endpoint(g.base, "/rss/search", url.Values{
		"q":    {ticker + " stock"},
		"hl":   {"en-US"},
		"gl":   {"US"},
		"ceid": {"US:en"},
	})
	resp, err := g.http.Get(ctx, feed, nil)
	if err != nil {
		return articleBatch{}, fmt.Errorf("get news feed: %w", err)
	}
	articles, err := parseGoogleNews(resp.Body)
	if err != nil {
		return articleBatch{}, err
	}
	return articleBatch{Articles: firstN(articles, limit)}, nil
}

// googleRSS is the part of an RSS 2.0 search feed that is read. Naming the
// root makes a consent or error page in HTML fail to decode.
type googleRSS struct {
	XMLName xml.Name `xml:"rss"`
	Channel *struct {
		Items []struct {
			Title     string `xml:"title"`
			Link      string `xml:"link"`
			PubDate   string `xml:"pubDate"`
			Publisher string `xml:"source"`
		} `xml:"item"`
	} `xml:"channel"`
}

// parseGoogleNews reads a Google News RSS feed. An empty feed (what an
// unknown query gets) is no articles, not an error.
func parseGoogleNews(body []byte) ([]Article, error) {
	var feed googleRSS
	if err := xml.Unmarshal(body, &feed); err != nil {
		return nil, fmt.Errorf("%w: decode RSS: %w", errBadResponse, err)
	}
	if feed.Channel == nil {
		return nil, fmt.Errorf("%w: RSS without a channel", errBadResponse)
	}
	articles := make([]Article, 0, len(feed.Channel.Items))
	for _, item := range feed.Channel.Items {
		title := collapseSpace(item.Title)
		// Google appends " - Publisher"; left in, publisher names such as
		// "Motley Fool" would tilt the score.
		if publisher := collapseSpace(item.Publisher); publisher != "" {
			title = strings.TrimSpace(strings.TrimSuffix(title, " - "+publisher))
		}
		if title == "" {
			continue
		}
		articles = append(articles, Article{
			Title:     title,
			URL:       strings.TrimSpace(item.Link),
			Source:    "google",
			Published: parseRFC1123(item.PubDate),
			Score:     scoreText(title),
		})
	}
	return articles, nil
}

// parseRFC1123 reads an RSS pubDate; an unreadable one is the zero time
// rather than a reason to drop the headline.
func parseRFC1123(value string) time.Time {
	value = strings.TrimSpace(value)
	for _, layout := range []string{time.RFC1123, time.RFC1123Z} {
		if t, err := time.Parse(layout, value); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
