-- +goose Up
-- Schedules (issue 22): a watchlist forecast as a batch on a cron
-- expression in a time zone. Every worker looks for due schedules; the row
-- lock (FOR UPDATE SKIP LOCKED) lets one take each, and schedule_runs'
-- key makes an occurrence run at most once whatever happens.
CREATE TABLE schedules (
	id           bigserial PRIMARY KEY,
	owner_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	watchlist_id bigint NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
	cron         text NOT NULL,
	time_zone    text NOT NULL,
	params       jsonb NOT NULL,
	catch_up     boolean NOT NULL DEFAULT false,
	paused       boolean NOT NULL DEFAULT false,
	next_run_at  timestamptz NOT NULL,
	last_run_at  timestamptz,
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_owner_idx ON schedules (owner_id, id);
-- What the workers look for: the due, running schedules, soonest first.
CREATE INDEX schedules_due_idx ON schedules (next_run_at) WHERE NOT paused;

-- One row per occurrence that ran (or was refused), with its batch.
CREATE TABLE schedule_runs (
	schedule_id   bigint NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
	occurrence_at timestamptz NOT NULL,
	batch_id      uuid REFERENCES batches (id) ON DELETE SET NULL,
	skipped       integer NOT NULL DEFAULT 0,
	error         text,
	created_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (schedule_id, occurrence_at)
);

-- +goose Down
DROP TABLE schedule_runs;
DROP TABLE schedules;
