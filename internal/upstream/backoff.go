package upstream

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff returns the sleep before retry number attempt+1: uniform in
// [0, min(limit, base·2^attempt)] ("full jitter"), which spreads out
// clients that failed at the same moment better than a fixed or equal-jitter
// delay. Retries of things other than requests (a worker's final write to
// PostgreSQL) use it too, so every retry in Augur backs off the same way.
func Backoff(base, limit time.Duration, attempt int) time.Duration {
	ceiling := limit
	// Comparing against limit>>attempt instead of computing base<<attempt
	// first keeps a large attempt from overflowing into a small ceiling.
	if attempt < 63 && base <= limit>>attempt {
		ceiling = base << attempt
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads a Retry-After header, which RFC 9110 allows as
// delay-seconds or an HTTP date. Anything unreadable or in the past is 0,
// meaning "use the normal backoff".
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(math.MaxInt64/time.Second) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil {
		if d := at.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Sleep waits for d or until ctx is done, whichever comes first, and
// returns ctx's error in the second case. Callers that poll or back off on
// their own (the price loader waiting for another replica) use it too.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
