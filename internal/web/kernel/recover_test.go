package kernel_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/internal/web/kernel"
)

// TestAPanicIsLoggedWithItsStackAndAnsweredWithTheRequestID panics in an
// API handler and in a page handler, and checks that the one logger got
// the panic with a stack naming this file and line, under the request's
// id, and that the client got a 500 carrying that id.
func TestAPanicIsLoggedWithItsStackAndAnsweredWithTheRequestID(t *testing.T) {
	var logs testlog.Buffer
	db := dbtest.Postgres(t, "kernel")
	k, err := kernel.New(kernel.Config{DB: db, Accounts: kernel.Accounts{Store: db.SessionStore(0), Lifetime: time.Hour, IdleTimeout: time.Hour}, Logger: slog.New(requestid.NewHandler(slog.NewJSONHandler(&logs, nil)))})
	require.NoError(t, err)
	r := gin.New()
	r.Use(k.Observe, k.Recover)
	boom := func(*gin.Context) { panic("boom in a handler") }
	r.GET("/api/v1/boom", boom)
	r.GET("/boom", boom)
	handler := k.WithSessions(r)

	for _, tc := range []struct {
		path, id string
		body     func(t *testing.T, body string)
	}{
		{"/api/v1/boom", "api-panic-1", func(t *testing.T, body string) {
			var e struct {
				Error kernel.Error `json:"error"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &e))
			require.Equal(t, "internal", e.Error.Code)
			require.Equal(t, "api-panic-1", e.Error.RequestID)
		}},
		{"/boom", "page-panic-1", func(t *testing.T, body string) {
			require.Contains(t, body, "page-panic-1")
		}},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		req.Header.Set(requestid.Header, tc.id)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		require.Equal(t, http.StatusInternalServerError, w.Code, tc.path)
		require.Equal(t, tc.id, w.Header().Get(requestid.Header))
		tc.body(t, w.Body.String())

		var logged map[string]any
		for line := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(line, `"handler panic"`) && strings.Contains(line, tc.id) {
				require.NoError(t, json.Unmarshal([]byte(line), &logged))
			}
		}
		require.NotNil(t, logged, "no panic line for %s in:\n%s", tc.id, logs.String())
		require.Equal(t, "boom in a handler", logged["panic"])
		require.Regexp(t, regexp.MustCompile(`recover_test\.go:\d+`), logged["stack"], "the stack names the panicking line")
		require.Contains(t, logs.String(), `"status":500`, "the request itself is still logged, as a 500")
	}
}
