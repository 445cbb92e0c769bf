package kernel

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
)

// PollAfter is how many seconds a client polling a live job should wait:
// one, or until a retry that is due later, capped at ten so that a retry
// an operator runs early (the admin queue panel's "run now") is seen soon.
func PollAfter(j *store.Job, now time.Time) int {
	if !j.WaitsForRetry() {
		return 1
	}
	wait := int(math.Ceil(j.RetryAt.Sub(now).Seconds()))
	return min(max(wait, 1), 10)
}

// CancelJob cancels the owner's job, withdraws its task and tells the job's
// watchers, for the API and the job page.
func (k *Kernel) CancelJob(ctx context.Context, id uuid.UUID, ownerID int64) (*store.Job, error) {
	job, previous, err := k.DB.CancelJob(ctx, id, ownerID)
	if err != nil {
		return nil, err
	}
	if err := k.Queue.Cancel(job, previous); err != nil {
		k.Logger.WarnContext(ctx, "withdraw canceled job's task", "job_id", job.ID, "err", err)
	}
	k.publish(ctx, job.ID)
	return job, nil
}

// CancelBatch cancels every unfinished job of the owner's batch, as
// CancelJob does one.
func (k *Kernel) CancelBatch(ctx context.Context, id uuid.UUID, ownerID int64) error {
	canceled, err := k.DB.CancelBatch(ctx, id, ownerID)
	if err != nil {
		return err
	}
	for _, c := range canceled {
		// A held job has no task to withdraw.
		if c.Job.DispatchedAt != nil {
			if err := k.Queue.Cancel(c.Job, c.Previous); err != nil {
				k.Logger.WarnContext(ctx, "withdraw canceled job's task", "job_id", c.Job.ID, "err", err)
			}
		}
		k.publish(ctx, c.Job.ID)
	}
	return nil
}

func (k *Kernel) publish(ctx context.Context, id uuid.UUID) {
	ctx, cancel := context.WithTimeout(ctx, RedisCallTimeout)
	defer cancel()
	if err := k.Events.Publish(ctx, id); err != nil {
		k.Logger.WarnContext(ctx, "publish job event", "job_id", id, "err", err)
	}
}
