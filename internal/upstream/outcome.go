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
	// OutcomeUnreachable is a source that could not be reached at all (its
	// name did not resolve, the connection was refused): it said nothing,
	// not even that something went wrong on its side.
	OutcomeUnreachable = "unreachable"
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
		// Open after the source could not be reached: it still cannot
		// be, as far as anyone knows, and is no more than that.
		var last *lastFailure
		if errors.As(err, &last) && last.failure.Kind == KindUnreachable {
			return OutcomeUnreachable
		}
		return OutcomeCircuitOpen
	case KindUnreachable:
		return OutcomeUnreachable
	}
	return OutcomeError
}

// Cause says what an outcome means to a user, in a few words that carry no
// network text, host, address or key: the error itself, which may hold
// "lookup finviz.com on 10.255.255.53:53", belongs in the logs only. It is
// the one wording of failures in job results and pages.
func Cause(outcome string) string {
	switch outcome {
	case OutcomeOK:
		return "ok"
	case OutcomeNoKey:
		return "no API key configured"
	case OutcomeNotFound:
		return "no such ticker at this source"
	case OutcomeRateLimited:
		return "rate limited by source"
	case OutcomeTimeout:
		return "source timed out"
	case OutcomeUnreachable:
		return "source unreachable"
	case OutcomeCircuitOpen:
		return "source paused after repeated failures"
	}
	return "source answered an error"
}
