-- +goose NO TRANSACTION
-- +goose Up
-- Watchlists and batches (issue 22): a user's named lists of tickers, and
-- one prediction request run over many tickers as one batch of jobs.
--
-- NO TRANSACTION, so that the index on jobs is built CONCURRENTLY while
-- submissions go on (as in 00008 and 00014); every statement can run again
-- after an interruption.

CREATE TABLE IF NOT EXISTS watchlists (
	id         bigserial PRIMARY KEY,
	owner_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	tickers    text[] NOT NULL CHECK (cardinality(tickers) BETWEEN 1 AND 500),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
-- One list of a name per user, whatever its case.
CREATE UNIQUE INDEX IF NOT EXISTS watchlists_owner_name_idx ON watchlists (owner_id, lower(name));

-- A batch is one prediction request (params) over tickers; its jobs carry
-- its id. The watchlist it came from is kept for "change since the last
-- batch" and lost, not blocking, when the list is deleted.
CREATE TABLE IF NOT EXISTS batches (
	id           uuid PRIMARY KEY,
	owner_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	watchlist_id bigint REFERENCES watchlists (id) ON DELETE SET NULL,
	params       jsonb NOT NULL,
	tickers      text[] NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	canceled_at  timestamptz
);
CREATE INDEX IF NOT EXISTS batches_owner_created_idx ON batches (owner_id, created_at DESC, id DESC);

-- A nullable column without a default: no table rewrite. A job outlives
-- its batch row only if the batch is deleted first, which retention does
-- not do (it deletes a batch once its jobs are gone).
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS batch_id uuid REFERENCES batches (id) ON DELETE SET NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_batch_idx ON jobs (batch_id, ticker) WHERE batch_id IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS jobs_batch_idx;
ALTER TABLE jobs DROP COLUMN IF EXISTS batch_id;
DROP TABLE IF EXISTS batches;
DROP TABLE IF EXISTS watchlists;
