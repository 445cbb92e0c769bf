package kernel

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
)

// TestIsUnavailable: what an outage looks like from lib/pq, database/sql
// and go-redis is a 503; what a request or a bug causes is not.
func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused, wrapped", fmt.Errorf("look up token: %w", refused), true},
		{"bad connection", fmt.Errorf("load job: %w", driver.ErrBadConn), true},
		{"connection reset", syscall.ECONNRESET, true},
		{"PostgreSQL shutting down", &pq.Error{Code: "57P01"}, true},
		{"PostgreSQL starting up", &pq.Error{Code: "57P03"}, true},
		{"too many connections", &pq.Error{Code: "53300"}, true},
		{"connection failure", &pq.Error{Code: "08006"}, true},
		{"Redis pool timeout", redis.ErrPoolTimeout, true},
		{"a deadline", context.DeadlineExceeded, true},
		{"unique violation", &pq.Error{Code: "23505"}, false},
		{"bad text", &pq.Error{Code: "22P05"}, false},
		{"not found", store.ErrNotFound, false},
		{"a plain bug", errors.New("nil map"), false},
		{"client gone", context.Canceled, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, IsUnavailable(tc.err))
		})
	}
}

// TestFailMapsOutagesAndDepartures: Fail answers an outage 503 with
// Retry-After, a client that left 499 (not a 500 in the metrics), and an
// unknown error 500.
func TestFailMapsOutagesAndDepartures(t *testing.T) {
	t.Parallel()
	k := &Kernel{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name       string
		err        error
		clientGone bool
		status     int
		retryAfter string
	}{
		{"PostgreSQL down", fmt.Errorf("look up token: %w", refused), false, http.StatusServiceUnavailable, "5"},
		{"client left", fmt.Errorf("load job: %w", context.Canceled), true, statusClientClosedRequest, ""},
		{"canceled while the client waits", fmt.Errorf("load job: %w", context.Canceled), false, http.StatusInternalServerError, ""},
		{"a bug", errors.New("nil map"), false, http.StatusInternalServerError, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.clientGone {
				cancel()
			}
			c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/jobs", nil).WithContext(ctx)
			k.Fail(c, tc.err)
			require.Equal(t, tc.status, c.Writer.Status())
			require.Equal(t, tc.retryAfter, rec.Header().Get("Retry-After"))
		})
	}
}

// TestNotFoundSaysWhatItCan: a handler that knows what it looked up names
// it; store.ErrNotFound alone does not say, and neither does the answer.
func TestNotFoundSaysWhatItCan(t *testing.T) {
	t.Parallel()
	require.Equal(t, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such job"}, NotFound("job"))
	e := RequestError(fmt.Errorf("api token 3: %w", store.ErrNotFound))
	require.Equal(t, http.StatusNotFound, e.Status)
	require.Equal(t, "not_found", e.Code)
	require.NotContains(t, e.Message, "job")
}
