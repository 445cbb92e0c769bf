package app

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/market"
)

func TestDemoCompaniesNameEverySampleStock(t *testing.T) {
	tickers, err := market.NewSample().Tickers()
	require.NoError(t, err)
	stocks := slices.DeleteFunc(tickers, func(s string) bool { return s == market.SampleIndex })
	require.Len(t, stocks, 30)
	for _, symbol := range stocks {
		c, ok := demoCompanies[symbol]
		require.True(t, ok, "demoCompanies has no entry for the sample's %s", symbol)
		require.NotEmpty(t, c.Name, symbol)
		require.NotEmpty(t, c.Exchange, symbol)
		require.NotEmpty(t, c.Sector, symbol)
	}
	require.Len(t, demoCompanies, len(stocks), "every demo company has sample prices to trade at")
}

// TestDemoMarketSeedsOnceAndTrades seeds twice, as two `make run`s would,
// then trades through the web handler the program builds, priced from the
// sample data.
func TestDemoMarketSeedsOnceAndTrades(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	var out bytes.Buffer
	env := &runtimeEnv{cfg: s.cfg, logger: s.logger, stdout: &out}
	require.NoError(t, seedDemoMarket(ctx, env, s.db))
	require.Equal(t, "demo market: 30 companies and 2 brokers added\n", out.String())
	out.Reset()
	require.NoError(t, seedDemoMarket(ctx, env, s.db))
	require.Equal(t, "demo market: 0 companies and 0 brokers added\n", out.String(), "seeding again changes nothing")

	c, err := s.db.CompanyBySymbol(ctx, "HWP")
	require.NoError(t, err)
	require.Equal(t, "Hewlett-Packard Company", c.Name)

	require.Equal(t, http.StatusCreated, s.api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"1000.00"}`).Status)
	buy := s.api.Do(http.MethodPost, "/api/v1/portfolio/orders", `{"symbol":"MSFT","side":"buy","quantity":"10"}`)
	require.Equal(t, http.StatusCreated, buy.Status, "%s", buy.Body)
	tx := buy.Map(t)
	require.Equal(t, "43.38", tx["price"], "the sample's last MSFT close")
	require.Equal(t, "Thrifty Trades", tx["broker"].(map[string]any)["name"], "the cheaper demo broker")
	require.Equal(t, "0.43", tx["commission"])
}
