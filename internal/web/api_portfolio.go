package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/ticker"
)

// priceRetryAfter is the Retry-After of a 503 when no price can be had:
// long enough for a provider's short outage or a rate limit to pass.
const priceRetryAfter = "30"

// money formats an amount of money as the API shows it: a decimal string
// with exactly two places.
func money(d decimal.Decimal) string { return d.StringFixed(portfolio.MoneyPlaces) }

// price formats a price per share: in cents, or finer when it is finer
// (a dividend of 0.0325 a share).
func price(d decimal.Decimal) string {
	if d.Round(portfolio.MoneyPlaces).Equal(d) {
		return money(d)
	}
	return d.String()
}

// transactionView is a transaction as the API shows it. Amounts and
// quantities are decimal strings, so no client parses money into a float
// by accident.
type transactionView struct {
	ID          int64       `json:"id"`
	Type        string      `json:"type"`
	Symbol      string      `json:"symbol,omitempty"`
	Broker      *brokerView `json:"broker,omitempty"`
	Quantity    string      `json:"quantity,omitempty"`
	Price       string      `json:"price,omitempty"`
	Total       string      `json:"total"`
	Commission  string      `json:"commission"`
	RealisedPL  string      `json:"realised_pl,omitempty"`
	Description string      `json:"description"`
	CreatedAt   time.Time   `json:"created_at"`
}

type brokerView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func viewTransaction(t *store.Transaction) transactionView {
	v := transactionView{
		ID: t.ID, Type: t.Type, Symbol: t.Symbol.String,
		Total: money(t.Total), Commission: money(t.Commission),
		Description: t.Description, CreatedAt: t.CreatedAt,
	}
	if t.BrokerID.Valid {
		v.Broker = &brokerView{ID: t.BrokerID.Int64, Name: t.BrokerName.String}
	}
	if t.Quantity.Valid {
		v.Quantity = t.Quantity.Decimal.String()
	}
	if t.Price.Valid {
		v.Price = price(t.Price.Decimal)
	}
	if t.RealisedPL.Valid {
		v.RealisedPL = money(t.RealisedPL.Decimal)
	}
	return v
}

// quoteView is where a price came from.
type quoteView struct {
	Price  string    `json:"price"`
	Date   time.Time `json:"date"`
	Source string    `json:"source"`
	Live   bool      `json:"live"`
}

// holdingView is one holding, valued at its latest close when there is one.
type holdingView struct {
	Symbol       string     `json:"symbol"`
	Name         string     `json:"name"`
	Quantity     string     `json:"quantity"`
	AverageCost  string     `json:"average_cost"`
	CostBasis    string     `json:"cost_basis"`
	Quote        *quoteView `json:"quote,omitempty"`
	Value        string     `json:"value,omitempty"`
	UnrealisedPL string     `json:"unrealised_pl,omitempty"`
	PriceError   string     `json:"price_error,omitempty"`
}

// portfolioView is GET /api/v1/portfolio.
type portfolioView struct {
	Wallet        walletView    `json:"wallet"`
	Holdings      []holdingView `json:"holdings"`
	TotalInvested string        `json:"total_invested"`
	MarketValue   string        `json:"market_value"`
	UnrealisedPL  string        `json:"unrealised_pl"`
	TotalValue    string        `json:"total_value"`
	RealisedPL    string        `json:"realised_pl"`
	Dividends     string        `json:"dividends"`
	Commissions   string        `json:"commissions"`
	Deposits      string        `json:"deposits"`
	// Complete is false when a holding could not be priced: the market
	// value, unrealised P/L and total value then leave it out.
	Complete bool `json:"complete"`
}

type walletView struct {
	Balance string `json:"balance"`
}

// getPortfolio values the user's holdings at their latest closes. A
// holding whose price cannot be had now is still listed, with the reason,
// and left out of the market totals, which "complete": false then flags:
// one provider's outage should not hide the whole portfolio.
func (s *Server) getPortfolio(c *gin.Context) {
	out, err := s.valuePortfolio(c.Request.Context(), currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// valuePortfolio is the user's portfolio valued at the latest closes, as
// the API and the dashboard show it.
func (s *Server) valuePortfolio(ctx context.Context, userID int64) (portfolioView, error) {
	sum, err := s.db.PortfolioSummary(ctx, userID)
	if err != nil {
		return portfolioView{}, err
	}
	out := portfolioView{
		Wallet:        walletView{Balance: money(sum.Balance)},
		Holdings:      make([]holdingView, 0, len(sum.Holdings)),
		TotalInvested: money(sum.TotalInvested()),
		RealisedPL:    money(sum.RealisedPL),
		Dividends:     money(sum.Dividends),
		Commissions:   money(sum.Commissions),
		Deposits:      money(sum.Deposits),
		Complete:      true,
	}
	marketValue, unrealised := decimal.Zero, decimal.Zero
	for _, h := range sum.Holdings {
		p := h.Position()
		v := holdingView{
			Symbol: h.Symbol, Name: h.Name, Quantity: h.Quantity.String(),
			AverageCost: p.AverageCost().String(), CostBasis: money(h.CostBasis),
		}
		q, err := s.prices.LatestClose(ctx, h.Symbol)
		if err != nil {
			s.logger.WarnContext(ctx, "price a holding", "symbol", h.Symbol, "err", err)
			v.PriceError = "no price available now"
			if errors.Is(err, portfolio.ErrNoPrice) {
				v.PriceError = "no price source knows " + h.Symbol
			}
			out.Complete = false
		} else {
			val := p.ValueAt(q.Price)
			v.Quote = &quoteView{Price: money(q.Price), Date: q.Date, Source: q.Source, Live: q.Live}
			v.Value, v.UnrealisedPL = money(val.Value), money(val.Unrealised)
			marketValue, unrealised = marketValue.Add(val.Value), unrealised.Add(val.Unrealised)
		}
		out.Holdings = append(out.Holdings, v)
	}
	out.MarketValue, out.UnrealisedPL = money(marketValue), money(unrealised)
	out.TotalValue = money(sum.Balance.Add(marketValue))
	return out, nil
}

// depositRequest is the body of POST /api/v1/portfolio/deposits.
type depositRequest struct {
	Amount string `json:"amount"`
}

func (s *Server) deposit(c *gin.Context) {
	var req depositRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.applyDeposit(c, currentUser(c).ID, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewTransaction(t))
}

// applyDeposit checks and makes a deposit, for the API and the dashboard.
func (s *Server) applyDeposit(c *gin.Context, userID int64, req depositRequest) (*store.Transaction, error) {
	amount, err := portfolio.ParseDeposit(req.Amount)
	if err != nil {
		return nil, err
	}
	return s.db.Deposit(c.Request.Context(), userID, amount)
}

// orderRequest is the body of POST /api/v1/portfolio/orders.
type orderRequest struct {
	Symbol   string `json:"symbol"`
	Side     string `json:"side"`
	Quantity string `json:"quantity"`
	BrokerID *int64 `json:"broker_id"`
}

func (s *Server) placeOrder(c *gin.Context) {
	var req orderRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.applyOrder(c, currentUser(c).ID, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewTransaction(t))
}

// applyOrder checks and fills an order at the latest close, for the API
// and the dashboard.
func (s *Server) applyOrder(c *gin.Context, userID int64, req orderRequest) (*store.Transaction, error) {
	symbol, err := parseSymbol(req.Symbol)
	if err != nil {
		return nil, err
	}
	if req.Side != store.SideBuy && req.Side != store.SideSell {
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_side", Field: "side",
			Message: `side must be "buy" or "sell"`}
	}
	quantity, err := portfolio.ParseQuantity(req.Quantity)
	if err != nil {
		return nil, err
	}
	var brokerID int64
	if req.BrokerID != nil {
		if *req.BrokerID <= 0 {
			return nil, &apiError{Status: http.StatusUnprocessableEntity, Code: "out_of_range", Field: "broker_id",
				Message: "broker_id must be a positive id, or left out for the cheapest active broker"}
		}
		brokerID = *req.BrokerID
	}
	quote, err := s.tradablePrice(c, symbol)
	if err != nil {
		return nil, err
	}
	return s.db.PlaceOrder(c.Request.Context(), store.Order{
		UserID: userID, Symbol: symbol, Side: req.Side, Quantity: quantity, Quote: quote, BrokerID: brokerID,
	})
}

// tradablePrice checks that symbol is an active company before asking the
// price chain about it, so that no request makes Augur query outside
// providers for symbols it does not trade; then returns its latest close.
func (s *Server) tradablePrice(c *gin.Context, symbol string) (portfolio.Quote, error) {
	company, err := s.db.CompanyBySymbol(c.Request.Context(), symbol)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !company.Active) {
		return portfolio.Quote{}, store.ErrUnknownCompany
	}
	if err != nil {
		return portfolio.Quote{}, err
	}
	quote, err := s.prices.LatestClose(c.Request.Context(), symbol)
	if errors.Is(err, portfolio.ErrNoPrice) {
		return portfolio.Quote{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_price", Field: "symbol",
			Message: "no price source has a price for " + symbol}
	}
	if err != nil {
		s.logger.WarnContext(c.Request.Context(), "latest close", "symbol", symbol, "err", err)
		c.Header("Retry-After", priceRetryAfter)
		return portfolio.Quote{}, &apiError{Status: http.StatusServiceUnavailable, Code: "prices_unavailable",
			Message: "no price can be had for " + symbol + " now; nothing was traded, retry later"}
	}
	return quote, nil
}

// parseSymbol normalises a company symbol by the one ticker rule, as the
// "symbol" field.
func parseSymbol(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", &apiError{Status: http.StatusUnprocessableEntity, Code: "required", Field: "symbol", Message: "symbol is required"}
	}
	symbol, err := ticker.Normalize(raw)
	if err != nil {
		return "", &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_symbol", Field: "symbol",
			Message: "symbol must be " + ticker.Rule}
	}
	return symbol, nil
}

// dividendRequest is the body of POST /api/v1/portfolio/dividends.
type dividendRequest struct {
	Symbol         string `json:"symbol"`
	AmountPerShare string `json:"amount_per_share"`
}

func (s *Server) recordDividend(c *gin.Context) {
	var req dividendRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.applyDividend(c, currentUser(c).ID, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, viewTransaction(t))
}

// applyDividend checks and records a dividend, for the API and the
// dashboard.
func (s *Server) applyDividend(c *gin.Context, userID int64, req dividendRequest) (*store.Transaction, error) {
	symbol, err := parseSymbol(req.Symbol)
	if err != nil {
		return nil, err
	}
	perShare, err := portfolio.ParseDividendPerShare(req.AmountPerShare)
	if err != nil {
		return nil, err
	}
	t, err := s.db.RecordDividend(c.Request.Context(), userID, symbol, perShare)
	if errors.Is(err, portfolio.ErrOrderTooSmall) {
		err = &apiError{Status: http.StatusUnprocessableEntity, Code: "too_small", Field: "amount_per_share",
			Message: "amount_per_share on the shares held pays less than one cent"}
	}
	return t, err
}

func (s *Server) listTransactions(c *gin.Context) {
	limit, after, err := pageRequest(c, decodeTransactionCursor)
	if err != nil {
		s.fail(c, err)
		return
	}
	// One row more than asked tells whether there is a next page.
	list, err := s.db.ListTransactions(c.Request.Context(), currentUser(c).ID, after, limit+1)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePage(c, "transactions", list, limit, viewTransaction,
		func(t *store.Transaction) string {
			return encodeTransactionCursor(store.TransactionCursor{CreatedAt: t.CreatedAt, ID: t.ID})
		})
}

func encodeTransactionCursor(c store.TransactionCursor) string {
	return encodeKeyset(c.CreatedAt, strconv.FormatInt(c.ID, 10))
}

func decodeTransactionCursor(raw string) (*store.TransactionCursor, error) {
	t, rawID, err := decodeKeyset(raw)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("cursor id: %w", err)
	}
	return &store.TransactionCursor{CreatedAt: t, ID: id}, nil
}

// companyView is a tradable company.
type companyView struct {
	Symbol   string `json:"symbol"`
	Name     string `json:"name"`
	Exchange string `json:"exchange"`
	Sector   string `json:"sector"`
}

// listCompanies lists what can be traded, so that clients need not guess
// symbols.
func (s *Server) listCompanies(c *gin.Context) {
	list, err := s.db.ActiveCompanies(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	views := make([]companyView, 0, len(list))
	for _, co := range list {
		views = append(views, companyView{Symbol: co.Symbol, Name: co.Name, Exchange: co.Exchange, Sector: co.Sector})
	}
	c.JSON(http.StatusOK, gin.H{"companies": views})
}

// brokerRateView is a broker an order can name, with what it charges.
type brokerRateView struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	CommissionRate string `json:"commission_rate"`
}

// listBrokers lists the active brokers cheapest first, the first being the
// default: an order's broker_id comes from here.
func (s *Server) listBrokers(c *gin.Context) {
	list, err := s.db.ActiveBrokers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	views := make([]brokerRateView, 0, len(list))
	for _, b := range list {
		views = append(views, brokerRateView{ID: b.ID, Name: b.Name, CommissionRate: b.CommissionRate.String()})
	}
	c.JSON(http.StatusOK, gin.H{"brokers": views})
}
