package kernel

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText is the one rule for the free text people name things with
// (a company, a broker, an API token): it trims raw and refuses, with a
// 422 naming field, text that is required and empty, longer than limit
// characters, not UTF-8, or holding a control character or a
// bidirectional embedding, override or isolate (U+202A-U+202E,
// U+2066-U+2069). Those last reorder the text shown around a name, so a
// name could make a page or a log line read other than it is (the
// "Trojan Source" trick); PostgreSQL text cannot hold NUL at all.
func CheckText(field, raw string, required bool, limit int) (string, error) {
	v := strings.TrimSpace(raw)
	switch {
	case required && v == "":
		return "", textError(field, "required", "is required")
	case !utf8.ValidString(v):
		// A form, unlike a JSON body, can send bytes that are not UTF-8.
		return "", textError(field, "invalid_text", "must be UTF-8 text")
	case strings.IndexFunc(v, unsafeInName) >= 0:
		return "", textError(field, "invalid_text", "must not hold control characters or bidirectional overrides")
	case utf8.RuneCountInString(v) > limit:
		return "", textError(field, "too_long", "may be at most "+strconv.Itoa(limit)+" characters")
	}
	return v, nil
}

func textError(field, code, msg string) error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: code, Field: field, Message: field + " " + msg}
}

// unsafeInName reports a rune CheckText refuses: a control character (NUL,
// a line break, a tab) or an explicit bidirectional formatting character.
func unsafeInName(r rune) bool {
	return unicode.IsControl(r) || r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}
