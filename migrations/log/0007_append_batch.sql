-- Group commit (ADR 0040): the appends of many commands in one call and
-- one transaction, decided and written set-based.
-- Never edit this file once applied; add a new migration instead.
--
-- Each command keeps what append_events gives it: its own outcome
-- (appended, duplicate, conflict, command_reused, command_mismatch,
-- stream_type_mismatch:<type>, unknown_tenant, version_overflow), so one
-- command's refusal never refuses another; idempotency per tenant with the
-- fingerprint; row-level security for its own tenant; its metadata; and
-- the gap rule (a transaction id is taken before positions are drawn).
--
-- Commands are given as parallel arrays (one element per command), events
-- as parallel arrays naming their command by its index (1-based) and their
-- order within it. Commands of one tenant are decided together against the
-- current heads and command records; commands that share a stream or a
-- command id with an earlier one of the same call are decided in a later
-- round, after it, exactly as if they had come one after another.
--
-- A database error (a constraint, a row another transaction wrote first)
-- fails the whole call: the caller then appends those commands one by one
-- with append_events, which tells each its own outcome.
CREATE FUNCTION append_batch(
    p_tenant_ids       uuid[],
    p_stream_ids       uuid[],
    p_stream_types     text[],
    p_expected         bigint[],      -- per command; NULL: any; 0: no stream yet
    p_command_ids      uuid[],
    p_actors           text[],
    p_correlation_ids  uuid[],
    p_causation_ids    uuid[],
    p_traceparents     text[],
    p_tracestates      text[],
    p_occurred_ats     timestamptz[],
    p_fingerprints     bytea[],
    p_event_commands   integer[],     -- per event: its command's index
    p_event_ords       integer[],     -- per event: 1.. within its command
    p_event_types      text[],
    p_schema_versions  integer[],
    p_payloads         json[]
)
RETURNS TABLE (command_index integer, outcome text, stream_version bigint, positions bigint[],
               recorded_at timestamptz)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_bound  uuid := current_tenant_id();
    v_tenant uuid;
    v_left   integer[];
    v_round  integer[];
    v_is       integer[];
    v_outcomes text[];
    v_versions bigint[];
    v_xid_taken boolean := false;
    v_now    timestamptz;
BEGIN
    IF v_bound IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(p_tenant_ids) t WHERE t <> v_bound) THEN
        RAISE EXCEPTION 'transaction is bound to tenant %, cannot append for another tenant', v_bound
            USING ERRCODE = 'DL002';
    END IF;

    -- Tenants in a fixed order, and streams in a fixed order within each:
    -- two concurrent calls insert keys in the same order and never deadlock.
    FOR v_tenant IN SELECT DISTINCT t FROM unnest(p_tenant_ids) t ORDER BY t LOOP
        PERFORM set_config('deedlog.tenant_id', v_tenant::text, true);
        SELECT array_agg(i ORDER BY i) INTO v_left
          FROM generate_subscripts(p_tenant_ids, 1) i WHERE p_tenant_ids[i] = v_tenant;

        IF NOT EXISTS (SELECT 1 FROM tenants t WHERE t.tenant_id = v_tenant) THEN
            RETURN QUERY SELECT i, 'unknown_tenant', NULL::bigint, NULL::bigint[], NULL::timestamptz
                           FROM unnest(v_left) i;
            CONTINUE;
        END IF;

        WHILE v_left IS NOT NULL LOOP
            -- This round: the first remaining command of each stream and command id.
            SELECT array_agg(x.i ORDER BY x.i) INTO v_round FROM (
                SELECT i,
                       row_number() OVER (PARTITION BY p_stream_ids[i] ORDER BY i) AS of_stream,
                       row_number() OVER (PARTITION BY p_command_ids[i] ORDER BY i) AS of_command
                  FROM unnest(v_left) i
            ) x WHERE x.of_stream = 1 AND x.of_command = 1;
            SELECT array_agg(i ORDER BY i) INTO v_left FROM unnest(v_left) i WHERE i <> ALL (v_round);

            -- Decide each against the current head and command record.
            SELECT array_agg(d.i ORDER BY d.i), array_agg(d.outcome ORDER BY d.i),
                   array_agg(d.version ORDER BY d.i)
              INTO v_is, v_outcomes, v_versions
              FROM (
                SELECT r.i,
                       CASE
                           WHEN c.command_id IS NOT NULL THEN
                               CASE
                                   WHEN c.stream_id <> p_stream_ids[r.i] THEN 'command_reused'
                                   WHEN c.fingerprint IS DISTINCT FROM p_fingerprints[r.i]
                                        AND c.fingerprint IS NOT NULL
                                        AND p_fingerprints[r.i] IS NOT NULL THEN 'command_mismatch'
                                   ELSE 'duplicate'
                               END
                           WHEN h.stream_type IS NOT NULL AND h.stream_type <> p_stream_types[r.i]
                               THEN 'stream_type_mismatch:' || h.stream_type
                           WHEN p_expected[r.i] IS NOT NULL AND p_expected[r.i] <> coalesce(h.version, 0)
                               THEN 'conflict'
                           WHEN coalesce(h.version, 0) > 9223372036854775807
                                - (SELECT count(*) FROM unnest(p_event_commands) e WHERE e = r.i)
                               THEN 'version_overflow'
                           ELSE 'appended'
                       END AS outcome,
                       CASE WHEN c.command_id IS NOT NULL THEN c.stream_version ELSE coalesce(h.version, 0) END
                           AS version
                  FROM unnest(v_round) r(i)
                  LEFT JOIN commands c ON c.tenant_id = v_tenant AND c.command_id = p_command_ids[r.i]
                  LEFT JOIN LATERAL (
                      SELECT e.stream_type, e.version FROM events e
                       WHERE e.stream_id = p_stream_ids[r.i] ORDER BY e.version DESC LIMIT 1
                  ) h ON true
              ) d;

            -- Refusals and repeats: a repeat answers with its first outcome.
            RETURN QUERY
                SELECT d.i, d.outcome, d.version, c.positions, c.recorded_at
                  FROM unnest(v_is, v_outcomes, v_versions) d(i, outcome, version)
                  LEFT JOIN commands c ON d.outcome IN ('duplicate', 'command_mismatch', 'command_reused')
                                      AND c.tenant_id = v_tenant AND c.command_id = p_command_ids[d.i]
                 WHERE d.outcome <> 'appended';

            CONTINUE WHEN NOT ('appended' = ANY (v_outcomes));
            IF NOT v_xid_taken THEN
                -- The gap rule: a transaction id before any position is drawn.
                PERFORM pg_current_xact_id();
                v_now := clock_timestamp();
                v_xid_taken := true;
            END IF;

            RETURN QUERY
            WITH winners AS (
                SELECT d.i, d.version AS base
                  FROM unnest(v_is, v_outcomes, v_versions) d(i, outcome, version)
                 WHERE d.outcome = 'appended'
            ),
            new_events AS (
                SELECT w.i, w.base + e.ord AS version, e.event_type, e.schema_version, e.payload
                  FROM unnest(p_event_commands, p_event_ords, p_event_types, p_schema_versions, p_payloads)
                       AS e(i, ord, event_type, schema_version, payload)
                  JOIN winners w ON w.i = e.i
            ),
            -- Positions are drawn in command order and, within a command, in
            -- stream order, so a stream's positions rise with its versions.
            drawn AS (
                SELECT n.*, nextval('events_position_seq') AS position
                  FROM (SELECT * FROM new_events ORDER BY i, version) n
            ),
            inserted AS (
                INSERT INTO events (position, tenant_id, stream_id, stream_type, version, event_type,
                                    schema_version, payload, actor, command_id, correlation_id,
                                    causation_id, traceparent, tracestate, occurred_at, recorded_at)
                SELECT d.position, v_tenant, p_stream_ids[d.i], p_stream_types[d.i], d.version,
                       d.event_type, d.schema_version, d.payload, p_actors[d.i], p_command_ids[d.i],
                       p_correlation_ids[d.i], p_causation_ids[d.i], p_traceparents[d.i],
                       p_tracestates[d.i], p_occurred_ats[d.i], v_now
                  FROM drawn d
                 ORDER BY p_stream_ids[d.i], d.version
                RETURNING events.command_id, events.position, events.version
            ),
            per_command AS (
                SELECT i.command_id, array_agg(i.position ORDER BY i.position) AS positions,
                       max(i.version) AS version
                  FROM inserted i GROUP BY i.command_id
            ),
            recorded AS (
                INSERT INTO commands (command_id, tenant_id, stream_id, stream_version, positions,
                                      recorded_at, fingerprint)
                SELECT p.command_id, v_tenant, p_stream_ids[w.i], p.version, p.positions, v_now,
                       p_fingerprints[w.i]
                  FROM winners w JOIN per_command p ON p.command_id = p_command_ids[w.i]
                 ORDER BY p.command_id
                RETURNING commands.command_id
            )
            SELECT w.i, 'appended', p.version, p.positions, v_now
              FROM winners w JOIN per_command p ON p.command_id = p_command_ids[w.i]
             WHERE EXISTS (SELECT 1 FROM recorded r WHERE r.command_id = p.command_id);
        END LOOP;
    END LOOP;

    IF v_bound IS NULL THEN
        PERFORM set_config('deedlog.tenant_id', '', true);
    END IF;
END $$;
REVOKE EXECUTE ON FUNCTION append_batch FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_batch TO deedlog_app;
