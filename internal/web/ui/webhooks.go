package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// webhooksPage is what /webhooks shows.
type webhooksPage struct {
	Endpoints []endpointRow
	// NewSecret is the secret of the endpoint just added, shown once.
	NewSecret string
	// Events are the events the form offers.
	Events []string
}

// endpointRow is an endpoint with its newest deliveries.
type endpointRow struct {
	store.WebhookEndpoint
	Deliveries []store.WebhookDelivery
}

// deliveriesShown is how many deliveries the page lists per endpoint.
const deliveriesShown = 10

func (s *Server) webhooksPage(c *gin.Context) {
	s.renderWebhooks(c, http.StatusOK, kernel.PageData{}, "")
}

// renderWebhooks renders /webhooks with the user's endpoints and their
// newest deliveries.
func (s *Server) renderWebhooks(c *gin.Context, status int, data kernel.PageData, newSecret string) {
	ctx, user := c.Request.Context(), kernel.PageUser(c).ID
	endpoints, err := s.DB.WebhookEndpoints(ctx, user)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	page := webhooksPage{NewSecret: newSecret, Events: store.WebhookEvents}
	for _, e := range endpoints {
		deliveries, err := s.DB.WebhookDeliveries(ctx, e.ID, user, deliveriesShown)
		if err != nil {
			s.FailPage(c, err)
			return
		}
		page.Endpoints = append(page.Endpoints, endpointRow{WebhookEndpoint: e, Deliveries: deliveries})
	}
	data.Title, data.Page, data.Webhooks = "Webhooks", "webhooks", page
	s.Render(c, status, data)
}

func (s *Server) createWebhookForm(c *gin.Context) {
	_, secret, err := s.Webhooks.Create(c.Request.Context(), kernel.PageUser(c).ID, kernel.NewWebhookEndpoint{
		URL: c.PostForm("url"), Events: c.PostFormArray("events"), Description: c.PostForm("description"),
	})
	var refused *kernel.Error
	switch {
	case errors.As(err, &refused):
		s.renderWebhooks(c, refused.Status, kernel.PageData{Error: refused.Message,
			Form: map[string]string{"url": c.PostForm("url"), "description": c.PostForm("description")}}, "")
	case err != nil:
		s.FailPage(c, err)
	default:
		s.renderWebhooks(c, http.StatusCreated, kernel.PageData{}, secret)
	}
}

// noSuchWebhook is the page for an endpoint or delivery that does not
// exist, or is not the user's: the two look the same.
func (s *Server) noSuchWebhook(c *gin.Context) {
	s.ErrorPage(c, http.StatusNotFound, "No such webhook", "That webhook endpoint or delivery does not exist, or is not yours.")
}

func (s *Server) deleteWebhookForm(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.noSuchWebhook(c)
		return
	}
	err = s.DB.DeleteWebhookEndpoint(c.Request.Context(), id, kernel.PageUser(c).ID)
	s.backToWebhooks(c, err, "The endpoint is deleted, with its deliveries.")
}

// backToWebhooks answers a form of /webhooks: back to the page with done
// as its flash when err is nil (or with why a replay waits), the not-found
// page for another user's endpoint or delivery, or the error page.
func (s *Server) backToWebhooks(c *gin.Context, err error, done string) {
	switch {
	case err == nil:
		s.Flash(c, done)
	case errors.Is(err, store.ErrWebhookBusy):
		s.Flash(c, "That delivery is still being attempted, or its endpoint is disabled.")
	case errors.Is(err, store.ErrNotFound):
		s.noSuchWebhook(c)
		return
	default:
		s.FailPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/webhooks")
}

func (s *Server) replayForm(c *gin.Context) {
	endpoint, err := uuid.Parse(c.Param("id"))
	delivery, err2 := uuid.Parse(c.Param("delivery"))
	if err != nil || err2 != nil {
		s.noSuchWebhook(c)
		return
	}
	_, err = s.Webhooks.Replay(c.Request.Context(), kernel.PageUser(c).ID, endpoint, delivery)
	s.backToWebhooks(c, err, "The delivery is sent again, under the same webhook-id.")
}
