package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/templates"
)

// pages are the parsed HTML templates, one set per page because each page
// defines its own "content".
type pages map[string]*template.Template

// parsePages parses every page at start-up, so a broken template stops the
// server instead of failing a visitor. Pages link static files through
// assets.
func parsePages(assets *staticAssets) (pages, error) {
	funcs := template.FuncMap{"asset": assets.url}
	for k, f := range pageFuncs {
		funcs[k] = f
	}
	p := pages{}
	for _, name := range []string{"index", "job", "models", "login", "register", "account", "error", "dashboard",
		"admin", "admin_users", "admin_companies", "admin_brokers", "admin_queues", "admin_job"} {
		files := []string{"layout.html", name + ".html"}
		if strings.HasPrefix(name, "admin") {
			files = append(files, "admin_nav.html")
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templates.FS, files...)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// pageFuncs are the functions the templates call.
var pageFuncs = template.FuncMap{
	// signClass is the class of a signed decimal string: "positive",
	// "negative", or none for zero.
	"signClass": func(amount string) string {
		switch {
		case strings.HasPrefix(amount, "-"):
			return "negative"
		case strings.Trim(amount, "0.") == "":
			return ""
		}
		return "positive"
	},
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
	// maxArticles is the most articles a sentiment job may read.
	"maxArticles": func() int { return sentiment.MaxNumArticles },
	// maxDeposit is the largest deposit one request may make.
	"maxDeposit": func() string { return money(portfolio.MaxDeposit) },
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
	// Presets are the sentiment presets the forms offer.
	Presets []string
	// Job is the job of a job page.
	Job *store.Job
	// Refresh, when above 0, makes a browser without JavaScript reload
	// the page after that many seconds.
	Refresh int
	// Dashboard is /dashboard's portfolio, history and form choices.
	Dashboard *dashboardData
	// Admin is what an admin page shows.
	Admin *adminData
}

// unavailablePage is what a page shows while PostgreSQL is down: it needs
// no template and no database.
const unavailablePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Augur is unavailable</title></head>
<body><h1>Augur is briefly unavailable</h1><p>Its database is not answering. Your jobs are safe; please try again in a few seconds.</p></body></html>`

// render answers with a page. Every page works through the API, which
// cannot answer while PostgreSQL is down, so a page says so at once with a
// 503 rather than failing on every click. A page for a signed-in user
// needs no check: PostgreSQL answered this very request with the session
// and the user. Only an anonymous page (sign-in, register, an error) asks.
func (s *Server) render(c *gin.Context, status int, data pageData) {
	if err := s.pingForAnonymous(c); err != nil {
		s.logger.WarnContext(c.Request.Context(), "page while PostgreSQL is unavailable", "page", data.Page, "err", err)
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

// pingForAnonymous checks that PostgreSQL answers, unless the request has
// a signed-in user, which it could only have had from PostgreSQL.
func (s *Server) pingForAnonymous(c *gin.Context) error {
	if pageUser(c) != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	return s.db.Ping(ctx)
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
	s.render(c, http.StatusOK, pageData{Title: "Predictions", Page: "index", Presets: s.presets})
}

// modelsPage shows the models' leaderboard; scripts fetch it from the API.
func (s *Server) modelsPage(c *gin.Context) {
	s.render(c, http.StatusOK, pageData{Title: "How good are the models?", Page: "models"})
}

// jobRefreshSeconds is how often a job page reloads itself while the job
// runs, for a browser without JavaScript; with it, events update the page.
const jobRefreshSeconds = 3

// jobPage shows one of the user's jobs. Scripts fill in the results; the
// status, progress, error and Cancel are in the page itself, so it works
// without them.
func (s *Server) jobPage(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.errorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	job, err := s.db.Job(c.Request.Context(), id, pageUser(c).ID)
	if errors.Is(err, store.ErrNotFound) {
		// Another user's job is as unknown as one that never existed.
		s.errorPage(c, http.StatusNotFound, "No such job", "There is no job of yours at this address.")
		return
	}
	if err != nil {
		s.pageFailed(c, err)
		return
	}
	data := pageData{Title: jobTitle(job), Page: "job", JobID: id.String(), Job: job}
	if !job.Final() {
		// A job waiting for its retry has nothing new to show sooner.
		data.Refresh = max(jobRefreshSeconds, pollAfter(job, time.Now()))
	}
	s.render(c, http.StatusOK, data)
}

// jobTitle names a job for its page: what it is, and of which ticker.
func jobTitle(job *store.Job) string {
	title := "Sentiment"
	if job.Kind == store.KindPrediction {
		title = "Prediction"
	}
	if job.Ticker != "" {
		title += " · " + job.Ticker
	}
	return title
}

// cancelForm cancels a job from its page, and goes back to it.
func (s *Server) cancelForm(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.errorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	_, err = s.cancel(c.Request.Context(), id, pageUser(c).ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.errorPage(c, http.StatusNotFound, "No such job", "There is no job of yours at this address.")
		return
	case errors.Is(err, store.ErrJobFinished):
		s.flash(c, "The job had already finished; nothing was canceled.")
	case err != nil:
		s.pageFailed(c, err)
		return
	default:
		s.flash(c, "The job was canceled.")
	}
	c.Redirect(http.StatusSeeOther, "/jobs/"+id.String())
}

// notFound answers an unknown address: JSON under /api/, a page in the
// layout everywhere else.
func (s *Server) notFound(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		abortWith(c, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such route"})
		return
	}
	s.identifyQuietly(c)
	s.errorPage(c, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

// methodNotAllowed is notFound for a known address asked with the wrong
// method.
func (s *Server) methodNotAllowed(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		abortWith(c, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed"})
		return
	}
	s.identifyQuietly(c)
	s.errorPage(c, http.StatusMethodNotAllowed, "Not possible here", "This address cannot be used this way.")
}

// identifyQuietly is identify for error pages outside the site's routes:
// the layout shows who is signed in, and a failure to tell only leaves the
// page anonymous.
func (s *Server) identifyQuietly(c *gin.Context) {
	if user, err := s.sessionUser(c); err == nil && user != nil {
		c.Set(userKey, user)
	}
}
