package kernel

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/ticker"
)

// DepositRequest is the body of POST /api/v1/portfolio/deposits.
type DepositRequest struct {
	Amount string `json:"amount"`
}

// ApplyDeposit checks and makes a deposit, for the API and the dashboard.
// With an idempotency key ("" = none) one of the user's transactions
// already holds, it makes none and returns that one, replayed; see
// store.Deposit.
func (k *Kernel) ApplyDeposit(c *gin.Context, userID int64, req DepositRequest, key string) (t *store.Transaction, replayed bool, err error) {
	amount, err := portfolio.ParseDeposit(req.Amount)
	if err != nil {
		return nil, false, err
	}
	ctx := c.Request.Context()
	rec := k.Audit.Append(ctx, audit.Event{Action: audit.Deposit, Target: "wallet:" + strconv.FormatInt(userID, 10),
		Details: map[string]string{"amount": amount.StringFixed(2)}})
	t, replayed, err = k.DB.DepositAudited(ctx, userID, amount, requestIdempotency(key, "deposit", amount.String()), rec)
	k.emitUnlessReplayed(rec, replayed, err)
	return t, replayed, err
}

// emitUnlessReplayed sends an audit row appended in a trade's transaction
// to the SIEM stream, once that transaction has committed and only if it
// appended the row (a replay appends none).
func (k *Kernel) emitUnlessReplayed(rec *store.AuditAppend, replayed bool, err error) {
	if err == nil && !replayed {
		k.Audit.Emit(rec.Entry)
	}
}

// requestIdempotency is the client's key with the hash of the normalised
// request, whose fields must be in the same order every time: a retry
// that differs only in spelling ("10" or "10.0" shares) is the same
// request. The kind keeps a deposit from replaying as an order.
func requestIdempotency(key, kind string, fields ...string) store.Idempotency {
	if key == "" {
		return store.Idempotency{}
	}
	hash := sha256.Sum256([]byte(kind + "\x00" + strings.Join(fields, "\x00")))
	return store.Idempotency{Key: key, RequestHash: hash[:]}
}

// OrderRequest is the body of POST /api/v1/portfolio/orders.
type OrderRequest struct {
	Symbol   string `json:"symbol"`
	Side     string `json:"side"`
	Quantity string `json:"quantity"`
	BrokerID *int64 `json:"broker_id"`
}

// ApplyOrder checks and fills an order at the latest close, for the API
// and the dashboard. With an idempotency key ("" = none) one of the user's
// transactions already holds, it trades nothing and returns that one,
// replayed: before asking for a price, so that a retry is answered even
// while no price can be had.
func (k *Kernel) ApplyOrder(c *gin.Context, userID int64, req OrderRequest, key string) (t *store.Transaction, replayed bool, err error) {
	symbol, quantity, brokerID, err := checkOrder(req)
	if err != nil {
		return nil, false, err
	}
	idem := requestIdempotency(key, "order", symbol, req.Side, quantity.String(), strconv.FormatInt(brokerID, 10))
	if earlier, err := k.DB.IdempotentTransaction(c.Request.Context(), userID, idem); earlier != nil || err != nil {
		return earlier, earlier != nil, err
	}
	quote, err := k.tradablePrice(c, symbol)
	if err != nil {
		return nil, false, err
	}
	rec := k.Audit.Append(c.Request.Context(), audit.Event{Action: audit.Trade, Target: "company:" + symbol,
		Details: map[string]string{"side": req.Side, "quantity": quantity.String(), "price": quote.Price.String(),
			"broker_id": strconv.FormatInt(brokerID, 10)}})
	t, replayed, err = k.DB.PlaceOrder(c.Request.Context(), store.Order{
		UserID: userID, Symbol: symbol, Side: req.Side, Quantity: quantity, Quote: quote, BrokerID: brokerID,
		Idempotency: idem, Audit: rec,
	})
	k.emitUnlessReplayed(rec, replayed, err)
	return t, replayed, err
}

// checkOrder checks an order's fields: its symbol, side and quantity, and
// the broker it names (0 = the cheapest active one).
func checkOrder(req OrderRequest) (symbol string, quantity decimal.Decimal, brokerID int64, err error) {
	if symbol, err = parseSymbol(req.Symbol); err != nil {
		return "", decimal.Zero, 0, err
	}
	if req.Side != store.SideBuy && req.Side != store.SideSell {
		return "", decimal.Zero, 0, &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_side", Field: "side",
			Message: `side must be "buy" or "sell"`}
	}
	if quantity, err = portfolio.ParseQuantity(req.Quantity); err != nil {
		return "", decimal.Zero, 0, err
	}
	if req.BrokerID != nil {
		if *req.BrokerID <= 0 {
			return "", decimal.Zero, 0, &Error{Status: http.StatusUnprocessableEntity, Code: "out_of_range", Field: "broker_id",
				Message: "broker_id must be a positive id, or left out for the cheapest active broker"}
		}
		brokerID = *req.BrokerID
	}
	return symbol, quantity, brokerID, nil
}

// OrderPreview is what an order would do if placed now: its price, broker,
// total and commission by the rules the order itself follows
// (portfolio.NewFill, the store's choice of broker), and the wallet after.
// It checks neither funds nor shares: a WalletAfter below zero says a buy
// would be refused.
type OrderPreview struct {
	Symbol      string         `json:"symbol"`
	Side        string         `json:"side"`
	Quantity    string         `json:"quantity"`
	Quote       QuoteView      `json:"quote"`
	Broker      BrokerRateView `json:"broker"`
	Total       string         `json:"total"`
	Commission  string         `json:"commission"`
	WalletAfter string         `json:"wallet_after"`
}

// PreviewOrder prices an order as ApplyOrder would fill it, trading
// nothing.
func (k *Kernel) PreviewOrder(c *gin.Context, userID int64, req OrderRequest) (*OrderPreview, error) {
	symbol, quantity, brokerID, err := checkOrder(req)
	if err != nil {
		return nil, err
	}
	quote, err := k.tradablePrice(c, symbol)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	broker, err := k.DB.ChooseBroker(ctx, brokerID)
	if err != nil {
		return nil, err
	}
	fill, err := portfolio.NewFill(quantity, quote.Price, broker.CommissionRate)
	if err != nil {
		return nil, err
	}
	sum, err := k.DB.PortfolioSummary(ctx, userID)
	if err != nil {
		return nil, err
	}
	after := sum.Balance.Add(fill.Proceeds())
	if req.Side == store.SideBuy {
		after = sum.Balance.Sub(fill.Cost())
	}
	return &OrderPreview{
		Symbol: symbol, Side: req.Side, Quantity: fill.Quantity.String(),
		Quote:  QuoteView{Price: price(fill.Price), Date: quote.Date, Source: quote.Source, Live: quote.Live},
		Broker: ViewBrokerRate(broker), Total: Money(fill.Total), Commission: Money(fill.Commission), WalletAfter: Money(after),
	}, nil
}

// tradablePrice checks that symbol is an active company before asking the
// price chain about it, so that no request makes Augur query outside
// providers for symbols it does not trade; then returns its latest close.
func (k *Kernel) tradablePrice(c *gin.Context, symbol string) (portfolio.Quote, error) {
	company, err := k.DB.CompanyBySymbol(c.Request.Context(), symbol)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !company.Active) {
		return portfolio.Quote{}, store.ErrUnknownCompany
	}
	if err != nil {
		return portfolio.Quote{}, err
	}
	quote, err := k.Prices.LatestClose(c.Request.Context(), symbol)
	if errors.Is(err, portfolio.ErrNoPrice) {
		return portfolio.Quote{}, &Error{Status: http.StatusUnprocessableEntity, Code: "no_price", Field: "symbol",
			Message: "no price source has a price for " + symbol}
	}
	if err != nil {
		k.Logger.WarnContext(c.Request.Context(), "latest close", "symbol", symbol, "err", err)
		c.Header("Retry-After", priceRetryAfter)
		return portfolio.Quote{}, &Error{Status: http.StatusServiceUnavailable, Code: "prices_unavailable",
			Message: "no price can be had for " + symbol + " now; nothing was traded, retry later"}
	}
	return quote, nil
}

// parseSymbol normalises a company symbol by the one ticker rule, as the
// "symbol" field.
func parseSymbol(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", &Error{Status: http.StatusUnprocessableEntity, Code: "required", Field: "symbol", Message: "symbol is required"}
	}
	symbol, err := ticker.Normalize(raw)
	if err != nil {
		return "", &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_symbol", Field: "symbol",
			Message: "symbol must be " + ticker.Rule}
	}
	return symbol, nil
}

// DividendRequest is the body of POST /api/v1/portfolio/dividends.
type DividendRequest struct {
	Symbol         string `json:"symbol"`
	AmountPerShare string `json:"amount_per_share"`
}

// ApplyDividend checks and records a dividend, for the API and the
// dashboard.
func (k *Kernel) ApplyDividend(c *gin.Context, userID int64, req DividendRequest) (*store.Transaction, error) {
	symbol, err := parseSymbol(req.Symbol)
	if err != nil {
		return nil, err
	}
	perShare, err := portfolio.ParseDividendPerShare(req.AmountPerShare)
	if err != nil {
		return nil, err
	}
	t, err := k.DB.RecordDividend(c.Request.Context(), userID, symbol, perShare)
	if errors.Is(err, portfolio.ErrOrderTooSmall) {
		err = &Error{Status: http.StatusUnprocessableEntity, Code: "too_small", Field: "amount_per_share",
			Message: "amount_per_share on the shares held pays less than one cent"}
	}
	return t, err
}
