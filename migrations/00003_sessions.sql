-- +goose Up
-- Browser sessions, in the shape alexedwards/scs's postgresstore reads and
-- writes: the token is the random cookie value, data the gob-encoded
-- session, expiry the later of idle timeout and lifetime it must not pass.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- A session records the epoch of its user when it signed in, and counts
-- only while the two agree. Raising the epoch (a new password) ends every
-- other session at its next request: the store cannot list a user's
-- sessions, whose data it keeps opaque.
ALTER TABLE users ADD COLUMN session_epoch bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN session_epoch;
DROP TABLE sessions;
