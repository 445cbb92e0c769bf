// Package web is Augur's HTTP face: the Gin router, the JSON API, the pages
// and their middleware. It validates and records work; the worker does it.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/augurhq/augur/docs"
	"github.com/augurhq/augur/internal/portfolio"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// Deps are what the web server needs.
type Deps struct {
	DB     *store.DB
	Redis  *redis.Client
	Queue  *jobs.Queue
	Events *jobs.Events
	// Prices gives the latest close that trades and valuations use.
	Prices   portfolio.Prices
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// KnownModel reports whether a model name exists.
	KnownModel func(string) bool
	// Presets lists the sentiment presets.
	Presets []string
	// SubmitPerMinute is how many jobs one user may submit per minute.
	SubmitPerMinute int
	// Accounts configures sessions and sign-in.
	Accounts Accounts
	// MaxUnfinishedJobs caps one user's queued and running jobs.
	MaxUnfinishedJobs int
	// InteractiveJobsPerUser is how many of one user's unfinished jobs may
	// be on the critical queue; later interactive submissions go to default.
	InteractiveJobsPerUser int
	// StreamsPerUser and StreamsMax cap the open event streams of one user
	// and of this process.
	StreamsPerUser int
	StreamsMax     int
}

// Server holds the handlers' dependencies.
type Server struct {
	db         *store.DB
	rdb        *redis.Client
	queue      *jobs.Queue
	events     *jobs.Events
	hub        *streamHub
	tokens     *tokenCache
	prices     portfolio.Prices
	logger     *slog.Logger
	limiter    *redis_rate.Limiter
	submitRate redis_rate.Limit
	// maxUnfinished and interactivePerUser are Deps' MaxUnfinishedJobs and
	// InteractiveJobsPerUser.
	maxUnfinished      int
	interactivePerUser int
	knownModel         func(string) bool
	presets            []string
	metrics            *httpMetrics
	pages              pages

	sessions         *scs.SessionManager
	cop              *http.CrossOriginProtection
	loginIPRate      redis_rate.Limit
	loginAccountRate redis_rate.Limit
	rateKey          []byte
}

// Handler is the web server's HTTP handler, with the work it runs in the
// background: the subscription that keeps the API token cache honest.
type Handler struct {
	http.Handler
	stop func()
}

// Close stops the background work and waits for it to end.
func (h *Handler) Close() { h.stop() }

// New returns the HTTP handler of the web server. Close it when done.
func New(d Deps) (*Handler, error) {
	s, r, err := newRouter(d)
	if err != nil {
		return nil, err
	}
	return &Handler{Handler: s.withSessions(r), stop: s.startBackground()}, nil
}

// startBackground starts what runs beside the requests and returns what
// stops it. Without a Redis client (tests of the routes alone) nothing
// runs, and the token cache is never live.
func (s *Server) startBackground() (stop func()) {
	if s.rdb == nil {
		return func() {}
	}
	return s.tokens.start()
}

// newRouter builds the server and its routes; the authorization matrix
// test reads the route table from it.
func newRouter(d Deps) (*Server, *gin.Engine, error) {
	for name, v := range map[string]int{"SubmitPerMinute": d.SubmitPerMinute, "MaxUnfinishedJobs": d.MaxUnfinishedJobs,
		"InteractiveJobsPerUser": d.InteractiveJobsPerUser, "StreamsPerUser": d.StreamsPerUser, "StreamsMax": d.StreamsMax} {
		if v < 1 {
			return nil, nil, fmt.Errorf("web: %s must be at least 1, not %d", name, v)
		}
	}
	assets, err := loadStaticAssets()
	if err != nil {
		return nil, nil, err
	}
	pg, err := parsePages(assets)
	if err != nil {
		return nil, nil, err
	}
	// Gin's debug mode only prints the route table; the logs are ours.
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		db:                 d.DB,
		rdb:                d.Redis,
		queue:              d.Queue,
		events:             d.Events,
		prices:             d.Prices,
		hub:                newStreamHub(d.Events, d.Logger, d.StreamsPerUser, d.StreamsMax),
		tokens:             newTokenCache(d.Redis, d.Logger),
		logger:             d.Logger,
		limiter:            redis_rate.NewLimiter(d.Redis),
		submitRate:         redis_rate.PerMinute(d.SubmitPerMinute),
		maxUnfinished:      d.MaxUnfinishedJobs,
		interactivePerUser: d.InteractiveJobsPerUser,
		knownModel:         d.KnownModel,
		presets:            d.Presets,
		metrics:            newHTTPMetrics(d.Registry),
		pages:              pg,

		sessions:         newSessionManager(d.Accounts, d.Logger),
		cop:              http.NewCrossOriginProtection(),
		loginIPRate:      redis_rate.PerMinute(d.Accounts.LoginPerMinutePerIP),
		loginAccountRate: redis_rate.PerHour(d.Accounts.LoginPerHourPerAccount),
		rateKey:          []byte(d.Accounts.SecretKey),
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Only the listed proxies may name the client in X-Forwarded-For; by
	// default none, or anyone could dodge the per-IP sign-in limit.
	if err := r.SetTrustedProxies(d.Accounts.TrustedProxies); err != nil {
		return nil, nil, fmt.Errorf("trusted proxies: %w", err)
	}
	r.Use(s.recover, s.observe, securityHeaders, noStoreAPI, s.crossOrigin)
	r.NoRoute(s.notFound)
	r.NoMethod(s.methodNotAllowed)

	getOrHead(r, "/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	getOrHead(r, "/readyz", s.ready)
	getOrHead(r, "/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", docs.OpenAPI) })

	site := r.Group("/", s.identify)
	getOrHead(site, "/login", s.loginPage)
	site.POST("/login", s.login)
	getOrHead(site, "/register", s.registerPage)
	site.POST("/register", s.register)
	site.POST("/logout", s.logout)
	signedIn := site.Group("/", s.requireUser)
	getOrHead(signedIn, "/", s.indexPage)
	getOrHead(signedIn, "/jobs/:id", s.jobPage)
	signedIn.POST("/jobs/:id/cancel", s.cancelForm)
	getOrHead(signedIn, "/dashboard", s.dashboardPage)
	signedIn.POST("/dashboard/deposits", s.depositForm)
	signedIn.POST("/dashboard/orders", s.orderForm)
	signedIn.POST("/dashboard/dividends", s.dividendForm)
	getOrHead(signedIn, "/models", s.modelsPage)
	getOrHead(signedIn, "/account", s.accountPage)
	signedIn.POST("/account/password", s.changePassword)
	signedIn.POST("/account/tokens", s.createToken)
	signedIn.POST("/account/tokens/:id/revoke", s.revokeToken)
	admin := signedIn.Group("/admin", s.requireAdmin)
	getOrHead(admin, "", s.adminPage)
	getOrHead(admin, "/users", s.adminUsersPage)
	admin.POST("/users/:id", s.adminUpdateUser)
	getOrHead(admin, "/companies", s.adminCompaniesPage)
	admin.POST("/companies", s.adminCreateCompany)
	admin.POST("/companies/:id", s.adminUpdateCompany)
	getOrHead(admin, "/brokers", s.adminBrokersPage)
	admin.POST("/brokers", s.adminCreateBroker)
	admin.POST("/brokers/:id", s.adminUpdateBroker)
	getOrHead(admin, "/queues", s.adminQueuesPage)
	admin.POST("/queues/:queue/pause", s.adminPauseQueue)
	admin.POST("/queues/:queue/resume", s.adminResumeQueue)
	admin.POST("/queues/:queue/tasks/:id/run", s.adminRunTask)
	admin.POST("/queues/:queue/tasks/:id/delete", s.adminDeleteTask)
	getOrHead(admin, "/jobs/:id", s.adminJobPage)
	getOrHead(r, "/static/*file", assets.serve)
	getOrHead(r, "/favicon.ico", assets.favicon)

	api := r.Group("/api/v1", s.authenticate)
	api.POST("/predictions", s.submitPrediction)
	api.POST("/sentiment", s.submitSentiment)
	api.GET("/models", s.models)
	api.GET("/jobs", s.listJobs)
	api.GET("/jobs/:id", s.getJob)
	api.POST("/jobs/:id/cancel", s.cancelJob)
	api.GET("/jobs/:id/events", s.jobEvents)
	api.GET("/portfolio", s.getPortfolio)
	api.POST("/portfolio/deposits", s.deposit)
	api.POST("/portfolio/orders", s.placeOrder)
	api.POST("/portfolio/dividends", s.recordDividend)
	api.GET("/portfolio/transactions", s.listTransactions)
	api.GET("/portfolio/companies", s.listCompanies)
	api.GET("/portfolio/brokers", s.listBrokers)
	adminAPI := api.Group("/admin", s.requireAdminAPI)
	adminAPI.GET("/companies", s.apiAdminCompanies)
	adminAPI.POST("/companies", s.apiAdminCreateCompany)
	adminAPI.PATCH("/companies/:id", s.apiAdminUpdateCompany)
	adminAPI.POST("/companies/:id/deactivate", s.apiAdminDeactivateCompany)
	adminAPI.GET("/brokers", s.apiAdminBrokers)
	adminAPI.POST("/brokers", s.apiAdminCreateBroker)
	adminAPI.PATCH("/brokers/:id", s.apiAdminUpdateBroker)
	adminAPI.POST("/brokers/:id/deactivate", s.apiAdminDeactivateBroker)
	adminAPI.GET("/users", s.apiAdminUsers)
	adminAPI.PATCH("/users/:id", s.apiAdminUpdateUser)
	return s, r, nil
}

// getOrHead routes GET and HEAD of path to h: HEAD is a GET whose body
// net/http drops, and monitors and link checkers rely on it.
func getOrHead(r gin.IRoutes, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, h)
}

// ready answers 200 when PostgreSQL and Redis both answer, and otherwise
// 503 naming the one that does not.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"status": "ok", "postgres": "ok", "redis": "ok"}
	status := http.StatusOK
	if err := s.db.Ping(ctx); err != nil {
		checks["postgres"], status = "unavailable: "+err.Error(), http.StatusServiceUnavailable
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		checks["redis"], status = "unavailable: "+err.Error(), http.StatusServiceUnavailable
	}
	if status != http.StatusOK {
		checks["status"] = "unavailable"
		c.Header("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	c.JSON(status, checks)
}
