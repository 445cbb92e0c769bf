// Package web is Augur's HTTP face: it builds the kernel and the Gin router,
// and mounts the JSON API, the pages and admin on it. It is the only package
// that knows all three; they know only the kernel and the domain.
package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/docs"
	"github.com/augurhq/augur/internal/keyspace"
	"github.com/augurhq/augur/internal/web/admin"
	"github.com/augurhq/augur/internal/web/api"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/internal/web/ui"
)

// Deps are what the web server needs: the kernel's, which the pages and
// admin also run on, and the API's own.
type Deps struct {
	Kernel kernel.Config
	API    api.Config
}

// Handler is the web server's HTTP handler, with the work it runs in the
// background: the subscription that keeps the API token cache honest.
type Handler struct {
	http.Handler
	kernel *kernel.Kernel
	stop   func()
}

// Close stops the background work and waits for it to end.
func (h *Handler) Close() { h.stop() }

// Drain starts a graceful shutdown: readiness answers 503 from now on, so
// load balancers stop sending new requests, while every request still in
// flight or yet to arrive is served as usual; event streams get a last
// event telling the client to reconnect, and close at once, so that they
// neither hold the shutdown up nor are cut mid-event.
func (h *Handler) Drain() { h.kernel.Drain() }

// New returns the HTTP handler of the web server. Close it when done.
func New(d Deps) (*Handler, error) {
	k, r, err := newRouter(d)
	if err != nil {
		return nil, err
	}
	return &Handler{Handler: k.WithSessions(r), kernel: k, stop: k.StartBackground()}, nil
}

// SessionCookie is the name of the browser's session cookie.
const SessionCookie = kernel.SessionCookie

// InvalidateUser tells every web replica to forget the cached API tokens
// of the user; see kernel.InvalidateUser.
func InvalidateUser(ctx context.Context, rdb *redis.Client, space keyspace.Space, userID int64) error {
	return kernel.InvalidateUser(ctx, rdb, space, userID)
}

// TokenCacheLease is how long a web replica that has lost Redis may go on
// answering from its API token cache; see kernel.TokenCacheLease. A change
// that could not be published is safe everywhere once it has passed.
const TokenCacheLease = kernel.TokenCacheLease

// newRouter builds the kernel and the routes of the API, the pages and
// admin on it; the authorization matrix test reads the route table.
func newRouter(d Deps) (*kernel.Kernel, *gin.Engine, error) {
	for name, v := range map[string]int{"SubmitPerMinute": d.API.SubmitPerMinute, "MaxUnfinishedJobs": d.API.MaxUnfinishedJobs,
		"InteractiveJobsPerUser": d.API.InteractiveJobsPerUser, "StreamsPerUser": d.Kernel.StreamsPerUser, "StreamsMax": d.Kernel.StreamsMax} {
		if v < 1 {
			return nil, nil, fmt.Errorf("web: %s must be at least 1, not %d", name, v)
		}
	}
	// Gin's debug mode only prints the route table; the logs are ours.
	gin.SetMode(gin.ReleaseMode)
	k, err := kernel.New(d.Kernel)
	if err != nil {
		return nil, nil, err
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Only the listed proxies may name the client in X-Forwarded-For; by
	// default none, or anyone could dodge the per-IP sign-in limit.
	if err := r.SetTrustedProxies(d.Kernel.Accounts.TrustedProxies); err != nil {
		return nil, nil, fmt.Errorf("trusted proxies: %w", err)
	}
	r.Use(k.Observe, k.Recover, kernel.SecurityHeaders(d.Kernel.Accounts.SecureCookie), kernel.NoStoreAPI, k.CrossOrigin, k.FormText)
	r.NoRoute(k.NoRoute)
	r.NoMethod(k.NoMethod)

	kernel.GetOrHead(r, "/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	kernel.GetOrHead(r, "/readyz", ready(k))
	kernel.GetOrHead(r, "/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", docs.OpenAPI) })
	kernel.GetOrHead(r, "/static/*file", k.ServeStatic)
	kernel.GetOrHead(r, "/favicon.ico", k.Favicon)

	site := r.Group("/", k.Identify)
	signedIn := site.Group("/", k.RequireUser, k.RequireSecondFactorSetUp)
	ui.New(k, ui.Config{Presets: d.API.Presets, Accounts: d.Kernel.Accounts}).Routes(site, signedIn)

	apiV1 := r.Group("/api/v1", k.Authenticate)
	api.New(k, d.API).Routes(apiV1)

	admin.New(k).Routes(signedIn.Group("/admin", k.RequireAdmin), apiV1.Group("/admin", k.RequireAdminAPI))
	return k, r, nil
}

// ready answers 200 while PostgreSQL answers, and 503 with Retry-After
// when it does not: that is what web needs to serve anything. Redis only
// carries work (a submission is stored and the reconciler enqueues it
// later, polling reads PostgreSQL), so an outage of Redis must not take
// every web pod out of its Service: its state is in the body, in
// augur_dependency_up{dependency="redis"} and in the log. The body says
// "ok" or "unavailable" only; the error text, which names hosts and ports,
// goes to the log, since anyone can call this route.
func ready(k *kernel.Kernel) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if k.Draining() {
			c.Header("Retry-After", "1")
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "draining"})
			return
		}
		checks := gin.H{"status": "ok", "postgres": "ok", "redis": "ok"}
		status := http.StatusOK
		if err := k.DB.Ping(ctx); err != nil {
			checks["postgres"], checks["status"], status = "unavailable", "unavailable", http.StatusServiceUnavailable
			c.Header("Retry-After", strconv.Itoa(kernel.UnavailableRetryAfter))
			k.Logger.WarnContext(ctx, "readiness: postgres does not answer", "err", err)
		}
		if err := k.Redis.Ping(ctx).Err(); err != nil {
			checks["redis"] = "unavailable"
			if status == http.StatusOK {
				checks["status"] = "degraded"
			}
			k.Logger.WarnContext(ctx, "readiness: redis does not answer; still ready, submissions wait in PostgreSQL", "err", err)
		}
		c.JSON(status, checks)
	}
}
