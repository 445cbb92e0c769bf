package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestNoMoreThanNInAnyWindow: a spent limit stays spent until the first
// event leaves the window. A GCRA such as redis_rate's "3 per 2 s" would
// let one more through every 667 ms after the burst, and so more than 3
// within the window.
func TestNoMoreThanNInAnyWindow(t *testing.T) {
	ctx := context.Background()
	l := New(dbtest.Redis(t))
	lim := Limit{N: 3, Window: 2 * time.Second}
	for i := range 3 {
		r, err := l.Allow(ctx, "k", lim)
		require.NoError(t, err)
		require.True(t, r.Allowed, "event %d", i)
		require.Equal(t, 2-i, r.Remaining)
	}
	r, err := l.Allow(ctx, "k", lim)
	require.NoError(t, err)
	require.False(t, r.Allowed)
	require.Positive(t, r.RetryAfter)
	require.LessOrEqual(t, r.RetryAfter, lim.Window)

	// Half the window later the three still count, where a GCRA would
	// have refilled half its burst.
	time.Sleep(lim.Window / 2)
	r, err = l.Allow(ctx, "k", lim)
	require.NoError(t, err)
	require.False(t, r.Allowed, "4 events within one window")

	// Once the oldest has left, exactly that many more are allowed.
	time.Sleep(r.RetryAfter + 10*time.Millisecond)
	r, err = l.Allow(ctx, "k", lim)
	require.NoError(t, err)
	require.True(t, r.Allowed, "the window moved on")

	other, err := l.Allow(ctx, "other", lim)
	require.NoError(t, err)
	require.True(t, other.Allowed, "keys are counted apart")
}

// TestConcurrentEventsAreCountedExactly: the check and the count are one
// script, so parallel callers cannot both take the last place.
func TestConcurrentEventsAreCountedExactly(t *testing.T) {
	ctx := context.Background()
	rdb := dbtest.Redis(t)
	l := New(rdb)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r, err := l.Allow(ctx, "burst", PerMinute(20))
			if err == nil && r.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 20, allowed)
	ttl, err := rdb.PTTL(ctx, "burst").Result()
	require.NoError(t, err)
	require.Positive(t, ttl, "the key expires with its window")
	require.LessOrEqual(t, ttl, time.Minute)
}
