package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/dbtest"
	"github.com/augurhq/augur/internal/store"
)

func newEndpoint(t testing.TB, db *store.DB, owner int64, events ...string) *store.WebhookEndpoint {
	e, err := db.CreateWebhookEndpoint(context.Background(), store.WebhookEndpoint{
		ID: uuid.New(), OwnerID: owner, URL: "https://example.com/hook", Events: pq.StringArray(events),
		Secret: []byte("sealed"),
	})
	require.NoError(t, err)
	return e
}

// finishPrediction runs one prediction of owner on ticker through to its
// end, with the given webhook endpoint and recommended action.
func finishPrediction(t *testing.T, db *store.DB, owner int64, ticker string, hook *uuid.UUID, action string, status store.JobStatus) uuid.UUID {
	ctx := context.Background()
	params := `{}`
	if hook != nil {
		params = `{"webhook":"` + hook.String() + `"}`
	}
	job, _, err := db.CreateJob(ctx, store.NewJob{OwnerID: owner, Kind: store.KindPrediction, Ticker: ticker,
		Queue: "critical", Params: store.JSON(params)})
	require.NoError(t, err)
	started, err := db.StartJob(ctx, job.ID, "w", time.Minute)
	require.NoError(t, err)
	result := store.JSON(`{"recommendation":{"action":"` + action + `"}}`)
	errMsg := ""
	if status == store.StatusFailed {
		result, errMsg = nil, "no prices"
	}
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), status, result, errMsg))
	// The same write again, its answer lost: no second event.
	require.NoError(t, db.FinishJob(ctx, started.Attempt(), status, result, errMsg))
	return job.ID
}

func TestJobEventsAreRecordedWithTheFinish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	hook := newEndpoint(t, db, owner, store.EventCompleted, store.EventFailed, store.EventRecommendationChanged)

	first := finishPrediction(t, db, owner, "MSFT", &hook.ID, "buy", store.StatusSucceeded)
	second := finishPrediction(t, db, owner, "MSFT", &hook.ID, "sell", store.StatusSucceeded)
	third := finishPrediction(t, db, owner, "MSFT", &hook.ID, "sell", store.StatusSucceeded)
	failed := finishPrediction(t, db, owner, "AAPL", &hook.ID, "", store.StatusFailed)
	finishPrediction(t, db, owner, "MSFT", nil, "hold", store.StatusSucceeded)

	deliveries, err := db.WebhookDeliveries(ctx, hook.ID, owner, 50)
	require.NoError(t, err)
	got := map[string]bool{}
	for _, d := range deliveries {
		got[d.EventID] = true
		require.Equal(t, "pending", d.Status)
		require.Equal(t, 1, d.Series)
	}
	require.Equal(t, map[string]bool{
		"job:" + first.String() + ":completed":               true,
		"job:" + second.String() + ":completed":              true,
		"job:" + second.String() + ":recommendation_changed": true,
		"job:" + third.String() + ":completed":               true,
		"job:" + failed.String() + ":failed":                 true,
	}, got, "one delivery per event: the first has nothing to compare with, the third did not change")

	pending, err := db.PendingWebhookDeliveries(ctx, second)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	var body struct {
		Type string `json:"type"`
		Data struct {
			JobID    uuid.UUID `json:"job_id"`
			Ticker   string    `json:"ticker"`
			Status   string    `json:"status"`
			Rec      string    `json:"recommendation"`
			Previous string    `json:"previous_recommendation"`
			URL      string    `json:"url"`
		} `json:"data"`
	}
	for _, p := range pending {
		send, err := db.ClaimWebhookAttempt(ctx, p, time.Minute)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(send.Body, &body))
		if body.Type == "job.recommendation_changed" {
			require.Equal(t, "sell", body.Data.Rec)
			require.Equal(t, "buy", body.Data.Previous)
		}
		require.Equal(t, second, body.Data.JobID)
		require.Equal(t, "MSFT", body.Data.Ticker)
		require.Equal(t, "/api/v1/jobs/"+second.String(), body.Data.URL)
		_, err = db.ClaimWebhookAttempt(ctx, p, time.Minute)
		require.ErrorIs(t, err, store.ErrNotFound, "an attempt held is not claimed twice")
	}

	// An endpoint subscribed to failures only gets no completion; another
	// user's endpoint named in params gets nothing.
	onlyFailed := newEndpoint(t, db, owner, store.EventFailed)
	finishPrediction(t, db, owner, "IBM", &onlyFailed.ID, "buy", store.StatusSucceeded)
	stranger := newEndpoint(t, db, newOwner(t, db), store.EventCompleted)
	finishPrediction(t, db, owner, "IBM", &stranger.ID, "buy", store.StatusSucceeded)
	for _, e := range []*store.WebhookEndpoint{onlyFailed, stranger} {
		ds, err := db.WebhookDeliveries(ctx, e.ID, e.OwnerID, 50)
		require.NoError(t, err)
		require.Empty(t, ds)
	}
}

func TestWebhookAttemptsAreFencedAndReplayable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	hook := newEndpoint(t, db, owner, store.EventCompleted)
	job := finishPrediction(t, db, owner, "MSFT", &hook.ID, "buy", store.StatusSucceeded)
	pending, err := db.PendingWebhookDeliveries(ctx, job)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	due := pending[0]
	_, err = db.ClaimWebhookAttempt(ctx, due, time.Minute)
	require.NoError(t, err)
	done := store.WebhookAttemptResult{Status: "succeeded",
		Attempt: store.WebhookAttempt{Outcome: "succeeded", LatencyMS: 3}}
	require.NoError(t, db.RecordWebhookAttempt(ctx, due, done))
	require.ErrorIs(t, db.RecordWebhookAttempt(ctx, due, done), store.ErrNotFound, "an attempt is recorded once")

	_, err = db.ReplayWebhookDelivery(ctx, hook.ID, due.DeliveryID, owner+1000)
	require.ErrorIs(t, err, store.ErrNotFound, "another user's delivery")
	replay, err := db.ReplayWebhookDelivery(ctx, hook.ID, due.DeliveryID, owner)
	require.NoError(t, err)
	require.Equal(t, 2, replay.Series)
	require.Equal(t, 0, replay.Attempts)
	_, err = db.ReplayWebhookDelivery(ctx, hook.ID, due.DeliveryID, owner)
	require.ErrorIs(t, err, store.ErrWebhookBusy, "a replay in flight is not replayed again")

	// A 410 disables the endpoint and fails what it still had pending.
	_, err = db.ClaimWebhookAttempt(ctx, *replay, time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.RecordWebhookAttempt(ctx, *replay, store.WebhookAttemptResult{Status: "failed",
		DisableEndpoint: true, Attempt: store.WebhookAttempt{Outcome: "gone", LatencyMS: 1}}))
	e, err := db.WebhookEndpoint(ctx, hook.ID, owner)
	require.NoError(t, err)
	require.NotNil(t, e.DisabledAt)
	attempts, err := db.WebhookAttempts(ctx, hook.ID, due.DeliveryID, owner)
	require.NoError(t, err)
	require.Len(t, attempts, 2)
	require.Equal(t, []int{1, 2}, []int{attempts[0].Series, attempts[1].Series})
	// A disabled endpoint records no new events.
	finishPrediction(t, db, owner, "AAPL", &hook.ID, "buy", store.StatusSucceeded)
	ds, err := db.WebhookDeliveries(ctx, hook.ID, owner, 50)
	require.NoError(t, err)
	require.Len(t, ds, 1)
}

func TestFinishedWebhookDeliveriesAreKeptAsLongAsJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Postgres(t, "store")
	owner := newOwner(t, db)
	hook := newEndpoint(t, db, owner, store.EventCompleted)
	old := finishPrediction(t, db, owner, "MSFT", &hook.ID, "buy", store.StatusSucceeded)
	pending := finishPrediction(t, db, owner, "AAPL", &hook.ID, "buy", store.StatusSucceeded)
	due, err := db.PendingWebhookDeliveries(ctx, old)
	require.NoError(t, err)
	_, err = db.ClaimWebhookAttempt(ctx, due[0], time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.RecordWebhookAttempt(ctx, due[0], store.WebhookAttemptResult{Status: "succeeded",
		Attempt: store.WebhookAttempt{Outcome: "succeeded"}}))
	dbtest.Exec(t, db, `UPDATE webhook_deliveries SET finished_at = now() - interval '40 days', created_at = now() - interval '40 days'`)

	pruned, err := db.PruneOld(ctx, store.Retention{Jobs: 30 * 24 * time.Hour, IdempotencyKeys: time.Hour, Prices: time.Hour, Batch: 10})
	require.NoError(t, err)
	require.Equal(t, int64(1), pruned.WebhookDeliveries, "the finished one goes; the pending one stays, however old")
	left, err := db.WebhookDeliveries(ctx, hook.ID, owner, 10)
	require.NoError(t, err)
	require.Len(t, left, 1)
	require.Equal(t, "job:"+pending.String()+":completed", left[0].EventID)
}
