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
// unwraps to ErrNoSuchTicker, ErrNoData or the context's error, and keeps
// every attempt so the job result can show what was tried.
type LoadError struct {
	Ticker   string
	Attempts []Attempt
	Err      error
	// Bundled lists the sample data's tickers when the sample provider was
	// asked and does not have Ticker: offline, those are the only ones that
	// work, and the user should not have to guess them.
	Bundled []string
}

// Error is one sentence: what failed for which ticker, each attempt's
// outcome, and the bundled tickers when the sample data was asked, e.g.
// "no price data for AAPL (yahoo: error; sample: not_found); the bundled
// sample data has only AA, AXP, … and ^GSPC".
func (e *LoadError) Error() string {
	var b strings.Builder
	switch {
	case errors.Is(e.Err, ErrNoSuchTicker):
		fmt.Fprintf(&b, "no such ticker %s", e.Ticker)
	case errors.Is(e.Err, ErrNoData):
		fmt.Fprintf(&b, "no price data for %s", e.Ticker)
	default:
		fmt.Fprintf(&b, "load prices for %s: %v", e.Ticker, e.Err)
	}
	if len(e.Attempts) > 0 {
		parts := make([]string, len(e.Attempts))
		for i, a := range e.Attempts {
			parts[i] = a.Source + ": " + a.Outcome
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, "; "))
	}
	if n := len(e.Bundled); n > 0 {
		list := e.Bundled[0]
		if n > 1 {
			list = strings.Join(e.Bundled[:n-1], ", ") + " and " + e.Bundled[n-1]
		}
		fmt.Fprintf(&b, "; the bundled sample data has only %s", list)
	}
	return b.String()
}

// Unwrap returns ErrNoSuchTicker, ErrNoData or the context's error.
func (e *LoadError) Unwrap() error { return e.Err }

// Transient reports whether err is a load that failed because some
// provider could not answer for now (an error, a timeout, a rate limit, an
// open circuit): a later try may find the data, so the failure is not a
// verdict on the ticker.
func Transient(err error) bool {
	var le *LoadError
	if !errors.As(err, &le) {
		return false
	}
	_, retry := verdict(le.Attempts)
	return retry
}

// verdict is the one rule for what a chain's failed attempts say of the
// ticker, and whether asking again later may say otherwise. Sources fall
// in three groups:
//   - silent: no key configured, or unreachable (its name did not resolve,
//     the connection was refused, its circuit is open after that). It
//     said nothing about the ticker, and offline it will say nothing on
//     the next try either; retrying for it only keeps the user waiting
//     (issue 21: 106 s and 4 attempts for a ticker the sample lacks).
//   - denying: it answered "not found".
//   - failing: it was reached and failed (a timeout, a rate limit, a 5xx,
//     a malformed answer, an open circuit after such failures). It may
//     know the ticker; a later try may find it.
//
// The ticker does not exist (ErrNoSuchTicker, final) when some source
// denied it and none failed. Otherwise there is no data (ErrNoData), worth
// another try when some source failed or could not be reached but none
// denied it.
func verdict(attempts []Attempt) (cause error, retry bool) {
	denied, failed, unreachable := false, false, false
	for _, a := range attempts {
		switch a.Outcome {
		case upstream.OutcomeNotFound:
			denied = true
		case upstream.OutcomeUnreachable:
			unreachable = true
		case upstream.OutcomeError, upstream.OutcomeTimeout, upstream.OutcomeRateLimited, upstream.OutcomeCircuitOpen:
			failed = true
		}
	}
	switch {
	case denied && !failed:
		return ErrNoSuchTicker, false
	case failed:
		return ErrNoData, true
	}
	return ErrNoData, unreachable
}
