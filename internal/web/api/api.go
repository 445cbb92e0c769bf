// Package api is Augur's JSON API under /api/v1: submitting and following
// prediction and sentiment jobs, the models' leaderboard, and the
// portfolio. It validates and records work; the worker does it.
package api

import (
	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/admission"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// Config is what the API needs besides the kernel.
type Config struct {
	// KnownModel reports whether a model name exists.
	KnownModel func(string) bool
	// Presets lists the sentiment presets.
	Presets []string
	// SubmitPerMinute is how many jobs one user may submit per minute.
	SubmitPerMinute int
	// MaxUnfinishedJobs caps one user's queued and running jobs.
	MaxUnfinishedJobs int
	// InteractiveJobsPerUser is how many of one user's unfinished jobs may
	// be on the critical queue; later interactive submissions go to default.
	InteractiveJobsPerUser int
	// DispatchedJobsPerUser is how many of one user's unfinished jobs may
	// be in Redis before the rest wait for the user's turn; 0 takes no
	// turns (see internal/admission).
	DispatchedJobsPerUser int
}

// Server holds the API's handlers.
type Server struct {
	*kernel.Kernel
	admission  *admission.Policy
	dispatcher *jobs.Dispatcher
	knownModel func(string) bool
	presets    []string
}

// New returns the API's handlers on k.
func New(k *kernel.Kernel, c Config) *Server {
	return &Server{
		Kernel: k,
		admission: admission.New(k.DB, k.Limiter, admission.Limits{
			MaxUnfinished: c.MaxUnfinishedJobs, InteractivePerUser: c.InteractiveJobsPerUser,
			SubmitPerMinute: c.SubmitPerMinute, RateLimitTimeout: kernel.RedisCallTimeout,
			DispatchPerUser: c.DispatchedJobsPerUser,
		}, k.Logger),
		dispatcher: jobs.NewDispatcher(k.DB, k.Queue, admission.Dispatch(c.DispatchedJobsPerUser), k.Logger),
		knownModel: c.KnownModel,
		presets:    c.Presets,
	}
}

// Routes adds the API's routes to r, which authenticates every request.
func (s *Server) Routes(r gin.IRoutes) {
	r.POST("/predictions", s.submitPrediction)
	r.POST("/sentiment", s.submitSentiment)
	r.GET("/models", s.models)
	r.GET("/watchlists", s.listWatchlists)
	r.POST("/watchlists", s.createWatchlist)
	r.GET("/watchlists/:id", s.getWatchlist)
	r.PUT("/watchlists/:id", s.updateWatchlist)
	r.DELETE("/watchlists/:id", s.deleteWatchlist)
	r.POST("/batches", s.submitBatch)
	r.GET("/batches", s.listBatches)
	r.GET("/batches/:id", s.getBatch)
	r.POST("/batches/:id/cancel", s.cancelBatch)
	r.GET("/schedules", s.listSchedules)
	r.POST("/schedules", s.createSchedule)
	r.GET("/schedules/:id", s.getSchedule)
	r.DELETE("/schedules/:id", s.deleteSchedule)
	r.POST("/schedules/:id/pause", s.pauseSchedule)
	r.POST("/schedules/:id/resume", s.resumeSchedule)
	r.GET("/jobs", s.listJobs)
	r.GET("/jobs/:id", s.getJob)
	r.POST("/jobs/:id/cancel", s.cancelJob)
	r.GET("/jobs/:id/events", s.jobEvents)
	r.GET("/portfolio", s.getPortfolio)
	r.POST("/portfolio/deposits", s.deposit)
	r.POST("/portfolio/orders", s.placeOrder)
	r.POST("/portfolio/orders/preview", s.previewOrder)
	r.POST("/portfolio/dividends", s.recordDividend)
	r.GET("/portfolio/transactions", s.listTransactions)
	r.GET("/portfolio/companies", s.listCompanies)
	r.GET("/portfolio/brokers", s.listBrokers)
	r.POST("/webhooks", s.createWebhook)
	r.GET("/webhooks", s.listWebhooks)
	r.GET("/webhooks/:id", s.getWebhook)
	r.DELETE("/webhooks/:id", s.deleteWebhook)
	r.POST("/webhooks/:id/rotate", s.rotateWebhookSecret)
	r.GET("/webhooks/:id/deliveries", s.listDeliveries)
	r.GET("/webhooks/:id/deliveries/:delivery/attempts", s.listAttempts)
	r.POST("/webhooks/:id/deliveries/:delivery/replay", s.replayDelivery)
}
