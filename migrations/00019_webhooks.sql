-- +goose Up
-- A user's webhook endpoints (issue 22 items 5 and 6). The secret signs
-- every delivery, so it cannot be hashed: it is stored sealed (AES-GCM
-- under a key derived from SECRET_KEY, see internal/webhook.Sealer).
-- events lists what the endpoint is sent: completed, failed,
-- recommendation_changed. A receiver that answers 410 Gone disables its
-- endpoint (disabled_at), as the Standard Webhooks spec asks.
CREATE TABLE webhook_endpoints (
    id                uuid PRIMARY KEY,
    owner_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url               text NOT NULL,
    description       text NOT NULL DEFAULT '',
    events            text[] NOT NULL CHECK (cardinality(events) > 0),
    secret            bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    secret_rotated_at timestamptz,
    disabled_at       timestamptz,
    disabled_reason   text
);
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);

-- One delivery per event per endpoint: event_id names the event (e.g.
-- "job:<id>:completed"), and the unique key makes recording it twice (a
-- redelivered finish) a no-op. The body is frozen when the event is
-- recorded, so every attempt and every replay sends the same message
-- under the same webhook-id (the delivery's id). series counts replays;
-- attempts counts the attempts of the current series, and fences them:
-- an attempt is claimed, and its result written, only by the task that
-- names the delivery's current series and attempt count.
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    job_id           uuid,
    body             jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    series           int NOT NULL DEFAULT 1,
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_job_idx ON webhook_deliveries (job_id) WHERE job_id IS NOT NULL;
-- Retention deletes finished deliveries as old as the jobs it deletes.
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (finished_at) WHERE status <> 'pending';

-- Every attempt, as sent: its outcome, the receiver's status (NULL when
-- none came), latency, the first 1 KB of the answer, and a class of error
-- rather than the raw network text. The key is the fence: one row per
-- attempt of a series.
CREATE TABLE webhook_attempts (
    delivery_id   uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    series        int NOT NULL,
    number        int NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    outcome       text NOT NULL,
    response_code int,
    latency_ms    int NOT NULL,
    response_body text NOT NULL DEFAULT '',
    error_class   text NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, series, number)
);

-- recommendation_changed compares a prediction's action with the owner's
-- previous succeeded prediction of the ticker.
CREATE INDEX jobs_owner_ticker_succeeded_idx ON jobs (owner_id, ticker, finished_at DESC)
    WHERE status = 'succeeded' AND kind = 'prediction';

-- +goose Down
DROP INDEX jobs_owner_ticker_succeeded_idx;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
