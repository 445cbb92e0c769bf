package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/requestid"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

const userKey = "augur.user"

// CurrentUser is the authenticated user of an /api/v1 request.
func CurrentUser(c *gin.Context) *store.User {
	return c.MustGet(userKey).(*store.User)
}

// Authenticate requires "Authorization: Bearer <token>", or else a signed-in
// session cookie: the pages call the API, and their EventSource can send no
// header. A request with an Authorization header is judged by it alone.
func (k *Kernel) Authenticate(c *gin.Context) {
	header := c.GetHeader("Authorization")
	if header == "" {
		user, err := k.SessionUser(c)
		if err != nil {
			k.Fail(c, err)
			return
		}
		if user == nil {
			c.Header("WWW-Authenticate", `Bearer realm="augur"`)
			Abort(c, &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "send an API token as 'Authorization: Bearer <token>', or sign in"})
			return
		}
		must, err := k.MustSetUpSecondFactor(c, user)
		if err != nil {
			k.Fail(c, err)
			return
		}
		if must {
			Abort(c, &Error{Status: http.StatusForbidden, Code: "second_factor_required",
				Message: "administrators must set up two-factor sign-in on /account before using the API from a browser session"})
			return
		}
		setUser(c, user)
		c.Next()
		return
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="augur"`)
		Abort(c, &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: "send an API token as 'Authorization: Bearer <token>'"})
		return
	}
	user, err := k.tokenUser(c.Request.Context(), strings.TrimSpace(token))
	if errors.Is(err, store.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="augur", error="invalid_token"`)
		Abort(c, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "unknown or revoked API token"})
		return
	}
	if err != nil {
		k.Fail(c, err)
		return
	}
	setUser(c, user)
	c.Next()
}

// setUser makes user the request's: for the handlers, and as the actor of
// what the request records in the audit trail.
func setUser(c *gin.Context, user *store.User) {
	c.Set(userKey, user)
	audit.SetActor(c.Request.Context(), audit.UserActor(user.ID, user.Email))
}

// tokenUser returns the active user owning token, from the token cache
// when it is live and knows the token, else from PostgreSQL.
func (k *Kernel) tokenUser(ctx context.Context, token string) (*store.User, error) {
	digest := [32]byte(auth.TokenDigest(token))
	user, gen, ok := k.tokens.lookup(digest)
	if ok {
		return user, nil
	}
	user, err := k.DB.UserByTokenDigest(ctx, digest[:])
	if err != nil {
		return nil, err
	}
	k.tokens.store(digest, user, gen)
	return user, nil
}

// Recover turns a panic into a logged 500 instead of a dropped connection.
// The log line carries the panic's stack (files and lines) and, through the
// request's context, its request id; the client gets the request id too,
// so a report of the failure finds its line. It runs inside Observe, so the
// request is still logged and counted, as a 500.
func (k *Kernel) Recover(c *gin.Context) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		ctx := c.Request.Context()
		k.Logger.ErrorContext(ctx, "handler panic", "path", c.FullPath(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if c.Writer.Written() {
			// Part of the answer is out: nothing else can be said.
			c.Abort()
			return
		}
		id := requestid.From(ctx)
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			Abort(c, &Error{Status: http.StatusInternalServerError, Code: "internal", RequestID: id,
				Message: "internal error; it has been logged under request id " + id})
			return
		}
		k.ErrorPage(c, http.StatusInternalServerError, "Something went wrong",
			"The error has been logged under request id "+id+". Try again in a moment.")
	}()
	c.Next()
}

// httpMetrics counts requests by route, method and status, the jobs they
// submit, and the requests a limit refused.
type httpMetrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	submitted   *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "augur_http_request_duration_seconds",
			Help:    "HTTP request latency by route (event streams excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_jobs_submitted_total",
			Help: "Jobs accepted, by kind and the queue they were put on (idempotent replays not counted).",
		}, []string{"kind", "queue"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_rate_limited_total",
			Help: "Requests refused with 429 by a limit, by scope: submit (rate and unfinished-job caps), login, streams, other.",
		}, []string{"scope"}),
	}
	// Every label set exists from the start, at zero, so that rate() and
	// the alerts see the first submission or refusal, not only the second.
	for _, kind := range []store.JobKind{store.KindPrediction, store.KindSentiment} {
		for _, queue := range []string{jobs.QueueCritical, jobs.QueueDefault, jobs.QueueLow} {
			m.submitted.WithLabelValues(string(kind), queue)
		}
	}
	for _, scope := range rateScopes {
		m.rateLimited.WithLabelValues(scope)
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.submitted, m.rateLimited)
	}
	return m
}

// CountSubmitted counts a job accepted onto queue (idempotent replays are
// not counted).
func (k *Kernel) CountSubmitted(kind store.JobKind, queue string) {
	k.metrics.submitted.WithLabelValues(string(kind), queue).Inc()
}

// rateScopes are the values of augur_rate_limited_total's scope label.
var rateScopes = []string{"submit", "login", "streams", "other"}

// rateScope names the limit behind a 429 on route. The route, not the
// error, decides: every limit answers on routes of its own, and the label
// stays bounded whatever a handler writes.
func rateScope(route string) string {
	switch {
	case route == "/api/v1/predictions" || route == "/api/v1/sentiment":
		return "submit"
	case route == "/login":
		return "login"
	case strings.HasSuffix(route, "/events"):
		return "streams"
	}
	return "other"
}

// Observe logs and measures every request. It gives the request its id
// first (the client's X-Request-ID when sane), so that every line logged
// with the request's context, and the job it may create, carry it.
func (k *Kernel) Observe(c *gin.Context) {
	start := time.Now()
	id := requestid.Accept(c.GetHeader(requestid.Header))
	c.Header(requestid.Header, id)
	c.Request = c.Request.WithContext(audit.WithClient(requestid.With(c.Request.Context(), id), c.ClientIP()))
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	code := c.Writer.Status()
	k.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(code)).Inc()
	if code == http.StatusTooManyRequests {
		k.metrics.rateLimited.WithLabelValues(rateScope(route)).Inc()
	}
	if !strings.HasSuffix(route, "/events") {
		k.metrics.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
	level := slog.LevelInfo
	if code >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	k.Logger.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path),
		slog.Int("status", code), slog.Duration("duration", time.Since(start)))
}

// hsts keeps browsers on HTTPS for two years once they have seen the site
// there. Subdomains are left out: they may not be Augur's to speak for.
const hsts = "max-age=63072000"

// SecurityHeaders keeps pages from being framed, sniffed or fed scripts
// from elsewhere; on an HTTPS-only site (httpsOnly) it also tells browsers
// never to try plain HTTP (HSTS), which they heed only over HTTPS.
func SecurityHeaders(httpsOnly bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if httpsOnly {
			h.Set("Strict-Transport-Security", hsts)
		}
		c.Next()
	}
}

// NoStoreAPI keeps every API answer, errors included, out of caches: job
// data is private to its owner and changes from one request to the next.
func NoStoreAPI(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		c.Header("Cache-Control", "no-store")
	}
	c.Next()
}
