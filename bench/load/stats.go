package main

import (
	"slices"
	"time"
)

// latencies summarises a set of per-operation durations.
type latencies struct {
	n             int
	p50, p95, p99 time.Duration
}

// summarize sorts ds in place and returns its percentiles. An empty set
// gives the zero summary, which the table prints as "–".
func summarize(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	slices.Sort(ds)
	return latencies{
		n:   len(ds),
		p50: percentile(ds, 50),
		p95: percentile(ds, 95),
		p99: percentile(ds, 99),
	}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It never interpolates, so the answer is always a
// duration that was measured.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// rank = ceil(p/100 × n), computed in integers to avoid float error
	// at exact ranks (95% of 20 is rank 19, not 19.000000000000004 → 20).
	n := len(sorted)
	rank := int((int64(p*1000)*int64(n) + 100000 - 1) / 100000)
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}
