package portfolio

import (
	"fmt"
	"regexp"

	"github.com/shopspring/decimal"
)

// InputError is one bad request field. The HTTP layer answers it with a 422
// naming the field.
type InputError struct {
	Field   string
	Code    string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Limits on what one request may ask for.
var (
	// MaxDeposit caps one deposit at 1,000,000.00. The money is simulated,
	// so the cap is not about risk: it stops a slip of the keyboard (two
	// extra zeros) from making a portfolio meaningless, while leaving room
	// for any realistic practice account. Balances stay far below the
	// NUMERIC(20,2) ceiling of 10^18 whatever users do.
	MaxDeposit = decimal.NewFromInt(1_000_000)
	// MaxQuantity caps one order at a million shares, more than any stock's
	// realistic retail order, so that totals stay well inside NUMERIC(20,2).
	MaxQuantity = decimal.NewFromInt(1_000_000)
	// MaxDividendPerShare caps a recorded dividend per share; real ones are
	// a few dollars at most.
	MaxDividendPerShare = decimal.NewFromInt(1_000)
)

// Decimal places each kind of input may have.
const (
	// QuantityPlaces allows fractional shares down to a millionth, as
	// brokers that sell fractions do.
	QuantityPlaces = 6
	// PerSharePlaces allows dividends in hundredths of a cent, as they are
	// often declared.
	PerSharePlaces = 4
)

// maxInputLen bounds a decimal string before it is parsed at all.
const maxInputLen = 32

// plainDecimal is the only syntax accepted: digits with an optional
// fraction. Signs, exponents ("1e9"), spaces, thousands separators and bare
// points (".5", "5.") are refused rather than guessed at.
var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// ParseDeposit reads the "amount" of a deposit: more than zero, whole cents,
// at most MaxDeposit.
func ParseDeposit(raw string) (decimal.Decimal, error) {
	return parsePositive("amount", raw, MoneyPlaces, MaxDeposit)
}

// ParseQuantity reads the "quantity" of an order: more than zero, at most
// QuantityPlaces decimal places, at most MaxQuantity.
func ParseQuantity(raw string) (decimal.Decimal, error) {
	return parsePositive("quantity", raw, QuantityPlaces, MaxQuantity)
}

// ParseDividendPerShare reads the "amount_per_share" of a dividend: more
// than zero, at most PerSharePlaces decimal places, at most
// MaxDividendPerShare.
func ParseDividendPerShare(raw string) (decimal.Decimal, error) {
	return parsePositive("amount_per_share", raw, PerSharePlaces, MaxDividendPerShare)
}

// parsePositive is the one parser of decimal input: every error is an
// *InputError naming field.
func parsePositive(field, raw string, places int32, limit decimal.Decimal) (decimal.Decimal, error) {
	bad := func(code, format string, args ...any) error {
		return &InputError{Field: field, Code: code, Message: field + " " + fmt.Sprintf(format, args...)}
	}
	if raw == "" {
		return decimal.Zero, bad("required", "is required")
	}
	if len(raw) > maxInputLen || !plainDecimal.MatchString(raw) {
		return decimal.Zero, bad("invalid_decimal", `must be a decimal string of digits with an optional fraction, such as "10" or "12.50"`)
	}
	d, err := decimal.NewFromString(raw)
	if err != nil { // unreachable after the pattern, but never trust that silently
		return decimal.Zero, bad("invalid_decimal", "is not a decimal number")
	}
	switch {
	case !d.IsPositive():
		return decimal.Zero, bad("not_positive", "must be more than zero")
	case d.Round(places).Cmp(d) != 0:
		return decimal.Zero, bad("too_precise", "may have at most %d decimal places", places)
	case d.GreaterThan(limit):
		return decimal.Zero, bad("out_of_range", "may be at most %s", limit.String())
	}
	return d, nil
}

// MaxCommissionRate is the highest commission a broker may charge, in
// percent of a trade's total.
var MaxCommissionRate = decimal.NewFromInt(100)

// CommissionRatePlaces matches the brokers table's numeric(7,4).
const CommissionRatePlaces = 4

// ParseCommissionRate reads a broker's "commission_rate", a percentage: 0
// (a free broker) up to MaxCommissionRate, at most CommissionRatePlaces
// decimal places.
func ParseCommissionRate(raw string) (decimal.Decimal, error) {
	if len(raw) <= maxInputLen && plainDecimal.MatchString(raw) {
		if d, err := decimal.NewFromString(raw); err == nil && d.IsZero() {
			return decimal.Zero, nil
		}
	}
	return parsePositive("commission_rate", raw, CommissionRatePlaces, MaxCommissionRate)
}
