// Package ticker is the one rule for what a ticker symbol may look like,
// shared by the API, the price providers and the news sources, so that a
// symbol accepted at the door is accepted everywhere behind it.
package ticker

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ErrInvalid means the text cannot be a ticker symbol.
var ErrInvalid = errors.New("invalid ticker")

// MaxLen is the longest symbol accepted.
const MaxLen = 15

// pattern admits the shapes providers use (MSFT, BRK-B, BARC.L, ^GSPC,
// EURUSD=X): upper-case letters, digits and . ^ = -, at most 15. The first
// character must be a letter, a digit or ^, which rules out "." and ".." —
// symbols end up in URLs, file names and Redis keys.
var pattern = regexp.MustCompile(`^[A-Z0-9^][A-Z0-9.^=-]{0,14}$`)

// alphanumeric is the part every real symbol has: "^" or "^-^" pass the
// pattern but name nothing, and would otherwise fail only after the job
// had asked every provider.
var alphanumeric = regexp.MustCompile(`[A-Z0-9]`)

// Rule describes the pattern for error messages.
const Rule = "1 to 15 characters of A-Z, 0-9, '.', '^', '=' or '-', starting with a letter, a digit or '^' and holding at least one letter or digit"

// Normalize trims and upper-cases raw and checks its shape. A bad symbol
// gives an error wrapping ErrInvalid.
//
// Only ASCII is upper-cased: Unicode case mapping would turn "mſft" (long
// s) or "Keys" (Kelvin sign) into ASCII symbols, so a look-alike would
// name a real ticker here and nothing anywhere that compares bytes.
func Normalize(raw string) (string, error) {
	t := strings.TrimSpace(raw)
	if !isASCII(t) {
		return "", fmt.Errorf("%w %q: must be %s", ErrInvalid, raw, Rule)
	}
	t = strings.ToUpper(t)
	if !pattern.MatchString(t) || !alphanumeric.MatchString(t) {
		return "", fmt.Errorf("%w %q: must be %s", ErrInvalid, raw, Rule)
	}
	return t, nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
