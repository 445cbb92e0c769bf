// Package compute shares a process's cores between the models that run in
// it at once.
//
// A worker runs several jobs at once (WORKER_CONCURRENCY, one per core by
// default), and a model may split its work into parts that run on
// goroutines of their own, as the LSTM splits every mini-batch. Alone, a
// model should use every core; beside other models, the extra goroutines
// only oversubscribe the cores, and each join then waits on a part whose
// goroutine was preempted. A Budget counts the threads of computation in
// use, so a model starts a goroutine for a part only while a core is free
// and otherwise runs the part itself.
//
// Which goroutine runs a part never changes what the part computes: a
// model that splits its work must make its parts independent, so that its
// results are the same for every budget.
package compute

import (
	"context"
	"sync"
	"sync/atomic"
)

// Budget is a count of threads of computation, usually one per core
// (runtime.GOMAXPROCS). A nil *Budget is no budget: Hold counts nothing
// and Do runs every part on a goroutine of its own, which suits a process
// that runs one model at a time, such as a command-line backtest or a test.
type Budget struct {
	threads int64
	used    atomic.Int64
	// spawned and inline count the parts Do ran on goroutines of their
	// own and on the calling goroutine, for Stats.
	spawned, inline atomic.Int64
}

// NewBudget returns a budget of threads threads; fewer than 1 means 1.
func NewBudget(threads int) *Budget {
	return &Budget{threads: int64(max(threads, 1))}
}

// Threads returns the budget's size; 0 for no budget.
func (b *Budget) Threads() int {
	if b == nil {
		return 0
	}
	return int(b.threads)
}

// Hold counts the calling goroutine as one thread of the budget until
// release is called, once. A model calls it for the length of its run, so
// that the parts other models would start beside it see the core it
// occupies. Hold never blocks: the caller is running already, and making
// it wait would only delay one job for another. So the threads held may
// exceed the budget for a moment (while parts started before the hold
// finish) or for as long as more goroutines than the budget hold threads;
// Do then runs every part on its caller.
func (b *Budget) Hold() (release func()) {
	if b == nil {
		return func() {}
	}
	b.used.Add(1)
	var once sync.Once
	return func() { once.Do(func() { b.used.Add(-1) }) }
}

// Do runs work(0), …, work(parts-1) and returns when all of them have
// returned. Part 0 runs on the calling goroutine. Each other part runs on
// a goroutine of its own when it can take a free thread of the budget,
// which it gives back when it returns, and otherwise on the calling
// goroutine, in order, after part 0. The parts must not depend on each
// other's progress.
func (b *Budget) Do(parts int, work func(part int)) {
	if parts < 1 {
		return
	}
	var wg sync.WaitGroup
	var mine []int
	for p := 1; p < parts; p++ {
		if !b.take() {
			mine = append(mine, p)
			continue
		}
		wg.Go(func() {
			defer b.give()
			work(p)
		})
	}
	work(0)
	for _, p := range mine {
		work(p)
	}
	wg.Wait()
	if b != nil {
		b.spawned.Add(int64(parts - 1 - len(mine)))
		b.inline.Add(int64(1 + len(mine)))
	}
}

// take takes a free thread if there is one; with no budget there always is.
func (b *Budget) take() bool {
	if b == nil {
		return true
	}
	for {
		used := b.used.Load()
		if used >= b.threads {
			return false
		}
		if b.used.CompareAndSwap(used, used+1) {
			return true
		}
	}
}

// give returns a thread that take took.
func (b *Budget) give() {
	if b != nil {
		b.used.Add(-1)
	}
}

// Stats counts the parts Do has run since the budget was made.
type Stats struct {
	// Goroutine parts ran on a goroutine of their own, on a free thread.
	Goroutine int64
	// Caller parts ran on the goroutine that called Do: every part 0, and
	// the parts that found no free thread.
	Caller int64
}

// Stats returns the budget's counts so far; zero for no budget.
func (b *Budget) Stats() Stats {
	if b == nil {
		return Stats{}
	}
	return Stats{Goroutine: b.spawned.Load(), Caller: b.inline.Load()}
}

// contextKey is the key of the budget a context carries.
type contextKey struct{}

// WithBudget returns a copy of ctx that carries b, so that every model run
// under it shares b. The worker puts its budget into the context of every
// task it runs.
func WithBudget(ctx context.Context, b *Budget) context.Context {
	return context.WithValue(ctx, contextKey{}, b)
}

// FromContext returns the budget ctx carries, or nil (no budget).
func FromContext(ctx context.Context) *Budget {
	b, _ := ctx.Value(contextKey{}).(*Budget)
	return b
}
