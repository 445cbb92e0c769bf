package admin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/web/kernel"
)

// FuzzAuditQuery feeds the audit listing's query parameters anything: the
// filters either parse, within their bounds, or are refused with a 400 or
// 422 naming the parameter, never a panic or a 500.
func FuzzAuditQuery(f *testing.F) {
	for _, q := range []string{
		"", "actor=ann%40example.com&action=auth.signin", "target=user%3A7&limit=5&cursor=12",
		"from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00%2B02:00", "from=yesterday", "cursor=-1", "cursor=abc",
		"limit=0", "limit=101", "actor=%00", "action=%E2%80%AE", "to=2026-13-01T00:00:00Z",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/admin/audit", nil)
		c.Request.URL.RawQuery = query
		filter, limit, err := auditQuery(c)
		if err != nil {
			var e *kernel.Error
			require.True(t, errors.As(err, &e), "%q: %v is not an answer", query, err)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, e.Status)
			require.NotEmpty(t, e.Field)
			return
		}
		require.True(t, limit >= 1 && limit <= 100, "limit %d", limit)
		require.Equal(t, limit+1, filter.Limit, "one row more tells whether a next page exists")
		require.GreaterOrEqual(t, filter.BeforeID, int64(0))
		for _, v := range []string{filter.Actor, filter.Action, filter.Target} {
			require.LessOrEqual(t, len([]rune(v)), maxAuditFilter)
		}
	})
}
