package ui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/market"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// dashboardTransactions is how many of the latest transactions the
// dashboard lists; the API pages through the rest.
const dashboardTransactions = 20

// valueHistoryDays is how many days of closes the dashboard's chart spans.
const valueHistoryDays = 90

// priceHistory gives a symbol's recent closes; *portfolio.MarketPrices
// does. Prices without it (a test's fixed quote) leave the dashboard's
// chart out.
type priceHistory interface {
	Closes(ctx context.Context, symbol string, n int) ([]portfolio.DailyClose, error)
}

// valuePoint is what the holdings were worth at one day's closes.
type valuePoint struct {
	Date  time.Time
	Value decimal.Decimal
}

// valueHistory values the current holdings at each of the last
// valueHistoryDays closes, by the domain's own valuation, oldest first.
// A day missing one charted company's close is left out rather than shown
// as a false dip. It charts what it can: a holding with no history now,
// or whose closes share fewer than two days with the others' (a 2001
// sample beside a 2025 CSV), is left out, and missing says which and why.
// The holding with the latest close goes first, so the chart ends as
// near today as the prices allow.
func (s *Server) valueHistory(ctx context.Context, holdings []kernel.HoldingView) (points []valuePoint, missing []string, err error) {
	history, ok := s.Prices.(priceHistory)
	if !ok || len(holdings) == 0 {
		return nil, nil, nil
	}
	type series struct {
		symbol   string
		quantity decimal.Decimal
		closes   []portfolio.DailyClose
	}
	var all []series
	for _, h := range holdings {
		quantity, err := decimal.NewFromString(h.Quantity)
		if err != nil {
			return nil, nil, fmt.Errorf("holding %s: %w", h.Symbol, err)
		}
		closes, err := history.Closes(ctx, h.Symbol, valueHistoryDays)
		if err != nil || len(closes) == 0 {
			s.Logger.WarnContext(ctx, "closes for the value chart", "symbol", h.Symbol, "err", err)
			missing = append(missing, h.Symbol+" (no price history now)")
			continue
		}
		all = append(all, series{symbol: h.Symbol, quantity: quantity, closes: closes})
	}
	latest := func(x series) time.Time {
		return slices.MaxFunc(x.closes, func(a, b portfolio.DailyClose) int { return a.Date.Compare(b.Date) }).Date
	}
	slices.SortStableFunc(all, func(a, b series) int { return latest(b).Compare(latest(a)) })
	var days map[time.Time]decimal.Decimal // the value so far on each day every charted holding has a close
	for _, x := range all {
		next := map[time.Time]decimal.Decimal{}
		for _, cl := range x.closes {
			sum, shared := days[cl.Date]
			if shared || days == nil {
				next[cl.Date] = sum.Add(portfolio.Position{Quantity: x.quantity}.ValueAt(cl.Price).Value)
			}
		}
		if len(next) < 2 {
			missing = append(missing, x.symbol+" (its closes are from other days than the rest's)")
			continue
		}
		days = next
	}
	for date, v := range days {
		points = append(points, valuePoint{Date: date, Value: v})
	}
	slices.SortFunc(points, func(a, b valuePoint) int { return a.Date.Compare(b.Date) })
	return points[max(0, len(points)-valueHistoryDays):], missing, nil
}

// dashboardData is what /dashboard shows besides the layout.
type dashboardData struct {
	Portfolio    kernel.PortfolioView
	Transactions []kernel.TransactionView
	Companies    []kernel.CompanyView
	Brokers      []kernel.BrokerRateView
	// NotLive names, source by source, the holdings whose prices are not
	// live market prices (the bundled sample, DATA_DIR's CSV files), which
	// the page must say; empty when every price shown is live.
	NotLive []priceOrigin
	// Chart is the value of the current holdings over the days with
	// prices; nil when there are not two such days.
	Chart *lineChart
	// ChartMissing are the holdings the chart leaves out, each with why.
	ChartMissing []string
	// OrderSymbol is the company the order form starts on: the one last
	// bought or sold, so that a trade keeps its choice, else one held, to
	// sell; "" leaves the list's first.
	OrderSymbol string
}

// priceOrigin is one source of prices that are not live, and the holdings
// priced from it.
type priceOrigin struct {
	// Title names the source for people (market.SourceTitle), Coverage
	// what it holds (market.SourceCoverage).
	Title, Coverage string
	Symbols         []string
	// LastClose is the latest of these holdings' closes.
	LastClose time.Time
}

// notLive groups the holdings whose quotes are not live by source, in the
// order the holdings come: issue 21 saw the banner call every price the
// sample's when one holding was priced from a 2025 CSV file.
func notLive(holdings []kernel.HoldingView) []priceOrigin {
	var out []priceOrigin
	for _, h := range holdings {
		q := h.Quote
		if q == nil || q.Live {
			continue
		}
		title := market.SourceTitle(q.Source)
		i := slices.IndexFunc(out, func(o priceOrigin) bool { return o.Title == title })
		if i < 0 {
			out = append(out, priceOrigin{Title: title, Coverage: market.SourceCoverage(q.Source)})
			i = len(out) - 1
		}
		out[i].Symbols = append(out[i].Symbols, h.Symbol)
		if q.Date.After(out[i].LastClose) {
			out[i].LastClose = q.Date
		}
	}
	return out
}

// dashboardPage shows the user's portfolio and the forms that change it.
func (s *Server) dashboardPage(c *gin.Context) {
	s.renderDashboard(c, http.StatusOK, kernel.PageData{})
}

// renderDashboard renders /dashboard with data's form error and values.
func (s *Server) renderDashboard(c *gin.Context, status int, data kernel.PageData) {
	d, err := s.dashboard(c.Request.Context(), kernel.PageUser(c).ID)
	if err != nil {
		s.PageFailed(c, err)
		return
	}
	data.Title, data.Page, data.Dashboard = "Portfolio", "dashboard", d
	s.Render(c, status, data)
}

// dashboard gathers what the dashboard shows, by the same functions the
// API answers with.
func (s *Server) dashboard(ctx context.Context, userID int64) (*dashboardData, error) {
	p, err := s.ValuePortfolio(ctx, userID)
	if err != nil {
		return nil, err
	}
	d := &dashboardData{Portfolio: p}
	d.NotLive = notLive(p.Holdings)
	txs, err := s.DB.ListTransactions(ctx, userID, nil, dashboardTransactions)
	if err != nil {
		return nil, err
	}
	for i := range txs {
		d.Transactions = append(d.Transactions, kernel.ViewTransaction(&txs[i]))
	}
	d.OrderSymbol = orderSymbol(d.Transactions, p.Holdings)
	companies, err := s.DB.ActiveCompanies(ctx)
	if err != nil {
		return nil, err
	}
	for _, co := range companies {
		d.Companies = append(d.Companies, kernel.ViewCompany(&co))
	}
	brokers, err := s.DB.ActiveBrokers(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range brokers {
		d.Brokers = append(d.Brokers, kernel.ViewBrokerRate(&b))
	}
	history, missing, err := s.valueHistory(ctx, p.Holdings)
	if err != nil {
		return nil, err
	}
	d.ChartMissing = missing
	d.Chart = valueChart(history)
	return d, nil
}

// orderSymbol is the company the order form starts on (dashboardData's
// OrderSymbol): the latest trade's, else the first holding's. txs are
// newest first.
func orderSymbol(txs []kernel.TransactionView, holdings []kernel.HoldingView) string {
	for _, t := range txs {
		if t.Type == store.TxBuy || t.Type == store.TxSell {
			return t.Symbol
		}
	}
	if len(holdings) > 0 {
		return holdings[0].Symbol
	}
	return ""
}

// depositForm adds money to the wallet from the dashboard.
func (s *Server) depositForm(c *gin.Context) {
	t, _, err := s.ApplyDeposit(c, kernel.PageUser(c).ID, kernel.DepositRequest{Amount: strings.TrimSpace(c.PostForm("amount"))}, "")
	s.afterForm(c, "deposit", t, err)
}

// orderForm buys or sells from the dashboard. An empty broker means the
// cheapest active one.
func (s *Server) orderForm(c *gin.Context) {
	req := kernel.OrderRequest{Symbol: c.PostForm("symbol"), Side: c.PostForm("side"), Quantity: strings.TrimSpace(c.PostForm("quantity"))}
	if raw := c.PostForm("broker"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			s.afterForm(c, "order", nil, &kernel.Error{Status: http.StatusUnprocessableEntity, Code: "unknown_broker", Field: "broker_id",
				Message: "choose a broker from the list"})
			return
		}
		req.BrokerID = &id
	}
	t, _, err := s.ApplyOrder(c, kernel.PageUser(c).ID, req, "")
	s.afterForm(c, "order", t, err)
}

// dividendForm records a dividend from the dashboard.
func (s *Server) dividendForm(c *gin.Context) {
	req := kernel.DividendRequest{Symbol: c.PostForm("symbol"), AmountPerShare: strings.TrimSpace(c.PostForm("amount_per_share"))}
	t, err := s.ApplyDividend(c, kernel.PageUser(c).ID, req)
	s.afterForm(c, "dividend", t, err)
}

// afterForm finishes a dashboard form: after a change, a redirect to the
// dashboard with what was done (Post/Redirect/Get, so reloading does not
// trade again); after a refusal, the dashboard again with the reason
// beside the form, filled in as it was sent.
func (s *Server) afterForm(c *gin.Context, form string, t *store.Transaction, err error) {
	if err == nil {
		msg := capitalise(t.Description) + ": " + kernel.Money(t.Total)
		if t.Commission.IsPositive() {
			msg += ", commission " + kernel.Money(t.Commission)
		}
		s.Flash(c, msg+".")
		c.Redirect(http.StatusSeeOther, "/dashboard")
		return
	}
	e := kernel.RequestError(err)
	if e == nil {
		s.PageFailed(c, err)
		return
	}
	values := map[string]string{"form": form}
	for _, k := range []string{"amount", "symbol", "side", "quantity", "broker", "amount_per_share"} {
		values[k] = c.PostForm(k)
	}
	s.renderDashboard(c, e.Status, kernel.PageData{Error: capitalise(e.Message), Form: values})
}
