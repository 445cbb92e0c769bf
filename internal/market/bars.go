package market

import (
	"math"
	"slices"
	"strings"
	"time"
)

// day returns the calendar date of t as midnight UTC, the one form of Bar.Date
// every provider and the cache agree on.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// parseDay reads an ISO date (YYYY-MM-DD).
func parseDay(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// validPrice rejects what would poison the models: NaN, ±Inf, zero and
// negative prices (log returns need positive ones).
func validPrice(p float64) bool {
	return p > 0 && !math.IsInf(p, 1)
}

// complete fills the fields a source did not give from the close, so a
// close-only series still has sensible OHLC.
func complete(b Bar) Bar {
	if !validPrice(b.Open) {
		b.Open = b.Close
	}
	if !validPrice(b.High) {
		b.High = max(b.Open, b.Close)
	}
	if !validPrice(b.Low) {
		b.Low = min(b.Open, b.Close)
	}
	if !validPrice(b.AdjClose) {
		b.AdjClose = b.Close
	}
	if b.Volume < 0 {
		b.Volume = 0
	}
	return b
}

// tidy sorts bars oldest first, keeps the last of several bars for one date
// (a live session's bar is repeated with a later timestamp) and drops bars
// before since.
func tidy(bars []Bar, since time.Time) []Bar {
	slices.SortStableFunc(bars, func(a, b Bar) int { return a.Date.Compare(b.Date) })
	out := bars[:0]
	for _, b := range bars {
		if b.Date.Before(since) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Date.Equal(b.Date) {
			out[n-1] = b
			continue
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return []Bar{} // empty but not nil: "no bars" is an answer, not a failure
	}
	return slices.Clip(out)
}
