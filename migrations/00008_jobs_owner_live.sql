-- +goose NO TRANSACTION
-- +goose Up
-- Every submission counts its owner's queued and running jobs by queue
-- (MAX_UNFINISHED_JOBS, INTERACTIVE_JOBS_PER_USER). Through
-- jobs_owner_created_idx that count read every job the owner ever had,
-- finished ones included, from the heap; this index holds only the
-- unfinished ones, and answers the count by itself. CONCURRENTLY (hence no
-- transaction) so that submissions go on while it is built on a large
-- jobs table; IF NOT EXISTS so that a build interrupted before goose
-- recorded it can run again (drop an INVALID leftover first).
CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_owner_live_idx ON jobs (owner_id, queue) WHERE status IN ('queued', 'running');

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS jobs_owner_live_idx;
