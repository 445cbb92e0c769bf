package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// ErrBusy means every password-hashing slot stayed taken for the whole
// wait: the caller answers 503 with Retry-After, and nothing was checked
// or changed.
var ErrBusy = errors.New("password hashing is at capacity; retry shortly")

// HashMemory is the memory one password hash at the production cost holds
// while it runs (argon2id's m parameter, in bytes), the unit the pool is
// sized in.
var HashMemory = int64(productionCost.memory) * 1024

// defaultHashConcurrency is the pool size without a memory limit to size
// it from: 2 × 64 MiB fits beside the rest of web in the smallest pod
// Augur is deployed in (512 MiB).
const defaultHashConcurrency = 2

// HashConcurrencyFor is the number of password hashes that may run at once
// in a process whose memory limit (GOMEMLIMIT, as debug.SetMemoryLimit(-1)
// reports it) is memLimit bytes: hashing may take a quarter of the limit,
// at least one hash. Without a limit (math.MaxInt64) it is 2.
func HashConcurrencyFor(memLimit int64) int {
	if memLimit <= 0 || memLimit == math.MaxInt64 {
		return defaultHashConcurrency
	}
	return int(max(1, min(memLimit/4/HashMemory, 64)))
}

// Hashing runs argon2id for sign-in, registration and password changes
// with at most a fixed number of hashes at once. Each hash holds 64 MiB for
// its run; unbounded, 20 parallel wrong passwords took web to 1.3 GiB. A
// caller past the bound queues for a slot up to the pool's wait, then gets
// ErrBusy. One Hashing serves a whole process.
type Hashing struct {
	slots chan struct{}
	wait  time.Duration
	// running counts the hashes holding a slot; peak is its highest value
	// since the pool was built, the measurement the bound is tested by.
	running, peak atomic.Int64
}

// NewHashing returns a pool of limit slots whose callers wait at most wait
// for one.
func NewHashing(limit int, wait time.Duration) *Hashing {
	return &Hashing{slots: make(chan struct{}, max(1, limit)), wait: wait}
}

// Limit is the number of hashes the pool runs at once.
func (h *Hashing) Limit() int { return cap(h.slots) }

// Peak is the most hashes that ever ran at once in this pool.
func (h *Hashing) Peak() int { return int(h.peak.Load()) }

// Acquire takes a slot, waiting at most the pool's wait (then ErrBusy) or
// until ctx ends. The methods below hash within one; it is exported for
// work that must count against the same bound, and for tests that fill
// the pool.
func (h *Hashing) Acquire(ctx context.Context) (release func(), err error) {
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a password-hashing slot: %w", ctx.Err())
	}
	n := h.running.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return func() {
		h.running.Add(-1)
		<-h.slots
	}, nil
}

// HashPassword is HashPassword within the bound.
func (h *Hashing) HashPassword(ctx context.Context, password string) (string, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password)
}

// VerifyPassword is VerifyPassword within the bound.
func (h *Hashing) VerifyPassword(ctx context.Context, encoded, password string) error {
	release, err := h.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return VerifyPassword(encoded, password)
}

// VerifyNobody is VerifyNobody within the bound: an unknown email costs a
// slot as a known one does, so that the pool's answer tells nothing either.
func (h *Hashing) VerifyNobody(ctx context.Context, password string) error {
	release, err := h.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	VerifyNobody(password)
	return nil
}
