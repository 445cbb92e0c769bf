package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/portfolio"
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
		input *portfolio.InputError
	)
	switch {
	case errors.As(err, &api):
		abortWith(c, api)
	case errors.As(err, &field):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: field.Code, Message: field.Message, Field: field.Field})
	case errors.As(err, &input):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: input.Code, Message: input.Message, Field: input.Field})
	case errors.Is(err, portfolio.ErrInsufficientFunds):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "insufficient_funds", Field: "quantity",
			Message: err.Error()})
	case errors.Is(err, portfolio.ErrInsufficientShares):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "insufficient_shares", Field: "quantity",
			Message: err.Error()})
	case errors.Is(err, portfolio.ErrOrderTooSmall):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "too_small", Field: "quantity",
			Message: "the order is worth less than one cent"})
	case errors.Is(err, portfolio.ErrNoHolding):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_holding", Field: "symbol",
			Message: "you hold no shares of this company"})
	case errors.Is(err, store.ErrUnknownCompany):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "unknown_symbol", Field: "symbol",
			Message: "no company with this symbol can be traded"})
	case errors.Is(err, store.ErrUnknownBroker):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "unknown_broker", Field: "broker_id",
			Message: "no active broker has this id"})
	case errors.Is(err, store.ErrNoBroker):
		abortWith(c, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_broker",
			Message: "no broker is active to trade through; an admin must activate one"})
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

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 64 << 10

// decodeJSON reads a JSON body strictly: one object, no unknown fields, at
// most maxBodyBytes. Its errors are client errors naming the field when
// there is one.
func decodeJSON(c *gin.Context, dst any) error {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("extra data after the JSON object")
	}
	if err == nil {
		return nil
	}
	var (
		tooLarge  *http.MaxBytesError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &apiError{Status: http.StatusBadRequest, Code: "body_too_large", Message: "request body must be at most 64 KiB"}
	case errors.As(err, &typeError):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "wrong_type", Field: typeError.Field,
			Message: typeError.Field + " must be of type " + jsonTypeName(typeError.Type.Kind().String())}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "unknown_field", Field: name, Message: "unknown field " + name}
	case errors.Is(err, io.EOF):
		return &apiError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "request body must be a JSON object"}
	default: // syntax errors, a truncated body, trailing data
		return &apiError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "request body is not valid JSON: " + err.Error()}
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "int64", "int32", "uint", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return kind
}
