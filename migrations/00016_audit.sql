-- +goose Up
-- The audit trail: one row per security-relevant action, appended only.
-- Each row's hash is SHA-256 over a canonical encoding of the row and the
-- previous row's hash (internal/audit computes it, so verification does
-- not trust the database), and appends take a transaction-level advisory
-- lock, so the chain never forks. Ids come from the sequence under that
-- lock, so chain order is id order; an append rolled back leaves a gap in
-- the ids but not in the chain.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    actor_id bigint,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    ip text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT '',
    outcome text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_target_idx ON audit_log (target, id);

-- No UPDATE ever, and no DELETE except retention's: store.PruneAudit sets
-- augur.audit_prune for its own transaction only (SET LOCAL, which holds
-- through PgBouncer's transaction pooling) and deletes the oldest rows, a
-- prefix of the chain, so what is kept still verifies from its first row.
-- This guards against mistakes and the application's own statements; a
-- superuser can still disable triggers, which the chain then reveals.
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('augur.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
