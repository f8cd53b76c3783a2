-- Group commit, leaner (ADR 0043): append_batch decides and writes each
-- tenant's commands in one statement, without rounds.
-- Never edit this file once applied; add a new migration instead.
--
-- The caller gives commands whose streams are all distinct and whose
-- command ids are distinct within their tenant (the event store splits a
-- batch that repeats one into rounds, each its own call). A call that
-- repeats one is refused as a whole (DL003): its commands could not be
-- decided against the current heads in one statement.
--
-- Everything else is as in 0007: per command append_events' own outcome,
-- idempotency with the fingerprint, row-level security for each tenant,
-- the gap rule (a transaction id is taken before any position is drawn),
-- keys inserted in (tenant, stream, version) order, and a database error
-- failing the whole call so that the caller appends one by one.
CREATE OR REPLACE FUNCTION append_batch(
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
-- No JIT, as for the reader's pool: should a penalised scan ever push the
-- plan's cost past jit_above_cost, it would be compiled on every call.
SET jit = off
AS $$
DECLARE
    v_bound  uuid := current_tenant_id();
    v_tenant uuid;
    v_now    timestamptz;
BEGIN
    IF v_bound IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(p_tenant_ids) t WHERE t <> v_bound) THEN
        RAISE EXCEPTION 'transaction is bound to tenant %, cannot append for another tenant', v_bound
            USING ERRCODE = 'DL002';
    END IF;
    IF (SELECT count(DISTINCT s) FROM unnest(p_stream_ids) s) < cardinality(p_stream_ids)
       OR (SELECT count(DISTINCT (t, c)) FROM unnest(p_tenant_ids, p_command_ids) x(t, c))
          < cardinality(p_command_ids) THEN
        RAISE EXCEPTION 'a batch repeats a stream or a command id; append those one after another'
            USING ERRCODE = 'DL003';
    END IF;

    -- The gap rule: a transaction id before any position is drawn.
    PERFORM pg_current_xact_id();
    v_now := clock_timestamp();

    -- Tenants in a fixed order, and keys in a fixed order within each: two
    -- concurrent calls insert keys in the same order and never deadlock.
    FOR v_tenant IN SELECT DISTINCT t FROM unnest(p_tenant_ids) t ORDER BY t LOOP
        PERFORM set_config('deedlog.tenant_id', v_tenant::text, true);
        RETURN QUERY
        WITH mine AS (
            SELECT i FROM generate_subscripts(p_tenant_ids, 1) i WHERE p_tenant_ids[i] = v_tenant
        ),
        given AS (
            SELECT e.i, e.ord, e.event_type, e.schema_version, e.payload
              FROM unnest(p_event_commands, p_event_ords, p_event_types, p_schema_versions, p_payloads)
                   AS e(i, ord, event_type, schema_version, payload)
        ),
        -- Each command against its stream's head and its command record.
        decided AS (
            SELECT m.i,
                   CASE
                       WHEN NOT EXISTS (SELECT 1 FROM tenants t WHERE t.tenant_id = v_tenant)
                           THEN 'unknown_tenant'
                       WHEN c.command_id IS NOT NULL THEN
                           CASE
                               WHEN c.stream_id <> p_stream_ids[m.i] THEN 'command_reused'
                               WHEN c.fingerprint IS DISTINCT FROM p_fingerprints[m.i]
                                    AND c.fingerprint IS NOT NULL
                                    AND p_fingerprints[m.i] IS NOT NULL THEN 'command_mismatch'
                               ELSE 'duplicate'
                           END
                       WHEN h.stream_type IS NOT NULL AND h.stream_type <> p_stream_types[m.i]
                           THEN 'stream_type_mismatch:' || h.stream_type
                       WHEN p_expected[m.i] IS NOT NULL AND p_expected[m.i] <> coalesce(h.version, 0)
                           THEN 'conflict'
                       WHEN coalesce(h.version, 0)
                            > 9223372036854775807 - (SELECT count(*) FROM given g WHERE g.i = m.i)
                           THEN 'version_overflow'
                       ELSE 'appended'
                   END AS outcome,
                   CASE WHEN c.command_id IS NOT NULL THEN c.stream_version ELSE coalesce(h.version, 0) END
                       AS version,
                   c.positions, c.recorded_at
              FROM mine m
              -- A lateral subquery kept apart (LIMIT), so that the generic plan
              -- looks each command id up in the key: joined plainly, the plan
              -- made while the table was nearly empty read every command of
              -- the tenant on each call (45 ms a batch in the services).
              LEFT JOIN LATERAL (
                  SELECT c.command_id, c.stream_id, c.fingerprint, c.stream_version, c.positions,
                         c.recorded_at
                    FROM commands c
                   WHERE c.tenant_id = v_tenant AND c.command_id = p_command_ids[m.i]
                   LIMIT 1
              ) c ON true
              LEFT JOIN LATERAL (
                  SELECT e.stream_type, e.version FROM events e
                   WHERE e.stream_id = p_stream_ids[m.i] ORDER BY e.version DESC LIMIT 1
              ) h ON true
        ),
        -- Positions are drawn in command order and, within a command, in
        -- event order, so a stream's positions rise with its versions.
        drawn AS (
            SELECT n.i, n.version, n.event_type, n.schema_version, n.payload,
                   nextval('events_position_seq') AS position
              FROM (SELECT d.i, d.version + g.ord AS version, g.event_type, g.schema_version, g.payload
                      FROM decided d JOIN given g ON g.i = d.i
                     WHERE d.outcome = 'appended'
                     ORDER BY d.i, g.ord) n
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
            SELECT p.command_id, v_tenant, p_stream_ids[d.i], p.version, p.positions, v_now,
                   p_fingerprints[d.i]
              FROM decided d JOIN per_command p ON p.command_id = p_command_ids[d.i]
             WHERE d.outcome = 'appended'
             ORDER BY p.command_id
        )
        SELECT d.i, d.outcome,
               CASE WHEN d.outcome = 'appended' THEN p.version
                    WHEN d.outcome = 'unknown_tenant' THEN NULL
                    ELSE d.version END,
               CASE WHEN d.outcome = 'appended' THEN p.positions ELSE d.positions END,
               CASE WHEN d.outcome = 'appended' THEN v_now ELSE d.recorded_at END
          FROM decided d
          LEFT JOIN per_command p ON d.outcome = 'appended' AND p.command_id = p_command_ids[d.i];
    END LOOP;

    IF v_bound IS NULL THEN
        PERFORM set_config('deedlog.tenant_id', '', true);
    END IF;
END $$;
