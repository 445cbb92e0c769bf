-- +goose Up
-- admit_job stores a submission that the web has already admitted on the
-- owner's unfinished jobs as it read them (seen_queues, seen_counts: queue
-- names in order, and their counts), in one round trip and its own
-- transaction. Under the owner's row lock, so that one owner's submissions
-- take turns, it looks again, each statement with a fresh snapshot (this is
-- why it is a VOLATILE function and not one statement: a statement that
-- waited for the lock would read with the snapshot it began with, and miss
-- the job the previous holder committed). It answers:
--   replay:   a job already holds the idempotency key (earlier_id);
--   changed:  some queue now holds more unfinished jobs than the web saw,
--             so its decision may no longer stand (queues, counts are the
--             new figures to decide on again);
--   inserted: the job is stored (created_at, params as jsonb keeps them).
-- Fewer unfinished jobs than seen keep the decision: a cap admitted at a
-- count holds at any lower count, and a job sent to the default queue for a
-- full critical queue only waits a little longer.
-- +goose StatementBegin
CREATE FUNCTION admit_job(
	p_id uuid, p_owner bigint, p_kind text, p_ticker text, p_params jsonb, p_queue text,
	p_key text, p_hash bytea, p_request_id text, p_seen_queues text[], p_seen_counts bigint[])
RETURNS TABLE (outcome text, earlier_id uuid, queues text[], counts bigint[], created_at timestamptz, params jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
	v_earlier uuid;
	v_queues text[];
	v_counts bigint[];
BEGIN
	PERFORM 1 FROM users u WHERE u.id = p_owner FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'owner % does not exist', p_owner USING ERRCODE = 'foreign_key_violation';
	END IF;
	IF p_key IS NOT NULL THEN
		SELECT j.id INTO v_earlier FROM jobs j WHERE j.owner_id = p_owner AND j.idempotency_key = p_key;
		IF FOUND THEN
			RETURN QUERY SELECT 'replay'::text, v_earlier, NULL::text[], NULL::bigint[], NULL::timestamptz, NULL::jsonb;
			RETURN;
		END IF;
	END IF;
	SELECT coalesce(array_agg(live.queue ORDER BY live.queue), '{}'), coalesce(array_agg(live.n ORDER BY live.queue), '{}')
		INTO v_queues, v_counts
		FROM (SELECT j.queue, count(*) AS n FROM jobs j
			WHERE j.owner_id = p_owner AND j.status IN ('queued', 'running') GROUP BY j.queue) live;
	IF EXISTS (
		SELECT 1 FROM unnest(v_queues, v_counts) AS now_(queue, n)
		LEFT JOIN unnest(p_seen_queues, p_seen_counts) AS seen(queue, n) ON seen.queue = now_.queue
		WHERE now_.n > coalesce(seen.n, 0)
	) THEN
		RETURN QUERY SELECT 'changed'::text, NULL::uuid, v_queues, v_counts, NULL::timestamptz, NULL::jsonb;
		RETURN;
	END IF;
	RETURN QUERY
		INSERT INTO jobs AS j (id, owner_id, kind, ticker, params, queue, idempotency_key, request_hash, request_id)
		VALUES (p_id, p_owner, p_kind, p_ticker, p_params, p_queue, p_key, p_hash, nullif(p_request_id, ''))
		RETURNING 'inserted'::text, NULL::uuid, NULL::text[], NULL::bigint[], j.created_at, j.params;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION admit_job(uuid, bigint, text, text, jsonb, text, text, bytea, text, text[], bigint[]);
