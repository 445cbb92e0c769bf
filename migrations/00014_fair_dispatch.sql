-- +goose NO TRANSACTION
-- +goose Up
-- Fair turns between users (docs/fairness.md). asynq serves queues, not
-- users: a job in Redis runs in the order it arrived there, so one user's
-- 200 jobs, all in Redis at once, stood in front of everyone who came
-- after. Now an accepted job is "dispatched" (its task put in Redis) only
-- while it is its owner's turn; the others are held here, still queued to
-- the user, with dispatched_at NULL, and the workers dispatch them one
-- owner after another as jobs end.
--
-- NO TRANSACTION, so that the indexes are built CONCURRENTLY while
-- submissions go on (as in 00008); every statement can therefore run again
-- after an interruption (IF NOT EXISTS, OR REPLACE).

-- dispatched_at is when the job's task was (first) put in Redis; NULL
-- while it waits for its turn. Every job there is now counts as
-- dispatched: the default is evaluated once for the existing rows (now()
-- is stable, so nothing is rewritten), and a job inserted without naming
-- the column (CreateJob, the leaderboard's, the admit_job functions of
-- older binaries, which enqueue at once) is dispatched when stored.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS dispatched_at timestamptz DEFAULT now();

-- The held jobs, by owner and age: which owners wait for a turn, and each
-- one's next job.
CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_held_idx ON jobs (owner_id, created_at)
	WHERE status = 'queued' AND dispatched_at IS NULL;
-- The dispatched live jobs (in Redis, running, or waiting for asynq's
-- retry): how many there are in all and per owner, and each owner's latest.
CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_dispatched_live_idx ON jobs (owner_id, dispatched_at)
	WHERE status IN ('queued', 'running') AND dispatched_at IS NOT NULL;

-- worker_slots is how many jobs the workers run at once, which sizes the
-- line in Redis. Each worker process keeps its row alive while it runs
-- (WORKER_CONCURRENCY) and deletes it when it stops; a killed worker's row
-- expires.
CREATE TABLE IF NOT EXISTS worker_slots (
	worker_id  text PRIMARY KEY,
	slots      int NOT NULL CHECK (slots > 0),
	expires_at timestamptz NOT NULL
);

-- dispatch_target is how many dispatched live jobs the line should hold:
-- the workers' slots, and p_ahead_per_slot more per slot waiting in Redis
-- so that a slot that frees up finds its next task there at once.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dispatch_target(p_ahead_per_slot int) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(w.slots), 0) * (1 + greatest(p_ahead_per_slot, 0))
	FROM worker_slots w WHERE w.expires_at > now()
$$;
-- +goose StatementEnd

-- admit_job_by_rule, with the dispatch rule: 00013's function and, after
-- its p_store, two more values from internal/admission:
--   p_dispatch_per_owner: an owner with fewer dispatched live jobs than
--     this, and none held, has the new job dispatched at once: it is the
--     owner's turn. 0 dispatches every job at once (no turns).
--   p_dispatch_ahead_per_slot: when nobody's job is held, a job is also
--     dispatched while the dispatched live jobs of all owners are fewer
--     than dispatch_target(p_dispatch_ahead_per_slot), so that a lone
--     user's jobs fill every slot.
-- Every other job is stored held; the workers dispatch it in its turn
-- (dispatch_held_jobs). Both decisions are made under the owner's row
-- lock, in the same round trip as before; the total needs no lock: two
-- owners' submissions racing past it overfill the line by one job each.
-- The answer gains dispatched_at, NULL for a held job.
-- 00013's admit_job_by_rule (another signature) stays for binaries older
-- than this migration during a rolling deploy: its jobs take the column's
-- default, dispatched, as those binaries enqueue them at once.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION admit_job_by_rule(
	p_id uuid, p_owner bigint, p_kind text, p_ticker text, p_params jsonb, p_queue text,
	p_key text, p_hash bytea, p_request_id text,
	p_max_unfinished int, p_share_queue text, p_share_per_owner int, p_overflow_queue text,
	p_store boolean, p_dispatch_per_owner int, p_dispatch_ahead_per_slot int)
RETURNS TABLE (outcome text, earlier_id uuid, unfinished bigint, queue text, created_at timestamptz, params jsonb,
	dispatched_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
	v_earlier uuid;
	v_total bigint;
	v_shared bigint;
	v_dispatched bigint;
	v_held bigint;
	v_target bigint;
	v_dispatch boolean;
	v_queue text := p_queue;
BEGIN
	IF p_store THEN
		PERFORM 1 FROM users u WHERE u.id = p_owner FOR UPDATE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'owner % does not exist', p_owner USING ERRCODE = 'foreign_key_violation';
		END IF;
	END IF;
	IF p_key IS NOT NULL THEN
		SELECT j.id INTO v_earlier FROM jobs j WHERE j.owner_id = p_owner AND j.idempotency_key = p_key;
		IF FOUND THEN
			RETURN QUERY SELECT 'replay'::text, v_earlier, NULL::bigint, NULL::text, NULL::timestamptz, NULL::jsonb,
				NULL::timestamptz;
			RETURN;
		END IF;
	END IF;
	SELECT count(*), count(*) FILTER (WHERE j.queue = p_share_queue),
			count(*) FILTER (WHERE j.dispatched_at IS NOT NULL),
			count(*) FILTER (WHERE j.dispatched_at IS NULL AND j.status = 'queued')
		INTO v_total, v_shared, v_dispatched, v_held
		FROM jobs j WHERE j.owner_id = p_owner AND j.status IN ('queued', 'running');
	IF v_total >= p_max_unfinished THEN
		RETURN QUERY SELECT 'refused'::text, NULL::uuid, v_total, NULL::text, NULL::timestamptz, NULL::jsonb,
			NULL::timestamptz;
		RETURN;
	END IF;
	IF v_queue = p_share_queue AND v_shared >= p_share_per_owner THEN
		v_queue := p_overflow_queue;
	END IF;
	IF NOT p_store THEN
		RETURN QUERY SELECT 'admissible'::text, NULL::uuid, v_total, v_queue, NULL::timestamptz, NULL::jsonb,
			NULL::timestamptz;
		RETURN;
	END IF;
	v_dispatch := coalesce(p_dispatch_per_owner, 0) <= 0
		OR v_held = 0 AND v_dispatched < p_dispatch_per_owner;
	IF NOT v_dispatch AND NOT EXISTS (SELECT 1 FROM jobs h WHERE h.status = 'queued' AND h.dispatched_at IS NULL) THEN
		v_target := dispatch_target(p_dispatch_ahead_per_slot);
		-- Counts at most v_target index entries.
		v_dispatch := v_target > (SELECT count(*) FROM (SELECT 1 FROM jobs d
			WHERE d.status IN ('queued', 'running') AND d.dispatched_at IS NOT NULL LIMIT v_target) d);
	END IF;
	RETURN QUERY
		INSERT INTO jobs AS j (id, owner_id, kind, ticker, params, queue, idempotency_key, request_hash, request_id,
			dispatched_at)
		VALUES (p_id, p_owner, p_kind, p_ticker, p_params, v_queue, p_key, p_hash, nullif(p_request_id, ''),
			CASE WHEN v_dispatch THEN clock_timestamp() END)
		RETURNING 'inserted'::text, NULL::uuid, v_total, j.queue, j.created_at, j.params, j.dispatched_at;
END
$$;
-- +goose StatementEnd

-- dispatch_held_jobs dispatches held jobs in their owners' turns and
-- returns them, for the caller to put their tasks in Redis. Workers call it
-- whenever a task of theirs ends, the reconciler on every pass (so a
-- trigger lost with a killed worker or an emptied Redis is made up for), a
-- worker when it starts, and the web when a user cancels a dispatched job.
-- It dispatches, at most p_limit jobs:
--   1. each owner's next held job while the owner has fewer dispatched live
--      jobs than p_dispatch_per_owner: every owner with work keeps a job in
--      the line, however long the line;
--   2. then, while the dispatched live jobs of all owners are fewer than
--      dispatch_target(p_ahead_per_slot), the next held job of the owner
--      whose turn it is: the fewest dispatched live jobs, then the one
--      whose latest dispatched live job is oldest, then the one whose held
--      job is oldest.
-- An owner's next job is its oldest held one on the first queue of
-- p_queues it has one on (critical before default before low), so that a
-- user's interactive job does not wait behind the same user's batch.
-- Dispatchers take turns on the advisory lock p_lock_key; the job row is
-- still locked FOR UPDATE SKIP LOCKED, so that a dispatch never waits for
-- a cancel (or any other writer) holding it, and never takes a job twice.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dispatch_held_jobs(p_dispatch_per_owner int, p_ahead_per_slot int, p_queues text[], p_limit int,
	p_lock_key bigint)
RETURNS TABLE (id uuid, owner_id bigint, kind text, queue text, request_id text, created_at timestamptz,
	dispatched_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
	v_target bigint;
	v_live bigint;
	v_owner bigint;
	v_owner_live bigint;
	v_job uuid;
	v_done int := 0;
	v_skipped bigint[] := '{}';
BEGIN
	IF NOT EXISTS (SELECT 1 FROM jobs h WHERE h.status = 'queued' AND h.dispatched_at IS NULL) THEN
		RETURN;
	END IF;
	-- One dispatcher at a time: each sees what the one before dispatched,
	-- which a concurrent one would not (its dispatches are committed only
	-- at its end), and so gives nobody a second turn by mistake. A call
	-- takes a few milliseconds.
	PERFORM pg_advisory_xact_lock(p_lock_key);
	v_target := dispatch_target(p_ahead_per_slot);
	SELECT count(*) INTO v_live FROM jobs d WHERE d.status IN ('queued', 'running') AND d.dispatched_at IS NOT NULL;
	WHILE v_done < p_limit LOOP
		SELECT o.owner_id, o.live INTO v_owner, v_owner_live
		FROM (
			SELECT h.owner_id, min(h.created_at) AS oldest FROM jobs h
			WHERE h.status = 'queued' AND h.dispatched_at IS NULL AND h.owner_id <> ALL (v_skipped)
			GROUP BY h.owner_id
		) w
		CROSS JOIN LATERAL (
			SELECT w.owner_id, count(*) AS live, max(d.dispatched_at) AS latest FROM jobs d
			WHERE d.owner_id = w.owner_id AND d.status IN ('queued', 'running') AND d.dispatched_at IS NOT NULL
		) o
		ORDER BY o.live, o.latest NULLS FIRST, w.oldest, o.owner_id
		LIMIT 1;
		EXIT WHEN NOT FOUND;
		-- With p_dispatch_per_owner 0 (no turns) every held job goes.
		EXIT WHEN p_dispatch_per_owner > 0 AND v_owner_live >= p_dispatch_per_owner AND v_live >= v_target;
		SELECT h.id INTO v_job FROM jobs h
		WHERE h.owner_id = v_owner AND h.status = 'queued' AND h.dispatched_at IS NULL
		ORDER BY array_position(p_queues, h.queue) NULLS LAST, h.created_at, h.id
		LIMIT 1 FOR UPDATE SKIP LOCKED;
		IF NOT FOUND THEN
			-- Another dispatcher holds this owner's next job: its turn is
			-- being served.
			v_skipped := v_skipped || v_owner;
			CONTINUE;
		END IF;
		RETURN QUERY
			UPDATE jobs j SET dispatched_at = clock_timestamp() WHERE j.id = v_job
			RETURNING j.id, j.owner_id, j.kind, j.queue, j.request_id, j.created_at, j.dispatched_at;
		v_live := v_live + 1;
		v_done := v_done + 1;
	END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION IF EXISTS dispatch_held_jobs(int, int, text[], int, bigint);
DROP FUNCTION IF EXISTS admit_job_by_rule(uuid, bigint, text, text, jsonb, text, text, bytea, text, int, text, int, text, boolean, int, int);
DROP FUNCTION IF EXISTS dispatch_target(int);
DROP TABLE IF EXISTS worker_slots;
DROP INDEX CONCURRENTLY IF EXISTS jobs_dispatched_live_idx;
DROP INDEX CONCURRENTLY IF EXISTS jobs_held_idx;
-- The older binaries' reconciler enqueues the jobs that were held.
ALTER TABLE jobs DROP COLUMN IF EXISTS dispatched_at;
