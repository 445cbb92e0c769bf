package kernel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMoneyText checks the pages' way of writing money: a sign, thousands
// separators, cents rounded half away from zero, and a minus before the
// sign; what is not a number is left as it is.
func TestMoneyText(t *testing.T) {
	for in, want := range map[string]string{
		"0":           "$0.00",
		"0.5":         "$0.50",
		"999.99":      "$999.99",
		"1000":        "$1,000.00",
		"1000000":     "$1,000,000.00",
		"123456.785":  "$123,456.79",
		"-0.26":       "-$0.26",
		"-1234.5":     "-$1,234.50",
		"-0.001":      "$0.00",
		"43.4233":     "$43.42",
		"not a price": "not a price",
	} {
		require.Equal(t, want, MoneyText(in), in)
	}
}
