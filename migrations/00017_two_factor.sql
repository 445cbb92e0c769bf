-- +goose Up
-- A user's TOTP authenticator (RFC 6238). The secret is sealed with
-- AES-GCM under a key derived from SECRET_KEY (auth.SecretBox), so a copy
-- of the database or a backup alone cannot mint codes. The row exists from
-- the set-up form on, but counts only once confirmed by a first valid code.
-- last_step is the newest time step accepted: a code of that step or an
-- older one never works again, which is the replay window.
CREATE TABLE user_totp (
    user_id       bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed bytea NOT NULL,
    confirmed_at  timestamptz,
    last_step     bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Single-use recovery codes: only a SHA-256 digest of each is kept (they
-- are random, 50 bits each, so a slow hash would add nothing), and a used
-- one keeps its row with used_at set, so it cannot be used again.
CREATE TABLE recovery_codes (
    id        bigserial PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at   timestamptz,
    UNIQUE (user_id, code_hash)
);

-- Passkeys (WebAuthn credentials): the credential record as go-webauthn
-- keeps it (public key, sign count, flags) in JSON, and its id apart for
-- the lookup of a discoverable sign-in, which names only the credential.
CREATE TABLE webauthn_credentials (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id bytea NOT NULL UNIQUE,
    credential    jsonb NOT NULL,
    name          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

-- The browser sessions of each user, for the list on /account. scs keeps
-- a session's data opaque in sessions, so the user and the device are
-- noted here at sign-in. No foreign key to sessions: scs writes that row
-- only when the request ends, after this one. Rows whose session is gone
-- or of an older epoch are pruned when the user lists them.
CREATE TABLE user_sessions (
    id         bigserial PRIMARY KEY,
    token      text NOT NULL UNIQUE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    epoch      bigint NOT NULL,
    user_agent text NOT NULL,
    ip         text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

-- +goose Down
DROP TABLE user_sessions;
DROP TABLE webauthn_credentials;
DROP TABLE recovery_codes;
DROP TABLE user_totp;
