package sentiment

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/augurhq/augur/internal/upstream"
)

const finvizBaseURL = "https://finviz.com"

// finviz scrapes the news table of Finviz's quote page and scores the
// headlines with VADER.
type finviz struct {
	http *upstream.Client
	base string
	// eastern is Finviz's clock: its date cells are US/Eastern wall time.
	eastern *time.Location
}

func (f *finviz) Name() string { return "finviz" }

func (f *finviz) Fetch(ctx context.Context, ticker string, limit int) (articleBatch, error) {
	page := endpoint(f.base, "/quote.ashx", url.Values{"t": {ticker}, "p": {"d"}})
	// Finviz's Cloudflare front answers 403 to anything that is not a
	// browser, whatever User-Agent the operator configured for the others.
	resp, err := f.http.Get(ctx, page, http.Header{"User-Agent": {upstream.DefaultUserAgent}})
	if err != nil {
		return articleBatch{}, fmt.Errorf("get quote page: %w", err)
	}
	pageURL, err := url.Parse(page)
	if err != nil {
		return articleBatch{}, fmt.Errorf("parse quote page URL: %w", err)
	}
	articles, err := parseFinviz(resp.Body, pageURL, time.Now().In(f.eastern))
	if err != nil {
		return articleBatch{}, err
	}
	return articleBatch{Articles: firstN(articles, limit)}, nil
}

// Layouts of the news table's date cell. A day's first row carries the
// date; the rows after it give only the time.
const (
	finvizDateLayout = "Jan-02-06"
	finvizTimeLayout = "03:04PM"
)

// parseFinviz reads the articles of a quote page's #news-table, newest
// first. page resolves relative links; now is the current time in US/Eastern
// and stands for the date of "Today" rows.
func parseFinviz(body []byte, page *url.URL, now time.Time) ([]Article, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: parse HTML: %w", errBadResponse, err)
	}
	table := doc.Find("#news-table").First()
	if table.Length() == 0 {
		// A block page, a consent page or a changed layout: all of them
		// would otherwise look like a ticker with no news.
		return nil, fmt.Errorf("%w: no #news-table on the quote page", errBadResponse)
	}
	var (
		articles []Article
		day      time.Time // the date carried over to time-only rows
	)
	// The HTML parser always puts rows under a tbody; the child combinators
	// keep rows of tables nested inside a cell out.
	table.ChildrenFiltered("tbody").ChildrenFiltered("tr").Each(func(_ int, row *goquery.Selection) {
		var published time.Time
		published, day = finvizTime(row.ChildrenFiltered("td").First().Text(), day, now)
		link := row.Find("a.tab-link-news").First()
		title := collapseSpace(link.Text())
		if title == "" {
			return
		}
		article := Article{
			Title:  title,
			Source: "finviz",
			// UTC like every other source, so that a report reads the same
			// whether it came from the cache or not.
			Published: published.UTC(),
			Score:     scoreText(title),
		}
		if href, ok := link.Attr("href"); ok {
			if u, err := page.Parse(strings.TrimSpace(href)); err == nil {
				article.URL = u.String()
			}
		}
		articles = append(articles, article)
	})
	return articles, nil
}

// finvizTime reads a date cell ("Nov-21-25 09:30AM", "Today 10:15AM" or
// "10:15AM") and returns the time it names and the day later time-only rows
// inherit. A cell it cannot read gives the zero time.
func finvizTime(cell string, day, now time.Time) (published, nextDay time.Time) {
	fields := strings.Fields(cell)
	var clock string
	switch len(fields) {
	case 1:
		clock = fields[0]
	case 2:
		clock = fields[1]
		if strings.EqualFold(fields[0], "today") {
			day = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		} else if d, err := time.ParseInLocation(finvizDateLayout, fields[0], now.Location()); err == nil {
			day = d
		} else {
			// Rows below belong to this unreadable day; giving them the
			// previous one would date them wrongly.
			return time.Time{}, time.Time{}
		}
	default:
		return time.Time{}, day
	}
	t, err := time.Parse(finvizTimeLayout, clock)
	if err != nil || day.IsZero() {
		return time.Time{}, day
	}
	return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, day.Location()), day
}
