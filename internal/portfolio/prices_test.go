package portfolio_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
)

func TestLatestCloseFromTheBundledSample(t *testing.T) {
	loader, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, nil, nil, nil)
	require.NoError(t, err)
	prices := portfolio.NewMarketPrices(loader)

	q, err := prices.LatestClose(context.Background(), "msft")
	require.NoError(t, err)
	require.Equal(t, "MSFT", q.Symbol)
	require.Equal(t, "43.38", q.Price.StringFixed(2)) // the file's last row: 2001-01-02,MSFT,43.38
	require.Equal(t, time.Date(2001, 1, 2, 0, 0, 0, 0, time.UTC), q.Date.UTC())
	require.Equal(t, "sample", q.Source)
	require.False(t, q.Live, "the sample is not live, and pages must say so")

	_, err = prices.LatestClose(context.Background(), "ZZZZ")
	require.ErrorIs(t, err, portfolio.ErrNoPrice)
}

// fixedLoader serves one bar with the given close, or an error.
type fixedLoader struct {
	close float64
	err   error
}

func (f fixedLoader) Load(_ context.Context, symbol string) (*market.Series, error) {
	if f.err != nil {
		return nil, f.err
	}
	day := time.Date(2024, 5, 17, 0, 0, 0, 0, time.UTC)
	return &market.Series{Ticker: symbol, Source: "test", Live: true, Bars: []market.Bar{{Date: day, Close: f.close}}}, nil
}

func TestLatestCloseBecomesCentsOnce(t *testing.T) {
	cases := []struct {
		close float64
		want  string
	}{
		{27.3125, "27.31"},
		// The float nearest 27.315 is a hair below it; the price is read as
		// the decimal the provider wrote, so it rounds half-up to 27.32.
		{27.315, "27.32"},
		{0.1, "0.10"},
		{1234.005, "1234.01"},
	}
	for _, tc := range cases {
		q, err := portfolio.NewMarketPrices(fixedLoader{close: tc.close}).LatestClose(context.Background(), "X")
		require.NoError(t, err)
		require.Equal(t, tc.want, q.Price.StringFixed(2), "%v", tc.close)
		require.True(t, q.Live)
	}

	_, err := portfolio.NewMarketPrices(fixedLoader{close: 0.004}).LatestClose(context.Background(), "X")
	require.ErrorIs(t, err, portfolio.ErrNoPrice, "a price that rounds to no cents cannot be traded at")
}

func TestLatestCloseOutageIsNotNoPrice(t *testing.T) {
	down := fmt.Errorf("all providers failed: %w", market.ErrNoData)
	_, err := portfolio.NewMarketPrices(fixedLoader{err: down}).LatestClose(context.Background(), "X")
	require.ErrorIs(t, err, market.ErrNoData)
	require.NotErrorIs(t, err, portfolio.ErrNoPrice, "an outage is answered 503, not 'no such symbol'")
}

func TestClosesAreTheLastDaysInCentsOldestFirst(t *testing.T) {
	loader, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, nil, nil, nil)
	require.NoError(t, err)
	closes, err := portfolio.NewMarketPrices(loader).Closes(context.Background(), "MSFT", 5)
	require.NoError(t, err)
	require.Len(t, closes, 5)
	last := closes[len(closes)-1]
	require.Equal(t, time.Date(2001, 1, 2, 0, 0, 0, 0, time.UTC), last.Date.UTC())
	require.Equal(t, "43.38", last.Price.StringFixed(2), "the same close LatestClose gives")
	for i := 1; i < len(closes); i++ {
		require.True(t, closes[i-1].Date.Before(closes[i].Date))
		require.True(t, closes[i].Price.Equal(closes[i].Price.Round(2)), "in cents")
	}

	one, err := portfolio.NewMarketPrices(fixedLoader{close: 27.315}).Closes(context.Background(), "X", 90)
	require.NoError(t, err)
	require.Len(t, one, 1, "a short history gives what it has")
	require.Equal(t, "27.32", one[0].Price.StringFixed(2))

	_, err = portfolio.NewMarketPrices(loader).Closes(context.Background(), "ZZZZ", 5)
	require.ErrorIs(t, err, portfolio.ErrNoPrice)
}
