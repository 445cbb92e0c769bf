package upstream

import "errors"

// Errors a caller wraps for failures it recognises itself, in an answer
// the client took for a success or before any request, so that OutcomeOf
// reports them like the client's own.
var (
	// ErrNoKey means the source needs an API key that is not configured;
	// the caller returns it without a request.
	ErrNoKey = errors.New("no API key configured")
	// ErrNotFound means the source answered and does not know the ticker.
	ErrNotFound = errors.New("no such ticker")
	// ErrRateLimited means the source refused because of a quota but said
	// so in a 200 body or with a status other than 429 (a used-up daily
	// quota), which the client cannot recognise on its own.
	ErrRateLimited = errors.New("rate limited")
)

// Outcomes of one call to a source, as job results report them per source.
// Price attempts and news sources share them, so one failure reads the same
// in both.
const (
	OutcomeOK          = "ok"
	OutcomeNoKey       = "no_key"
	OutcomeNotFound    = "not_found"
	OutcomeRateLimited = "rate_limited"
	OutcomeTimeout     = "timeout"
	OutcomeCircuitOpen = "circuit_open"
	OutcomeError       = "error"
)

// OutcomeOf maps the error of one call to a source to its outcome: nil is
// ok, the sentinels above and the client's Kinds have their own outcomes,
// and anything else (a 4xx, a malformed body, a network error) is error.
func OutcomeOf(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrNoKey):
		return OutcomeNoKey
	case errors.Is(err, ErrNotFound):
		return OutcomeNotFound
	case errors.Is(err, ErrRateLimited):
		return OutcomeRateLimited
	}
	switch KindOf(err) {
	case KindTimeout:
		return OutcomeTimeout
	case KindRateLimited:
		return OutcomeRateLimited
	case KindCircuitOpen:
		return OutcomeCircuitOpen
	}
	return OutcomeError
}
