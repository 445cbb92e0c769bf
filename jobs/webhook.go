package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/internal/webhook"
)

// TypeWebhookDeliver is the task of one attempt of one webhook delivery.
const TypeWebhookDeliver = "webhook:deliver"

// webhookQueue carries deliveries: they are short and never worth a
// prediction's place, and asynq's weighted queues still give them their
// turn under any backlog.
const webhookQueue = QueueLow

// webhookLease bounds how long an attempt holds its delivery: the whole
// request is bounded at 10 s (webhook.Guard.Client), so a lease still
// held after this is a worker that died mid-attempt, and the sweep
// enqueues the attempt again.
const webhookLease = 30 * time.Second

// webhookPayload names an attempt: the delivery, its series and the
// attempts already made in it. The task id is the same triple, so an
// attempt is enqueued once however often it is enqueued, and a duplicate
// task finds the delivery moved on and is dropped (store.ClaimWebhookAttempt).
type webhookPayload struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
	Series     int       `json:"series"`
	Attempts   int       `json:"attempts"`
}

func webhookTaskID(due store.WebhookAttemptDue) string {
	return "webhook:" + due.DeliveryID.String() + ":" + strconv.Itoa(due.Series) + ":" + strconv.Itoa(due.Attempts)
}

// EnqueueWebhook puts the attempt due names on the queue, to run at its
// time; an attempt already queued counts as success. When it fails, the
// reconciler's sweep enqueues it later (Deliverer.Sweep).
func (q *Queue) EnqueueWebhook(ctx context.Context, due store.WebhookAttemptDue) error {
	payload, err := json.Marshal(webhookPayload{DeliveryID: due.DeliveryID, Series: due.Series, Attempts: due.Attempts})
	if err != nil {
		return fmt.Errorf("encode webhook payload: %w", err)
	}
	task := asynq.NewTask(TypeWebhookDeliver, payload, asynq.TaskID(webhookTaskID(due)),
		asynq.Queue(webhookQueue), asynq.ProcessAt(due.NextAttemptAt), asynq.Timeout(webhookLease),
		asynq.MaxRetry(MaxRetry))
	_, err = q.client.EnqueueContext(ctx, task)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue webhook delivery %s: %w", due.DeliveryID, err)
	}
	return nil
}

// Deliverer sends webhook deliveries, one attempt per task, and keeps
// every attempt's record in PostgreSQL, the source of truth: a delivery
// whose task Redis lost is found by Sweep, which the reconciler calls
// each pass. The retries are its own (webhook.Schedule, a day and more),
// not asynq's, which only retries an attempt that could not be recorded.
type Deliverer struct {
	DB     *store.DB
	Queue  *Queue
	Sealer *webhook.Sealer
	Sender *webhook.Sender
	Logger *slog.Logger
	// Schedule is the waits between attempts; nil means webhook.Schedule.
	Schedule []time.Duration
	// Metrics counts attempts by outcome; nil counts nothing.
	Metrics *WebhookMetrics
}

// WebhookMetrics counts delivery attempts by outcome.
type WebhookMetrics struct {
	deliveries *prometheus.CounterVec
}

// NewWebhookMetrics registers augur_webhook_deliveries_total.
func NewWebhookMetrics(reg prometheus.Registerer) *WebhookMetrics {
	m := &WebhookMetrics{deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "augur_webhook_deliveries_total",
		Help: "Webhook delivery attempts, by outcome: succeeded (2xx), retry (to be tried again), failed (the schedule is spent), gone (410: the endpoint was disabled).",
	}, []string{"outcome"})}
	reg.MustRegister(m.deliveries)
	return m
}

func (m *WebhookMetrics) count(outcome string) {
	if m != nil {
		m.deliveries.WithLabelValues(outcome).Inc()
	}
}

// Register adds the delivery handler to an asynq mux.
func (d *Deliverer) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeWebhookDeliver, d.deliver)
}

// EnqueueForJob enqueues the deliveries the job's end recorded; the
// worker calls it once that end is committed. A failure is only logged:
// the sweep sends them later.
func (d *Deliverer) EnqueueForJob(ctx context.Context, jobID uuid.UUID) {
	due, err := d.DB.PendingWebhookDeliveries(ctx, jobID)
	if err == nil {
		err = d.enqueueAll(ctx, due)
	}
	if err != nil {
		d.Logger.WarnContext(ctx, "enqueue webhook deliveries; the reconciler will", "job_id", jobID, "err", err)
	}
}

// Sweep enqueues up to limit pending deliveries whose attempt was due
// before the given time and that no attempt holds: their task was lost
// with Redis, or never enqueued. It returns how many it looked at.
func (d *Deliverer) Sweep(ctx context.Context, before time.Time, limit int) (int, error) {
	due, err := d.DB.DueWebhookDeliveries(ctx, before, limit)
	if err != nil {
		return 0, err
	}
	return len(due), d.enqueueAll(ctx, due)
}

func (d *Deliverer) enqueueAll(ctx context.Context, due []store.WebhookAttemptDue) error {
	for _, x := range due {
		if err := d.Queue.EnqueueWebhook(ctx, x); err != nil {
			return err
		}
	}
	return nil
}

// deliver makes the attempt its task names: claim it, send it, record it
// and enqueue the next one. An error is returned only when the attempt's
// outcome could not be recorded (PostgreSQL unreachable), so that asynq
// tries again; the delivery's own retries are new tasks.
func (d *Deliverer) deliver(ctx context.Context, t *asynq.Task) error {
	var p webhookPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode webhook payload: %v: %w", err, asynq.SkipRetry)
	}
	due := store.WebhookAttemptDue{DeliveryID: p.DeliveryID, Series: p.Series, Attempts: p.Attempts}
	send, err := d.DB.ClaimWebhookAttempt(ctx, due, webhookLease)
	if errors.Is(err, store.ErrNotFound) {
		return nil // made already, replayed since, or its endpoint is gone or disabled
	}
	if err != nil {
		return err
	}
	result, err := d.attempt(ctx, p.DeliveryID, send)
	if err != nil {
		d.Logger.ErrorContext(ctx, "webhook delivery cannot be signed", "delivery_id", p.DeliveryID, "err", err)
		result = webhook.Result{Outcome: webhook.Retry, ErrorClass: "secret"}
	}
	next := d.next(due, result)
	if err := d.DB.RecordWebhookAttempt(context.WithoutCancel(ctx), due, next); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	d.Metrics.count(next.Attempt.Outcome)
	if next.Status != "pending" {
		return nil
	}
	following := store.WebhookAttemptDue{DeliveryID: due.DeliveryID, Series: due.Series, Attempts: due.Attempts + 1,
		NextAttemptAt: next.NextAttemptAt}
	if err := d.Queue.EnqueueWebhook(ctx, following); err != nil {
		d.Logger.WarnContext(ctx, "enqueue webhook retry; the reconciler will", "delivery_id", due.DeliveryID, "err", err)
	}
	return nil
}

// MessageID is a delivery's webhook-id: the same for every attempt and
// every replay, so receivers can deduplicate on it.
func MessageID(deliveryID uuid.UUID) string { return "msg_" + deliveryID.String() }

// attempt signs and sends one attempt.
func (d *Deliverer) attempt(ctx context.Context, deliveryID uuid.UUID, send *store.WebhookSend) (webhook.Result, error) {
	secret, err := d.Sealer.Open(send.Secret, send.EndpointID[:])
	if err != nil {
		return webhook.Result{}, err
	}
	key, err := webhook.SecretKey(secret)
	if err != nil {
		return webhook.Result{}, err
	}
	return d.Sender.Send(ctx, send.URL, key, MessageID(deliveryID), send.Body, time.Now()), nil
}

// next decides what an attempt's result makes of its delivery: done on a
// 2xx, failed and its endpoint disabled on a 410, and otherwise retried
// on the schedule until it is spent.
func (d *Deliverer) next(due store.WebhookAttemptDue, r webhook.Result) store.WebhookAttemptResult {
	out := store.WebhookAttemptResult{Attempt: store.WebhookAttempt{
		Outcome: string(r.Outcome), LatencyMS: int(r.Latency.Milliseconds()),
		ResponseBody: r.Body, ErrorClass: r.ErrorClass,
	}}
	out.Attempt.ResponseCode.Int64, out.Attempt.ResponseCode.Valid = int64(r.StatusCode), r.StatusCode != 0
	switch r.Outcome {
	case webhook.Delivered:
		out.Status = "succeeded"
	case webhook.Gone:
		out.Status, out.DisableEndpoint = "failed", true
	default:
		schedule := d.Schedule
		if schedule == nil {
			schedule = webhook.Schedule
		}
		wait, ok := webhook.NextDelay(schedule, due.Attempts+1, r.RetryAfter)
		if !ok {
			out.Status, out.Attempt.Outcome = "failed", "failed"
			return out
		}
		out.Status, out.NextAttemptAt = "pending", time.Now().Add(wait)
	}
	return out
}
