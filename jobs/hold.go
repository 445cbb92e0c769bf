package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/augurhq/augur/internal/store"
)

// errLeaseLapsed ends an attempt whose heartbeats did not reach PostgreSQL
// for a whole lease. It is transient: nothing is wrong with the job, and
// asynq retries it.
var errLeaseLapsed = errors.New("the attempt's lease lapsed without a renewal (PostgreSQL did not answer its heartbeats); the work was stopped so that no other attempt runs beside it")

// leaseMargin: a worker whose heartbeats have not reached PostgreSQL
// stops its attempt's work a leaseMargin-th of the lease before the lease
// can lapse (see hold).
const leaseMargin = 10

// hold is an attempt's hold on its job, as the worker running the attempt
// sees it. PostgreSQL keeps the real one (the lease, and the fence of every
// write, see store.Attempt); the worker loses its view of it in two ways,
// and either cancels the attempt's work:
//   - a write of the attempt is refused: the job ended (canceled, say;
//     store.ErrJobFinished), or another attempt took it after this one's
//     lease lapsed (store.ErrNotHeld: the attempt is stale);
//   - no heartbeat reached PostgreSQL for (nearly) a whole lease
//     (errLeaseLapsed). PostgreSQL cannot be told, so the worker stops by
//     itself: the lease it renewed last ends, by the database's clock, no
//     earlier than one lease after the renewal was sent, and the worker
//     stops a tenth of a lease before that (leaseMargin), which leaves the
//     work time to notice and clocks room to differ in pace, so it stops
//     before any other attempt can start. Without this a worker cut off
//     from PostgreSQL (by a partition that keeps its connections open)
//     would compute on beside the attempt that took its job over, its
//     writes refused only once the network healed.
type hold struct {
	store.Attempt
	w      *Worker
	logger *slog.Logger
	cancel context.CancelFunc // ends the attempt's work

	mu    sync.Mutex
	why   error // the first way the hold was lost; nil while held
	stale bool  // a write was refused with store.ErrNotHeld (logged once)
}

// lose records that the hold was lost for why, the refusal of the named
// write or errLeaseLapsed, and cancels the attempt's work. The first
// refusal with store.ErrNotHeld is logged as a stale attempt's and
// counted.
func (h *hold) lose(ctx context.Context, why error, write string) {
	h.mu.Lock()
	first := h.why == nil
	if first {
		h.why = why
	}
	logStale := errors.Is(why, store.ErrNotHeld) && !h.stale
	if logStale {
		h.stale = true
	}
	h.mu.Unlock()
	if first {
		defer h.cancel()
	}
	switch {
	case logStale:
		attrs := []any{"worker", h.Worker, "write", write, "err", why}
		var refused *store.NotHeldError
		if errors.As(why, &refused) {
			attrs = append(attrs, "job_status", refused.Status,
				"holder_attempt", refused.Holder.Number, "holder_worker", refused.Holder.Worker)
		}
		h.logger.WarnContext(ctx, fmt.Sprintf("stale attempt %d refused", h.Number), attrs...)
		h.w.Metrics.lost("stale")
	case first && errors.Is(why, errLeaseLapsed):
		// Said when decided, not when the work returns: a write the work
		// is waiting for (cached weights, say) may be held up by the same
		// partition for long. Nothing of the attempt's can land once
		// another attempt holds the job.
		h.logger.WarnContext(ctx, "job attempt lost its lease: no heartbeat reached PostgreSQL; stopping its work",
			"worker", h.Worker, "lease", h.w.Lease)
		h.w.Metrics.lost("lease_lapsed")
	}
}

// lost returns why the hold was lost, or nil while it holds.
func (h *hold) lost() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.why
}

// isStale reports whether a write of the attempt was refused because it
// no longer holds the job.
func (h *hold) isStale() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stale
}

// loseIfRefused reports whether err is a refusal of the attempt's write (the
// job ended, or another attempt holds it), and if so loses the hold.
func (h *hold) loseIfRefused(ctx context.Context, err error, write string) bool {
	if !errors.Is(err, store.ErrNotHeld) && !errors.Is(err, store.ErrJobFinished) {
		return false
	}
	h.lose(ctx, err, write)
	return true
}

// heartbeat renews the attempt's hold on the job every third of the lease
// until the returned stop is called, and loses the hold when a renewal is
// refused, or when none has reached PostgreSQL for a whole lease. began is
// when StartJob was sent: the first lease runs from then. A failed renewal
// (PostgreSQL unreachable) is only logged: the lease leaves room for two
// more tries.
func (w *Worker) heartbeat(ctx context.Context, h *hold, began time.Time) (stop func()) {
	// The hold must outlast the work's context: the final write, retried
	// through an outage, still needs it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// Measured from the moment a renewal was sent, by this process's
	// clock: PostgreSQL set the lease's end later than that, so the
	// attempt stops before the lease can lapse there.
	within := w.Lease - w.Lease/leaseMargin
	lapse := time.AfterFunc(time.Until(began.Add(within)), func() { h.lose(ctx, errLeaseLapsed, "") })
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(w.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			sent := time.Now()
			err := w.DB.Heartbeat(ctx, h.Attempt, w.Lease)
			switch {
			case err == nil:
				if h.lost() == nil {
					lapse.Reset(time.Until(sent.Add(within)))
				}
			case h.loseIfRefused(ctx, err, "heartbeat"):
				return
			case ctx.Err() == nil:
				h.logger.WarnContext(ctx, "job heartbeat failed; trying again at the next beat", "err", err)
			}
		}
	}()
	return func() {
		lapse.Stop()
		cancel()
		<-done
	}
}
