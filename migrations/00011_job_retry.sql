-- +goose Up
-- A running job whose attempt failed waits for asynq's retry, which can be
-- a minute away. retry_at is when the next attempt is due (NULL while an
-- attempt runs) and attempt_error what ended the last failed one, so that
-- the user sees why the progress stopped and when it goes on, rather than
-- a job that looks stuck. Both are NULL on jobs that never failed an
-- attempt; adding nullable columns rewrites nothing.
ALTER TABLE jobs ADD COLUMN retry_at timestamptz, ADD COLUMN attempt_error text;

-- +goose Down
ALTER TABLE jobs DROP COLUMN retry_at, DROP COLUMN attempt_error;
