package market

import (
	"context"
	"time"
)

// sharedLoadTimeout bounds a load that outlived every caller waiting for
// it: long enough for the whole chain with retries and the lock wait.
const sharedLoadTimeout = 2 * time.Minute

// flight is one load shared by every caller that asked for the ticker while
// it ran. Unlike singleflight it counts its callers, so that it is canceled
// when the last one gives up instead of running on for nobody.
type flight struct {
	done    chan struct{}
	series  *Series
	err     error
	cancel  context.CancelFunc
	waiters int
}

// join attaches the caller to the ticker's running load, starting one if
// there is none.
func (l *Loader) join(ctx context.Context, t string) *flight {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.flights[t]; ok {
		f.waiters++
		return f
	}
	// The load outlives the caller that started it if others join, so it
	// keeps ctx's values but not its cancellation.
	shared, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedLoadTimeout)
	f := &flight{done: make(chan struct{}), cancel: cancel, waiters: 1}
	l.flights[t] = f
	go func() {
		defer cancel()
		s, err := l.load(shared, t)
		l.mu.Lock()
		if l.flights[t] == f {
			delete(l.flights, t)
		}
		l.mu.Unlock()
		f.series, f.err = s, err
		close(f.done)
	}()
	return f
}

// leave detaches a caller that gave up; the last one out cancels the load
// and forgets it, so a later caller starts afresh rather than joining a
// canceled load.
func (l *Loader) leave(t string, f *flight) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.cancel()
	if l.flights[t] == f {
		delete(l.flights, t)
	}
}

// view gives each caller sharing one load a Series of its own over the
// same bars and attempts, whose capacity ends with them, so that an
// append copies instead of writing where another caller reads.
func (s *Series) view() *Series {
	c := *s
	c.Bars = s.Bars[:len(s.Bars):len(s.Bars)]
	c.Attempts = s.Attempts[:len(s.Attempts):len(s.Attempts)]
	return &c
}
