package kernel

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
)

// priceRetryAfter is the Retry-After of a 503 when no price can be had:
// long enough for a provider's short outage or a rate limit to pass.
const priceRetryAfter = "30"

// Money formats an amount of money as the API shows it: a decimal string
// with exactly two places.
func Money(d decimal.Decimal) string { return d.StringFixed(portfolio.MoneyPlaces) }

// MoneyText writes an amount of money for people to read, as the pages
// show it: a currency sign, thousands separators and cents,
// "$1,000,000.00", "-$0.26". The API keeps plain decimal strings (Money).
// amount is such a string; one that is not a number is shown as it is.
func MoneyText(amount string) string {
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return amount
	}
	sign := ""
	if d.Round(portfolio.MoneyPlaces).IsNegative() {
		sign, d = "-", d.Neg()
	}
	fixed := Money(d)
	whole, cents, _ := strings.Cut(fixed, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + "$" + b.String() + "." + cents
}

// price formats a price per share: in cents, or finer when it is finer
// (a dividend of 0.0325 a share).
func price(d decimal.Decimal) string {
	if d.Round(portfolio.MoneyPlaces).Equal(d) {
		return Money(d)
	}
	return d.String()
}

// TransactionView is a transaction as the API shows it. Amounts and
// quantities are decimal strings, so no client parses money into a float
// by accident.
type TransactionView struct {
	ID          int64       `json:"id"`
	Type        string      `json:"type"`
	Symbol      string      `json:"symbol,omitempty"`
	Broker      *BrokerView `json:"broker,omitempty"`
	Quantity    string      `json:"quantity,omitempty"`
	Price       string      `json:"price,omitempty"`
	Total       string      `json:"total"`
	Commission  string      `json:"commission"`
	RealisedPL  string      `json:"realised_pl,omitempty"`
	Description string      `json:"description"`
	CreatedAt   time.Time   `json:"created_at"`
}

// BrokerView is the broker a transaction went through.
type BrokerView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ViewTransaction is t as the API and the dashboard show it.
func ViewTransaction(t *store.Transaction) TransactionView {
	v := TransactionView{
		ID: t.ID, Type: t.Type, Symbol: t.Symbol.String,
		Total: Money(t.Total), Commission: Money(t.Commission),
		Description: t.Description, CreatedAt: t.CreatedAt,
	}
	if t.BrokerID.Valid {
		v.Broker = &BrokerView{ID: t.BrokerID.Int64, Name: t.BrokerName.String}
	}
	if t.Quantity.Valid {
		v.Quantity = t.Quantity.Decimal.String()
	}
	if t.Price.Valid {
		v.Price = price(t.Price.Decimal)
	}
	if t.RealisedPL.Valid {
		v.RealisedPL = Money(t.RealisedPL.Decimal)
	}
	return v
}

// QuoteView is where a price came from.
type QuoteView struct {
	Price  string    `json:"price"`
	Date   time.Time `json:"date"`
	Source string    `json:"source"`
	Live   bool      `json:"live"`
}

// HoldingView is one holding, valued at its latest close when there is one.
type HoldingView struct {
	Symbol       string     `json:"symbol"`
	Name         string     `json:"name"`
	Quantity     string     `json:"quantity"`
	AverageCost  string     `json:"average_cost"`
	CostBasis    string     `json:"cost_basis"`
	Quote        *QuoteView `json:"quote,omitempty"`
	Value        string     `json:"value,omitempty"`
	UnrealisedPL string     `json:"unrealised_pl,omitempty"`
	PriceError   string     `json:"price_error,omitempty"`
}

// PortfolioView is GET /api/v1/portfolio.
type PortfolioView struct {
	Wallet        WalletView    `json:"wallet"`
	Holdings      []HoldingView `json:"holdings"`
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

// WalletView is the wallet: its cash balance.
type WalletView struct {
	Balance string `json:"balance"`
}

// ValuePortfolio is the user's portfolio valued at the latest closes, as
// the API and the dashboard show it.
func (k *Kernel) ValuePortfolio(ctx context.Context, userID int64) (PortfolioView, error) {
	sum, err := k.DB.PortfolioSummary(ctx, userID)
	if err != nil {
		return PortfolioView{}, err
	}
	out := PortfolioView{
		Wallet:        WalletView{Balance: Money(sum.Balance)},
		Holdings:      make([]HoldingView, 0, len(sum.Holdings)),
		TotalInvested: Money(sum.TotalInvested()),
		RealisedPL:    Money(sum.RealisedPL),
		Dividends:     Money(sum.Dividends),
		Commissions:   Money(sum.Commissions),
		Deposits:      Money(sum.Deposits),
		Complete:      true,
	}
	marketValue, unrealised := decimal.Zero, decimal.Zero
	for _, h := range sum.Holdings {
		p := h.Position()
		v := HoldingView{
			Symbol: h.Symbol, Name: h.Name, Quantity: h.Quantity.String(),
			AverageCost: p.AverageCost().String(), CostBasis: Money(h.CostBasis),
		}
		q, err := k.Prices.LatestClose(ctx, h.Symbol)
		if err != nil {
			k.Logger.WarnContext(ctx, "price a holding", "symbol", h.Symbol, "err", err)
			v.PriceError = "no price available now"
			if errors.Is(err, portfolio.ErrNoPrice) {
				v.PriceError = "no price source knows " + h.Symbol
			}
			out.Complete = false
		} else {
			val := p.ValueAt(q.Price)
			v.Quote = &QuoteView{Price: Money(q.Price), Date: q.Date, Source: q.Source, Live: q.Live}
			v.Value, v.UnrealisedPL = Money(val.Value), Money(val.Unrealised)
			marketValue, unrealised = marketValue.Add(val.Value), unrealised.Add(val.Unrealised)
		}
		out.Holdings = append(out.Holdings, v)
	}
	out.MarketValue, out.UnrealisedPL = Money(marketValue), Money(unrealised)
	out.TotalValue = Money(sum.Balance.Add(marketValue))
	return out, nil
}

// CompanyView is a tradable company.
type CompanyView struct {
	Symbol   string `json:"symbol"`
	Name     string `json:"name"`
	Exchange string `json:"exchange"`
	Sector   string `json:"sector"`
}

// ViewCompany is co as the API and the dashboard show it.
func ViewCompany(co *store.Company) CompanyView {
	return CompanyView{Symbol: co.Symbol, Name: co.Name, Exchange: co.Exchange, Sector: co.Sector}
}

// BrokerRateView is a broker an order can name, with what it charges.
type BrokerRateView struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	CommissionRate string `json:"commission_rate"`
}

// ViewBrokerRate is b as an order's choice of broker.
func ViewBrokerRate(b *store.Broker) BrokerRateView {
	return BrokerRateView{ID: b.ID, Name: b.Name, CommissionRate: b.CommissionRate.String()}
}
