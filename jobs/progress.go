package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

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

// progressEvery throttles progress writes: models report many small steps,
// and one UPDATE a quarter second is plenty for a human watching.
const progressEvery = 250 * time.Millisecond

// progressReporter writes a running job's progress to PostgreSQL and
// announces it. When the job turns out to be no longer running (the user
// canceled it) it cancels the job's context, so the work stops even if
// asynq's cancel message was lost.
type progressReporter struct {
	db     *store.DB
	events *Events
	logger *slog.Logger
	id     uuid.UUID
	cancel context.CancelFunc

	mu        sync.Mutex
	lastWrite time.Time
	lastStage string
}

func (r *progressReporter) report(ctx context.Context, percent int, d ProgressDetail) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if d.Stage == r.lastStage && now.Sub(r.lastWrite) < progressEvery {
		return
	}
	r.lastWrite, r.lastStage = now, d.Stage
	detail, err := json.Marshal(d)
	if err != nil {
		return
	}
	percent = min(max(percent, 0), 99)
	err = r.db.SetProgress(ctx, r.id, percent, store.JSON(detail))
	switch {
	case errors.Is(err, store.ErrJobFinished):
		r.cancel()
		return
	case err != nil:
		// Progress is advisory: a failed write must not fail the job.
		r.logger.WarnContext(ctx, "write job progress", "job_id", r.id, "err", err)
		return
	}
	if r.events != nil {
		if err := r.events.Publish(ctx, r.id); err != nil {
			r.logger.WarnContext(ctx, "publish job progress", "job_id", r.id, "err", err)
		}
	}
}
