package kernel

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
	for _, name := range []string{"index", "job", "models", "login", "login_two_factor", "register", "account", "error", "dashboard", "webhooks", "docs",
		"watchlists", "batch", "admin", "admin_users", "admin_companies", "admin_brokers", "admin_queues", "admin_job", "admin_schedules", "admin_audit"} {
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
	// localTime is a time on the clock of a time zone (LocalTime).
	"localTime": LocalTime,
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
	// money writes an amount for people to read (MoneyText).
	"money": MoneyText,
	"add":   func(a, b float64) float64 { return a + b },
	"join":  strings.Join,
	"sub":   func(a, b float64) float64 { return a - b },
	// maxArticles is the most articles a sentiment job may read.
	"maxArticles": func() int { return sentiment.MaxNumArticles },
	// maxDeposit is the largest deposit one request may make.
	"maxDeposit": func() string { return Money(portfolio.MaxDeposit) },
}

// PageData is what the layout and the pages need.
type PageData struct {
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
	// RecoveryCodes are the two-factor recovery codes just made, shown
	// this once on /account; Account is the rest of that page's
	// two-factor and session state, of the pages' own type.
	RecoveryCodes []string
	Account       any
	// Message is the text of an error page.
	Message string
	// Presets are the sentiment presets the forms offer.
	Presets []string
	// Job is the job of a job page.
	Job *store.Job
	// Refresh, when above 0, makes a browser without JavaScript reload
	// the page after that many seconds.
	Refresh int
	// Dashboard is /dashboard's portfolio, history and form choices, and
	// Admin what an admin page shows. Each is its own package's type,
	// which the kernel does not know; the templates read their fields.
	Dashboard any
	Admin     any
	// Batches is what /watchlists and a batch page show.
	Batches any
	// Webhooks is /webhooks' endpoints and deliveries (ui's type).
	Webhooks any
}

// unavailablePage is what a page shows while PostgreSQL is down: it needs
// no template and no database.
const unavailablePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Augur is unavailable</title></head>
<body><h1>Augur is briefly unavailable</h1><p>Its database is not answering. Your jobs are safe; please try again in a few seconds.</p></body></html>`

// Render answers with a page. Every page works through the API, which
// cannot answer while PostgreSQL is down, so a page says so at once with a
// 503 rather than failing on every click. A page for a signed-in user
// needs no check: PostgreSQL answered this very request with the session
// and the user. Only an anonymous page (sign-in, register, an error) asks.
func (k *Kernel) Render(c *gin.Context, status int, data PageData) {
	if err := k.pingForAnonymous(c); err != nil {
		k.Logger.WarnContext(c.Request.Context(), "page while PostgreSQL is unavailable", "page", data.Page, "err", err)
		c.Header("Retry-After", strconv.Itoa(UnavailableRetryAfter))
		c.Data(http.StatusServiceUnavailable, "text/html; charset=utf-8", []byte(unavailablePage))
		return
	}
	data.User = PageUser(c)
	// Static files and health checks run without a session (WithSessions);
	// none of them renders a page.
	data.Flash = k.Sessions.PopString(c.Request.Context(), sessionFlash)
	var buf bytes.Buffer
	if err := k.pages[data.Page].ExecuteTemplate(&buf, "layout", data); err != nil {
		k.Logger.ErrorContext(c.Request.Context(), "render page", "page", data.Page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	// Pages carry who is signed in: no shared cache may keep one.
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// pingForAnonymous checks that PostgreSQL answers, unless the request has
// a signed-in user, which it could only have had from PostgreSQL.
func (k *Kernel) pingForAnonymous(c *gin.Context) error {
	if PageUser(c) != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	return k.DB.Ping(ctx)
}

// ErrorPage answers status with a page in the layout, and stops the chain.
func (k *Kernel) ErrorPage(c *gin.Context, status int, title, message string) {
	k.Render(c, status, PageData{Title: title, Page: "error", Message: message})
	c.Abort()
}

// FailPage is Fail for pages: the details go to the log, the visitor gets
// a page in the layout.
func (k *Kernel) FailPage(c *gin.Context, err error) {
	k.Logger.ErrorContext(c.Request.Context(), "page failed", "path", c.FullPath(), "err", err)
	k.ErrorPage(c, http.StatusInternalServerError, "Something went wrong", "The error has been logged. Try again in a moment.")
}

// PageFailed answers a page whose work failed: a client who left gets
// nothing, an outage a 503 page, anything else a 500 page.
func (k *Kernel) PageFailed(c *gin.Context, err error) {
	switch {
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		c.AbortWithStatus(statusClientClosedRequest)
	case IsUnavailable(err):
		k.Logger.WarnContext(c.Request.Context(), "dependency unavailable", "path", c.FullPath(), "err", err)
		c.Header("Retry-After", strconv.Itoa(UnavailableRetryAfter))
		k.ErrorPage(c, http.StatusServiceUnavailable, "Briefly unavailable",
			"A service Augur depends on is not answering; nothing was changed. Try again in a few seconds.")
	default:
		k.FailPage(c, err)
	}
}
