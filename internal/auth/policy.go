package auth

import (
	_ "embed"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
)

// Password rules, after NIST SP 800-63B: a minimum length and a list of
// known-breached passwords, and no composition rules (they push people to
// "Password1!", which the list already holds).
const (
	MinPasswordLen = 10
	// MaxPasswordLen bounds the work of hashing one sign-in attempt.
	MaxPasswordLen = 256
)

// Reasons CheckPassword refuses a password. Each message is fit to show
// the person choosing it.
var (
	ErrPasswordTooShort = errors.New("the password must be at least 10 characters")
	ErrPasswordTooLong  = errors.New("the password must be at most 256 characters")
	ErrPasswordCommon   = errors.New("this password is one of the most common ones and would be guessed first; choose another")
	ErrPasswordPersonal = errors.New("the password must not be your email address or username")
)

//go:embed passwordlist/passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 50000)
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line != "" {
			set[line] = struct{}{}
		}
	}
	return set
})

// IsCommonPassword reports whether password, in any case, is in the
// embedded list of common passwords (see passwordlist/README.md).
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}

// CheckPassword applies the password rules: the length, the common list,
// and none of the account's own names (personal: its email and username).
// It is the one owner of those rules; every way of setting a password
// calls it.
func CheckPassword(password string, personal ...string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return ErrPasswordTooShort
	case n > MaxPasswordLen:
		return ErrPasswordTooLong
	case IsCommonPassword(password):
		return ErrPasswordCommon
	}
	for _, p := range personal {
		if p != "" && strings.EqualFold(strings.TrimSpace(p), password) {
			return ErrPasswordPersonal
		}
	}
	return nil
}
