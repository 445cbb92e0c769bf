package jobs_test

import (
	"context"
	"crypto/hmac"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/testlog"
	"github.com/augurhq/augur/internal/webhook"
	"github.com/augurhq/augur/jobs"
)

// receiver is a webhook receiver that verifies every signature and
// answers the statuses it is given in turn, then 200.
type receiver struct {
	secret   string
	mu       sync.Mutex
	statuses []int
	ids      []string
	accepted int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	key, _ := webhook.SecretKey(r.secret)
	ts, _ := strconv.ParseInt(req.Header.Get(webhook.HeaderTimestamp), 10, 64)
	want := webhook.Sign(key, req.Header.Get(webhook.HeaderID), time.Unix(ts, 0), body)
	if !hmac.Equal([]byte(want), []byte(req.Header.Get(webhook.HeaderSignature))) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, req.Header.Get(webhook.HeaderID))
	if len(r.statuses) > 0 {
		status := r.statuses[0]
		r.statuses = r.statuses[1:]
		w.WriteHeader(status)
		return
	}
	r.accepted++
	_, _ = w.Write([]byte("ok"))
}

func (r *receiver) seen() (ids []string, accepted int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...), r.accepted
}

// webhookFixture runs a worker with webhooks: the job handlers and the
// delivery handler on one asynq server, deliveries retried at once.
type webhookFixture struct {
	*fixture
	deliverer *jobs.Deliverer
	metrics   *prometheus.Registry
	receiver  *receiver
	endpoint  *store.WebhookEndpoint
}

func newWebhookFixture(t *testing.T, failFirst ...int) *webhookFixture {
	t.Helper()
	base := newFixture(t, &flakyPrices{})
	secret, err := webhook.NewSecret()
	require.NoError(t, err)
	sealer, err := webhook.NewSealer("test server secret")
	require.NoError(t, err)
	rcv := &receiver{secret: secret, statuses: failFirst}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	id := uuid.New()
	sealed, err := sealer.Seal(secret, id[:])
	require.NoError(t, err)
	endpoint, err := base.db.CreateWebhookEndpoint(context.Background(), store.WebhookEndpoint{
		ID: id, OwnerID: base.owner, URL: srv.URL + "/hook", Events: pq.StringArray{store.EventCompleted, store.EventFailed},
		Secret: sealed,
	})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	// The tests' receivers are on 127.0.0.1, which only the allow-list
	// opens.
	guard := webhook.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	d := &jobs.Deliverer{DB: base.db, Queue: base.queue, Sealer: sealer,
		Sender: &webhook.Sender{Client: guard.Client()}, Logger: slog.New(slog.NewTextHandler(&testlog.Buffer{}, nil)),
		Schedule: []time.Duration{0, 0, 0}, Metrics: jobs.NewWebhookMetrics(reg)}
	w := base.newWorker("worker-hooks", &flakyPrices{})
	w.Webhooks = d
	mux := asynq.NewServeMux()
	w.Register(mux)
	d.Register(mux)
	server := asynq.NewServerFromRedisClient(base.rdb, asynq.Config{
		Concurrency: 2, Queues: map[string]int{"hooked": 1, jobs.QueueLow: 1},
		DelayedTaskCheckInterval: 50 * time.Millisecond, LogLevel: asynq.FatalLevel,
	})
	require.NoError(t, server.Start(mux))
	t.Cleanup(server.Shutdown)
	return &webhookFixture{fixture: base, deliverer: d, metrics: reg, receiver: rcv, endpoint: endpoint}
}

// submitHooked submits a prediction that names the endpoint, on a queue
// only this fixture's server takes.
func (f *webhookFixture) submitHooked(t *testing.T) *store.Job {
	t.Helper()
	job, _, err := f.db.CreateJob(context.Background(), store.NewJob{
		OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "MSFT", Queue: "hooked",
		Params: store.JSON(`{"models":["linreg"],"horizon":7,"recommendation":"evidence","webhook":"` + f.endpoint.ID.String() + `"}`),
	})
	require.NoError(t, err)
	require.NoError(t, f.queue.Enqueue(context.Background(), job))
	return job
}

func (f *webhookFixture) awaitDelivery(t *testing.T, status string, series int) store.WebhookDelivery {
	t.Helper()
	var got store.WebhookDelivery
	require.Eventually(t, func() bool {
		ds, err := f.db.WebhookDeliveries(context.Background(), f.endpoint.ID, f.owner, 10)
		if err != nil || len(ds) != 1 {
			return false
		}
		got = ds[0]
		return got.Status == status && got.Series == series
	}, time.Minute, 20*time.Millisecond)
	return got
}

func TestAReceiverThatFailsTwiceGetsExactlyOneAcceptedDelivery(t *testing.T) {
	f := newWebhookFixture(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	job := f.submitHooked(t)
	require.Equal(t, store.StatusSucceeded, f.awaitFinal(t, job).Status)

	d := f.awaitDelivery(t, "succeeded", 1)
	require.Equal(t, 3, d.Attempts)
	require.Equal(t, "job:"+job.ID.String()+":completed", d.EventID)
	ids, accepted := f.receiver.seen()
	require.Equal(t, 1, accepted, "one accepted delivery")
	require.Len(t, ids, 3)
	for _, id := range ids {
		require.Equal(t, jobs.MessageID(d.ID), id, "every attempt under one webhook-id")
	}
	attempts, err := f.db.WebhookAttempts(context.Background(), f.endpoint.ID, d.ID, f.owner)
	require.NoError(t, err)
	require.Len(t, attempts, 3)
	var codes []int64
	var outcomes []string
	for _, a := range attempts {
		codes = append(codes, a.ResponseCode.Int64)
		outcomes = append(outcomes, a.Outcome)
	}
	require.Equal(t, []int64{500, 503, 200}, codes)
	require.Equal(t, []string{"retry", "retry", "succeeded"}, outcomes)
	require.Equal(t, "ok", attempts[2].ResponseBody)
	require.Equal(t, "http_status", attempts[0].ErrorClass)
	f.awaitCounted(t, map[string]float64{"retry": 2, "succeeded": 1})

	// Nothing is left for the sweep: the delivery is not sent again.
	n, err := f.deliverer.Sweep(context.Background(), time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Zero(t, n)

	// A replay is a new series under the same webhook-id.
	due, err := f.db.ReplayWebhookDelivery(context.Background(), f.endpoint.ID, d.ID, f.owner)
	require.NoError(t, err)
	require.NoError(t, f.queue.EnqueueWebhook(context.Background(), *due))
	d = f.awaitDelivery(t, "succeeded", 2)
	require.Equal(t, 1, d.Attempts)
	ids, accepted = f.receiver.seen()
	require.Equal(t, 2, accepted)
	require.Equal(t, jobs.MessageID(d.ID), ids[len(ids)-1])
}

func TestADeliveryWhoseTaskWasLostIsSwept(t *testing.T) {
	f := newWebhookFixture(t)
	ctx := context.Background()
	// A job closed by the reconciler records its failure event, and no
	// worker enqueues it: the sweep does.
	job, _, err := f.db.CreateJob(ctx, store.NewJob{OwnerID: f.owner, Kind: store.KindPrediction, Ticker: "MSFT",
		Queue: "nowhere", Params: store.JSON(`{"webhook":"` + f.endpoint.ID.String() + `"}`)})
	require.NoError(t, err)
	require.NoError(t, f.db.CloseJob(ctx, job.ID, "gave up after retries"))
	ds, err := f.db.WebhookDeliveries(ctx, f.endpoint.ID, f.owner, 10)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "pending", ds[0].Status)
	require.Zero(t, ds[0].Attempts)

	// The reconciler's pass sweeps it (Grace 0: due now is overdue).
	r := &jobs.Reconciler{DB: f.db, Queue: f.queue, Logger: slog.New(slog.DiscardHandler), Interval: time.Minute,
		Batch: 10, Webhooks: f.deliverer}
	pass, err := r.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, pass.Webhooks)
	d := f.awaitDelivery(t, "succeeded", 1)
	require.Equal(t, "failed", d.EventType)
	_, accepted := f.receiver.seen()
	require.Equal(t, 1, accepted)
}

// deliveriesByOutcome reads augur_webhook_deliveries_total from reg.
func deliveriesByOutcome(reg *prometheus.Registry) map[string]float64 {
	out := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		return nil
	}
	for _, fam := range families {
		if fam.GetName() != "augur_webhook_deliveries_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

// awaitCounted waits until the attempts counted are want: an attempt is
// counted just after it is recorded, so the record alone does not say the
// count is done.
func (f *webhookFixture) awaitCounted(t *testing.T, want map[string]float64) {
	t.Helper()
	require.Eventually(t, func() bool { return maps.Equal(want, deliveriesByOutcome(f.metrics)) },
		time.Minute, 20*time.Millisecond, "counted %v", deliveriesByOutcome(f.metrics))
}

func TestAReceiverThatAnswersGoneDisablesItsEndpoint(t *testing.T) {
	f := newWebhookFixture(t, http.StatusGone)
	job := f.submitHooked(t)
	require.Equal(t, store.StatusSucceeded, f.awaitFinal(t, job).Status)
	d := f.awaitDelivery(t, "failed", 1)
	require.Equal(t, 1, d.Attempts, "410 is not retried")
	e, err := f.db.WebhookEndpoint(context.Background(), f.endpoint.ID, f.owner)
	require.NoError(t, err)
	require.NotNil(t, e.DisabledAt)
	f.awaitCounted(t, map[string]float64{"gone": 1})
	// The disabled endpoint is sent nothing more.
	n, err := f.deliverer.Sweep(context.Background(), time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Zero(t, n)
	ids, accepted := f.receiver.seen()
	require.Len(t, ids, 1)
	require.Zero(t, accepted)
}
