package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/webhook"
	"github.com/augurhq/augur/jobs"
)

// Webhooks is what the API and the pages share of webhooks: registering
// an endpoint (its URL judged by the SSRF guard, its secret sealed), and
// replaying a delivery.
type Webhooks struct {
	db     *store.DB
	queue  *jobs.Queue
	guard  webhook.Guard
	sealer *webhook.Sealer
	logger *slog.Logger
}

// NewWebhookEndpoint is an endpoint as a user asks for it.
type NewWebhookEndpoint struct {
	URL         string
	Events      []string
	Description string
}

// maxWebhookDescription bounds an endpoint's description, in characters.
const maxWebhookDescription = 200

// MaxWebhookEndpoints is how many endpoints one user may register: enough
// for every receiver a person runs, and a bound on what one account can
// make the workers send.
const MaxWebhookEndpoints = 20

// normalize validates the request: a URL the guard accepts, one or more
// known events (duplicates dropped), and a short description.
func (n *NewWebhookEndpoint) normalize(g webhook.Guard) error {
	n.URL = strings.TrimSpace(n.URL)
	if n.URL == "" {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "required", Field: "url", Message: "url is required"}
	}
	if err := g.CheckURL(n.URL); err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_url", Field: "url", Message: "url " + err.Error()}
	}
	if len(n.Events) == 0 {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "required", Field: "events",
			Message: "events must name one or more of " + strings.Join(store.WebhookEvents, ", ")}
	}
	for _, asked := range n.Events {
		if !slices.Contains(store.WebhookEvents, asked) {
			return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_event", Field: "events",
				Message: "events must be among " + strings.Join(store.WebhookEvents, ", ")}
		}
	}
	// In the documented order, each once.
	var events []string
	for _, e := range store.WebhookEvents {
		if slices.Contains(n.Events, e) {
			events = append(events, e)
		}
	}
	n.Events = events
	var err error
	n.Description, err = CheckText("description", n.Description, false, maxWebhookDescription)
	return err
}

// Create registers the user's endpoint and returns it with its secret,
// which is shown this once.
func (w *Webhooks) Create(ctx context.Context, userID int64, n NewWebhookEndpoint) (*store.WebhookEndpoint, string, error) {
	if err := n.normalize(w.guard); err != nil {
		return nil, "", err
	}
	existing, err := w.db.WebhookEndpoints(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if len(existing) >= MaxWebhookEndpoints {
		return nil, "", &Error{Status: http.StatusUnprocessableEntity, Code: "too_many_webhooks",
			Message: fmt.Sprintf("you have %d webhook endpoints, the most one account may have; delete one first", len(existing))}
	}
	id := uuid.New()
	secret, sealed, err := w.newSecret(id)
	if err != nil {
		return nil, "", err
	}
	e, err := w.db.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: id, OwnerID: userID, URL: n.URL,
		Description: n.Description, Events: pq.StringArray(n.Events), Secret: sealed})
	return e, secret, err
}

// Rotate gives the user's endpoint a new secret, returned this once.
func (w *Webhooks) Rotate(ctx context.Context, userID int64, id uuid.UUID) (*store.WebhookEndpoint, string, error) {
	secret, sealed, err := w.newSecret(id)
	if err != nil {
		return nil, "", err
	}
	e, err := w.db.RotateWebhookSecret(ctx, id, userID, sealed)
	return e, secret, err
}

func (w *Webhooks) newSecret(id uuid.UUID) (secret string, sealed []byte, err error) {
	secret, err = webhook.NewSecret()
	if err != nil {
		return "", nil, err
	}
	sealed, err = w.sealer.Seal(secret, id[:])
	return secret, sealed, err
}

// Replay starts a new series of attempts of the user's delivery, under
// the same webhook-id, and enqueues its first attempt. The replay is
// recorded first: if Redis is down, the reconciler's sweep sends it.
func (w *Webhooks) Replay(ctx context.Context, userID int64, endpointID, deliveryID uuid.UUID) (*store.WebhookAttemptDue, error) {
	due, err := w.db.ReplayWebhookDelivery(ctx, endpointID, deliveryID, userID)
	if err != nil {
		return nil, err
	}
	qctx, cancel := context.WithTimeout(ctx, RedisCallTimeout)
	defer cancel()
	if err := w.queue.EnqueueWebhook(qctx, *due); err != nil {
		w.logger.WarnContext(ctx, "enqueue webhook replay; the reconciler will", "delivery_id", deliveryID, "err", err)
	}
	return due, nil
}

// Owned checks that the webhook a job submission names is the user's own
// endpoint, and returns its id in canonical form; a bad one is a 422
// naming the field "webhook".
func (w *Webhooks) Owned(ctx context.Context, userID int64, raw string) (string, error) {
	bad := &Error{Status: http.StatusUnprocessableEntity, Code: "unknown_webhook", Field: "webhook",
		Message: "webhook must be the id of one of your webhook endpoints"}
	id, err := uuid.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", bad
	}
	e, err := w.db.WebhookEndpoint(ctx, id, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", bad
	case err != nil:
		return "", err
	case e.DisabledAt != nil:
		return "", &Error{Status: http.StatusUnprocessableEntity, Code: "webhook_disabled", Field: "webhook",
			Message: "this webhook endpoint is disabled (its receiver answered 410 Gone); register it again"}
	}
	return id.String(), nil
}
