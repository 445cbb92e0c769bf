package sentiment

import (
	"errors"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// The fuzz targets feed hostile bodies to every parser of outside input.
// Whatever comes in, a parser must not panic, must fail only with one of the
// package's classified errors, and must return only articles with a title
// and a score in [-1, 1].

// checkParsed enforces the parser contract on one result.
func checkParsed(t *testing.T, articles []Article, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, errBadResponse) && !errors.Is(err, errRejected) && !errors.Is(err, upstream.ErrRateLimited) {
			t.Fatalf("unclassified error: %v", err)
		}
		if len(articles) > 0 {
			t.Fatalf("articles returned with an error: %v", err)
		}
		return
	}
	for _, a := range articles {
		checkArticle(t, a)
	}
}

func checkArticle(t *testing.T, a Article) {
	t.Helper()
	if a.Title == "" {
		t.Fatalf("article without a title: %+v", a)
	}
	if math.IsNaN(a.Score) || a.Score < -1 || a.Score > 1 {
		t.Fatalf("score %v outside [-1, 1]: %+v", a.Score, a)
	}
}

// seed adds the testdata samples and a few short hostile bodies.
func seed(f *testing.F, samples ...string) {
	for _, name := range samples {
		f.Add([]byte(sample(f, name)))
	}
	for _, body := range []string{"", "null", "{}", "[]", `{"error":"x"}`, "<html></html>", "\x00\xff"} {
		f.Add([]byte(body))
	}
}

func FuzzParseFinviz(f *testing.F) {
	seed(f, "finviz_quote.html", "finviz_blocked.html")
	f.Add([]byte(`<table id="news-table"><tr><td>Today 99:99PM</td><td><a class="tab-link-news" href="%zz">x</a></td></tr></table>`))
	page, err := url.Parse("https://finviz.com/quote.ashx?t=AAPL")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2025, 11, 24, 11, 0, 0, 0, easternTime(f))
	f.Fuzz(func(t *testing.T, body []byte) {
		articles, err := parseFinviz(body, page, now)
		checkParsed(t, articles, err)
	})
}

func FuzzParseGoogleNews(f *testing.F) {
	seed(f, "google_news.rss", "google_consent.html")
	f.Fuzz(func(t *testing.T, body []byte) {
		articles, err := parseGoogleNews(body)
		checkParsed(t, articles, err)
	})
}

func FuzzParseAlphaVantageNews(f *testing.F) {
	seed(f, "alphavantage_news.json")
	f.Add([]byte(`{"Information":"Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day."}`))
	f.Add([]byte(`{"Note":"Thank you for using Alpha Vantage!"}`))
	f.Add([]byte(`{"feed":[{"title":"t","ticker_sentiment":[{"ticker":"AAPL","relevance_score":"1e308","ticker_sentiment_score":"1e308"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		articles, err := parseAlphaVantageNews(body, "AAPL")
		checkParsed(t, articles, err)
	})
}

func FuzzParseEODHD(f *testing.F) {
	seed(f, "eodhd_sentiments.json")
	f.Add([]byte(`{"error":"Limit reached","code":402}`))
	f.Add([]byte(`{"error":7,"code":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		articles, err := parseEODHD(body, "AAPL.US")
		checkParsed(t, articles, err)
	})
}

func FuzzParseTradestie(f *testing.F) {
	seed(f, "tradestie_reddit.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		articles, err := parseTradestie(body, "NVDA")
		checkParsed(t, articles, err)
	})
}

func FuzzParseFinnhubNews(f *testing.F) {
	seed(f, "finnhub_company_news.json")
	f.Add([]byte(`{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		articles, err := parseFinnhubNews(body)
		checkParsed(t, articles, err)
	})
}

func FuzzParseFinnhubSocial(f *testing.F) {
	seed(f, "finnhub_social.json", "finnhub_social_legacy.json")
	f.Add([]byte(`{"data":[{"mention":9223372036854775807,"score":1},{"mention":9223372036854775807,"score":-1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		article, err := parseFinnhubSocial(body, "AAPL")
		var articles []Article
		if article != nil {
			articles = []Article{*article}
		}
		checkParsed(t, articles, err)
	})
}

func FuzzParseStockGeist(f *testing.F) {
	seed(f, "stockgeist_message_metrics.json")
	f.Add([]byte(`{"metadata":{"status_code":401,"message":"Invalid token"},"body":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		articles, err := parseStockGeist(body, "AAPL")
		checkParsed(t, articles, err)
	})
}

func FuzzScoreText(f *testing.F) {
	for _, s := range []string{"Acme wins record order", "not bad at all!!!", "GREAT :) but kind of sad?? 😀", "", "no no no"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if s := scoreText(text); math.IsNaN(s) || s < -1 || s > 1 {
			t.Fatalf("score %v outside [-1, 1] for %q", s, text)
		}
	})
}
