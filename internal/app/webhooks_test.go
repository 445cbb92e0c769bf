package app

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/auth"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/webhook"
)

// delivery is what the test receiver got: the body, and whether its
// signature held under the endpoint's secret.
type delivery struct {
	id       string
	body     []byte
	verified bool
}

// TestAJobsEndIsDeliveredToItsWebhook runs the platform as deployed (web,
// worker, reconciler wiring) with a receiver on 127.0.0.1, which only
// WEBHOOK_ALLOWED_NETWORKS lets deliveries reach.
func TestAJobsEndIsDeliveredToItsWebhook(t *testing.T) {
	s := newStack(t, "WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32")
	s.startWorker()
	var secret string
	got := make(chan delivery, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key, err := webhook.SecretKey(secret)
		ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
		want := webhook.Sign(key, r.Header.Get(webhook.HeaderID), time.Unix(ts, 0), body)
		got <- delivery{id: r.Header.Get(webhook.HeaderID), body: body,
			verified: err == nil && hmac.Equal([]byte(want), []byte(r.Header.Get(webhook.HeaderSignature)))}
	}))
	defer receiver.Close()

	made := s.api.Do(http.MethodPost, "/api/v1/webhooks",
		map[string]any{"url": receiver.URL + "/hook", "events": []string{"completed", "failed"}})
	require.Equal(t, http.StatusCreated, made.Status, "%s", made.Body)
	endpoint := made.Map(t)
	secret = endpoint["secret"].(string)

	id := s.submit("/api/v1/predictions", `{"ticker":"MSFT","models":["naive"],"webhook":"`+endpoint["id"].(string)+`"}`)
	s.await(id, func(job map[string]any) bool { return job["status"] == "succeeded" })
	var d delivery
	select {
	case d = <-got:
	case <-time.After(time.Minute):
		t.Fatal("no delivery within a minute")
	}
	require.True(t, d.verified, "the signature holds under the endpoint's secret")
	var msg struct {
		Type string
		Data struct {
			JobID  string `json:"job_id"`
			Ticker string
			Status string
		}
	}
	require.NoError(t, json.Unmarshal(d.body, &msg))
	require.Equal(t, "job.completed", msg.Type)
	require.Equal(t, id, msg.Data.JobID)
	require.Equal(t, "MSFT", msg.Data.Ticker)

	var ds struct {
		Deliveries []struct {
			WebhookID    string `json:"webhook_id"`
			Status       string
			ResponseCode int `json:"response_code"`
		}
	}
	// The attempt is recorded just after the receiver answered: poll for
	// it, as a client would (the bound only keeps a broken build from
	// hanging).
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		resp := s.api.Do(http.MethodGet, "/api/v1/webhooks/"+endpoint["id"].(string)+"/deliveries", nil)
		resp.Decode(t, &ds)
		if len(ds.Deliveries) == 1 && ds.Deliveries[0].Status == "succeeded" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the delivery was never recorded: %s", resp.Body)
	}
	require.Equal(t, d.id, ds.Deliveries[0].WebhookID)
	require.Equal(t, http.StatusOK, ds.Deliveries[0].ResponseCode)
}

// TestWebhooksPageFitsAPhone adds an endpoint on /webhooks at 360 px, the
// narrowest phone the pages are made for, and checks that the page, its
// deliveries table included, does not scroll sideways.
func TestWebhooksPageFitsAPhone(t *testing.T) {
	chromium := findChromium(t)
	s := newStack(t)
	hash, err := auth.HashPassword(browserPassword)
	require.NoError(t, err)
	u, err := s.db.CreateUser(context.Background(), "hooks@example.com", "hooks", hash, store.RoleUser)
	require.NoError(t, err)
	b := newBrowser(t, chromium, viewport{name: "phone360", width: 360, height: 740, mobile: true})
	b.open(s.url, "/login", "login")
	b.do("sign in",
		fill(`input[name="email"]`, u.Email),
		fill(`input[name="password"]`, browserPassword),
		follow(`form[action="/login"] button[type="submit"]`),
		waitPage("index"),
	)
	b.open(s.url, "/account", "account")
	b.do("go to the webhooks", follow(`a[href="/webhooks"]`), waitPage("webhooks"))
	b.do("add an endpoint",
		fill(`input[name="url"]`, "https://hooks.example.com/augur/a-rather-long-path-that-must-wrap-on-a-phone"),
		fill(`input[name="description"]`, "my trading bot"),
		follow(`form[action="/webhooks"] button[type="submit"]`),
		waitPage("webhooks"),
	)
	require.Contains(t, b.text("#new-secret code"), "whsec_")
	b.fitsTheWidth("the webhooks page")
	b.screenshot("webhooks")
}
