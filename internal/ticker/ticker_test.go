package ticker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		" msft ": "MSFT", "brk-b": "BRK-B", "barc.l": "BARC.L", "^gspc": "^GSPC",
		"eurusd=x": "EURUSD=X", "ABCDEFGHIJKLMNO": "ABCDEFGHIJKLMNO", "^N225": "^N225", "7203.T": "7203.T",
	} {
		got, err := Normalize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"", " ", "..", ".", "../etc/passwd", "-X", "A/B", `A\B`, "MS FT",
		"ABCDEFGHIJKLMNOP", "A\x00", "A_B", "ÄPFEL", "$$$",
		// No letter or digit: the shape fits, but no provider has such a symbol.
		"^", "^^^^", "^.", "^-=", "^=.-^",
		// Unicode case mapping must not fold a look-alike into ASCII:
		// long s, Kelvin sign, dotless i, fullwidth letters.
		"m\u017fft", "\u212aO", "\u0131bm", "\uff4d\uff53\uff46\uff54"} {
		_, err := Normalize(bad)
		require.ErrorIs(t, err, ErrInvalid, "%q", bad)
	}
}
