package web_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/internal/upstream"
)

// flashRE finds the message a redirect left for the next page.
var flashRE = regexp.MustCompile(`<p class="flash" role="status">([^<]*)</p>`)

// submit posts a dashboard form, expects the redirect back, and returns
// the dashboard it leads to with its flash message.
func (b *browser) submit(path string, form url.Values) (*page, string) {
	b.t.Helper()
	p := b.post(path, form)
	require.Equal(b.t, http.StatusSeeOther, p.status, "%s refused: %s", path, p.body)
	require.Equal(b.t, "/dashboard", p.location)
	dash := b.get("/dashboard")
	require.Equal(b.t, http.StatusOK, dash.status)
	m := flashRE.FindStringSubmatch(dash.body)
	require.NotNil(b.t, m, "no flash after %s", path)
	// Reloading shows the flash only once.
	require.NotRegexp(b.t, flashRE, b.get("/dashboard").body)
	return dash, html.UnescapeString(m[1])
}

func TestDashboardNeedsSignIn(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	anon := h.browser(t)
	p := anon.get("/dashboard")
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/login?next=%2Fdashboard", p.location)
	for path, form := range map[string]url.Values{
		"/dashboard/deposits":  {"amount": {"100"}},
		"/dashboard/orders":    {"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"1"}},
		"/dashboard/dividends": {"symbol": {"MSFT"}, "amount_per_share": {"1"}},
	} {
		p := anon.post(path, form)
		require.Equal(t, http.StatusSeeOther, p.status, path)
		require.Contains(t, p.location, "/login?next=", path)
	}
}

func TestDashboardFormsTradeAndShowThePortfolio(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	b := h.signedIn(t, store.RoleUser)

	empty := b.get("/dashboard")
	require.Equal(t, http.StatusOK, empty.status)
	require.Contains(t, empty.body, "<title>Portfolio · Augur</title>")
	require.Contains(t, empty.body, `href="/dashboard"`, "the nav links to the portfolio")
	require.Contains(t, empty.body, "No holdings yet")
	require.NotContains(t, empty.body, `" selected>`, "before any trade the order form starts on the list's first company")

	_, msg := b.submit("/dashboard/deposits", url.Values{"amount": {"1000"}})
	require.Contains(t, msg, "1000.00")

	// 10 MSFT at the sample's 43.38 through the cheapest broker (Thrifty,
	// 0.10 %): 433.80 plus 0.43 commission leaves 565.77.
	dash, msg := b.submit("/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"10"}})
	require.Contains(t, msg, "MSFT at 43.38 through Thrifty")
	require.Contains(t, dash.body, "<dd>$565.77</dd>", "the page writes money with its sign")
	require.Contains(t, dash.body, "$433.80")
	require.Contains(t, dash.body, `<option value="MSFT" selected>`, "the order form keeps the company just traded")
	require.Contains(t, dash.body, "bundled sample data", "the page says the prices are not live")

	// Selling 4 through the dearer broker by choice: 173.52 less 0.43.
	b2 := seedBrokerID(t, h, "Full Service")
	_, msg = b.submit("/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"sell"}, "quantity": {"4"}, "broker": {b2}})
	require.Contains(t, msg, "through Full Service")

	dash, msg = b.submit("/dashboard/dividends", url.Values{"symbol": {"MSFT"}, "amount_per_share": {"0.5"}})
	require.Contains(t, msg, "MSFT")
	// 6 shares left × 0.50 = 3.00 of dividends.
	require.Regexp(t, `<dt>Dividends</dt><dd>\$3.00</dd>`, dash.body)
	for _, kind := range []string{"DEPOSIT", "BUY", "SELL", "DIVIDEND"} {
		require.Contains(t, dash.body, `<span class="badge `+kind+`">`, kind)
	}
}

func TestDashboardRefusalsSayWhy(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	b := h.signedIn(t, store.RoleUser)
	b.submit("/dashboard/deposits", url.Values{"amount": {"100"}})

	cases := []struct {
		name, path string
		form       url.Values
		message    string
	}{
		{"insufficient funds", "/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"3"}},
			"Insufficient funds: the wallet cannot cover this buy's total plus commission"},
		{"insufficient shares", "/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"sell"}, "quantity": {"1"}},
			"Insufficient shares: you cannot sell more shares than you hold"},
		{"deposit over the cap", "/dashboard/deposits", url.Values{"amount": {"1000000.01"}}, "1000000"},
		{"negative deposit", "/dashboard/deposits", url.Values{"amount": {"-5"}}, "decimal string"},
		{"unknown company", "/dashboard/orders", url.Values{"symbol": {"ZZZZ"}, "side": {"buy"}, "quantity": {"1"}},
			"No company with this symbol can be traded"},
		{"broker not a number", "/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"1"}, "broker": {"x"}},
			"Choose a broker from the list"},
		{"dividend without shares", "/dashboard/dividends", url.Values{"symbol": {"MSFT"}, "amount_per_share": {"1"}},
			"You hold no shares of this company"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post(tc.path, tc.form)
			require.Equal(t, http.StatusUnprocessableEntity, p.status)
			require.Contains(t, html.UnescapeString(formError(t, p)), tc.message)
		})
	}
	// What was typed is kept for the form that failed.
	p := b.post("/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"3"}})
	require.Contains(t, p.body, `name="quantity" inputmode="decimal" required placeholder="10" value="3"`)

	// Nothing refused changed the wallet.
	require.Regexp(t, `<dt>Wallet</dt><dd>\$100.00</dd>`, b.get("/dashboard").body)
}

func TestDashboardShowsOnlyYourOwnPortfolio(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	owner := h.signedIn(t, store.RoleUser)
	owner.submit("/dashboard/deposits", url.Values{"amount": {"1000"}})
	owner.submit("/dashboard/orders", url.Values{"symbol": {"IBM"}, "side": {"buy"}, "quantity": {"2"}})

	other := h.signedIn(t, store.RoleUser)
	p := other.get("/dashboard")
	require.Equal(t, http.StatusOK, p.status)
	require.Regexp(t, `<dt>Wallet</dt><dd>\$0.00</dd>`, p.body)
	require.Contains(t, p.body, "No holdings yet")
	require.Contains(t, p.body, "No transactions yet")
	// The other user's forms act on their own, empty, portfolio.
	sell := other.post("/dashboard/orders", url.Values{"symbol": {"IBM"}, "side": {"sell"}, "quantity": {"1"}})
	require.Equal(t, http.StatusUnprocessableEntity, sell.status)
	require.Contains(t, html.UnescapeString(formError(t, sell)), "Insufficient shares")
	require.Contains(t, owner.get("/dashboard").body, `<td class="num" data-label="Shares">2</td>`)
}

func TestDashboardEscapesCompanyNames(t *testing.T) {
	h := newHarness(t, 100)
	seedMarket(t, h.db)
	attack := `<script>alert("co")</script>`
	_, _, err := h.db.EnsureCompany(context.Background(), store.Company{Symbol: "EVIL", Name: attack, Exchange: "NYSE"})
	require.NoError(t, err)
	p := h.signedIn(t, store.RoleUser).get("/dashboard")
	require.Equal(t, http.StatusOK, p.status)
	require.NotContains(t, p.body, attack)
	require.Contains(t, p.body, "EVIL · &lt;script&gt;alert(&#34;co&#34;)&lt;/script&gt;")
	require.Contains(t, p.body, "MSFT · MSFT &lt;Corp&gt;")
}

// historyPrices is a price chain with a few days of fixed closes: the
// last is what trades fill at.
type historyPrices map[string][]portfolio.DailyClose

func (h historyPrices) LatestClose(_ context.Context, symbol string) (portfolio.Quote, error) {
	closes, ok := h[symbol]
	if !ok {
		return portfolio.Quote{}, portfolio.ErrNoPrice
	}
	last := closes[len(closes)-1]
	return portfolio.Quote{Symbol: symbol, Price: last.Price, Date: last.Date, Source: "test", Live: true}, nil
}

func (h historyPrices) Closes(_ context.Context, symbol string, n int) ([]portfolio.DailyClose, error) {
	closes := h[symbol]
	return closes[max(0, len(closes)-n):], nil
}

func TestDashboardChartsTheValueOverTheDaysWithPrices(t *testing.T) {
	day := func(d int, price string) portfolio.DailyClose {
		return portfolio.DailyClose{Date: time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC), Price: decimal.RequireFromString(price)}
	}
	h := newHarnessWith(t, harnessOptions{prices: historyPrices{
		// IBM has no close on the 5th: that day cannot be valued whole.
		"MSFT": {day(4, "40"), day(5, "41.50"), day(6, "43.38"), day(7, "44")},
		"IBM":  {day(4, "80"), day(6, "84.50"), day(7, "85")},
	}})
	seedMarket(t, h.db)
	b := h.signedIn(t, store.RoleUser)
	require.NotContains(t, b.get("/dashboard").body, "<polyline", "nothing held, nothing to chart")
	b.submit("/dashboard/deposits", url.Values{"amount": {"10000"}})
	b.submit("/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"10"}})
	b.submit("/dashboard/orders", url.Values{"symbol": {"IBM"}, "side": {"buy"}, "quantity": {"1"}})

	p := b.get("/dashboard")
	require.Contains(t, p.body, "<polyline")
	require.NotContains(t, p.body, "bundled sample", "live prices carry no sample notice")
	// 10 × 40 + 80, 10 × 43.38 + 84.50, 10 × 44 + 85.
	for _, tip := range []string{"2024-03-04: 480.00", "2024-03-06: 518.30", "2024-03-07: 525.00"} {
		require.Contains(t, p.body, "<title>"+tip+"</title>")
	}
	require.NotContains(t, p.body, "2024-03-05:")
	// The Y axis has round ticks, 20 apart, around 480 to 525.
	require.Contains(t, p.body, `dominant-baseline="middle">480</text>`)
	require.Contains(t, p.body, `dominant-baseline="middle">540</text>`)
}

// TestDashboardChartsWhatItCanAndSaysWhatIsMissing: holdings whose
// closes share no day (a 2001 sample beside a 2025 CSV) still get a chart
// of those that do, and the page names the rest and why.
func TestDashboardChartsWhatItCanAndSaysWhatIsMissing(t *testing.T) {
	day := func(y, d int, price string) portfolio.DailyClose {
		return portfolio.DailyClose{Date: time.Date(y, 3, d, 0, 0, 0, 0, time.UTC), Price: decimal.RequireFromString(price)}
	}
	h := newHarnessWith(t, harnessOptions{prices: historyPrices{
		"MSFT": {day(2025, 4, "40"), day(2025, 5, "41.50"), day(2025, 6, "43.38")},
		"IBM":  {day(2001, 4, "80"), day(2001, 5, "84.50")},
	}})
	seedMarket(t, h.db)
	b := h.signedIn(t, store.RoleUser)
	b.submit("/dashboard/deposits", url.Values{"amount": {"10000"}})
	b.submit("/dashboard/orders", url.Values{"symbol": {"IBM"}, "side": {"buy"}, "quantity": {"1"}})
	b.submit("/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"10"}})

	p := b.get("/dashboard")
	// MSFT's closes are the latest: the chart is MSFT's 10 shares alone.
	for _, tip := range []string{"2025-03-04: 400.00", "2025-03-05: 415.00", "2025-03-06: 433.80"} {
		require.Contains(t, p.body, "<title>"+tip+"</title>")
	}
	require.NotContains(t, p.body, "2001-03-04:")
	require.Contains(t, html.UnescapeString(p.body), "Left out of the value chart: IBM (its closes are from other days than the rest's).")
}

// seedBrokerID is the id, as a form sends it, of the broker named name.
func seedBrokerID(t *testing.T, h *harness, name string) string {
	t.Helper()
	list, err := h.db.ActiveBrokers(context.Background())
	require.NoError(t, err)
	for _, b := range list {
		if b.Name == name {
			return strconv.FormatInt(b.ID, 10)
		}
	}
	t.Fatalf("no broker %s", name)
	return ""
}

// Issue 21, items 14 and 15: with MSFT priced from a 2025 CSV file of
// DATA_DIR and IBM from the sample, the banner called every price the
// sample's and a trade's description said "bundled csv data"; and each
// view logged every price source's failure for every holding. Each source
// is named now, and a source that cannot be reached is logged once, when
// its circuit breaker opens, however many views ask for prices.
func TestDashboardNamesEachPriceSourceAndLogsAnOutageOnce(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	logs := &testlog.Buffer{}
	loader, err := market.NewLoader(market.Config{
		Sources:  []string{"yahoo", "csv", "sample"},
		YahooURL: closed.URL,
		DataDir:  filepath.Join("..", "market", "testdata", "csv"),
		HTTP:     upstream.Config{MaxRetries: -1},
	}, nil, nil, slog.New(slog.NewJSONHandler(logs, nil)))
	require.NoError(t, err)
	h := newHarnessWith(t, harnessOptions{prices: portfolio.NewMarketPrices(loader)})
	seedMarket(t, h.db)
	b := h.signedIn(t, store.RoleUser)
	b.submit("/dashboard/deposits", url.Values{"amount": {"2000"}})
	_, msg := b.submit("/dashboard/orders", url.Values{"symbol": {"MSFT"}, "side": {"buy"}, "quantity": {"1"}})
	require.Contains(t, msg, "MSFT at 478.43 through Thrifty (close of 2025-11-20, DATA_DIR's CSV file, not live)")
	dash, msg := b.submit("/dashboard/orders", url.Values{"symbol": {"IBM"}, "side": {"buy"}, "quantity": {"1"}})
	require.Contains(t, msg, "bundled sample data, not live")
	require.Contains(t, html.UnescapeString(dash.body), "Not live market prices: "+
		"IBM from bundled sample data (the 30 Dow Jones stocks of 2000, daily 1991–2000, and the S&P 500, 2000–2020), last close 2001-01-02; "+
		"MSFT from DATA_DIR's CSV file, last close 2025-11-20.")

	for range 10 {
		require.Equal(t, http.StatusOK, b.get("/dashboard").status)
	}
	require.Equal(t, 1, logs.Count(`"msg":"upstream source failing"`), "%s", logs)
	require.Contains(t, logs.String(), `"source":"yahoo","from":"closed","last_failure":"unreachable: Get`)
	require.Zero(t, logs.Count(`"level":"INFO","msg":"price source failed"`), "%s", logs)
	require.Zero(t, logs.Count(`"level":"WARN","msg":"price source failed"`), "%s", logs)
}
