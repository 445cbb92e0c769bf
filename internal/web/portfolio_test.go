package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/apitest"
	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
)

// samplePrices prices trades from the bundled sample, as Augur does
// offline: MSFT's latest close there is 43.38, IBM's 84.50.
func samplePrices(t *testing.T) portfolio.Prices {
	t.Helper()
	loader, err := market.NewLoader(market.Config{Sources: []string{"sample"}}, nil, nil, nil)
	require.NoError(t, err)
	return portfolio.NewMarketPrices(loader)
}

// brokers are the two brokers seedMarket makes.
type brokers struct{ thrifty, full *store.Broker }

// seedMarket adds MSFT, IBM and an inactive EK, and two brokers, the dearer
// first so that "cheapest" cannot pass for "oldest".
func seedMarket(t *testing.T, db *store.DB) brokers {
	t.Helper()
	ctx := context.Background()
	for _, sym := range []string{"MSFT", "IBM"} {
		_, _, err := db.EnsureCompany(ctx, store.Company{Symbol: sym, Name: sym + " <Corp>", Exchange: "NYSE"})
		require.NoError(t, err)
	}
	var b brokers
	var err error
	b.full, _, err = db.EnsureBroker(ctx, store.Broker{Name: "Full Service", CommissionRate: decimal.RequireFromString("0.25")})
	require.NoError(t, err)
	b.thrifty, _, err = db.EnsureBroker(ctx, store.Broker{Name: "Thrifty", CommissionRate: decimal.RequireFromString("0.10")})
	require.NoError(t, err)
	return b
}

func errorOf(t *testing.T, r *apitest.Response) (code, field string) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message, Field string }
	}
	r.Decode(t, &body)
	require.NotEmpty(t, body.Error.Message)
	return body.Error.Code, body.Error.Field
}

func TestPortfolioTradingHandWorked(t *testing.T) {
	h := newHarness(t, 100)
	b := seedMarket(t, h.db)

	dep := h.api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"1000.00"}`)
	require.Equal(t, http.StatusCreated, dep.Status, "%s", dep.Body)
	require.Equal(t, "DEPOSIT", dep.Map(t)["type"])
	require.Equal(t, "1000.00", dep.Map(t)["total"])

	// Buy 10 MSFT at the sample's 43.38 through the cheapest broker
	// (0.10 %): total 433.80, commission 0.4338 → 0.43, cost 434.23.
	buy := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders", `{"symbol":"msft","side":"buy","quantity":"10"}`)
	require.Equal(t, http.StatusCreated, buy.Status, "%s", buy.Body)
	tx := buy.Map(t)
	require.Equal(t, "BUY", tx["type"])
	require.Equal(t, "MSFT", tx["symbol"])
	require.Equal(t, "10", tx["quantity"])
	require.Equal(t, "43.38", tx["price"])
	require.Equal(t, "433.80", tx["total"])
	require.Equal(t, "0.43", tx["commission"])
	require.Equal(t, map[string]any{"id": float64(b.thrifty.ID), "name": "Thrifty"}, tx["broker"])
	require.Contains(t, tx["description"], "close of 2001-01-02, bundled sample data, not live")

	p := h.api.Do(http.MethodGet, "/api/v1/portfolio", nil)
	require.Equal(t, http.StatusOK, p.Status)
	var view struct {
		Wallet   struct{ Balance string }
		Holdings []struct {
			Symbol, Name, Quantity string
			AverageCost            string `json:"average_cost"`
			CostBasis              string `json:"cost_basis"`
			Quote                  struct {
				Price, Source string
				Live          bool
			}
			Value        string
			UnrealisedPL string `json:"unrealised_pl"`
		}
		TotalInvested string `json:"total_invested"`
		MarketValue   string `json:"market_value"`
		UnrealisedPL  string `json:"unrealised_pl"`
		TotalValue    string `json:"total_value"`
		RealisedPL    string `json:"realised_pl"`
		Dividends     string
		Commissions   string
		Deposits      string
		Complete      bool
	}
	p.Decode(t, &view)
	require.Equal(t, "565.77", view.Wallet.Balance)
	require.Len(t, view.Holdings, 1)
	hold := view.Holdings[0]
	require.Equal(t, "MSFT", hold.Symbol)
	require.Equal(t, "10", hold.Quantity)
	require.Equal(t, "434.23", hold.CostBasis)
	require.Equal(t, "43.423", hold.AverageCost)
	require.Equal(t, "43.38", hold.Quote.Price)
	require.Equal(t, "sample", hold.Quote.Source)
	require.False(t, hold.Quote.Live)
	require.Equal(t, "433.80", hold.Value)
	require.Equal(t, "-0.43", hold.UnrealisedPL, "bought at the close, down by the commission")
	require.Equal(t, "434.23", view.TotalInvested)
	require.Equal(t, "433.80", view.MarketValue)
	require.Equal(t, "999.57", view.TotalValue)
	require.Equal(t, "0.00", view.RealisedPL)
	require.True(t, view.Complete)

	// Sell 4 through the dearer broker (0.25 %): total 173.52, commission
	// 0.4338 → 0.43, proceeds 173.09. The 4 shares carry 434.23 × 4 / 10 =
	// 173.692 → 173.69 of basis: realised 173.09 − 173.69 = −0.60.
	sell := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders",
		fmt.Sprintf(`{"symbol":"MSFT","side":"sell","quantity":"4","broker_id":%d}`, b.full.ID))
	require.Equal(t, http.StatusCreated, sell.Status, "%s", sell.Body)
	tx = sell.Map(t)
	require.Equal(t, "173.52", tx["total"])
	require.Equal(t, "0.43", tx["commission"])
	require.Equal(t, "-0.60", tx["realised_pl"])

	// 0.62 a share on the 6 left pays 3.72.
	div := h.api.Do(http.MethodPost, "/api/v1/portfolio/dividends", `{"symbol":"MSFT","amount_per_share":"0.62"}`)
	require.Equal(t, http.StatusCreated, div.Status, "%s", div.Body)
	tx = div.Map(t)
	require.Equal(t, "DIVIDEND", tx["type"])
	require.Equal(t, "3.72", tx["total"])
	require.Equal(t, "6", tx["quantity"])
	require.Equal(t, "0.62", tx["price"])

	h.api.Do(http.MethodGet, "/api/v1/portfolio", nil).Decode(t, &view)
	require.Equal(t, "742.58", view.Wallet.Balance) // 565.77 + 173.09 + 3.72
	require.Equal(t, "260.54", view.TotalInvested)
	require.Equal(t, "260.28", view.MarketValue) // 6 × 43.38
	require.Equal(t, "-0.26", view.UnrealisedPL)
	require.Equal(t, "1002.86", view.TotalValue)
	require.Equal(t, "-0.60", view.RealisedPL)
	require.Equal(t, "3.72", view.Dividends)
	require.Equal(t, "0.86", view.Commissions)
	require.Equal(t, "1000.00", view.Deposits)
	require.Equal(t, "43.4233", view.Holdings[0].AverageCost)

	// Four transactions, three to a page, newest first.
	first := h.api.Do(http.MethodGet, "/api/v1/portfolio/transactions?limit=3", nil)
	require.Equal(t, http.StatusOK, first.Status)
	var page struct {
		Transactions []struct{ Type string }
		NextCursor   string `json:"next_cursor"`
	}
	first.Decode(t, &page)
	require.Len(t, page.Transactions, 3)
	require.Equal(t, []string{"DIVIDEND", "SELL", "BUY"}, []string{page.Transactions[0].Type, page.Transactions[1].Type, page.Transactions[2].Type})
	require.NotEmpty(t, page.NextCursor)
	second := h.api.Do(http.MethodGet, "/api/v1/portfolio/transactions?limit=3&cursor="+page.NextCursor, nil)
	page.NextCursor = ""
	second.Decode(t, &page)
	require.Len(t, page.Transactions, 1)
	require.Equal(t, "DEPOSIT", page.Transactions[0].Type)
	require.Empty(t, page.NextCursor, "the last page has no cursor")
}

func TestPortfolioListsCompaniesAndBrokers(t *testing.T) {
	h := newHarness(t, 100)
	b := seedMarket(t, h.db)
	_, _, err := h.db.EnsureBroker(context.Background(), store.Broker{Name: "Free", CommissionRate: decimal.Zero})
	require.NoError(t, err)

	var companies struct {
		Companies []struct{ Symbol, Name string }
	}
	resp := h.api.Do(http.MethodGet, "/api/v1/portfolio/companies", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	resp.Decode(t, &companies)
	require.Len(t, companies.Companies, 2)
	require.Equal(t, "IBM", companies.Companies[0].Symbol, "by symbol")
	require.Equal(t, "IBM <Corp>", companies.Companies[0].Name)

	var brokers struct {
		Brokers []struct {
			ID             int64
			Name           string
			CommissionRate string `json:"commission_rate"`
		}
	}
	resp = h.api.Do(http.MethodGet, "/api/v1/portfolio/brokers", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	resp.Decode(t, &brokers)
	require.Len(t, brokers.Brokers, 3)
	require.Equal(t, []string{"Free", "Thrifty", "Full Service"},
		[]string{brokers.Brokers[0].Name, brokers.Brokers[1].Name, brokers.Brokers[2].Name}, "cheapest first")
	require.Equal(t, "0.1", brokers.Brokers[1].CommissionRate)
	require.Equal(t, b.thrifty.ID, brokers.Brokers[1].ID)

	// The first listed is the default an order goes to.
	require.Equal(t, http.StatusCreated, h.api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"100.00"}`).Status)
	buy := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders", `{"symbol":"IBM","side":"buy","quantity":"1"}`)
	require.Equal(t, http.StatusCreated, buy.Status, "%s", buy.Body)
	require.Equal(t, "Free", buy.Map(t)["broker"].(map[string]any)["name"])
	require.Equal(t, "0.00", buy.Map(t)["commission"])
}

func TestPortfolioRefusals(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	require.Equal(t, http.StatusCreated, h.api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"40.00"}`).Status)

	cases := []struct {
		name, path, body string
		code, field      string
	}{
		// 1 MSFT at 43.38 costs 43.42 with commission; the wallet holds 40.00.
		{"insufficient funds", "/api/v1/portfolio/orders", `{"symbol":"MSFT","side":"buy","quantity":"1"}`, "insufficient_funds", "quantity"},
		{"insufficient shares", "/api/v1/portfolio/orders", `{"symbol":"MSFT","side":"sell","quantity":"1"}`, "insufficient_shares", "quantity"},
		{"unknown symbol", "/api/v1/portfolio/orders", `{"symbol":"AAPL","side":"buy","quantity":"1"}`, "unknown_symbol", "symbol"},
		{"unknown broker", "/api/v1/portfolio/orders", `{"symbol":"MSFT","side":"buy","quantity":"0.5","broker_id":999}`, "unknown_broker", "broker_id"},
		{"order under a cent", "/api/v1/portfolio/orders", `{"symbol":"MSFT","side":"buy","quantity":"0.0001"}`, "too_small", "quantity"},
		{"dividend without shares", "/api/v1/portfolio/dividends", `{"symbol":"MSFT","amount_per_share":"0.62"}`, "no_holding", "symbol"},
		{"dividend of unknown symbol", "/api/v1/portfolio/dividends", `{"symbol":"AAPL","amount_per_share":"0.62"}`, "unknown_symbol", "symbol"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.api.Do(http.MethodPost, tc.path, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
			code, field := errorOf(t, resp)
			require.Equal(t, tc.code, code)
			require.Equal(t, tc.field, field)
		})
	}
	var view struct{ Wallet struct{ Balance string } }
	h.api.Do(http.MethodGet, "/api/v1/portfolio", nil).Decode(t, &view)
	require.Equal(t, "40.00", view.Wallet.Balance, "no refusal moved money")
}

func TestPortfolioInputValidation(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	const orders, deposits, dividends = "/api/v1/portfolio/orders", "/api/v1/portfolio/deposits", "/api/v1/portfolio/dividends"
	cases := []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"deposit missing", deposits, `{}`, 422, "required", "amount"},
		{"deposit as a number", deposits, `{"amount":1000}`, 422, "wrong_type", "amount"},
		{"deposit negative", deposits, `{"amount":"-5.00"}`, 422, "invalid_decimal", "amount"},
		{"deposit zero", deposits, `{"amount":"0.00"}`, 422, "not_positive", "amount"},
		{"deposit exponent", deposits, `{"amount":"1e3"}`, 422, "invalid_decimal", "amount"},
		{"deposit fraction of a cent", deposits, `{"amount":"10.001"}`, 422, "too_precise", "amount"},
		{"deposit over the cap", deposits, `{"amount":"1000000.01"}`, 422, "out_of_range", "amount"},
		{"deposit unknown field", deposits, `{"amount":"1","currency":"EUR"}`, 422, "unknown_field", "currency"},
		{"deposit malformed", deposits, `{"amount":`, 400, "malformed_json", ""},
		{"order without symbol", orders, `{"side":"buy","quantity":"1"}`, 422, "required", "symbol"},
		{"order bad symbol", orders, `{"symbol":"MS FT","side":"buy","quantity":"1"}`, 422, "invalid_symbol", "symbol"},
		{"order bad side", orders, `{"symbol":"MSFT","side":"hold","quantity":"1"}`, 422, "invalid_side", "side"},
		{"order zero quantity", orders, `{"symbol":"MSFT","side":"buy","quantity":"0"}`, 422, "not_positive", "quantity"},
		{"order quantity as number", orders, `{"symbol":"MSFT","side":"buy","quantity":10}`, 422, "wrong_type", "quantity"},
		{"order quantity too fine", orders, `{"symbol":"MSFT","side":"buy","quantity":"0.0000001"}`, 422, "too_precise", "quantity"},
		{"order broker zero", orders, `{"symbol":"MSFT","side":"buy","quantity":"1","broker_id":0}`, 422, "out_of_range", "broker_id"},
		{"order broker as string", orders, `{"symbol":"MSFT","side":"buy","quantity":"1","broker_id":"1"}`, 422, "wrong_type", "broker_id"},
		{"dividend missing amount", dividends, `{"symbol":"MSFT"}`, 422, "required", "amount_per_share"},
		{"dividend too fine", dividends, `{"symbol":"MSFT","amount_per_share":"0.00001"}`, 422, "too_precise", "amount_per_share"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.api.Do(http.MethodPost, tc.path, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			code, field := errorOf(t, resp)
			require.Equal(t, tc.code, code)
			require.Equal(t, tc.field, field)
		})
	}
	for _, q := range []struct{ query, code string }{
		{"limit=0", "out_of_range"}, {"limit=x", "out_of_range"}, {"cursor=!!", "invalid_cursor"}, {"cursor=YWJj", "invalid_cursor"},
	} {
		resp := h.api.Do(http.MethodGet, "/api/v1/portfolio/transactions?"+q.query, nil)
		require.Contains(t, []int{400, 422}, resp.Status, q.query)
		code, _ := errorOf(t, resp)
		require.Equal(t, q.code, code, q.query)
	}
	var page struct{ Transactions []any }
	h.api.Do(http.MethodGet, "/api/v1/portfolio/transactions", nil).Decode(t, &page)
	require.Empty(t, page.Transactions, "no invalid request recorded anything")
}

func TestPortfolioIsPrivate(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	require.Equal(t, http.StatusCreated, h.api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"500.00"}`).Status)
	require.Equal(t, http.StatusCreated, h.api.Do(http.MethodPost, "/api/v1/portfolio/orders", `{"symbol":"IBM","side":"buy","quantity":"2"}`).Status)

	other := h.api.As(dbtest.Token(t, h.db))
	var view struct {
		Wallet   struct{ Balance string }
		Holdings []any
	}
	other.Do(http.MethodGet, "/api/v1/portfolio", nil).Decode(t, &view)
	require.Equal(t, "0.00", view.Wallet.Balance)
	require.Empty(t, view.Holdings)
	var page struct{ Transactions []any }
	other.Do(http.MethodGet, "/api/v1/portfolio/transactions", nil).Decode(t, &page)
	require.Empty(t, page.Transactions)
	resp := other.Do(http.MethodPost, "/api/v1/portfolio/orders", `{"symbol":"IBM","side":"sell","quantity":"1"}`)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	code, _ := errorOf(t, resp)
	require.Equal(t, "insufficient_shares", code, "nobody sells another user's shares")

	anon := h.api.As("")
	for _, path := range []string{"/api/v1/portfolio", "/api/v1/portfolio/transactions"} {
		require.Equal(t, http.StatusUnauthorized, anon.Do(http.MethodGet, path, nil).Status, path)
	}
	require.Equal(t, http.StatusUnauthorized, anon.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"1.00"}`).Status)
}

// switchPrices serves the sample's prices until it is told to fail.
type switchPrices struct {
	portfolio.Prices
	down atomic.Bool
}

func (s *switchPrices) LatestClose(ctx context.Context, symbol string) (portfolio.Quote, error) {
	if s.down.Load() {
		return portfolio.Quote{}, fmt.Errorf("every provider timed out: %w", market.ErrNoData)
	}
	return s.Prices.LatestClose(ctx, symbol)
}

func TestPortfolioWhenPricesAreDown(t *testing.T) {
	prices := &switchPrices{Prices: samplePrices(t)}
	h := newHarnessWith(t, harnessOptions{prices: prices})
	seedMarket(t, h.db)
	require.Equal(t, http.StatusCreated, h.api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"500.00"}`).Status)
	require.Equal(t, http.StatusCreated, h.api.Do(http.MethodPost, "/api/v1/portfolio/orders", `{"symbol":"IBM","side":"buy","quantity":"2"}`).Status)

	prices.down.Store(true)
	resp := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders", `{"symbol":"IBM","side":"sell","quantity":"1"}`)
	require.Equal(t, http.StatusServiceUnavailable, resp.Status, "an outage is a 503, never a 500")
	require.Equal(t, "30", resp.Header.Get("Retry-After"))
	code, _ := errorOf(t, resp)
	require.Equal(t, "prices_unavailable", code)

	var view struct {
		Wallet   struct{ Balance string }
		Holdings []struct {
			Symbol     string
			Value      string
			PriceError string `json:"price_error"`
		}
		MarketValue string `json:"market_value"`
		Complete    bool
	}
	p := h.api.Do(http.MethodGet, "/api/v1/portfolio", nil)
	require.Equal(t, http.StatusOK, p.Status, "the portfolio still shows without prices")
	p.Decode(t, &view)
	require.False(t, view.Complete)
	require.Len(t, view.Holdings, 1)
	require.Empty(t, view.Holdings[0].Value)
	require.NotEmpty(t, view.Holdings[0].PriceError)
	require.Equal(t, "0.00", view.MarketValue)
	require.Equal(t, "330.83", view.Wallet.Balance, "500.00 − (169.00 + 0.17); the refused sell moved nothing")
}

func TestPortfolioConcurrentOrdersOverHTTP(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	token := dbtest.Token(t, h.db)
	api := h.api.As(token)
	// 1 IBM costs 84.50 + 0.0845 → 0.08 commission = 84.58, so 1000.00
	// covers 11 (930.38) and not 12 (1014.96).
	require.Equal(t, http.StatusCreated, api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"1000.00"}`).Status)

	// outcomes sends 20 copies of an order at once and counts the answers
	// by status and error code. Plain HTTP, since require must not fail a
	// test from another goroutine.
	outcomes := func(body string) map[string]int {
		counts := map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 20 {
			wg.Go(func() {
				<-start
				outcome := send(h.url, token, body, "")
				mu.Lock()
				counts[outcome]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		return counts
	}
	require.Equal(t, map[string]int{"201": 11, "422 insufficient_funds": 9}, outcomes(`{"symbol":"IBM","side":"buy","quantity":"1"}`),
		"20 buys of 84.58 at once against 1000.00: 11 are filled")
	require.Equal(t, map[string]int{"201": 11, "422 insufficient_shares": 9}, outcomes(`{"symbol":"IBM","side":"sell","quantity":"1"}`),
		"20 sells of 1 at once with 11 held: 11 are filled")

	var view struct {
		Wallet   struct{ Balance string }
		Holdings []any
	}
	api.Do(http.MethodGet, "/api/v1/portfolio", nil).Decode(t, &view)
	// 1000.00 − 11 × 84.58 + 11 × (84.50 − 0.08) = 998.24.
	require.Equal(t, "998.24", view.Wallet.Balance)
	require.Empty(t, view.Holdings)
}

// send posts an order, with an Idempotency-Key unless key is "", and
// returns "status" or "status code" for an error.
func send(url, token, body, key string) string {
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/portfolio/orders", strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var answer struct{ Error struct{ Code string } }
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	return strings.TrimSpace(strconv.Itoa(resp.StatusCode) + " " + answer.Error.Code)
}

// TestPortfolioIdempotencyKey: a deposit or an order retried with its
// Idempotency-Key moves money once and answers the first transaction
// again, even while no price can be had; the key with another request is
// refused; and twenty retries at once make one trade.
func TestPortfolioIdempotencyKey(t *testing.T) {
	prices := &switchPrices{Prices: samplePrices(t)}
	h := newHarnessWith(t, harnessOptions{prices: prices})
	seedMarket(t, h.db)
	const deposits, orders = "/api/v1/portfolio/deposits", "/api/v1/portfolio/orders"

	dep := h.api.Do(http.MethodPost, deposits, `{"amount":"1000.00"}`, "Idempotency-Key", "dep-1")
	require.Equal(t, http.StatusCreated, dep.Status, "%s", dep.Body)
	require.Empty(t, dep.Header.Get("Idempotent-Replayed"))
	again := h.api.Do(http.MethodPost, deposits, `{"amount":"1000"}`, "Idempotency-Key", "dep-1")
	require.Equal(t, http.StatusCreated, again.Status, "%s", again.Body)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(dep.Body), string(again.Body))

	// 2 IBM at 84.50 through the cheapest broker: 169.00 + 0.17.
	buy := h.api.Do(http.MethodPost, orders, `{"symbol":"IBM","side":"buy","quantity":"2"}`, "Idempotency-Key", "buy-1")
	require.Equal(t, http.StatusCreated, buy.Status, "%s", buy.Body)
	prices.down.Store(true)
	retry := h.api.Do(http.MethodPost, orders, `{"quantity":"2.0","side":"buy","symbol":"ibm"}`, "Idempotency-Key", "buy-1")
	require.Equal(t, http.StatusCreated, retry.Status, "a replay needs no price: %s", retry.Body)
	require.Equal(t, "true", retry.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(buy.Body), string(retry.Body))
	prices.down.Store(false)

	for _, refused := range []struct{ path, body string }{
		{orders, `{"symbol":"IBM","side":"buy","quantity":"3"}`},
		{orders, `{"symbol":"IBM","side":"sell","quantity":"2"}`},
		{deposits, `{"amount":"1000.00"}`},
	} {
		resp := h.api.Do(http.MethodPost, refused.path, refused.body, "Idempotency-Key", "buy-1")
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s %s", refused.path, refused.body)
		code, field := errorOf(t, resp)
		require.Equal(t, "idempotency_key_reused", code)
		require.Equal(t, "Idempotency-Key", field)
	}

	// Twenty retries of one order at once: one buy, nineteen replays.
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			outcome := send(h.url, h.token, `{"symbol":"IBM","side":"buy","quantity":"1"}`, "buy-2")
			mu.Lock()
			counts[outcome]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, map[string]int{"201": 20}, counts)

	var list struct {
		Transactions []struct{ Type, Quantity string }
	}
	h.api.Do(http.MethodGet, "/api/v1/portfolio/transactions?limit=100", nil).Decode(t, &list)
	require.Len(t, list.Transactions, 3, "one deposit, two buys")
	var view struct{ Wallet struct{ Balance string } }
	h.api.Do(http.MethodGet, "/api/v1/portfolio", nil).Decode(t, &view)
	// 1000.00 − 169.17 − (84.50 + 0.08) = 746.25.
	require.Equal(t, "746.25", view.Wallet.Balance)
}

// TestPortfolioOrderPreviewIsTheOrder: a preview prices an order as the
// order itself is filled, through the same broker, and trades nothing; a
// buy the wallet cannot cover previews a wallet below zero.
func TestPortfolioOrderPreviewIsTheOrder(t *testing.T) {
	h := newHarness(t, 100)
	b := seedMarket(t, h.db)
	require.Equal(t, http.StatusCreated, h.api.Do(http.MethodPost, "/api/v1/portfolio/deposits", `{"amount":"1000.00"}`).Status)

	const order = `{"symbol":"msft","side":"buy","quantity":"10"}`
	preview := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders/preview", order)
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	p := preview.Map(t)
	require.Equal(t, "1000.00", h.api.Do(http.MethodGet, "/api/v1/portfolio", nil).Map(t)["wallet"].(map[string]any)["balance"], "a preview trades nothing")

	buy := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders", order)
	require.Equal(t, http.StatusCreated, buy.Status, "%s", buy.Body)
	tx := buy.Map(t)
	require.Equal(t, tx["total"], p["total"])
	require.Equal(t, tx["commission"], p["commission"])
	require.Equal(t, tx["price"], p["quote"].(map[string]any)["price"])
	require.Equal(t, float64(b.thrifty.ID), p["broker"].(map[string]any)["id"])
	require.Equal(t, h.api.Do(http.MethodGet, "/api/v1/portfolio", nil).Map(t)["wallet"].(map[string]any)["balance"], p["wallet_after"])

	// 20 more cost 867.60 + 0.87 with 565.77 left: 302.70 short.
	short := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders/preview", `{"symbol":"MSFT","side":"buy","quantity":"20"}`).Map(t)
	require.Equal(t, "-302.70", short["wallet_after"])
	// A sell adds the proceeds less the commission: 4 × 43.38 = 173.52 − 0.17.
	sell := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders/preview", `{"symbol":"MSFT","side":"sell","quantity":"4"}`).Map(t)
	require.Equal(t, "739.12", sell["wallet_after"])
	bad := h.api.Do(http.MethodPost, "/api/v1/portfolio/orders/preview", `{"symbol":"MSFT","side":"hold","quantity":"4"}`)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
}
