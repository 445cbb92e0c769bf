-- +goose Up
-- A job that took an identical job's result may have taken another user's:
-- the result depends only on public prices. reused says that it was
-- reused; reused_from names the source only when it is the same user's,
-- since users see only their own jobs, and another user's job id is theirs.
-- (The worker's log line "job reuses the result of an identical job" keeps
-- both ids for operators.)
ALTER TABLE jobs ADD COLUMN reused boolean NOT NULL DEFAULT false;
UPDATE jobs j SET reused = true,
    reused_from = CASE WHEN o.owner_id = j.owner_id THEN j.reused_from END
FROM jobs o WHERE o.id = j.reused_from;

-- +goose Down
ALTER TABLE jobs DROP COLUMN reused;
