// Package market loads daily price history for a ticker: from live providers
// (Yahoo, Stooq, Alpha Vantage), a CSV folder or the bundled real sample data,
// through a fallback chain and a PostgreSQL cache.
package market

import (
	"context"
	"time"
)

// Bar is one trading day of one ticker.
type Bar struct {
	Date     time.Time `json:"date" db:"date"`
	Open     float64   `json:"open" db:"open"`
	High     float64   `json:"high" db:"high"`
	Low      float64   `json:"low" db:"low"`
	Close    float64   `json:"close" db:"close"`
	AdjClose float64   `json:"adj_close" db:"adj_close"`
	Volume   int64     `json:"volume" db:"volume"`
}

// Provider is one source of daily price history.
type Provider interface {
	// Name is the short source name used in PRICE_SOURCES and in results.
	Name() string
	// History returns the ticker's daily bars, oldest first, on or after
	// since (the zero time means all the history the provider has). The
	// bars may be shared (the bundled sample's are): callers must not
	// modify them.
	History(ctx context.Context, ticker string, since time.Time) ([]Bar, error)
}

// Attempt records one provider call made while loading a series.
type Attempt struct {
	Source string `json:"source"`
	// Outcome is upstream.OutcomeOf the provider's error (ok, no_key,
	// not_found, error, timeout, rate_limited, unreachable, circuit_open),
	// or OutcomeCached.
	Outcome string `json:"outcome"`
	// Reason is for users: upstream.Cause of a failure, never the error's
	// text (the log has that), or what a success delivered.
	Reason    string  `json:"reason,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
}

// OutcomeCached is the outcome of an attempt served from the price cache.
const OutcomeCached = "cached"

// Series is a ticker's price history with where it came from. Its Bars and
// Attempts are shared with every other caller of the load that produced
// it, and with the sample provider's parsed data: read them, never modify
// them.
type Series struct {
	Ticker string `json:"ticker"`
	// Source is the provider that served the bars.
	Source string `json:"source"`
	// Live is false when the bars are the bundled sample data.
	Live     bool      `json:"live"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Bars     []Bar     `json:"-"`
	Attempts []Attempt `json:"attempts"`
}

// Closes returns the closing prices of bars, in their order.
func Closes(bars []Bar) []float64 {
	out := make([]float64, len(bars))
	for i, b := range bars {
		out[i] = b.Close
	}
	return out
}
