-- +goose Up
-- An order or a deposit sent with an Idempotency-Key keeps the key with
-- the hash of its normalised request, so that a client that got no answer
-- can retry: the same key and request replay the transaction instead of
-- trading twice, and the same key with another request is refused. One
-- key names one transaction of a user. Only the API sends keys; the rows
-- of the dashboard's forms have none.
ALTER TABLE transactions
    ADD COLUMN idempotency_key text,
    ADD COLUMN request_hash bytea,
    ADD CONSTRAINT transactions_idempotency_check CHECK ((idempotency_key IS NULL) = (request_hash IS NULL));
CREATE UNIQUE INDEX transactions_user_idempotency_key_idx ON transactions (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX transactions_user_idempotency_key_idx;
ALTER TABLE transactions
    DROP CONSTRAINT transactions_idempotency_check,
    DROP COLUMN request_hash,
    DROP COLUMN idempotency_key;
