package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
	"github.com/augurhq/augur/jobs"
)

// webhookRequest is the body of POST /api/v1/webhooks.
type webhookRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// webhookView is an endpoint as the API shows it. Secret is set only in
// the answers that make one (create, rotate): it is shown once.
type webhookView struct {
	ID              uuid.UUID  `json:"id"`
	URL             string     `json:"url"`
	Events          []string   `json:"events"`
	Description     string     `json:"description"`
	CreatedAt       time.Time  `json:"created_at"`
	SecretRotatedAt *time.Time `json:"secret_rotated_at,omitempty"`
	DisabledAt      *time.Time `json:"disabled_at,omitempty"`
	DisabledReason  string     `json:"disabled_reason,omitempty"`
	Secret          string     `json:"secret,omitempty"`
}

func viewWebhook(e *store.WebhookEndpoint, secret string) webhookView {
	return webhookView{ID: e.ID, URL: e.URL, Events: e.Events, Description: e.Description, CreatedAt: e.CreatedAt,
		SecretRotatedAt: e.SecretRotatedAt, DisabledAt: e.DisabledAt, DisabledReason: e.DisabledReason.String,
		Secret: secret}
}

// deliveryView is a delivery with its latest attempt.
type deliveryView struct {
	ID            uuid.UUID  `json:"id"`
	WebhookID     string     `json:"webhook_id"`
	Event         string     `json:"event"`
	EventID       string     `json:"event_id"`
	JobID         *uuid.UUID `json:"job_id,omitempty"`
	Status        string     `json:"status"`
	Series        int        `json:"series"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	ResponseCode  *int64     `json:"response_code,omitempty"`
	LatencyMS     *int64     `json:"latency_ms,omitempty"`
	ErrorClass    string     `json:"error_class,omitempty"`
}

func viewDelivery(d store.WebhookDelivery) deliveryView {
	v := deliveryView{ID: d.ID, WebhookID: jobs.MessageID(d.ID), Event: d.EventType, EventID: d.EventID,
		Status: d.Status, Series: d.Series, Attempts: d.Attempts, CreatedAt: d.CreatedAt, FinishedAt: d.FinishedAt,
		ErrorClass: d.ErrorClass.String}
	if d.JobID.Valid {
		v.JobID = &d.JobID.UUID
	}
	if d.Status == "pending" {
		v.NextAttemptAt = &d.NextAttemptAt
	}
	if d.ResponseCode.Valid {
		v.ResponseCode = &d.ResponseCode.Int64
	}
	if d.LatencyMS.Valid {
		v.LatencyMS = &d.LatencyMS.Int64
	}
	return v
}

// attemptView is one attempt of a delivery.
type attemptView struct {
	Series       int       `json:"series"`
	Number       int       `json:"number"`
	AttemptedAt  time.Time `json:"attempted_at"`
	Outcome      string    `json:"outcome"`
	ResponseCode *int64    `json:"response_code,omitempty"`
	LatencyMS    int       `json:"latency_ms"`
	ResponseBody string    `json:"response_body"`
	ErrorClass   string    `json:"error_class,omitempty"`
}

// recentDeliveries is how many deliveries an endpoint's listing shows.
const recentDeliveries = 50

func (s *Server) createWebhook(c *gin.Context) {
	var req webhookRequest
	if err := kernel.DecodeJSON(c, &req); err != nil {
		s.Fail(c, err)
		return
	}
	e, secret, err := s.Webhooks.Create(c.Request.Context(), kernel.CurrentUser(c).ID,
		kernel.NewWebhookEndpoint{URL: req.URL, Events: req.Events, Description: req.Description})
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/webhooks/"+e.ID.String())
	c.JSON(http.StatusCreated, viewWebhook(e, secret))
}

func (s *Server) listWebhooks(c *gin.Context) {
	list, err := s.DB.WebhookEndpoints(c.Request.Context(), kernel.CurrentUser(c).ID)
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]webhookView, 0, len(list))
	for i := range list {
		views = append(views, viewWebhook(&list[i], ""))
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": views})
}

// webhookIDs parses the path's endpoint id, and its delivery id when the
// route has one.
func webhookIDs(c *gin.Context) (endpoint, delivery uuid.UUID, err error) {
	endpoint, err = uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, uuid.Nil, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_id", Field: "id",
			Message: "webhook id must be a UUID"}
	}
	if raw := c.Param("delivery"); raw != "" {
		if delivery, err = uuid.Parse(raw); err != nil {
			return uuid.Nil, uuid.Nil, &kernel.Error{Status: http.StatusBadRequest, Code: "invalid_id",
				Field: "delivery", Message: "delivery id must be a UUID"}
		}
	}
	return endpoint, delivery, nil
}

// failWebhook is Fail for a request about one endpoint or delivery: one
// that is missing, or another user's, is no such thing.
func (s *Server) failWebhook(c *gin.Context, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		kernel.Abort(c, kernel.NotFound(what))
		return
	}
	s.Fail(c, err)
}

// ownedWebhook parses the path's ids and looks the endpoint up before
// its deliveries or attempts are listed, so that another user's answers
// 404 rather than an empty list; it has answered when ok is false.
func (s *Server) ownedWebhook(c *gin.Context) (endpoint, delivery uuid.UUID, user int64, ok bool) {
	endpoint, delivery, err := webhookIDs(c)
	if err != nil {
		s.Fail(c, err)
		return uuid.Nil, uuid.Nil, 0, false
	}
	user = kernel.CurrentUser(c).ID
	if _, err := s.DB.WebhookEndpoint(c.Request.Context(), endpoint, user); err != nil {
		s.failWebhook(c, "webhook", err)
		return uuid.Nil, uuid.Nil, 0, false
	}
	return endpoint, delivery, user, true
}

func (s *Server) getWebhook(c *gin.Context) {
	id, _, err := webhookIDs(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	e, err := s.DB.WebhookEndpoint(c.Request.Context(), id, kernel.CurrentUser(c).ID)
	if err != nil {
		s.failWebhook(c, "webhook", err)
		return
	}
	c.JSON(http.StatusOK, viewWebhook(e, ""))
}

func (s *Server) deleteWebhook(c *gin.Context) {
	id, _, err := webhookIDs(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	if err := s.DB.DeleteWebhookEndpoint(c.Request.Context(), id, kernel.CurrentUser(c).ID); err != nil {
		s.failWebhook(c, "webhook", err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) rotateWebhookSecret(c *gin.Context) {
	id, _, err := webhookIDs(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	e, secret, err := s.Webhooks.Rotate(c.Request.Context(), kernel.CurrentUser(c).ID, id)
	if err != nil {
		s.failWebhook(c, "webhook", err)
		return
	}
	c.JSON(http.StatusOK, viewWebhook(e, secret))
}

func (s *Server) listDeliveries(c *gin.Context) {
	id, _, user, ok := s.ownedWebhook(c)
	if !ok {
		return
	}
	list, err := s.DB.WebhookDeliveries(c.Request.Context(), id, user, recentDeliveries)
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]deliveryView, 0, len(list))
	for _, d := range list {
		views = append(views, viewDelivery(d))
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": views})
}

func (s *Server) listAttempts(c *gin.Context) {
	endpoint, delivery, user, ok := s.ownedWebhook(c)
	if !ok {
		return
	}
	list, err := s.DB.WebhookAttempts(c.Request.Context(), endpoint, delivery, user)
	if err != nil {
		s.Fail(c, err)
		return
	}
	views := make([]attemptView, 0, len(list))
	for _, a := range list {
		v := attemptView{Series: a.Series, Number: a.Number, AttemptedAt: a.AttemptedAt, Outcome: a.Outcome,
			LatencyMS: a.LatencyMS, ResponseBody: a.ResponseBody, ErrorClass: a.ErrorClass}
		if a.ResponseCode.Valid {
			v.ResponseCode = &a.ResponseCode.Int64
		}
		views = append(views, v)
	}
	c.JSON(http.StatusOK, gin.H{"attempts": views})
}

func (s *Server) replayDelivery(c *gin.Context) {
	endpoint, delivery, err := webhookIDs(c)
	if err != nil {
		s.Fail(c, err)
		return
	}
	due, err := s.Webhooks.Replay(c.Request.Context(), kernel.CurrentUser(c).ID, endpoint, delivery)
	if err != nil {
		s.failWebhook(c, "delivery", err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": due.DeliveryID, "webhook_id": jobs.MessageID(due.DeliveryID),
		"series": due.Series, "status": "pending"})
}
