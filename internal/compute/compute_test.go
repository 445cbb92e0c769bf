package compute_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/compute"
)

func TestDoRunsEveryPartOnce(t *testing.T) {
	for _, b := range []*compute.Budget{nil, compute.NewBudget(1), compute.NewBudget(2), compute.NewBudget(8)} {
		for parts := range 6 {
			t.Run(fmt.Sprintf("threads%d/parts%d", b.Threads(), parts), func(t *testing.T) {
				release := b.Hold()
				defer release()
				runs := make([]atomic.Int32, parts)
				b.Do(parts, func(p int) { runs[p].Add(1) })
				for p := range runs {
					require.Equal(t, int32(1), runs[p].Load(), "part %d", p)
				}
			})
		}
	}
}

// The parts running at once, callers' included, never outnumber the
// budget's threads while every caller holds one.
func TestDoKeepsWithinTheBudget(t *testing.T) {
	for _, tc := range []struct{ threads, callers int }{
		{1, 1}, {2, 1}, {2, 2}, {3, 2}, {4, 4},
	} {
		t.Run(fmt.Sprintf("threads%d/callers%d", tc.threads, tc.callers), func(t *testing.T) {
			b := compute.NewBudget(tc.threads)
			var active, peak atomic.Int32
			part := func(int) {
				now := active.Add(1)
				for {
					old := peak.Load()
					if now <= old || peak.CompareAndSwap(old, now) {
						break
					}
				}
				// Long enough for parts started on other goroutines
				// to overlap this one if the budget let them.
				time.Sleep(20 * time.Microsecond)
				active.Add(-1)
			}
			var held, done sync.WaitGroup
			held.Add(tc.callers)
			done.Add(tc.callers)
			var callers sync.WaitGroup
			for range tc.callers {
				callers.Go(func() {
					release := b.Hold()
					held.Done()
					held.Wait()
					for range 50 {
						b.Do(4, part)
					}
					done.Done()
					done.Wait()
					release()
				})
			}
			callers.Wait()
			require.LessOrEqual(t, peak.Load(), int32(tc.threads))
			stats := b.Stats()
			require.Equal(t, int64(tc.callers*50), stats.Parallel+stats.Serial)
			if tc.callers == tc.threads {
				require.Zero(t, stats.Parallel, "every thread was held, so no call could spread its parts")
			}
		})
	}
}

// With a thread free, the parts run at once: each waits for the other to
// start, which on one goroutine would never happen.
func TestDoUsesFreeThreads(t *testing.T) {
	for _, b := range []*compute.Budget{nil, compute.NewBudget(2), compute.NewBudget(3)} {
		t.Run(fmt.Sprintf("threads%d", b.Threads()), func(t *testing.T) {
			release := b.Hold()
			defer release()
			var started sync.WaitGroup
			started.Add(2)
			together := make(chan struct{})
			go func() {
				started.Wait()
				close(together)
			}()
			var alone atomic.Int32
			b.Do(2, func(int) {
				started.Done()
				select {
				case <-together:
				case <-time.After(10 * time.Second):
					alone.Add(1)
				}
			})
			require.Zero(t, alone.Load(), "the two parts did not run at once")
			if b != nil {
				require.Equal(t, compute.Stats{Parallel: 1}, b.Stats())
			}
		})
	}
}

func TestReleaseCountsOnce(t *testing.T) {
	b := compute.NewBudget(1)
	release := b.Hold()
	release()
	release()
	defer b.Hold()()
	b.Do(2, func(int) {})
	require.Equal(t, compute.Stats{Serial: 1}, b.Stats(), "a second release freed a thread that was held")
}

func TestNewBudgetHasAThreadAtLeast(t *testing.T) {
	require.Equal(t, 1, compute.NewBudget(0).Threads())
	require.Equal(t, 1, compute.NewBudget(-3).Threads())
	require.Equal(t, 5, compute.NewBudget(5).Threads())
}

func TestContextCarriesTheBudget(t *testing.T) {
	require.Nil(t, compute.FromContext(context.Background()))
	b := compute.NewBudget(2)
	require.Same(t, b, compute.FromContext(compute.WithBudget(context.Background(), b)))
}
