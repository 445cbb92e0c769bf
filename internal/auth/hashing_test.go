package auth

import (
	"context"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// heapHighWater samples the bytes of live and unswept heap objects until
// stop is closed, and returns the highest sample.
func heapHighWater(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// TestHashingBoundsMemoryUnderParallelSignIns runs 50 parallel password
// checks at the production cost through a pool sized for a 512 MiB pod and
// measures what the bound promises: never more hashes at once than the
// pool's limit (its own high-water mark), and a heap that stays within a
// small multiple of limit × 64 MiB, where the 50 unbounded would hold
// 3.2 GiB at once.
func TestHashingBoundsMemoryUnderParallelSignIns(t *testing.T) {
	encoded, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	limit := HashConcurrencyFor(512 << 20)
	require.Equal(t, 2, limit)
	h := NewHashing(limit, time.Hour)

	stop := make(chan struct{})
	peakHeap := heapHighWater(stop)
	var wg sync.WaitGroup
	var mismatches atomic.Int64
	for range 50 {
		wg.Go(func() {
			if err := h.VerifyPassword(context.Background(), encoded, "wrong password"); err == ErrMismatch {
				mismatches.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)

	require.EqualValues(t, 50, mismatches.Load(), "every attempt ran, none was refused")
	require.Equal(t, limit, h.Peak(), "the pool ran hashes at its limit, never more")
	// Garbage of finished hashes stays counted until the GC sweeps it;
	// GOGC=100 lets the heap reach twice what is live, so allow 2 × (limit
	// hashes + one finishing) plus 64 MiB of everything else.
	bound := uint64(2*(limit+1))*uint64(HashMemory) + 64<<20
	got := <-peakHeap
	t.Logf("peak heap %d MiB, bound %d MiB, concurrency peak %d", got>>20, bound>>20, h.Peak())
	require.Less(t, got, bound)
}

func TestHashingRefusesAfterTheWait(t *testing.T) {
	h := NewHashing(1, 20*time.Millisecond)
	release, err := h.Acquire(context.Background())
	require.NoError(t, err)
	_, err = h.HashPassword(context.Background(), "whatever it is")
	require.ErrorIs(t, err, ErrBusy)
	require.ErrorIs(t, h.VerifyNobody(context.Background(), "x"), ErrBusy)
	release()
	_, err = h.HashPassword(context.Background(), "whatever it is")
	require.NoError(t, err)
}

func TestHashConcurrencyFor(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		want  int
	}{
		{0, 2}, {1 << 62, 64}, {9223372036854775807, 2}, {128 << 20, 1}, {512 << 20, 2}, {2 << 30, 8},
	} {
		require.Equal(t, tc.want, HashConcurrencyFor(tc.limit), "memory limit %d", tc.limit)
	}
}
