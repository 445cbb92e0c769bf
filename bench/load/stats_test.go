package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		ds := make([]time.Duration, len(vs))
		for i, v := range vs {
			ds[i] = time.Duration(v) * time.Millisecond
		}
		return ds
	}
	oneToTwenty := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of an even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p95 of 20 is the 19th, not the 20th", oneToTwenty, 95, 19 * time.Millisecond},
		{"p99 of 20 is the largest", oneToTwenty, 99, 20 * time.Millisecond},
		{"p100 is the largest", oneToTwenty, 100, 20 * time.Millisecond},
		{"a tiny p is the smallest", oneToTwenty, 0.1, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, percentile(tc.sorted, tc.p))
		})
	}
}

func TestSummarizeSortsAndCounts(t *testing.T) {
	ds := make([]time.Duration, 0, 1000)
	for i := 1000; i >= 1; i-- { // descending: summarize must sort
		ds = append(ds, time.Duration(i)*time.Microsecond)
	}
	got := summarize(ds)
	require.Equal(t, latencies{n: 1000, p50: 500 * time.Microsecond, p95: 950 * time.Microsecond, p99: 990 * time.Microsecond}, got)
	require.Equal(t, latencies{}, summarize(nil))
}
