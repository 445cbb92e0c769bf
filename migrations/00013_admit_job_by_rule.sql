-- +goose Up
-- admit_job_by_rule applies the admission rule to a submission and, when
-- p_store is set, stores the job the rule admits, in one round trip and its
-- own transaction. The rule arrives as plain values from its one owner,
-- internal/admission; this function executes it and decides nothing else:
--   p_max_unfinished: the owner's queued and running jobs must stay below it;
--   p_share_queue, p_share_per_owner, p_overflow_queue: a job asked for
--     p_share_queue goes to p_overflow_queue instead once the owner already
--     has p_share_per_owner unfinished jobs there.
-- With p_store the owner's row is locked first, so that one owner's
-- submissions take turns and the cap is exact; each statement then reads
-- with a fresh snapshot (this is why it is a VOLATILE function and not one
-- statement: a statement that waited for the lock would read with the
-- snapshot it began with, and miss the job the previous holder committed).
-- Without p_store it takes no lock and stores nothing: the look before the
-- per-minute rate limit is charged, so that a submission the cap refuses,
-- or a replay, uses up no limit. It answers:
--   replay:     a job already holds the idempotency key (earlier_id);
--   refused:    the owner has unfinished jobs already, the cap or more;
--   admissible: (without p_store) the job would be stored on queue now;
--   inserted:   the job is stored on queue (created_at, params as jsonb
--               keeps them).
-- admit_job (00010) stays for binaries older than this migration during a
-- rolling deploy; a later migration drops it.
-- +goose StatementBegin
CREATE FUNCTION admit_job_by_rule(
	p_id uuid, p_owner bigint, p_kind text, p_ticker text, p_params jsonb, p_queue text,
	p_key text, p_hash bytea, p_request_id text,
	p_max_unfinished int, p_share_queue text, p_share_per_owner int, p_overflow_queue text,
	p_store boolean)
RETURNS TABLE (outcome text, earlier_id uuid, unfinished bigint, queue text, created_at timestamptz, params jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
	v_earlier uuid;
	v_total bigint;
	v_shared bigint;
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
			RETURN QUERY SELECT 'replay'::text, v_earlier, NULL::bigint, NULL::text, NULL::timestamptz, NULL::jsonb;
			RETURN;
		END IF;
	END IF;
	SELECT count(*), count(*) FILTER (WHERE j.queue = p_share_queue) INTO v_total, v_shared
		FROM jobs j WHERE j.owner_id = p_owner AND j.status IN ('queued', 'running');
	IF v_total >= p_max_unfinished THEN
		RETURN QUERY SELECT 'refused'::text, NULL::uuid, v_total, NULL::text, NULL::timestamptz, NULL::jsonb;
		RETURN;
	END IF;
	IF v_queue = p_share_queue AND v_shared >= p_share_per_owner THEN
		v_queue := p_overflow_queue;
	END IF;
	IF NOT p_store THEN
		RETURN QUERY SELECT 'admissible'::text, NULL::uuid, v_total, v_queue, NULL::timestamptz, NULL::jsonb;
		RETURN;
	END IF;
	RETURN QUERY
		INSERT INTO jobs AS j (id, owner_id, kind, ticker, params, queue, idempotency_key, request_hash, request_id)
		VALUES (p_id, p_owner, p_kind, p_ticker, p_params, v_queue, p_key, p_hash, nullif(p_request_id, ''))
		RETURNING 'inserted'::text, NULL::uuid, v_total, j.queue, j.created_at, j.params;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION admit_job_by_rule(uuid, bigint, text, text, jsonb, text, text, bytea, text, int, text, int, text, boolean);
