package jobs

import (
	"errors"
	"hash/fnv"
	"math"
	"time"

	"github.com/hibiken/asynq"
)

// RetryDelay is the worker's asynq RetryDelayFunc: how long a failed task
// waits before its next attempt. It is asynq's default backoff, n⁴ + 15 s
// plus up to 30·(n+1) s of jitter after the n-th retry, with two changes:
//   - the jitter comes from the task's payload (its job id) and n, not from
//     a random draw, so the worker that failed the attempt can tell the
//     user when the retry comes (store.Job.RetryAt) and be right;
//   - a task whose worker died or lost Redis (its lease expired) is retried
//     at once: nothing went wrong with the job itself, and asynq's
//     recoverer finds such a task a minute or more late already.
func RetryDelay(retried int, err error, task *asynq.Task) time.Duration {
	if errors.Is(err, asynq.ErrLeaseExpired) {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write(task.Payload())
	_, _ = h.Write([]byte{byte(retried)})
	jitter := int(h.Sum32()%30) * (retried + 1)
	return time.Duration(math.Pow(float64(retried), 4)+15+float64(jitter)) * time.Second
}
