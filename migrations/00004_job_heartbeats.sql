-- +goose Up
-- A running job is held by the worker attempt that started it. The worker
-- renews lease_expires_at while it runs, so "is anyone still on this job?"
-- has an answer that does not depend on Redis: the reconciler re-enqueues a
-- running job only once its lease has lapsed, and a second worker refuses a
-- job whose lease is live. Each worker writes its own lease length, so web,
-- reconciler and workers agree on staleness without sharing a setting.
ALTER TABLE jobs
    ADD COLUMN worker_id        text,
    ADD COLUMN heartbeat_at     timestamptz,
    ADD COLUMN lease_expires_at timestamptz;

-- +goose Down
ALTER TABLE jobs
    DROP COLUMN lease_expires_at,
    DROP COLUMN heartbeat_at,
    DROP COLUMN worker_id;
