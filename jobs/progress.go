package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/augurhq/augur/internal/store"
)

// ProgressDetail says what a running job is doing; it is stored with the job
// and shown live on its page.
type ProgressDetail struct {
	Stage   string  `json:"stage"`
	Message string  `json:"message"`
	Step    int     `json:"step,omitempty"`
	Total   int     `json:"total,omitempty"`
	Loss    float64 `json:"loss,omitempty"`
}

// DefaultProgressEvery is both how long a job runs before its progress is
// first written and the least time between two writes. Models report many
// small steps, and one UPDATE a quarter second is plenty for a human
// watching; a job done sooner than that writes no progress at all, because
// its start and its end, which are written anyway, say all there is to see.
const DefaultProgressEvery = 250 * time.Millisecond

// progressUpdate is one report waiting to be written.
type progressUpdate struct {
	ctx     context.Context
	percent int
	detail  ProgressDetail
}

// progressReporter writes a running job's progress to PostgreSQL and
// announces it, throttled to Worker.ProgressEvery: a report keeps only the latest
// update, and a timer writes it when the time comes, so the last stage a
// job reached is shown even when no report follows it. Each write is the
// attempt's, fenced as every write of an attempt is (store.Attempt). When
// one is refused, because the job is no longer running (the user canceled
// it) or another attempt holds it, the attempt loses its hold, which
// cancels the work even if asynq's cancel message was lost, and no more
// progress is written.
type progressReporter struct {
	db     *store.DB
	events *Events
	logger *slog.Logger
	hold   *hold
	every  time.Duration

	// writing is held by the write in progress, so writes never overlap
	// (an older detail cannot land after a newer one) and stop can wait
	// for the last one.
	writing sync.Mutex

	mu      sync.Mutex
	due     time.Time       // the earliest time of the next write
	pending *progressUpdate // the latest report not yet written
	timer   *time.Timer     // set while a write of pending is scheduled
	stopped bool
}

// newProgressReporter returns the reporter of an attempt that starts now.
func newProgressReporter(w *Worker, h *hold) *progressReporter {
	every := w.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	return &progressReporter{
		db: w.DB, events: w.Events, logger: h.logger, hold: h,
		every: every, due: time.Now().Add(every),
	}
}

// report records the job's progress; it is written when the throttle
// allows, unless a later report replaces it first.
func (r *progressReporter) report(ctx context.Context, percent int, d ProgressDetail) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.pending = &progressUpdate{ctx: ctx, percent: percent, detail: d}
	if r.timer == nil {
		r.timer = time.AfterFunc(time.Until(r.due), r.flush)
	}
}

// stop ends reporting before the job's outcome is written: a scheduled
// write is dropped and one in progress is waited for, so that no progress
// write or event follows the final one.
func (r *progressReporter) stop() {
	r.mu.Lock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.mu.Unlock()
	r.writing.Lock()
	defer r.writing.Unlock()
}

// flush writes the pending update; the timer of report calls it.
func (r *progressReporter) flush() {
	r.writing.Lock()
	defer r.writing.Unlock()
	r.mu.Lock()
	u := r.pending
	r.pending, r.timer = nil, nil
	if r.stopped || u == nil {
		r.mu.Unlock()
		return
	}
	r.due = time.Now().Add(r.every)
	r.mu.Unlock()
	r.write(u)
}

// write stores one update and announces it.
func (r *progressReporter) write(u *progressUpdate) {
	detail, err := json.Marshal(u.detail)
	if err != nil {
		return
	}
	percent := min(max(u.percent, 0), 99)
	err = r.db.SetProgress(u.ctx, r.hold.Attempt, percent, store.JSON(detail))
	switch {
	case r.hold.loseIfRefused(u.ctx, err, "progress"):
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
		return
	case err != nil:
		// Progress is advisory: a failed write must not fail the job, and
		// one that failed because the job's context ended says nothing.
		if u.ctx.Err() == nil {
			r.logger.WarnContext(u.ctx, "write job progress", "err", err)
		}
		return
	}
	if r.events != nil {
		if err := r.events.Publish(u.ctx, r.hold.JobID); err != nil {
			r.logger.WarnContext(u.ctx, "publish job progress", "err", err)
		}
	}
}
