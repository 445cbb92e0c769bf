package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// Webhook events an endpoint can subscribe to.
const (
	// EventCompleted: a job (or batch) succeeded.
	EventCompleted = "completed"
	// EventFailed: a job (or batch) failed.
	EventFailed = "failed"
	// EventRecommendationChanged: a prediction succeeded with another
	// recommended action than the owner's previous succeeded prediction
	// of the same ticker.
	EventRecommendationChanged = "recommendation_changed"
)

// WebhookEvents lists the events in the order the API documents them.
var WebhookEvents = []string{EventCompleted, EventFailed, EventRecommendationChanged}

// ErrWebhookBusy means a delivery cannot be replayed now: it is still
// being delivered, or its endpoint is disabled.
var ErrWebhookBusy = errors.New("delivery still in progress, or its endpoint is disabled")

// WebhookEndpoint is a user's registered receiver of webhooks. Secret is
// sealed (internal/webhook.Sealer); the API shows the plain secret once,
// when it is made.
type WebhookEndpoint struct {
	ID              uuid.UUID      `db:"id"`
	OwnerID         int64          `db:"owner_id"`
	URL             string         `db:"url"`
	Description     string         `db:"description"`
	Events          pq.StringArray `db:"events"`
	Secret          []byte         `db:"secret"`
	CreatedAt       time.Time      `db:"created_at"`
	SecretRotatedAt *time.Time     `db:"secret_rotated_at"`
	DisabledAt      *time.Time     `db:"disabled_at"`
	DisabledReason  sql.NullString `db:"disabled_reason"`
}

const webhookEndpointColumns = `id, owner_id, url, description, events, secret, created_at,
	secret_rotated_at, disabled_at, disabled_reason`

// CreateWebhookEndpoint stores e, whose ID, OwnerID, URL, Description,
// Events and sealed Secret the caller set, and returns it as stored.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) (*WebhookEndpoint, error) {
	var out WebhookEndpoint
	err := db.get(ctx, &out, `INSERT INTO webhook_endpoints (id, owner_id, url, description, events, secret)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+webhookEndpointColumns,
		e.ID, e.OwnerID, e.URL, e.Description, e.Events, e.Secret)
	if err != nil {
		return nil, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return &out, nil
}

// WebhookEndpoints returns the owner's endpoints, oldest first.
func (db *DB) WebhookEndpoints(ctx context.Context, ownerID int64) ([]WebhookEndpoint, error) {
	var out []WebhookEndpoint
	if err := db.selectAll(ctx, &out, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE owner_id = $1 ORDER BY created_at, id`, ownerID); err != nil {
		return nil, fmt.Errorf("list webhook endpoints of user %d: %w", ownerID, err)
	}
	return out, nil
}

// WebhookEndpoint returns the owner's endpoint; another owner's is
// ErrNotFound, as a missing one is.
func (db *DB) WebhookEndpoint(ctx context.Context, id uuid.UUID, ownerID int64) (*WebhookEndpoint, error) {
	var out WebhookEndpoint
	err := db.get(ctx, &out, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE id = $1 AND owner_id = $2`, id, ownerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load webhook endpoint %s: %w", id, err)
	}
	return &out, nil
}

// DeleteWebhookEndpoint deletes the owner's endpoint with its deliveries;
// ErrNotFound when the owner has no such endpoint.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id uuid.UUID, ownerID int64) error {
	n, err := db.exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2`, id, ownerID)
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// RotateWebhookSecret replaces the owner's endpoint's sealed secret; the
// deliveries from then on are signed with the new one.
func (db *DB) RotateWebhookSecret(ctx context.Context, id uuid.UUID, ownerID int64, sealed []byte) (*WebhookEndpoint, error) {
	var out WebhookEndpoint
	err := db.get(ctx, &out, `UPDATE webhook_endpoints SET secret = $3, secret_rotated_at = now()
		WHERE id = $1 AND owner_id = $2 RETURNING `+webhookEndpointColumns, id, ownerID, sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("rotate secret of webhook endpoint %s: %w", id, err)
	}
	return &out, nil
}

// WebhookEvent is one event for one endpoint, as RecordWebhookEvent takes
// it.
type WebhookEvent struct {
	EndpointID uuid.UUID
	// Type is the subscription it falls under: EventCompleted, EventFailed
	// or EventRecommendationChanged.
	Type string
	// ID names the event among the endpoint's, e.g. "batch:<id>:completed":
	// recording the same ID twice records one delivery.
	ID string
	// Body is the message, a webhook.Message as JSON, sent as it is at
	// every attempt.
	Body JSON
}

// RecordWebhookEvent records a delivery of ev in tx, the transaction that
// makes the event happen (a batch's finish, say), so that the event is
// never lost with a crash between the two and never recorded twice (the
// endpoint's events are unique by ID). It records nothing, and reports
// false, when the endpoint does not take ev.Type or is disabled. The
// delivery is sent by the next sweep of the reconciler (jobs.Deliverer),
// or sooner when the caller enqueues it after committing
// (jobs.Deliverer.EnqueueDue).
func RecordWebhookEvent(ctx context.Context, tx querier, ev WebhookEvent) (bool, error) {
	n, err := tx.exec(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body)
		SELECT $1, id, $3, $4, $5 FROM webhook_endpoints
		WHERE id = $2 AND $4 = ANY (events) AND disabled_at IS NULL
		ON CONFLICT (endpoint_id, event_id) DO NOTHING`, uuid.New(), ev.EndpointID, ev.ID, ev.Type, ev.Body)
	if err != nil {
		return false, fmt.Errorf("record webhook event %s: %w", ev.ID, err)
	}
	return n > 0, nil
}

// finishedJobReturning is what a statement that ends a job, the table
// named t in it, returns in its "done" CTE, for jobEventsRecorded. The
// result is read only for a job with a webhook.
func finishedJobReturning(t string) string {
	return ` RETURNING ` + t + `.id, ` + t + `.owner_id, ` + t + `.kind, ` + t + `.ticker, ` + t + `.status, ` +
		t + `.error, ` + t + `.finished_at, ` + t + `.params, CASE WHEN ` + t + `.params ? 'webhook' THEN ` +
		t + `.result -> 'recommendation' ->> 'action' END AS action`
}

// jobEventsRecorded follows a "done" CTE that ended a job (RETURNING
// finishedJobReturning) and, in the same statement, hence the same
// transaction, records the deliveries of the job's events to the endpoint
// its submission named (params.webhook): completed or failed, and
// recommendation_changed when a prediction's action differs from the
// owner's previous succeeded prediction of the ticker. The statement
// answers how many jobs it ended. The body is a webhook.Message:
//
//	{"type": "job.completed", "timestamp": <finished_at>,
//	 "data": {"job_id", "kind", "ticker", "status", "url",
//	          "error" (failed), "recommendation" (a prediction's action),
//	          "previous_recommendation" (recommendation_changed)}}
const jobEventsRecorded = `,
	hooked AS (
		SELECT d.*, e.id AS endpoint_id, e.events,
			(SELECT p.result -> 'recommendation' ->> 'action' FROM jobs p
				WHERE p.owner_id = d.owner_id AND p.ticker = d.ticker AND p.kind = 'prediction'
					AND p.status = 'succeeded' AND p.id <> d.id
				ORDER BY p.finished_at DESC LIMIT 1) AS previous
		FROM done d JOIN webhook_endpoints e
			ON d.params ? 'webhook' AND e.id::text = d.params ->> 'webhook' AND e.owner_id = d.owner_id
				AND e.disabled_at IS NULL
	), events AS (
		SELECT h.*, t.type FROM hooked h
		CROSS JOIN LATERAL (VALUES ('completed'), ('failed'), ('recommendation_changed')) AS t (type)
		WHERE t.type = ANY (h.events) AND CASE t.type
			WHEN 'completed' THEN h.status = 'succeeded'
			WHEN 'failed' THEN h.status = 'failed'
			ELSE h.status = 'succeeded' AND h.kind = 'prediction' AND h.previous IS NOT NULL
				AND h.action IS NOT NULL AND h.action <> h.previous
		END
	), recorded AS (
		INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, job_id, body)
		SELECT gen_random_uuid(), endpoint_id, 'job:' || id || ':' || type, type, id,
			jsonb_build_object('type', 'job.' || type, 'timestamp', finished_at,
				'data', jsonb_strip_nulls(jsonb_build_object('job_id', id, 'kind', kind, 'ticker', nullif(ticker, ''),
					'status', status, 'url', '/api/v1/jobs/' || id, 'error', error,
					'recommendation', action,
					'previous_recommendation', CASE WHEN type = 'recommendation_changed' THEN previous END)))
		FROM events
		ON CONFLICT (endpoint_id, event_id) DO NOTHING
	)
	SELECT count(*) FROM done`

// WebhookAttemptDue names the next attempt of a pending delivery: its
// series and the attempts made in it so far, which fence the attempt.
type WebhookAttemptDue struct {
	DeliveryID    uuid.UUID `db:"id"`
	Series        int       `db:"series"`
	Attempts      int       `db:"attempts"`
	NextAttemptAt time.Time `db:"next_attempt_at"`
}

// PendingWebhookDeliveries returns the pending deliveries of the job's
// events, for the worker to enqueue once the job's end is committed.
func (db *DB) PendingWebhookDeliveries(ctx context.Context, jobID uuid.UUID) ([]WebhookAttemptDue, error) {
	var out []WebhookAttemptDue
	if err := db.selectAll(ctx, &out, `SELECT id, series, attempts, next_attempt_at FROM webhook_deliveries
		WHERE job_id = $1 AND status = 'pending'`, jobID); err != nil {
		return nil, fmt.Errorf("pending webhook deliveries of job %s: %w", jobID, err)
	}
	return out, nil
}

// DueWebhookDeliveries returns up to limit pending deliveries of enabled
// endpoints whose next attempt was due before the given time and that no
// attempt holds: those whose task Redis lost, for the reconciler to
// enqueue again.
func (db *DB) DueWebhookDeliveries(ctx context.Context, before time.Time, limit int) ([]WebhookAttemptDue, error) {
	var out []WebhookAttemptDue
	if err := db.selectAll(ctx, &out, `SELECT d.id, d.series, d.attempts, d.next_attempt_at
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE d.status = 'pending' AND d.next_attempt_at < $1 AND e.disabled_at IS NULL
			AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
		ORDER BY d.next_attempt_at LIMIT $2`, before, limit); err != nil {
		return nil, fmt.Errorf("due webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookSend is what one attempt sends, and where.
type WebhookSend struct {
	EndpointID uuid.UUID `db:"endpoint_id"`
	URL        string    `db:"url"`
	// Secret is sealed (internal/webhook.Sealer).
	Secret []byte `db:"secret"`
	Body   JSON   `db:"body"`
}

// ClaimWebhookAttempt takes the attempt that due names for lease: the
// delivery must still be pending in that series with that many attempts
// made, be held by no other attempt, and its endpoint enabled.
// Otherwise it is ErrNotFound: the attempt was made already (a duplicate
// task), or is no longer wanted, and the caller drops it.
func (db *DB) ClaimWebhookAttempt(ctx context.Context, due WebhookAttemptDue, lease time.Duration) (*WebhookSend, error) {
	var out WebhookSend
	err := db.get(ctx, &out, `UPDATE webhook_deliveries d SET lease_expires_at = now() + $4 * interval '1 microsecond'
		FROM webhook_endpoints e
		WHERE d.id = $1 AND d.series = $2 AND d.attempts = $3 AND d.status = 'pending'
			AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
			AND e.id = d.endpoint_id AND e.disabled_at IS NULL
		RETURNING e.id AS endpoint_id, e.url, e.secret, d.body`,
		due.DeliveryID, due.Series, due.Attempts, lease.Microseconds())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("claim webhook delivery %s: %w", due.DeliveryID, err)
	}
	return &out, nil
}

// WebhookAttempt is one attempt as it is recorded.
type WebhookAttempt struct {
	Series       int           `db:"series"`
	Number       int           `db:"number"`
	AttemptedAt  time.Time     `db:"attempted_at"`
	Outcome      string        `db:"outcome"`
	ResponseCode sql.NullInt64 `db:"response_code"`
	LatencyMS    int           `db:"latency_ms"`
	ResponseBody string        `db:"response_body"`
	ErrorClass   string        `db:"error_class"`
}

// WebhookAttemptResult is what became of a claimed attempt, and of its
// delivery.
type WebhookAttemptResult struct {
	Attempt WebhookAttempt
	// Status is the delivery's status after it: pending (NextAttemptAt
	// says when), succeeded or failed.
	Status        string
	NextAttemptAt time.Time
	// DisableEndpoint disables the endpoint (the receiver answered 410
	// Gone) and fails its other pending deliveries.
	DisableEndpoint bool
}

// RecordWebhookAttempt records the attempt that due named and claimed,
// and moves its delivery on, in one transaction fenced by due: an
// attempt recorded already (its task ran twice) changes nothing and
// gives ErrNotFound.
func (db *DB) RecordWebhookAttempt(ctx context.Context, due WebhookAttemptDue, r WebhookAttemptResult) error {
	a := r.Attempt
	return db.inTx(ctx, nil, func(tx querier) error {
		var endpointID uuid.UUID
		err := tx.get(ctx, &endpointID, `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $4,
				next_attempt_at = CASE WHEN $4 = 'pending' THEN $5 ELSE next_attempt_at END,
				finished_at = CASE WHEN $4 = 'pending' THEN NULL ELSE now() END, lease_expires_at = NULL
			WHERE id = $1 AND series = $2 AND attempts = $3 RETURNING endpoint_id`,
			due.DeliveryID, due.Series, due.Attempts, r.Status, r.NextAttemptAt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("record webhook attempt of %s: %w", due.DeliveryID, err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO webhook_attempts (delivery_id, series, number, outcome,
				response_code, latency_ms, response_body, error_class) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			due.DeliveryID, due.Series, due.Attempts+1, a.Outcome, a.ResponseCode, a.LatencyMS,
			a.ResponseBody, a.ErrorClass); err != nil {
			return fmt.Errorf("record webhook attempt of %s: %w", due.DeliveryID, err)
		}
		if !r.DisableEndpoint {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE webhook_endpoints SET disabled_at = now(),
				disabled_reason = 'the receiver answered 410 Gone' WHERE id = $1 AND disabled_at IS NULL`,
			endpointID); err != nil {
			return fmt.Errorf("disable webhook endpoint %s: %w", endpointID, err)
		}
		if _, err := tx.exec(ctx, `UPDATE webhook_deliveries SET status = 'failed', finished_at = now(),
				lease_expires_at = NULL WHERE endpoint_id = $1 AND status = 'pending'`, endpointID); err != nil {
			return fmt.Errorf("fail deliveries of webhook endpoint %s: %w", endpointID, err)
		}
		return nil
	})
}

// WebhookDelivery is a delivery with its latest attempt, as the endpoint's
// page and the API show it.
type WebhookDelivery struct {
	ID            uuid.UUID      `db:"id"`
	EndpointID    uuid.UUID      `db:"endpoint_id"`
	EventID       string         `db:"event_id"`
	EventType     string         `db:"event_type"`
	JobID         uuid.NullUUID  `db:"job_id"`
	Status        string         `db:"status"`
	Series        int            `db:"series"`
	Attempts      int            `db:"attempts"`
	NextAttemptAt time.Time      `db:"next_attempt_at"`
	CreatedAt     time.Time      `db:"created_at"`
	FinishedAt    *time.Time     `db:"finished_at"`
	ResponseCode  sql.NullInt64  `db:"response_code"`
	LatencyMS     sql.NullInt64  `db:"latency_ms"`
	ErrorClass    sql.NullString `db:"error_class"`
}

// WebhookDeliveries returns the newest limit deliveries of the owner's
// endpoint, with each one's latest attempt.
func (db *DB) WebhookDeliveries(ctx context.Context, endpointID uuid.UUID, ownerID int64, limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	if err := db.selectAll(ctx, &out, `SELECT d.id, d.endpoint_id, d.event_id, d.event_type, d.job_id, d.status,
			d.series, d.attempts, d.next_attempt_at, d.created_at, d.finished_at,
			a.response_code, a.latency_ms, a.error_class
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.owner_id = $2
		LEFT JOIN LATERAL (SELECT response_code, latency_ms, error_class FROM webhook_attempts
			WHERE delivery_id = d.id ORDER BY series DESC, number DESC LIMIT 1) a ON true
		WHERE d.endpoint_id = $1
		ORDER BY d.created_at DESC, d.id LIMIT $3`, endpointID, ownerID, limit); err != nil {
		return nil, fmt.Errorf("list deliveries of webhook endpoint %s: %w", endpointID, err)
	}
	return out, nil
}

// WebhookAttempts returns every attempt of the delivery of the owner's
// endpoint, oldest first.
func (db *DB) WebhookAttempts(ctx context.Context, endpointID, deliveryID uuid.UUID, ownerID int64) ([]WebhookAttempt, error) {
	var out []WebhookAttempt
	if err := db.selectAll(ctx, &out, `SELECT a.series, a.number, a.attempted_at, a.outcome, a.response_code,
			a.latency_ms, a.response_body, a.error_class
		FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
		JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.owner_id = $2
		WHERE a.delivery_id = $1 AND d.endpoint_id = $3 ORDER BY a.series, a.number`, deliveryID, ownerID, endpointID); err != nil {
		return nil, fmt.Errorf("list attempts of webhook delivery %s: %w", deliveryID, err)
	}
	return out, nil
}

// ReplayWebhookDelivery starts a new series of attempts of the owner's
// finished delivery, due now, under the same webhook-id and with the same
// body. A delivery still pending, or of a disabled endpoint, gives
// ErrWebhookBusy; another owner's, ErrNotFound.
func (db *DB) ReplayWebhookDelivery(ctx context.Context, endpointID, deliveryID uuid.UUID, ownerID int64) (*WebhookAttemptDue, error) {
	var out WebhookAttemptDue
	err := db.get(ctx, &out, `UPDATE webhook_deliveries d SET series = series + 1, attempts = 0, status = 'pending',
			next_attempt_at = now(), finished_at = NULL, lease_expires_at = NULL
		FROM webhook_endpoints e
		WHERE d.id = $2 AND d.endpoint_id = $1 AND e.id = d.endpoint_id AND e.owner_id = $3
			AND e.disabled_at IS NULL AND d.status <> 'pending'
		RETURNING d.id, d.series, d.attempts, d.next_attempt_at`, endpointID, deliveryID, ownerID)
	if errors.Is(err, sql.ErrNoRows) {
		var exists bool
		if err := db.get(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries d
				JOIN webhook_endpoints e ON e.id = d.endpoint_id
				WHERE d.id = $2 AND d.endpoint_id = $1 AND e.owner_id = $3)`, endpointID, deliveryID, ownerID); err != nil {
			return nil, fmt.Errorf("look up webhook delivery %s: %w", deliveryID, err)
		}
		if exists {
			return nil, ErrWebhookBusy
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("replay webhook delivery %s: %w", deliveryID, err)
	}
	return &out, nil
}
