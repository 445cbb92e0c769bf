-- +goose Up
-- request_id is the id of the HTTP request that submitted the job: it goes
-- into the job's task, so every worker log line about the job can be found
-- from the web server's line, and survives a re-enqueue by the reconciler.
-- reused_from names the job whose result this one took instead of
-- computing it again.
ALTER TABLE jobs
    ADD COLUMN request_id  text,
    ADD COLUMN reused_from uuid REFERENCES jobs (id) ON DELETE SET NULL;

-- Retention deletes finished jobs by age.
CREATE INDEX jobs_finished_idx ON jobs (finished_at)
    WHERE status IN ('succeeded', 'failed', 'canceled');
-- ON DELETE SET NULL on reused_from looks jobs up by it.
CREATE INDEX jobs_reused_from_idx ON jobs (reused_from) WHERE reused_from IS NOT NULL;

-- One row per distinct computation (ticker, models, options, last bar
-- date, hashed into reuse_key): the job that computes it or computed it.
-- A primary key, rather than a query over jobs, makes the claim atomic, so
-- that five identical requests arriving together compute once.
CREATE TABLE job_computations (
    reuse_key  bytea PRIMARY KEY,
    job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_computations_job_idx ON job_computations (job_id);

-- When someone last asked for a ticker's prices; retention drops the bars
-- of tickers nobody asked about for 90 days. Tickers already cached start
-- their 90 days now.
CREATE TABLE price_tickers (
    ticker        text PRIMARY KEY,
    last_asked_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO price_tickers (ticker) SELECT DISTINCT ticker FROM price_bars;

-- +goose Down
DROP TABLE price_tickers;
DROP TABLE job_computations;
DROP INDEX jobs_reused_from_idx;
DROP INDEX jobs_finished_idx;
ALTER TABLE jobs
    DROP COLUMN reused_from,
    DROP COLUMN request_id;
