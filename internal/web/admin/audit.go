package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// maxAuditFilter bounds a text filter: an email is at most 254 characters.
const maxAuditFilter = 254

// auditQuery reads the audit listing's filters and page, the same for the
// page and the API: actor, action and target match exactly, from and to
// (RFC 3339) bound the time, and the cursor is the last id shown.
func auditQuery(c *gin.Context) (store.AuditFilter, int, error) {
	limit, before, err := kernel.PageRequest(c, decodeAuditCursor)
	if err != nil {
		return store.AuditFilter{}, 0, err
	}
	f := store.AuditFilter{Limit: limit + 1}
	if before != nil {
		f.BeforeID = *before
	}
	for name, dst := range map[string]*string{"actor": &f.Actor, "action": &f.Action, "target": &f.Target} {
		if *dst, err = kernel.CheckText(name, c.Query(name), false, maxAuditFilter); err != nil {
			return f, 0, err
		}
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		raw := c.Query(name)
		if raw == "" {
			continue
		}
		if *dst, err = time.Parse(time.RFC3339, raw); err != nil {
			return f, 0, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_time", Field: name,
				Message: name + " must be an RFC 3339 time such as 2026-01-31T00:00:00Z"}
		}
	}
	return f, limit, nil
}

// decodeAuditCursor reads a cursor: the id of the last row of the page
// before.
func decodeAuditCursor(raw string) (*int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return nil, errors.New("not an audit row id")
	}
	return &id, nil
}

func auditCursor(e *store.AuditEntry) string { return strconv.FormatInt(e.ID, 10) }

// apiAdminAudit lists the audit trail, newest first, in the shape of the
// JSON lines AUDIT_STDOUT writes.
func (s *Server) apiAdminAudit(c *gin.Context) {
	f, limit, err := auditQuery(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	rows, err := s.DB.AuditRows(c.Request.Context(), f)
	if err != nil {
		s.Fail(c, err)
		return
	}
	kernel.WritePage(c, "entries", rows, limit, func(e *store.AuditEntry) *store.AuditEntry { return e }, auditCursor)
}

// adminAuditPage shows the audit trail with the API's filters, a page at
// a time.
func (s *Server) adminAuditPage(c *gin.Context) {
	f, limit, err := auditQuery(c)
	var bad *kernel.Error
	if errors.As(err, &bad) {
		s.ErrorPage(c, http.StatusBadRequest, "Not a valid filter", bad.Message+".")
		return
	}
	rows, err := s.DB.AuditRows(c.Request.Context(), f)
	if err != nil {
		s.PageFailed(c, err)
		return
	}
	data := &adminData{Audit: rows[:min(limit, len(rows))], AuditFilter: map[string]string{
		"actor": f.Actor, "action": f.Action, "target": f.Target, "from": c.Query("from"), "to": c.Query("to")}}
	if len(rows) > limit {
		next := c.Request.URL.Query()
		next.Set("cursor", auditCursor(&rows[limit-1]))
		data.AuditNext = "/admin/audit?" + next.Encode()
	}
	s.renderAdmin(c, "admin_audit", "Audit trail · Administration", data)
}
