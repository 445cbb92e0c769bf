package jobs_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/jobs"
)

func TestATaskWhoseWorkerDiedIsRetriedAtOnce(t *testing.T) {
	task := asynq.NewTask(jobs.TypePrediction, []byte(`{"job_id":"0190a1c2-0000-7000-8000-000000000001"}`))
	require.Zero(t, jobs.RetryDelay(0, fmt.Errorf("recoverer: %w", asynq.ErrLeaseExpired), task))
}

func TestRetryDelayBacksOffAsAsynqDoesAndCanBeToldAhead(t *testing.T) {
	failure := errors.New("connection reset by peer")
	seen := map[time.Duration]bool{}
	for i := range 50 {
		task := asynq.NewTask(jobs.TypePrediction, fmt.Appendf(nil, `{"job_id":"0190a1c2-0000-7000-8000-%012d"}`, i))
		for n := range jobs.MaxRetry {
			d := jobs.RetryDelay(n, failure, task)
			// asynq's default envelope: n⁴ + 15 s, plus under 30·(n+1) s.
			base := time.Duration(n*n*n*n+15) * time.Second
			require.GreaterOrEqual(t, d, base)
			require.Less(t, d, base+time.Duration(30*(n+1))*time.Second)
			// The worker that failed the attempt computes the same delay
			// asynq will wait.
			require.Equal(t, d, jobs.RetryDelay(n, failure, task))
			if n == 0 {
				seen[d] = true
			}
		}
	}
	// Jobs failing together do not all come back at the same moment.
	require.Greater(t, len(seen), 10)
}
