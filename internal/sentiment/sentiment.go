// Package sentiment scores news about a ticker: seven upstream sources walked
// in priority order until enough articles are collected, VADER for the ones
// that give only text, and a per-source report of what happened.
package sentiment

import (
	"time"

	"github.com/augurhq/augur/internal/upstream"
)

// Article is one scored piece of news.
type Article struct {
	Title     string    `json:"title"`
	URL       string    `json:"url,omitempty"`
	Source    string    `json:"source"`
	Published time.Time `json:"published,omitzero"`
	// Score is normalised to [-1, 1].
	Score float64 `json:"score"`
}

// Source statuses reported per upstream: upstream.OutcomeOf a source's
// error under the report's names, and skipped for a source the run never
// reached.
const (
	StatusOK          = upstream.OutcomeOK
	StatusNoKey       = upstream.OutcomeNoKey
	StatusError       = upstream.OutcomeError
	StatusTimeout     = upstream.OutcomeTimeout
	StatusRateLimited = upstream.OutcomeRateLimited
	StatusUnreachable = upstream.OutcomeUnreachable
	StatusCircuitOpen = upstream.OutcomeCircuitOpen
	StatusSkipped     = "skipped"
)

// Degraded reports whether some source failed during the run (an error, a
// timeout, a rate limit, no connection or an open circuit breaker): the report then holds
// what the others said, not what the news says. A source without a key,
// or one the run never reached, is how the chain is set up, not a failure.
func (r *Report) Degraded() bool {
	for _, s := range r.Sources {
		switch s.Status {
		case StatusError, StatusTimeout, StatusRateLimited, StatusUnreachable, StatusCircuitOpen:
			return true
		}
	}
	return false
}

// SourceStatus says what one source did during a run.
type SourceStatus struct {
	Source    string  `json:"source"`
	Status    string  `json:"status"`
	Reason    string  `json:"reason,omitempty"`
	Articles  int     `json:"articles"`
	Cached    bool    `json:"cached,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
}

// Report is the outcome of one sentiment run.
type Report struct {
	Ticker string `json:"ticker,omitempty"`
	Preset string `json:"preset,omitempty"`
	// Polarity is the mean article score, in [-1, 1]; nil (null in JSON)
	// when there was no article to score.
	Polarity *float64 `json:"polarity"`
	// Label is positive, negative or neutral (thresholds ±0.05), or
	// unavailable when Polarity is nil.
	Label    string         `json:"label"`
	Positive int            `json:"positive"`
	Negative int            `json:"negative"`
	Neutral  int            `json:"neutral"`
	Articles []Article      `json:"articles"`
	Sources  []SourceStatus `json:"sources,omitempty"`
}
