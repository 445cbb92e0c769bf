package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// DefaultYahooURL is the Yahoo Finance chart API host.
const DefaultYahooURL = "https://query2.finance.yahoo.com"

// yahoo reads the chart API v8, which needs no key and no crumb.
type yahoo struct {
	base string
	http *upstream.Client
	now  func() time.Time
}

func (y *yahoo) Name() string { return "yahoo" }

func (y *yahoo) History(ctx context.Context, ticker string, since time.Time) ([]Bar, error) {
	q := url.Values{
		"interval":             {"1d"},
		"includeAdjustedClose": {"true"},
		"includePrePost":       {"false"},
	}
	if since.IsZero() {
		q.Set("range", "max")
	} else {
		// period2 one day ahead so that today's bar is inside the window.
		q.Set("period1", strconv.FormatInt(since.Unix(), 10))
		q.Set("period2", strconv.FormatInt(day(y.now()).AddDate(0, 0, 1).Unix(), 10))
	}
	u := y.base + "/v8/finance/chart/" + url.PathEscape(ticker) + "?" + q.Encode()

	resp, err := y.http.Get(ctx, u, http.Header{"Accept": {"application/json"}})
	if err != nil {
		var ue *upstream.Error
		if errors.As(err, &ue) && ue.Kind == upstream.KindHTTP && ue.Status >= 400 && ue.Status < 500 {
			// Yahoo explains 4xx in a chart.error object: 404 for an
			// unknown symbol, 400 for a window with no data.
			bars, parseErr := parseYahoo(ue.Body, since)
			switch {
			case parseErr == nil && len(bars) == 0:
				return bars, nil
			case ue.Status == http.StatusNotFound || errors.Is(parseErr, ErrNoSuchTicker):
				return nil, fmt.Errorf("yahoo %s: %w", ticker, ErrNoSuchTicker)
			case !errors.Is(parseErr, ErrMalformed):
				return nil, fmt.Errorf("yahoo %s: %w: %w", ticker, err, parseErr)
			}
		}
		return nil, fmt.Errorf("yahoo %s: %w", ticker, err)
	}
	bars, err := parseYahoo(resp.Body, since)
	if err != nil {
		return nil, fmt.Errorf("yahoo %s: %w", ticker, err)
	}
	return bars, nil
}

type yahooChart struct {
	Chart struct {
		Result []yahooResult `json:"result"`
		Error  *struct {
			Code        string `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	} `json:"chart"`
}

type yahooResult struct {
	Meta struct {
		ExchangeTimezoneName string `json:"exchangeTimezoneName"`
		GMTOffset            int    `json:"gmtoffset"`
	} `json:"meta"`
	Timestamp  []int64 `json:"timestamp"`
	Indicators struct {
		Quote []struct {
			Open   []*float64 `json:"open"`
			High   []*float64 `json:"high"`
			Low    []*float64 `json:"low"`
			Close  []*float64 `json:"close"`
			Volume []*float64 `json:"volume"`
		} `json:"quote"`
		AdjClose []struct {
			AdjClose []*float64 `json:"adjclose"`
		} `json:"adjclose"`
	} `json:"indicators"`
}

// parseYahoo reads a chart API v8 document. Bars whose close is null (a
// holiday, a halt) are skipped; other null fields are filled from the
// close. Dates are taken in the exchange's time zone, since a session that
// opens at 10:00 in Sydney starts on the previous UTC day.
func parseYahoo(body []byte, since time.Time) ([]Bar, error) {
	var doc yahooChart
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if e := doc.Chart.Error; e != nil {
		switch {
		case e.Code == "Not Found":
			return nil, fmt.Errorf("%w: %s", ErrNoSuchTicker, e.Description)
		case strings.HasPrefix(e.Description, "Data doesn't exist"):
			return []Bar{}, nil
		}
		return nil, fmt.Errorf("yahoo error %q: %s", e.Code, e.Description)
	}
	if len(doc.Chart.Result) == 0 {
		return nil, fmt.Errorf("%w: chart has no result and no error", ErrMalformed)
	}
	res := doc.Chart.Result[0]
	if len(res.Indicators.Quote) == 0 {
		return []Bar{}, nil
	}
	quote := res.Indicators.Quote[0]
	var adj []*float64
	if len(res.Indicators.AdjClose) > 0 {
		adj = res.Indicators.AdjClose[0].AdjClose
	}
	loc, err := time.LoadLocation(res.Meta.ExchangeTimezoneName)
	if err != nil || res.Meta.ExchangeTimezoneName == "" {
		// No tz database in a minimal container: the offset is close
		// enough for a session's opening time.
		loc = time.FixedZone("exchange", res.Meta.GMTOffset)
	}

	bars := make([]Bar, 0, len(res.Timestamp))
	for i, ts := range res.Timestamp {
		closePrice := at(quote.Close, i)
		if !validPrice(closePrice) {
			continue
		}
		b := Bar{
			Date:     day(time.Unix(ts, 0).In(loc)),
			Open:     at(quote.Open, i),
			High:     at(quote.High, i),
			Low:      at(quote.Low, i),
			Close:    closePrice,
			AdjClose: at(adj, i),
		}
		if v := at(quote.Volume, i); v > 0 && v < 1e18 {
			b.Volume = int64(v)
		}
		bars = append(bars, complete(b))
	}
	return tidy(bars, since), nil
}

// at returns values[i], or 0 (an invalid price) when it is null or missing,
// since Yahoo's arrays may be shorter than the timestamps.
func at(values []*float64, i int) float64 {
	if i >= len(values) || values[i] == nil {
		return 0
	}
	return *values[i]
}
