package upstream

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackoffStaysWithinItsCeiling(t *testing.T) {
	const base, limit = 100 * time.Millisecond, 2 * time.Second
	tests := []struct {
		attempt     int
		wantCeiling time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 200 * time.Millisecond},
		{3, 800 * time.Millisecond},
		{5, limit},
		{40, limit}, // base<<40 wraps around int64
		{63, limit}, // past any shift
		{1000, limit},
	}
	for _, tt := range tests {
		var largest time.Duration
		for range 2000 {
			d := Backoff(base, limit, tt.attempt)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, tt.wantCeiling, "attempt %d", tt.attempt)
			largest = max(largest, d)
		}
		// Full jitter spreads over the whole range; 2000 uniform draws all
		// landing in the lower half has probability 2^-2000.
		require.Greater(t, largest, tt.wantCeiling/2, "attempt %d", tt.attempt)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 11, 21, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{"Fri, 21 Nov 2025 15:00:30 GMT", 30 * time.Second},
		{"Friday, 21-Nov-25 15:01:00 GMT", time.Minute},
		{"Fri Nov 21 15:00:10 2025", 10 * time.Second},
		{"Fri, 21 Nov 2025 14:00:00 GMT", 0}, // in the past
		{"99999999999999999999", 0},          // not an int64
		{"9223372036854775807", time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			require.Equal(t, tt.want, parseRetryAfter(tt.value, now))
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"1", "120", "Fri, 21 Nov 2025 15:00:30 GMT", "", "-1", "9223372036854775807"} {
		f.Add(seed)
	}
	now := time.Date(2025, 11, 21, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string) {
		if d := parseRetryAfter(value, now); d < 0 {
			t.Fatalf("negative wait %v for %q", d, value)
		}
	})
}

func TestSleepWakesOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	require.NoError(t, Sleep(context.Background(), time.Microsecond))
}
