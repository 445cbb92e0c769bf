package market

import (
	"errors"
	"fmt"
	"strings"

	"github.com/augurhq/augur/internal/upstream"
)

// Errors that callers branch on. Providers also wrap upstream's ErrNoKey
// and ErrRateLimited, which upstream.OutcomeOf reports per attempt.
var (
	// ErrNoSuchTicker means the provider answered and does not know the
	// ticker. It is upstream's not-found, so that an attempt that ends with
	// it reports not_found.
	ErrNoSuchTicker = upstream.ErrNotFound
	// ErrNoData means every provider in the chain failed or had nothing.
	ErrNoData = errors.New("no price data available")
	// ErrKeyRejected means the provider did not accept the configured key.
	ErrKeyRejected = errors.New("API key rejected")
	// ErrMalformed means the provider's answer (or the CSV file) is not the
	// price data it should be: HTML, garbage, a truncated document.
	ErrMalformed = errors.New("malformed price data")
)

// LoadError is returned by Loader.Load when no provider delivered. It
// unwraps to ErrNoSuchTicker or ErrNoData and keeps every attempt so the
// job result can show what was tried.
type LoadError struct {
	Ticker   string
	Attempts []Attempt
	Err      error
}

// Error lists the attempts after the cause, e.g. "load prices for MSFT: no
// price data available (yahoo: timeout; stooq: no_key)".
func (e *LoadError) Error() string {
	parts := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		parts[i] = a.Source + ": " + a.Outcome
	}
	return fmt.Sprintf("load prices for %s: %v (%s)", e.Ticker, e.Err, strings.Join(parts, "; "))
}

// Unwrap returns ErrNoSuchTicker, ErrNoData or the context's error.
func (e *LoadError) Unwrap() error { return e.Err }
