package auth

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reasons CheckEmail and CheckUsername refuse a value, fit to show.
var (
	ErrEmailInvalid    = errors.New("enter an email address such as ann@example.com")
	ErrUsernameInvalid = errors.New("a username is 3 to 32 letters, digits, dots, dashes or underscores")
)

// maxEmailLen is the longest address SMTP can carry (RFC 5321).
const maxEmailLen = 254

// CheckEmail trims an email address and checks that it is a bare address
// (no display name). Its case is kept; uniqueness ignores case.
func CheckEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > maxEmailLen {
		return "", ErrEmailInvalid
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
		return "", ErrEmailInvalid
	}
	return email, nil
}

// CheckUsername trims a username and checks it: 3 to 32 characters, each a
// letter, a digit or one of "._-", so that a name shown on a page or in a
// log is never markup, whitespace or a look-alike of punctuation.
func CheckUsername(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 3 || n > 32 {
		return "", ErrUsernameInvalid
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._-", r) {
			return "", ErrUsernameInvalid
		}
	}
	return name, nil
}
