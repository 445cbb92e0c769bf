package portfolio_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/portfolio"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// requireDec compares decimals by value, so 10 and 10.00 are equal, and
// prints both when they are not.
func requireDec(t *testing.T, want string, got decimal.Decimal, msgAndArgs ...any) {
	t.Helper()
	require.Truef(t, dec(want).Equal(got), "want %s, got %s %v", want, got, msgAndArgs)
}

func TestCommissionRoundsHalfUpToCents(t *testing.T) {
	cases := []struct{ total, rate, want string }{
		{"1000.00", "0.25", "2.50"},
		{"333.33", "0.25", "0.83"},       // 0.833325
		{"1234.56", "0.15", "1.85"},      // 1.85184
		{"2.00", "0.25", "0.01"},         // 0.005: half-up, not down
		{"5.00", "0.5", "0.03"},          // 0.025: half-up, where banker's rounding gives 0.02
		{"550.00", "0.25", "1.38"},       // 1.375
		{"0.01", "0.1", "0.00"},          // 0.00001
		{"999.99", "0", "0.00"},          // a free broker
		{"100.00", "100", "100.00"},      // the highest rate a broker may have
		{"7654321.09", "0.01", "765.43"}, // 765.432109
	}
	for _, tc := range cases {
		got := portfolio.Commission(dec(tc.total), dec(tc.rate))
		requireDec(t, tc.want, got, tc.total, tc.rate)
		require.Equal(t, tc.want, got.StringFixed(2))
	}
}

func TestNewFill(t *testing.T) {
	cases := []struct {
		name, qty, price, rate string
		total, commission      string
		cost, proceeds         string
	}{
		{"whole shares", "10", "312.45", "0.25", "3124.50", "7.81", "3132.31", "3116.69"},
		{"fraction of a share", "0.333333", "100.00", "0.25", "33.33", "0.08", "33.41", "33.25"},
		{"total rounds half-up", "0.005", "1.00", "0", "0.01", "0.00", "0.01", "0.01"},
		{"no commission", "3", "43.38", "0", "130.14", "0", "130.14", "130.14"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := portfolio.NewFill(dec(tc.qty), dec(tc.price), dec(tc.rate))
			require.NoError(t, err)
			requireDec(t, tc.total, f.Total)
			requireDec(t, tc.commission, f.Commission)
			requireDec(t, tc.cost, f.Cost())
			requireDec(t, tc.proceeds, f.Proceeds())
		})
	}
	_, err := portfolio.NewFill(dec("0.000001"), dec("100.00"), dec("0.25"))
	require.ErrorIs(t, err, portfolio.ErrOrderTooSmall, "0.0001 of a dollar rounds to nothing")
}

func TestDebit(t *testing.T) {
	left, err := portfolio.Debit(dec("100.00"), dec("100.00"))
	require.NoError(t, err)
	requireDec(t, "0", left, "spending the whole wallet is allowed")

	left, err = portfolio.Debit(dec("100.00"), dec("100.01"))
	require.ErrorIs(t, err, portfolio.ErrInsufficientFunds)
	requireDec(t, "100.00", left, "a refused debit leaves the balance")
}

// TestPositionLifecycle walks one holding through two buys and two sells at
// 0.25 % commission, every figure worked by hand.
func TestPositionLifecycle(t *testing.T) {
	rate := dec("0.25")
	fill := func(qty, price string) portfolio.Fill {
		f, err := portfolio.NewFill(dec(qty), dec(price), rate)
		require.NoError(t, err)
		return f
	}
	var p portfolio.Position

	// Buy 10 at 100.00: total 1000.00, commission 2.50, cost 1002.50.
	p = p.Buy(fill("10", "100.00"))
	requireDec(t, "10", p.Quantity)
	requireDec(t, "1002.50", p.CostBasis)
	requireDec(t, "100.25", p.AverageCost())

	// Buy 5 at 110.00: total 550.00, commission 1.375 → 1.38, cost 551.38.
	// Basis 1553.88 over 15 shares: 103.592.
	p = p.Buy(fill("5", "110.00"))
	requireDec(t, "15", p.Quantity)
	requireDec(t, "1553.88", p.CostBasis)
	requireDec(t, "103.592", p.AverageCost())

	// Valued at 90.00: 1350.00, unrealised 1350.00 − 1553.88 = −203.88.
	v := p.ValueAt(dec("90.00"))
	requireDec(t, "1350.00", v.Value)
	requireDec(t, "-203.88", v.Unrealised)

	// Sell 6 at 120.00: total 720.00, commission 1.80, proceeds 718.20.
	// The 6 shares carry 1553.88 × 6 / 15 = 621.552 → 621.55 of basis, so
	// the realised profit is 718.20 − 621.55 = 96.65.
	p, realised, err := p.Sell(fill("6", "120.00"))
	require.NoError(t, err)
	requireDec(t, "96.65", realised)
	requireDec(t, "9", p.Quantity)
	requireDec(t, "932.33", p.CostBasis)

	// Selling 10 of 9 is refused and changes nothing.
	same, _, err := p.Sell(fill("10", "120.00"))
	require.ErrorIs(t, err, portfolio.ErrInsufficientShares)
	require.Equal(t, p, same)

	// Sell the last 9 at 90.00: total 810.00, commission 2.025 → 2.03,
	// proceeds 807.97; the whole remaining basis 932.33 goes, so the loss is
	// 807.97 − 932.33 = −124.36 and not a fraction of a cent is left.
	p, realised, err = p.Sell(fill("9", "90.00"))
	require.NoError(t, err)
	requireDec(t, "-124.36", realised)
	requireDec(t, "0", p.Quantity)
	requireDec(t, "0", p.CostBasis)
	requireDec(t, "0", p.AverageCost())
}

func TestAverageCostOfARepeatingQuotient(t *testing.T) {
	p := portfolio.Position{Quantity: dec("3"), CostBasis: dec("100.00")}
	requireDec(t, "33.3333", p.AverageCost())
	// The basis stays exact: selling one share takes 33.33 of it, and the
	// last two carry 66.67, so the three sales together account for 100.00.
	left, _, err := p.Sell(portfolio.Fill{Quantity: dec("1"), Total: dec("40.00")})
	require.NoError(t, err)
	requireDec(t, "66.67", left.CostBasis)
}

func TestDividend(t *testing.T) {
	cases := []struct {
		perShare, qty, want string
		err                 error
	}{
		{"0.62", "15", "9.30", nil},
		{"0.0325", "7", "0.23", nil}, // 0.2275
		{"0.0125", "2", "0.03", nil}, // 0.025, half-up
		{"0.0001", "1", "", portfolio.ErrOrderTooSmall},
		{"0.62", "0", "", portfolio.ErrNoHolding},
	}
	for _, tc := range cases {
		got, err := portfolio.Dividend(dec(tc.perShare), dec(tc.qty))
		if tc.err != nil {
			require.ErrorIs(t, err, tc.err, tc.perShare)
			continue
		}
		require.NoError(t, err)
		requireDec(t, tc.want, got, tc.perShare, tc.qty)
	}
}
