package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
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

// contendedAnswer is one answer to a submission in the contention test.
type contendedAnswer struct {
	status     int
	retryAfter string
	code       string
	message    string
}

// submitAll sends n submissions of the harness's user at once, each from
// a client of its own, and returns the answers.
func (h *harness) submitAll(t *testing.T, n int) []contendedAnswer {
	t.Helper()
	answers := make([]contendedAnswer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest(http.MethodPost, h.url+"/api/v1/predictions",
				strings.NewReader(fmt.Sprintf(`{"ticker":"MSFT","models":["linreg"],"seed":%d}`, i)))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+h.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Message string }
			}
			answers[i] = contendedAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
			if resp.StatusCode != http.StatusAccepted {
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
					t.Errorf("answer %d is not a JSON error: %v", resp.StatusCode, err)
				}
				answers[i].code, answers[i].message = body.Error.Code, body.Error.Message
			}
		})
	}
	close(start)
	wg.Wait()
	return answers
}

// TestContentionIsNotAnOutage (issue 18 item 5): one user's 48 concurrent
// submitters, with PostgreSQL and Redis healthy, at the production limits
// and connection pool (MAX_UNFINISHED_JOBS 100, SUBMIT_RATE_LIMIT 30,
// DB_MAX_OPEN_CONNS 10), get 202s and 429s, each 429 with Retry-After and
// a JSON error: never a 503 (which says a dependency is down, and pages
// someone) nor a 500. Under the caps, every one is accepted: the owner's
// row lock makes them take turns, it does not refuse them.
func TestContentionIsNotAnOutage(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		maxUnfinished, perMin  int
		wantAccepted, wantBusy int
	}{
		{"production limits", 100, 30, 30, 18},
		{"under the limits", 1000, 1000, 48, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessWith(t, harnessOptions{maxUnfinished: tc.maxUnfinished, submitPerMinute: tc.perMin,
				interactivePerUser: 3, dispatchedPerUser: 1})
			h.db.SetPool(store.Pool{MaxOpen: 10, MaxIdle: 10, MaxLifetime: 30 * time.Minute})
			answers := h.submitAll(t, 48)
			count := map[int]int{}
			codes := map[string]int{}
			for _, a := range answers {
				count[a.status]++
				if a.status == http.StatusTooManyRequests {
					codes[a.code]++
					require.NotEmpty(t, a.retryAfter, "a 429 says when to retry")
					require.NotEmpty(t, a.message)
				}
			}
			t.Logf("48 concurrent submissions of one user: %v, 429 codes %v", count, codes)
			require.Equal(t, map[int]int{http.StatusAccepted: tc.wantAccepted, http.StatusTooManyRequests: tc.wantBusy},
				map[int]int{http.StatusAccepted: count[http.StatusAccepted], http.StatusTooManyRequests: count[http.StatusTooManyRequests]})
			require.Len(t, answers, count[http.StatusAccepted]+count[http.StatusTooManyRequests], "every answer is a 202 or a 429: %v", count)
		})
	}
}
