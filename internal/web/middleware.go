package web

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
)

const userKey = "augur.user"

// currentUser is the authenticated user of an /api/v1 request.
func currentUser(c *gin.Context) *store.User {
	return c.MustGet(userKey).(*store.User)
}

// authenticate requires "Authorization: Bearer <token>", or else a signed-in
// session cookie: the pages call the API, and their EventSource can send no
// header. A request with an Authorization header is judged by it alone.
func (s *Server) authenticate(c *gin.Context) {
	header := c.GetHeader("Authorization")
	if header == "" {
		user, err := s.sessionUser(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		if user == nil {
			c.Header("WWW-Authenticate", `Bearer realm="augur"`)
			abortWith(c, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "send an API token as 'Authorization: Bearer <token>', or sign in"})
			return
		}
		c.Set(userKey, user)
		c.Next()
		return
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="augur"`)
		abortWith(c, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: "send an API token as 'Authorization: Bearer <token>'"})
		return
	}
	user, err := s.db.UserByTokenDigest(c.Request.Context(), auth.TokenDigest(strings.TrimSpace(token)))
	if errors.Is(err, store.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="augur", error="invalid_token"`)
		abortWith(c, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "unknown or revoked API token"})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(userKey, user)
	c.Next()
}

// rateLimitSubmit bounds how many jobs one user submits per minute.
func (s *Server) rateLimitSubmit(c *gin.Context) {
	user := currentUser(c)
	res, err := s.limiter.Allow(c.Request.Context(), fmt.Sprintf("augur:ratelimit:submit:%d", user.ID), s.submitRate)
	if err != nil {
		// Without Redis the job could not be queued quickly anyway, but
		// the row would still be kept; do not refuse work over a limiter.
		s.logger.WarnContext(c.Request.Context(), "rate limiter unavailable", "err", err)
		c.Next()
		return
	}
	c.Header("RateLimit-Limit", strconv.Itoa(s.submitRate.Rate))
	c.Header("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	if res.Allowed == 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(res.RetryAfter.Seconds()))))
		abortWith(c, &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: fmt.Sprintf("at most %d submissions a minute; retry later", s.submitRate.Rate)})
		return
	}
	c.Next()
}

// recover turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.fail(c, fmt.Errorf("panic: %v", p))
		}
	}()
	c.Next()
}

// httpMetrics counts requests by route, method and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
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
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration)
	}
	return m
}

// observe logs and measures every request.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	code := c.Writer.Status()
	s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(code)).Inc()
	if !strings.HasSuffix(route, "/events") {
		s.metrics.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
	level := slog.LevelInfo
	if code >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	s.logger.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path),
		slog.Int("status", code), slog.Duration("duration", time.Since(start)))
}

// securityHeaders keeps pages from being framed, sniffed or fed scripts
// from elsewhere.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
}
