package web_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/jobs"
)

// TestUnfinishedJobsAreCapped: past the cap a user's submission is a 429
// with Retry-After; finishing (here, canceling) one makes room, and other
// users are not affected.
func TestUnfinishedJobsAreCapped(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{maxUnfinished: 3})
	var ids []string
	for i := range 3 {
		resp := h.api.Do(http.MethodPost, "/api/v1/sentiment", fmt.Sprintf(`{"texts":["text %d"]}`, i))
		require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
		ids = append(ids, resp.Map(t)["id"].(string))
	}
	refused := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["one more"]}`)
	require.Equal(t, http.StatusTooManyRequests, refused.Status, "%s", refused.Body)
	require.NotEmpty(t, refused.Header.Get("Retry-After"))
	require.Equal(t, "too_many_unfinished", refused.Map(t)["error"].(map[string]any)["code"])

	// A replay of an accepted job is still answered: it adds no work.
	again := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["text 0"]}`, "Idempotency-Key", "k")
	require.Equal(t, http.StatusTooManyRequests, again.Status, "a new key is new work")

	other := h.api.As(dbtest.Token(t, h.db))
	require.Equal(t, http.StatusAccepted, other.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["mine"]}`).Status)

	require.Equal(t, http.StatusOK, h.api.Do(http.MethodPost, "/api/v1/jobs/"+ids[0]+"/cancel", nil).Status)
	require.Equal(t, http.StatusAccepted, h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["room again"]}`).Status)
}

// TestUnfinishedCapHoldsUnderConcurrentSubmits: submissions racing each
// other cannot all slip under the cap.
func TestUnfinishedCapHoldsUnderConcurrentSubmits(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{maxUnfinished: 3})
	statuses := make([]int, 12)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.rawPost(t, "/api/v1/sentiment", fmt.Sprintf(`{"texts":["text %d"]}`, i))
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	require.Equal(t, map[int]int{http.StatusAccepted: 3, http.StatusTooManyRequests: 9}, count)
}

// TestInteractiveQueueIsShared: only a user's first few unfinished jobs go
// to the critical queue; the rest of a burst waits on default, so another
// user's interactive job is not stuck behind it.
func TestInteractiveQueueIsShared(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{interactivePerUser: 2})
	var queues []string
	for i := range 4 {
		resp := h.api.Do(http.MethodPost, "/api/v1/sentiment", fmt.Sprintf(`{"texts":["burst %d"]}`, i))
		require.Equal(t, http.StatusAccepted, resp.Status)
		job := resp.Map(t)
		queues = append(queues, job["queue"].(string))
		_, err := h.queue.Task(job["queue"].(string), uuid.MustParse(job["id"].(string)))
		require.NoError(t, err, "the task is on the queue the job names")
	}
	require.Equal(t, []string{"critical", "critical", "default", "default"}, queues)

	other := h.api.As(dbtest.Token(t, h.db))
	resp := other.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["just one"]}`)
	require.Equal(t, "critical", resp.Map(t)["queue"])

	// Batch work stays where it was asked to go.
	low := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["later"],"priority":"batch"}`)
	require.Equal(t, "low", low.Map(t)["queue"])
}

// TestRateLimitCountsOnlyNewJobs: invalid requests and idempotent replays
// do not use up the per-minute limit.
func TestRateLimitCountsOnlyNewJobs(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{submitPerMinute: 2})
	for range 5 {
		require.Equal(t, http.StatusUnprocessableEntity, h.api.Do(http.MethodPost, "/api/v1/predictions", `{"ticker":"MS FT"}`).Status)
		require.Equal(t, http.StatusUnsupportedMediaType, h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["x"]}`, "Content-Type", "text/plain").Status)
	}
	first := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["one"]}`, "Idempotency-Key", "one")
	require.Equal(t, http.StatusAccepted, first.Status, "%s", first.Body)
	for range 5 {
		replay := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["one"]}`, "Idempotency-Key", "one")
		require.Equal(t, http.StatusAccepted, replay.Status, "%s", replay.Body)
		require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))
	}
	require.Equal(t, http.StatusAccepted, h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["two"]}`).Status)
	limited := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["three"]}`)
	require.Equal(t, http.StatusTooManyRequests, limited.Status)
	require.Equal(t, "rate_limited", limited.Map(t)["error"].(map[string]any)["code"])
	require.NotEmpty(t, limited.Header.Get("Retry-After"))
}

// TestRateLimiterWithoutRedisLetsSubmissionsThrough: the limiter fails
// open while Redis is down; the unfinished-jobs cap (PostgreSQL) still
// holds.
func TestRateLimiterWithoutRedisLetsSubmissionsThrough(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{submitPerMinute: 1, maxUnfinished: 2})
	dbtest.StopRedis(t)
	for i := range 2 {
		resp := h.api.Do(http.MethodPost, "/api/v1/sentiment", fmt.Sprintf(`{"texts":["text %d"]}`, i))
		require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	}
	capped := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["third"]}`)
	require.Equal(t, http.StatusTooManyRequests, capped.Status)
	require.Equal(t, "too_many_unfinished", capped.Map(t)["error"].(map[string]any)["code"])
}

// TestAJobWaitingForItsTurnIsQueued: past the user's share of the line
// (here one job, and no worker slots to fill) a job is held in
// PostgreSQL: queued to its user, marked waiting_for_turn, with no task in
// Redis; it is canceled like any other.
func TestAJobWaitingForItsTurnIsQueued(t *testing.T) {
	h := newHarnessWith(t, harnessOptions{dispatchedPerUser: 1})
	first := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["first"]}`)
	require.Equal(t, http.StatusAccepted, first.Status, "%s", first.Body)
	require.Nil(t, first.Map(t)["waiting_for_turn"])
	_, err := h.queue.Task("critical", uuid.MustParse(first.Map(t)["id"].(string)))
	require.NoError(t, err, "the user's first job is in Redis")

	second := h.api.Do(http.MethodPost, "/api/v1/sentiment", `{"texts":["second"]}`)
	require.Equal(t, http.StatusAccepted, second.Status, "%s", second.Body)
	job := second.Map(t)
	require.Equal(t, "queued", job["status"])
	require.Equal(t, true, job["waiting_for_turn"])
	id := job["id"].(string)
	_, err = h.queue.Task(job["queue"].(string), uuid.MustParse(id))
	require.ErrorIs(t, err, jobs.ErrNoTask, "a held job has no task")

	got := h.api.Do(http.MethodGet, "/api/v1/jobs/"+id, nil)
	require.Equal(t, http.StatusOK, got.Status)
	require.Equal(t, true, got.Map(t)["waiting_for_turn"])
	require.Equal(t, "queued", got.Map(t)["status"])

	canceled := h.api.Do(http.MethodPost, "/api/v1/jobs/"+id+"/cancel", nil)
	require.Equal(t, http.StatusOK, canceled.Status, "%s", canceled.Body)
	require.Equal(t, "canceled", canceled.Map(t)["status"])
	require.Nil(t, canceled.Map(t)["waiting_for_turn"])
}
