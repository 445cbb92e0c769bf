package kernel

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// Error is the one error shape of the JSON API:
// {"error":{"code":…,"message":…,"field":…}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RequestID names the request in the server's log, on a 500 whose
	// cause only the log holds.
	RequestID string `json:"request_id,omitempty"`
	// RetryAfter, in seconds, is sent as Retry-After when above 0.
	RetryAfter int `json:"-"`
}

// Error is the message, so that an *Error is an error.
func (e *Error) Error() string { return e.Message }

// Abort answers e and stops the chain, with Retry-After when e has one.
func Abort(c *gin.Context, e *Error) {
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	c.AbortWithStatusJSON(e.Status, gin.H{"error": e})
}

// statusClientClosedRequest is nginx's status for a request whose client
// went away before the answer; it keeps such requests apart from 5xx in
// the metrics.
const statusClientClosedRequest = 499

// UnavailableRetryAfter is the Retry-After of a 503, in seconds: about the
// time a restarted PostgreSQL or Redis takes to answer again.
const UnavailableRetryAfter = 5

// errUnavailable is the answer while a service the request needs is down.
var errUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: UnavailableRetryAfter,
	Message: "a service Augur depends on is unavailable; nothing was changed, retry later"}

// IsUnavailable reports whether err says that PostgreSQL or Redis could not
// be reached or is refusing work, rather than that the request was wrong:
// connection refused, reset or cut, a bad connection, a pool that timed
// out, a server shutting down, starting or out of connections.
func IsUnavailable(err error) bool {
	var (
		netErr   net.Error // dial and I/O errors, and context.DeadlineExceeded
		redisErr redis.Error
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrClosed),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr):
		return true
	case store.IsUnavailable(err), errors.Is(err, auth.ErrBusy):
		// A full password-hashing pool is capacity, not the request's
		// fault: the same answer, retry shortly.
		return true
	case errors.As(err, &redisErr):
		msg := redisErr.Error()
		return strings.HasPrefix(msg, "LOADING ") || strings.HasPrefix(msg, "MASTERDOWN ") || strings.HasPrefix(msg, "TRYAGAIN ")
	}
	return false
}

// RequestError maps an error that the request itself caused (bad input,
// a refused trade, an unknown job) to its API answer, in this one place;
// nil means err is not such an error. The pages show the same messages.
func RequestError(err error) *Error {
	var (
		api   *Error
		field *jobs.FieldError
		input *portfolio.InputError
	)
	switch {
	case errors.As(err, &api):
		return api
	case errors.As(err, &field):
		return &Error{Status: http.StatusUnprocessableEntity, Code: field.Code, Message: field.Message, Field: field.Field}
	case errors.As(err, &input):
		return &Error{Status: http.StatusUnprocessableEntity, Code: input.Code, Message: input.Message, Field: input.Field}
	case errors.Is(err, portfolio.ErrInsufficientFunds):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "insufficient_funds", Field: "quantity",
			Message: "insufficient funds: the wallet cannot cover this buy's total plus commission"}
	case errors.Is(err, portfolio.ErrInsufficientShares):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "insufficient_shares", Field: "quantity",
			Message: "insufficient shares: you cannot sell more shares than you hold"}
	case errors.Is(err, portfolio.ErrOrderTooSmall):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "too_small", Field: "quantity",
			Message: "the order is worth less than one cent"}
	case errors.Is(err, portfolio.ErrNoHolding):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "no_holding", Field: "symbol",
			Message: "you hold no shares of this company"}
	case errors.Is(err, store.ErrUnknownCompany):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "unknown_symbol", Field: "symbol",
			Message: "no company with this symbol can be traded"}
	case errors.Is(err, store.ErrUnknownBroker):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "unknown_broker", Field: "broker_id",
			Message: "no active broker has this id"}
	case errors.Is(err, store.ErrNoBroker):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "no_broker",
			Message: "no broker is active to trade through; an admin must activate one"}
	case errors.Is(err, store.ErrNotFound):
		// store.ErrNotFound does not say what was looked up, so neither can
		// this answer; a handler that knows names it with NotFound.
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource, or it is not yours"}
	case errors.Is(err, store.ErrIdempotencyMismatch):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was already used with a different request", Field: "Idempotency-Key"}
	case errors.Is(err, store.ErrJobFinished):
		return &Error{Status: http.StatusConflict, Code: "job_finished", Message: "the job has already finished"}
	case errors.Is(err, store.ErrWebhookBusy):
		return &Error{Status: http.StatusConflict, Code: "delivery_busy",
			Message: "the delivery is still being attempted, or its endpoint is disabled"}
	}
	return nil
}

// NotFound is the answer when the thing named by what ("job", "company")
// does not exist, or is not the caller's to see: the two look the same.
func NotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such " + what}
}

// Fail maps an error to its HTTP answer, in this one place. Anything not
// recognised is a 500 with a generic message; the details go to the log.
func (k *Kernel) Fail(c *gin.Context, err error) {
	if e := RequestError(err); e != nil {
		Abort(c, e)
		return
	}
	switch {
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		// The client left mid-request: nobody reads this answer, and it is
		// no fault of the server's, so it must not count as a 500.
		c.AbortWithStatus(statusClientClosedRequest)
	case IsUnavailable(err):
		k.Logger.WarnContext(c.Request.Context(), "dependency unavailable", "path", c.FullPath(), "err", err)
		Abort(c, errUnavailable)
	default:
		k.Logger.ErrorContext(c.Request.Context(), "request failed", "path", c.FullPath(), "err", err)
		Abort(c, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; it has been logged",
			RequestID: requestid.From(c.Request.Context())})
	}
}
