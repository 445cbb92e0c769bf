-- +goose Up
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    username      text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- Only the SHA-256 of a token is stored: a leaked table gives no usable token.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    name         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    owner_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('prediction', 'sentiment')),
    ticker          text NOT NULL DEFAULT '',
    params          jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    queue           text NOT NULL DEFAULT 'default',
    progress        smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    progress_detail jsonb,
    attempts        integer NOT NULL DEFAULT 0,
    error           text,
    result          jsonb,
    idempotency_key text,
    request_hash    bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
-- "My jobs, newest first" (cursor pagination on created_at, id).
CREATE INDEX jobs_owner_created_idx ON jobs (owner_id, created_at DESC, id DESC);
-- "Queued (or running), oldest first" for the reconciler.
CREATE INDEX jobs_live_idx ON jobs (created_at) WHERE status IN ('queued', 'running');
-- One job per owner and Idempotency-Key.
CREATE UNIQUE INDEX jobs_idempotency_idx ON jobs (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Cache of daily price history, filled by the market providers.
CREATE TABLE price_bars (
    ticker     text NOT NULL,
    date       date NOT NULL,
    open       double precision NOT NULL,
    high       double precision NOT NULL,
    low        double precision NOT NULL,
    close      double precision NOT NULL,
    adj_close  double precision NOT NULL,
    volume     bigint NOT NULL DEFAULT 0,
    source     text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticker, date)
);

-- +goose Down
DROP TABLE price_bars;
DROP TABLE jobs;
DROP TABLE api_tokens;
DROP TABLE users;
