-- +goose Up
-- Simulated trading. Money is NUMERIC(20,2), whole cents; quantities are
-- NUMERIC(20,6), fractional shares to a millionth. internal/portfolio owns
-- the rules; the CHECKs here are the last line of defence should code ever
-- get them wrong.

CREATE TABLE companies (
    id         bigserial PRIMARY KEY,
    symbol     text NOT NULL UNIQUE CHECK (symbol <> '' AND symbol = upper(symbol)),
    name       text NOT NULL CHECK (name <> ''),
    exchange   text NOT NULL DEFAULT '',
    sector     text NOT NULL DEFAULT '',
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE brokers (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL CHECK (name <> ''),
    email           text NOT NULL DEFAULT '',
    -- Percent of a trade's total: 0.25 means 0.25 %.
    commission_rate numeric(7,4) NOT NULL CHECK (commission_rate BETWEEN 0 AND 100),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX brokers_name_key ON brokers (lower(name));
-- "The cheapest active broker" for every order that names none.
CREATE INDEX brokers_cheapest_idx ON brokers (commission_rate, id) WHERE active;

CREATE TABLE wallets (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    balance    numeric(20,2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A holding keeps its exact cost basis (what its shares cost, commissions
-- included); the average cost is cost_basis / quantity, derived when shown,
-- because a stored rounded average would drift with every trade. A holding
-- sold to zero is deleted, so every row holds shares.
CREATE TABLE holdings (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    company_id bigint NOT NULL REFERENCES companies (id),
    quantity   numeric(20,6) NOT NULL CHECK (quantity > 0),
    cost_basis numeric(20,2) NOT NULL CHECK (cost_basis >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, company_id)
);

CREATE TABLE transactions (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('BUY', 'SELL', 'DIVIDEND', 'DEPOSIT')),
    company_id  bigint REFERENCES companies (id),
    broker_id   bigint REFERENCES brokers (id),
    quantity    numeric(20,6) CHECK (quantity > 0),
    -- The share price of a trade, or the amount per share of a dividend.
    price       numeric(20,4) CHECK (price > 0),
    -- The shares' value (BUY, SELL) or the money paid in (DIVIDEND, DEPOSIT).
    total       numeric(20,2) NOT NULL CHECK (total > 0),
    commission  numeric(20,2) NOT NULL DEFAULT 0 CHECK (commission >= 0),
    -- Proceeds less the cost basis of the shares sold; SELL only.
    realised_pl numeric(20,2),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE type
        WHEN 'DEPOSIT'  THEN company_id IS NULL AND broker_id IS NULL AND quantity IS NULL
                             AND price IS NULL AND commission = 0 AND realised_pl IS NULL
        WHEN 'DIVIDEND' THEN company_id IS NOT NULL AND broker_id IS NULL AND quantity IS NOT NULL
                             AND price IS NOT NULL AND commission = 0 AND realised_pl IS NULL
        WHEN 'BUY'      THEN company_id IS NOT NULL AND broker_id IS NOT NULL AND quantity IS NOT NULL
                             AND price IS NOT NULL AND realised_pl IS NULL
        WHEN 'SELL'     THEN company_id IS NOT NULL AND broker_id IS NOT NULL AND quantity IS NOT NULL
                             AND price IS NOT NULL AND realised_pl IS NOT NULL
                             AND commission <= total
    END)
);
-- "My transactions, newest first" (cursor pagination on created_at, id).
CREATE INDEX transactions_user_created_idx ON transactions (user_id, created_at DESC, id DESC);

CREATE TABLE dividends (
    id               bigserial PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    company_id       bigint NOT NULL REFERENCES companies (id),
    amount_per_share numeric(20,4) NOT NULL CHECK (amount_per_share > 0),
    -- The shares held when it was recorded, which it was paid on.
    quantity         numeric(20,6) NOT NULL CHECK (quantity > 0),
    total            numeric(20,2) NOT NULL CHECK (total > 0),
    transaction_id   bigint NOT NULL UNIQUE REFERENCES transactions (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dividends_user_idx ON dividends (user_id, created_at DESC);

-- +goose Down
DROP TABLE dividends;
DROP TABLE transactions;
DROP TABLE holdings;
DROP TABLE wallets;
DROP TABLE brokers;
DROP TABLE companies;
