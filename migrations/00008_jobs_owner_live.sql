-- +goose Up
-- Every submission counts its owner's queued and running jobs by queue
-- (MAX_UNFINISHED_JOBS, INTERACTIVE_JOBS_PER_USER). Through
-- jobs_owner_created_idx that count read every job the owner ever had,
-- finished ones included, from the heap; this index holds only the
-- unfinished ones, and answers the count by itself.
CREATE INDEX jobs_owner_live_idx ON jobs (owner_id, queue) WHERE status IN ('queued', 'running');

-- +goose Down
DROP INDEX jobs_owner_live_idx;
