package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/admission"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// unfinishedRetryAfter is the Retry-After, in seconds, of a submission
// refused for too many unfinished jobs. Nobody knows when a job ends; this
// is a polling pace that costs the server little.
const unfinishedRetryAfter = 15

// admit stores the user's new job n when internal/admission's rules let it
// in, on the queue they choose, and answers their refusals as the API
// does. It runs only for a job that is valid, so an invalid request uses
// up no limit.
func (s *Server) admit(c *gin.Context, n store.NewJob) (job *store.Job, replayed bool, err error) {
	out, err := s.admission.Submit(c.Request.Context(), n)
	if out.Quota != nil {
		c.Header("RateLimit-Limit", strconv.Itoa(out.Quota.Limit))
		c.Header("RateLimit-Remaining", strconv.Itoa(out.Quota.Remaining))
	}
	var capped *admission.TooManyUnfinishedError
	var limited *admission.RateLimitedError
	switch {
	case errors.As(err, &capped):
		return nil, false, &kernel.Error{Status: http.StatusTooManyRequests, Code: "too_many_unfinished", RetryAfter: unfinishedRetryAfter,
			Message: capped.Error()}
	case errors.As(err, &limited):
		return nil, false, &kernel.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: int(math.Ceil(limited.RetryAfter.Seconds())),
			Message: limited.Error()}
	}
	return out.Job, out.Replayed, err
}
