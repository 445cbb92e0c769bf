// Package compute shares a process's cores between the models that run in
// it at once.
//
// A worker runs several jobs at once (WORKER_CONCURRENCY, one per core by
// default), and a model may split its work into parts that run on
// goroutines of their own, as the LSTM splits every mini-batch. Alone, a
// model should use every core; beside other models, the extra goroutines
// only oversubscribe the cores, and each join then waits on a part whose
// goroutine was preempted. A Budget counts the threads of computation in
// use, so a model spreads its parts over goroutines only while a core is
// free, and otherwise runs them one after another itself.
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
// and Do always spreads its parts over goroutines, which suits a process
// that runs one model at a time, such as a command-line backtest or a test.
type Budget struct {
	threads int64
	used    atomic.Int64
	// parallel and serial count the calls of Do that found free threads
	// and that found none, for Stats.
	parallel, serial atomic.Int64
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
// returned. It takes as many free threads of the budget as it can use, up
// to parts-1. With none, it runs the parts one after another on the
// calling goroutine. With k, it spreads the parts over k+1 goroutines, one
// on the caller's thread and each other on a thread it took and gives back
// when its parts are done, and the caller waits: it could run a part
// itself, but a goroutine started beside a running one waits a few
// microseconds before another core may take it, which with LSTM batch
// parts of a few hundred microseconds cost a lone run 10%. The parts must
// not depend on each other's progress.
func (b *Budget) Do(parts int, work func(part int)) {
	if parts < 1 {
		return
	}
	extra := 0
	for extra < parts-1 && b.take() {
		extra++
	}
	if b != nil && parts > 1 {
		if extra > 0 {
			b.parallel.Add(1)
		} else {
			b.serial.Add(1)
		}
	}
	if extra == 0 {
		for p := range parts {
			work(p)
		}
		return
	}
	goroutines := extra + 1
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			if g > 0 {
				defer b.give()
			}
			for p := g; p < parts; p += goroutines {
				work(p)
			}
		})
	}
	wg.Wait()
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

// Stats counts the calls of Do with two parts or more since the budget
// was made.
type Stats struct {
	// Parallel calls took a free thread and ran their parts at once.
	Parallel int64
	// Serial calls found no free thread, every core being held by other
	// models, and ran their parts one after another on the caller.
	Serial int64
}

// Stats returns the budget's counts so far; zero for no budget.
func (b *Budget) Stats() Stats {
	if b == nil {
		return Stats{}
	}
	return Stats{Parallel: b.parallel.Load(), Serial: b.serial.Load()}
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
