package portfolio_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/portfolio"
)

type parser struct {
	name   string
	field  string
	parse  func(string) (decimal.Decimal, error)
	places int32
	limit  decimal.Decimal
}

var parsers = []parser{
	{"deposit", "amount", portfolio.ParseDeposit, portfolio.MoneyPlaces, portfolio.MaxDeposit},
	{"quantity", "quantity", portfolio.ParseQuantity, portfolio.QuantityPlaces, portfolio.MaxQuantity},
	{"per share", "amount_per_share", portfolio.ParseDividendPerShare, portfolio.PerSharePlaces, portfolio.MaxDividendPerShare},
}

func TestParseInput(t *testing.T) {
	deposit, quantity, perShare := parsers[0], parsers[1], parsers[2]
	cases := []struct {
		p         parser
		raw, want string // want is the value, or the error code
	}{
		{deposit, "1000.00", "1000"},
		{deposit, "0.01", "0.01"},
		{deposit, "10.5", "10.5"},
		{deposit, "1000000.00", "1000000"},
		{deposit, "1000000.01", "out_of_range"},
		{deposit, "0", "not_positive"},
		{deposit, "0.00", "not_positive"},
		{deposit, "", "required"},
		{deposit, "-5", "invalid_decimal"},
		{deposit, "+5", "invalid_decimal"},
		{deposit, "1e3", "invalid_decimal"},
		{deposit, " 5", "invalid_decimal"},
		{deposit, "5 ", "invalid_decimal"},
		{deposit, "5.", "invalid_decimal"},
		{deposit, ".5", "invalid_decimal"},
		{deposit, "1,000", "invalid_decimal"},
		{deposit, "NaN", "invalid_decimal"},
		{deposit, "١٢", "invalid_decimal"}, // Arabic-Indic digits are not [0-9]
		{deposit, strings.Repeat("1", 40), "invalid_decimal"},
		{deposit, "10.005", "too_precise"},
		{deposit, "10.000", "10"}, // zeros past the cents change nothing
		{quantity, "10", "10"},
		{quantity, "007", "7"},
		{quantity, "0.000001", "0.000001"},
		{quantity, "0.0000001", "too_precise"},
		{quantity, "1000000", "1000000"},
		{quantity, "1000000.000001", "out_of_range"},
		{quantity, "0", "not_positive"},
		{perShare, "0.0325", "0.0325"},
		{perShare, "0.03251", "too_precise"},
		{perShare, "1000.0001", "out_of_range"},
	}
	for _, tc := range cases {
		t.Run(tc.p.name+" "+tc.raw, func(t *testing.T) {
			got, err := tc.p.parse(tc.raw)
			var input *portfolio.InputError
			if errors.As(err, &input) {
				require.Equal(t, tc.want, input.Code)
				require.Equal(t, tc.p.field, input.Field)
				require.True(t, strings.HasPrefix(input.Message, tc.p.field+" "), "the message names the field: %s", input.Message)
				return
			}
			require.NoError(t, err)
			requireDec(t, tc.want, got)
		})
	}
}

// FuzzParse checks every parser on any input: it never panics, every error
// is an *InputError naming its field, and every value it accepts is within
// the limits and reads back the same from its canonical string.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "0", "10", "1000.00", "0.000001", "1e3", "-1", "1.2.3", "9999999999", ".5", "١"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range parsers {
			d, err := p.parse(raw)
			if err != nil {
				var input *portfolio.InputError
				require.ErrorAs(t, err, &input)
				require.Equal(t, p.field, input.Field)
				require.NotEmpty(t, input.Code)
				continue
			}
			require.True(t, d.IsPositive(), "%s accepted %q as %s", p.name, raw, d)
			require.False(t, d.GreaterThan(p.limit), "%s accepted %q over the limit", p.name, raw)
			require.True(t, d.Round(p.places).Equal(d), "%s accepted %q with too many places", p.name, raw)
			again, err := p.parse(d.String())
			require.NoError(t, err, "%s: canonical %s of %q", p.name, d, raw)
			require.True(t, again.Equal(d))
		}
	})
}
