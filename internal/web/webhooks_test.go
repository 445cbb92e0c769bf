package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/web/kernel"
)

// apiError is the API's error body.
type apiError struct {
	Error struct{ Code, Field string }
}

func TestWebhookEndpointsThroughTheAPI(t *testing.T) {
	h := newHarness(t, 1000)
	ctx := context.Background()
	_, ownerToken, _ := h.member(t, store.RoleUser)
	_, otherToken, _ := h.member(t, store.RoleUser)
	owner, other := h.api.As(ownerToken), h.api.As(otherToken)

	// Refused URLs and events name their field.
	for body, field := range map[string]string{
		`{"url":"http://127.0.0.1/hook","events":["completed"]}`:                   "url",
		`{"url":"http://169.254.169.254/latest/meta-data","events":["completed"]}`: "url",
		`{"url":"http://[::ffff:10.0.0.1]/","events":["completed"]}`:               "url",
		`{"url":"file:///etc/passwd","events":["completed"]}`:                      "url",
		`{"url":"https://example.com/hook","events":[]}`:                           "events",
		`{"url":"https://example.com/hook","events":["deleted"]}`:                  "events",
	} {
		got := owner.Do(http.MethodPost, "/api/v1/webhooks", body)
		require.Equal(t, http.StatusUnprocessableEntity, got.Status, body)
		var e apiError
		got.Decode(t, &e)
		require.Equal(t, field, e.Error.Field, body)
	}

	made := owner.Do(http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://example.com/hook",
		"events": []string{"recommendation_changed", "completed", "completed"}, "description": "my bot"})
	require.Equal(t, http.StatusCreated, made.Status, string(made.Body))
	var endpoint struct {
		ID     uuid.UUID
		Secret string
		Events []string
	}
	made.Decode(t, &endpoint)
	require.True(t, strings.HasPrefix(endpoint.Secret, "whsec_"))
	require.Equal(t, []string{"completed", "recommendation_changed"}, endpoint.Events, "known events, each once, in order")
	require.Equal(t, "/api/v1/webhooks/"+endpoint.ID.String(), made.Header.Get("Location"))
	path := "/api/v1/webhooks/" + endpoint.ID.String()

	got := owner.Do(http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, got.Status)
	require.NotContains(t, string(got.Body), endpoint.Secret, "the secret is shown once")
	require.Equal(t, http.StatusNotFound, other.Do(http.MethodGet, path, nil).Status, "another user's is not found")
	list := other.Do(http.MethodGet, "/api/v1/webhooks", nil)
	require.Equal(t, http.StatusOK, list.Status)
	require.NotContains(t, string(list.Body), endpoint.ID.String())

	rotated := owner.Do(http.MethodPost, path+"/rotate", nil)
	require.Equal(t, http.StatusOK, rotated.Status)
	var again struct{ Secret string }
	rotated.Decode(t, &again)
	require.True(t, strings.HasPrefix(again.Secret, "whsec_"))
	require.NotEqual(t, endpoint.Secret, again.Secret)

	// A job names the endpoint; another user's endpoint, or no endpoint,
	// is a 422 naming the field.
	for _, hook := range []string{"not-a-uuid", uuid.NewString()} {
		refused := owner.Do(http.MethodPost, "/api/v1/predictions", map[string]any{"ticker": "MSFT", "webhook": hook})
		require.Equal(t, http.StatusUnprocessableEntity, refused.Status)
		var e apiError
		refused.Decode(t, &e)
		require.Equal(t, "webhook", e.Error.Field)
	}
	stolen := other.Do(http.MethodPost, "/api/v1/sentiment", map[string]any{"texts": []string{"up"}, "webhook": endpoint.ID})
	require.Equal(t, http.StatusUnprocessableEntity, stolen.Status)

	submitted := owner.Do(http.MethodPost, "/api/v1/predictions",
		map[string]any{"ticker": "MSFT", "models": []string{"naive"}, "webhook": endpoint.ID})
	require.Equal(t, http.StatusAccepted, submitted.Status, string(submitted.Body))
	var job struct{ ID uuid.UUID }
	submitted.Decode(t, &job)
	started, err := h.db.StartJob(ctx, job.ID, "test", time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.FinishJob(ctx, started.Attempt(), store.StatusSucceeded, store.JSON(`{}`), ""))

	deliveries := owner.Do(http.MethodGet, path+"/deliveries", nil)
	require.Equal(t, http.StatusOK, deliveries.Status)
	var ds struct {
		Deliveries []struct {
			ID        uuid.UUID
			WebhookID string `json:"webhook_id"`
			Event     string
			JobID     uuid.UUID `json:"job_id"`
			Status    string
		}
	}
	deliveries.Decode(t, &ds)
	require.Len(t, ds.Deliveries, 1)
	d := ds.Deliveries[0]
	require.Equal(t, "completed", d.Event)
	require.Equal(t, job.ID, d.JobID)
	require.Equal(t, "pending", d.Status)
	require.Equal(t, "msg_"+d.ID.String(), d.WebhookID)
	require.Equal(t, http.StatusNotFound, other.Do(http.MethodGet, path+"/deliveries", nil).Status)

	attempts := owner.Do(http.MethodGet, path+"/deliveries/"+d.ID.String()+"/attempts", nil)
	require.Equal(t, http.StatusOK, attempts.Status)
	require.JSONEq(t, `{"attempts":[]}`, string(attempts.Body))
	replay := path + "/deliveries/" + d.ID.String() + "/replay"
	require.Equal(t, http.StatusConflict, owner.Do(http.MethodPost, replay, nil).Status, "still pending")
	require.Equal(t, http.StatusNotFound, other.Do(http.MethodPost, replay, nil).Status)

	// Once the delivery is done, a replay is accepted.
	due, err := h.db.PendingWebhookDeliveries(ctx, job.ID)
	require.NoError(t, err)
	_, err = h.db.ClaimWebhookAttempt(ctx, due[0], time.Minute)
	require.NoError(t, err)
	require.NoError(t, h.db.RecordWebhookAttempt(ctx, due[0], store.WebhookAttemptResult{Status: "failed",
		Attempt: store.WebhookAttempt{Outcome: "failed", LatencyMS: 12, ErrorClass: "timeout"}}))
	accepted := owner.Do(http.MethodPost, replay, nil)
	require.Equal(t, http.StatusAccepted, accepted.Status, string(accepted.Body))
	require.Contains(t, string(accepted.Body), `"series":2`)
	require.Contains(t, string(owner.Do(http.MethodGet, path+"/deliveries/"+d.ID.String()+"/attempts", nil).Body), `"error_class":"timeout"`)

	require.Equal(t, http.StatusBadRequest, owner.Do(http.MethodGet, "/api/v1/webhooks/nope", nil).Status)
	require.Equal(t, http.StatusNotFound, other.Do(http.MethodDelete, path, nil).Status)
	require.Equal(t, http.StatusNoContent, owner.Do(http.MethodDelete, path, nil).Status)
	require.Equal(t, http.StatusNotFound, owner.Do(http.MethodGet, path, nil).Status)

	// One account may have kernel.MaxWebhookEndpoints endpoints.
	hook := map[string]any{"url": "https://example.com/hook", "events": []string{"failed"}}
	for range kernel.MaxWebhookEndpoints {
		require.Equal(t, http.StatusCreated, owner.Do(http.MethodPost, "/api/v1/webhooks", hook).Status)
	}
	over := owner.Do(http.MethodPost, "/api/v1/webhooks", hook)
	require.Equal(t, http.StatusUnprocessableEntity, over.Status)
	require.Contains(t, string(over.Body), "too_many_webhooks")
}

func TestWebhooksPage(t *testing.T) {
	h := newHarness(t, 1000)
	u, _, b := h.member(t, store.RoleUser)
	require.Contains(t, b.get("/account").body, `href="/webhooks"`)
	page := b.post("/webhooks", url.Values{"url": {"http://192.168.1.1/"}, "events": {"completed"}})
	require.Equal(t, http.StatusUnprocessableEntity, page.status)
	require.Contains(t, page.body, "address not allowed")
	page = b.post("/webhooks", url.Values{"url": {"https://example.com/hook"}, "events": {"completed", "failed"},
		"description": {"my bot"}})
	require.Equal(t, http.StatusCreated, page.status)
	require.Contains(t, page.body, "whsec_")
	endpoints, err := h.db.WebhookEndpoints(context.Background(), u.ID)
	require.NoError(t, err)
	require.Len(t, endpoints, 1)
	require.NotContains(t, string(endpoints[0].Secret), "whsec_", "the secret is sealed at rest")
	page = b.get("/webhooks")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "https://example.com/hook")
	require.Contains(t, page.body, "completed, failed")
	require.NotContains(t, page.body, "whsec_", "the secret is shown once")
	require.Contains(t, page.body, `name="viewport"`, "readable on a phone")
}
