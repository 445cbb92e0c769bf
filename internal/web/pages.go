package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/templates"
)

// pages are the parsed HTML templates, one set per page because each page
// defines its own "content".
type pages map[string]*template.Template

// parsePages parses every page at start-up, so a broken template stops the
// server instead of failing a visitor.
func parsePages() (pages, error) {
	p := pages{}
	for _, name := range []string{"index", "job", "login", "register", "account", "admin", "error"} {
		t, err := template.ParseFS(templates.FS, "layout.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// pageData is what the layout and the pages need.
type pageData struct {
	Title string
	Page  string
	JobID string
	// User is who is signed in, nil for a visitor; render fills it in.
	User *store.User
	// Flash is a message left by the request before (a redirect's reason).
	Flash string
	// Error says why a form was refused; Form holds what was sent, to
	// fill it in again (never a password).
	Error string
	Form  map[string]string
	// Next is where the sign-in and registration forms lead afterwards.
	Next string
	// Tokens are the user's API tokens on /account; NewToken is the one
	// just created, shown this once.
	Tokens   []store.APIToken
	NewToken string
	// Message is the text of an error page.
	Message string
}

// unavailablePage is what a page shows while PostgreSQL is down: it needs
// no template and no database.
const unavailablePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Augur is unavailable</title></head>
<body><h1>Augur is briefly unavailable</h1><p>Its database is not answering. Your jobs are safe; please try again in a few seconds.</p></body></html>`

// render answers with a page. Every page works through the API, which
// cannot answer while PostgreSQL is down, so a page says so at once with a
// 503 rather than failing on every click.
func (s *Server) render(c *gin.Context, status int, data pageData) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "page while PostgreSQL is unavailable", "page", data.Page, "err", err)
		c.Header("Retry-After", strconv.Itoa(unavailableRetryAfter))
		c.Data(http.StatusServiceUnavailable, "text/html; charset=utf-8", []byte(unavailablePage))
		return
	}
	data.User = pageUser(c)
	// Static files and health checks run without a session (withSessions);
	// none of them renders a page.
	data.Flash = s.sessions.PopString(c.Request.Context(), sessionFlash)
	var buf bytes.Buffer
	if err := s.pages[data.Page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.logger.ErrorContext(c.Request.Context(), "render page", "page", data.Page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	// Pages carry who is signed in: no shared cache may keep one.
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// errorPage answers status with a page in the layout, and stops the chain.
func (s *Server) errorPage(c *gin.Context, status int, title, message string) {
	s.render(c, status, pageData{Title: title, Page: "error", Message: message})
	c.Abort()
}

// failPage is fail for pages: the details go to the log, the visitor gets
// a page in the layout.
func (s *Server) failPage(c *gin.Context, err error) {
	s.logger.ErrorContext(c.Request.Context(), "page failed", "path", c.FullPath(), "err", err)
	s.errorPage(c, http.StatusInternalServerError, "Something went wrong", "The error has been logged. Try again in a moment.")
}

func (s *Server) indexPage(c *gin.Context) {
	s.render(c, http.StatusOK, pageData{Title: "Predictions", Page: "index"})
}

func (s *Server) jobPage(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.errorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	// Another user's job is not found, as in the API: the page must not
	// confirm that the id exists.
	if _, err := s.db.Job(c.Request.Context(), id, pageUser(c).ID); errors.Is(err, store.ErrNotFound) {
		s.errorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	} else if err != nil {
		s.failPage(c, err)
		return
	}
	s.render(c, http.StatusOK, pageData{Title: "Job", Page: "job", JobID: id.String()})
}
