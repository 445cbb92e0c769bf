// Package admin is Augur's administration: pages and a JSON API over the
// users, the companies and brokers that can be traded, and the queue panel
// over asynq's queues and tasks.
package admin

import (
	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/web/kernel"
)

// Server holds the administration's handlers.
type Server struct {
	*kernel.Kernel
}

// New returns the administration's handlers on k.
func New(k *kernel.Kernel) *Server { return &Server{Kernel: k} }

// Routes adds the admin pages to pages and the admin API to api; each
// lets only admins through.
func (s *Server) Routes(pages, api gin.IRoutes) {
	kernel.GetOrHead(pages, "", s.adminPage)
	kernel.GetOrHead(pages, "/users", s.adminUsersPage)
	pages.POST("/users/:id", s.adminUpdateUser)
	pages.POST("/users/:id/two-factor/reset", s.adminResetSecondFactor)
	kernel.GetOrHead(pages, "/companies", s.adminCompaniesPage)
	pages.POST("/companies", s.adminCreateCompany)
	pages.POST("/companies/:id", s.adminUpdateCompany)
	kernel.GetOrHead(pages, "/brokers", s.adminBrokersPage)
	pages.POST("/brokers", s.adminCreateBroker)
	pages.POST("/brokers/:id", s.adminUpdateBroker)
	kernel.GetOrHead(pages, "/queues", s.adminQueuesPage)
	pages.POST("/queues/:queue/pause", s.adminPauseQueue)
	pages.POST("/queues/:queue/resume", s.adminResumeQueue)
	pages.POST("/queues/:queue/tasks/:id/run", s.adminRunTask)
	pages.POST("/queues/:queue/tasks/:id/delete", s.adminDeleteTask)
	kernel.GetOrHead(pages, "/jobs/:id", s.adminJobPage)
	kernel.GetOrHead(pages, "/schedules", s.adminSchedulesPage)
	kernel.GetOrHead(pages, "/audit", s.adminAuditPage)

	api.GET("/companies", s.apiAdminCompanies)
	api.POST("/companies", s.apiAdminCreateCompany)
	api.PATCH("/companies/:id", s.apiAdminUpdateCompany)
	api.POST("/companies/:id/deactivate", s.apiAdminDeactivateCompany)
	api.GET("/brokers", s.apiAdminBrokers)
	api.POST("/brokers", s.apiAdminCreateBroker)
	api.PATCH("/brokers/:id", s.apiAdminUpdateBroker)
	api.POST("/brokers/:id/deactivate", s.apiAdminDeactivateBroker)
	api.GET("/users", s.apiAdminUsers)
	api.PATCH("/users/:id", s.apiAdminUpdateUser)
	api.GET("/schedules", s.apiAdminSchedules)
	api.DELETE("/users/:id/two-factor", s.apiAdminResetSecondFactor)
	api.GET("/audit", s.apiAdminAudit)
}
