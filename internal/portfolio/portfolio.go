// Package portfolio holds the money rules of simulated trading: commissions,
// what a buy costs and a sell brings in, cost basis and profit and loss,
// dividends, deposits, and the parsing of amounts and quantities. It does no
// I/O; internal/store applies these rules inside its database transactions.
//
// Every amount is a shopspring decimal. Money is kept in whole cents
// (MoneyPlaces); each rule that can produce a fraction of a cent rounds it
// half-up in one place, here. No float64 ever holds money.
package portfolio

import (
	"errors"

	"github.com/shopspring/decimal"
)

// MoneyPlaces is the number of decimal places every amount of money has:
// whole cents.
const MoneyPlaces = 2

// ErrInsufficientFunds means the wallet cannot cover a buy (its total plus
// commission).
var ErrInsufficientFunds = errors.New("insufficient funds")

// ErrInsufficientShares means a sell asks for more shares than are held.
var ErrInsufficientShares = errors.New("insufficient shares")

// ErrNoHolding means a dividend was recorded for a company the user holds no
// shares of.
var ErrNoHolding = errors.New("no shares held")

// ErrOrderTooSmall means an order is worth less than a cent, so no amount of
// money would change hands.
var ErrOrderTooSmall = errors.New("order is worth less than one cent")

var hundred = decimal.NewFromInt(100)

// Cents rounds an amount to whole cents, half-up. All amounts here are
// positive, where shopspring's Round (half away from zero) is half-up.
func Cents(d decimal.Decimal) decimal.Decimal { return d.Round(MoneyPlaces) }

// Commission is what a broker charging ratePercent (0.25 means 0.25 %)
// takes on a trade of total: total × rate / 100, rounded half-up to cents.
func Commission(total, ratePercent decimal.Decimal) decimal.Decimal {
	return Cents(total.Mul(ratePercent).Div(hundred))
}

// Fill is one trade's figures: quantity shares at price, their total value
// in cents, and the broker's commission on that total.
type Fill struct {
	Quantity   decimal.Decimal
	Price      decimal.Decimal
	Total      decimal.Decimal
	Commission decimal.Decimal
}

// NewFill prices an order: total = quantity × price rounded half-up to
// cents, commission per Commission. An order whose total rounds to zero is
// ErrOrderTooSmall: it would move shares for nothing.
func NewFill(quantity, price, ratePercent decimal.Decimal) (Fill, error) {
	total := Cents(quantity.Mul(price))
	if !total.IsPositive() {
		return Fill{}, ErrOrderTooSmall
	}
	return Fill{Quantity: quantity, Price: price, Total: total, Commission: Commission(total, ratePercent)}, nil
}

// Cost is what a buy takes from the wallet: the total plus commission.
func (f Fill) Cost() decimal.Decimal { return f.Total.Add(f.Commission) }

// Proceeds is what a sell puts in the wallet: the total less commission.
// A commission rate is at most 100 %, so proceeds are never negative.
func (f Fill) Proceeds() decimal.Decimal { return f.Total.Sub(f.Commission) }

// Debit takes cost from balance, or gives ErrInsufficientFunds when the
// balance is smaller: a wallet never goes below zero.
func Debit(balance, cost decimal.Decimal) (decimal.Decimal, error) {
	if balance.LessThan(cost) {
		return balance, ErrInsufficientFunds
	}
	return balance.Sub(cost), nil
}

// Position is a holding of one company: how many shares, and what they cost
// in all, commissions included.
//
// The cost basis is kept rather than the average cost because it is exact:
// the average is a quotient (often a repeating decimal), so storing it
// rounded would let total invested and realised P/L drift by fractions of a
// cent with every trade. AverageCost derives it when it is shown.
type Position struct {
	Quantity  decimal.Decimal
	CostBasis decimal.Decimal
}

// averageCostPlaces is the precision average cost is shown with: finer than
// cents, since the average of a few buys is rarely a whole cent.
const averageCostPlaces = 4

// AverageCost is the cost basis per share, rounded half-up to four places,
// or zero when nothing is held.
func (p Position) AverageCost() decimal.Decimal {
	if !p.Quantity.IsPositive() {
		return decimal.Zero
	}
	return p.CostBasis.DivRound(p.Quantity, averageCostPlaces)
}

// Buy adds a buy to the position: the shares, and their cost with the
// commission, so the average cost is (old basis + cost) / (old quantity +
// bought quantity).
func (p Position) Buy(f Fill) Position {
	return Position{Quantity: p.Quantity.Add(f.Quantity), CostBasis: p.CostBasis.Add(f.Cost())}
}

// Sell takes a sell out of the position and returns what is left and the
// realised profit (negative for a loss): the proceeds less the cost basis of
// the shares sold. Those shares carry the average cost, so their basis is
// basis × sold / held rounded to cents; selling everything takes the whole
// basis, so no fraction of a cent is ever left behind. Selling more than is
// held is ErrInsufficientShares.
func (p Position) Sell(f Fill) (Position, decimal.Decimal, error) {
	if f.Quantity.GreaterThan(p.Quantity) {
		return p, decimal.Zero, ErrInsufficientShares
	}
	soldBasis := p.CostBasis
	if f.Quantity.LessThan(p.Quantity) {
		soldBasis = Cents(p.CostBasis.Mul(f.Quantity).Div(p.Quantity))
	}
	left := Position{Quantity: p.Quantity.Sub(f.Quantity), CostBasis: p.CostBasis.Sub(soldBasis)}
	return left, f.Proceeds().Sub(soldBasis), nil
}

// Valuation is a position at a market price: its value (quantity × price
// in cents) and the unrealised profit, value less cost basis.
type Valuation struct {
	Value      decimal.Decimal
	Unrealised decimal.Decimal
}

// ValueAt values the position at price.
func (p Position) ValueAt(price decimal.Decimal) Valuation {
	value := Cents(p.Quantity.Mul(price))
	return Valuation{Value: value, Unrealised: value.Sub(p.CostBasis)}
}

// Dividend is what a dividend of perShare pays on quantity shares, rounded
// half-up to cents. Holding nothing is ErrNoHolding; a payment that rounds
// to zero is ErrOrderTooSmall.
func Dividend(perShare, quantity decimal.Decimal) (decimal.Decimal, error) {
	if !quantity.IsPositive() {
		return decimal.Zero, ErrNoHolding
	}
	total := Cents(perShare.Mul(quantity))
	if !total.IsPositive() {
		return decimal.Zero, ErrOrderTooSmall
	}
	return total, nil
}
