-- +goose Up
-- The model leaderboard (GET /api/v1/models) is computed by a job of its own.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('prediction', 'sentiment', 'leaderboard'));
-- However many users ask at once, at most one leaderboard is computed.
CREATE UNIQUE INDEX jobs_one_live_leaderboard_idx ON jobs (kind)
    WHERE kind = 'leaderboard' AND status IN ('queued', 'running');
-- "The newest leaderboard that succeeded".
CREATE INDEX jobs_leaderboard_finished_idx ON jobs (finished_at DESC)
    WHERE kind = 'leaderboard' AND status = 'succeeded';

-- +goose Down
DROP INDEX jobs_leaderboard_finished_idx;
DROP INDEX jobs_one_live_leaderboard_idx;
DELETE FROM jobs WHERE kind = 'leaderboard';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('prediction', 'sentiment'));
