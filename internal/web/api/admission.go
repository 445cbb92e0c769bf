package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// unfinishedRetryAfter is the Retry-After, in seconds, of a submission
// refused for too many unfinished jobs. Nobody knows when a job ends; this
// is a polling pace that costs the server little.
const unfinishedRetryAfter = 15

// admission returns the store's admission rules for a new job of user that
// asked for queue. They run only for a job that is valid and not an
// idempotent replay, so neither of those uses up a limit. In order:
//
//  1. admit: the cap on unfinished jobs (PostgreSQL, exact: the store
//     keeps the decision only if it still holds under the user's lock);
//  2. charge: the per-minute rate limit (Redis), counted once the cap
//     let the job in;
//  3. admit again: fairness on the critical queue: only a user's first
//     interactivePerUser unfinished jobs go there, later interactive ones
//     go to default, so one user's burst cannot hold every worker's
//     critical slots while another user's one job waits behind it.
func (s *Server) admission(c *gin.Context, user int64, queue string) (admit func(store.Unfinished) (string, error), charge func(context.Context) error) {
	admit = func(u store.Unfinished) (string, error) {
		if u.Total >= s.maxUnfinished {
			return "", &kernel.Error{Status: http.StatusTooManyRequests, Code: "too_many_unfinished", RetryAfter: unfinishedRetryAfter,
				Message: fmt.Sprintf("you have %d queued or running jobs, the most allowed; wait for some to finish or cancel some", u.Total)}
		}
		if queue == jobs.QueueCritical && u.ByQueue[jobs.QueueCritical] >= s.interactivePerUser {
			return jobs.QueueDefault, nil
		}
		return queue, nil
	}
	charge = func(ctx context.Context) error { return s.takeSubmitToken(ctx, c, user) }
	return admit, charge
}

// takeSubmitToken counts one submission against the user's per-minute
// limit. Without Redis the limit cannot be counted, and it lets the
// submission through: the cap on unfinished jobs, kept in PostgreSQL, still
// bounds what one user can queue, and refusing work over a limiter would
// turn a Redis outage into an API outage.
func (s *Server) takeSubmitToken(ctx context.Context, c *gin.Context, user int64) error {
	ctx, cancel := context.WithTimeout(ctx, kernel.RedisCallTimeout)
	defer cancel()
	res, err := s.Limiter.Allow(ctx, "augur:ratelimit:submit:"+strconv.FormatInt(user, 10), s.submitRate)
	if err != nil {
		s.Logger.WarnContext(ctx, "rate limiter unavailable; submission let through", "err", err)
		return nil
	}
	c.Header("RateLimit-Limit", strconv.Itoa(s.submitRate.Rate))
	c.Header("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	if res.Allowed == 0 {
		return &kernel.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: int(math.Ceil(res.RetryAfter.Seconds())),
			Message: fmt.Sprintf("at most %d submissions a minute; retry later", s.submitRate.Rate)}
	}
	return nil
}
