package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// apiError is the one error shape of the JSON API:
// {"error":{"code":…,"message":…,"field":…}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func abortWith(c *gin.Context, e *apiError) {
	c.AbortWithStatusJSON(e.Status, gin.H{"error": e})
}

// fail maps an error to its HTTP answer, in this one place. Anything not
// recognised is a 500 with a generic message; the details go to the log.
func (s *Server) fail(c *gin.Context, err error) {
	var (
		api   *apiError
		field *jobs.FieldError
	)
	switch {
	case errors.As(err, &api):
		abortWith(c, api)
	case errors.As(err, &field):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: field.Code, Message: field.Message, Field: field.Field})
	case errors.Is(err, store.ErrNotFound):
		abortWith(c, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such job"})
	case errors.Is(err, store.ErrIdempotencyMismatch):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was already used with a different request", Field: "Idempotency-Key"})
	case errors.Is(err, store.ErrJobFinished):
		abortWith(c, &apiError{Status: http.StatusConflict, Code: "job_finished", Message: "the job has already finished"})
	default:
		s.logger.ErrorContext(c.Request.Context(), "request failed", "path", c.FullPath(), "err", err)
		abortWith(c, &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; it has been logged"})
	}
}
