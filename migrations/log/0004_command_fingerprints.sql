-- Idempotency keys per tenant, and a fingerprint of the request with each.
-- Never edit this file once applied; add a new migration instead.
--
-- A command id was unique across tenants: a tenant reusing a key another
-- tenant had used was refused, which also told it that the key existed
-- elsewhere. It is now unique within its tenant. A command id repeated with
-- a different request (a different fingerprint) is answered as a mismatch,
-- not with the first outcome, as payment APIs do for reused idempotency
-- keys. Commands recorded before this migration have no fingerprint and
-- are not compared.
ALTER TABLE commands ADD COLUMN fingerprint bytea;
ALTER TABLE commands DROP CONSTRAINT commands_pkey;
ALTER TABLE commands ADD CONSTRAINT commands_pkey PRIMARY KEY (tenant_id, command_id);

DROP FUNCTION append_events(uuid, uuid, text, bigint, uuid, text, uuid, uuid, text, text,
                            timestamptz, text[], integer[], json[]);
CREATE FUNCTION append_events(
    p_tenant_id        uuid,
    p_stream_id        uuid,
    p_stream_type      text,
    p_expected_version bigint,       -- NULL: any version; 0: the stream must not exist
    p_command_id       uuid,
    p_actor            text,
    p_correlation_id   uuid,
    p_causation_id     uuid,
    p_traceparent      text,
    p_tracestate       text,
    p_occurred_at      timestamptz,
    p_event_types      text[],
    p_schema_versions  integer[],
    p_payloads         json[],
    p_fingerprint      bytea DEFAULT NULL  -- SHA-256 of the request; NULL: not compared
)
RETURNS TABLE (outcome text, stream_version bigint, positions bigint[], recorded_at timestamptz)
LANGUAGE plpgsql
-- Every statement here is a key lookup or an insert. A plan cached while a
-- table was nearly empty would scan it whole once it is large, so plan each
-- statement once per session but allow index scans only.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_count   integer := cardinality(p_event_types);
    v_version bigint := 0;
    v_head    record;
    v_command record;
    v_positions bigint[];
    v_now     timestamptz;
BEGIN
    PERFORM bind_tenant(p_tenant_id);

    IF NOT EXISTS (SELECT 1 FROM tenants t WHERE t.tenant_id = p_tenant_id) THEN
        RETURN QUERY SELECT 'unknown_tenant', NULL::bigint, NULL::bigint[], NULL::timestamptz;
        RETURN;
    END IF;

    SELECT c.stream_id, c.stream_version, c.positions, c.recorded_at, c.fingerprint
      INTO v_command FROM commands c
     WHERE c.tenant_id = p_tenant_id AND c.command_id = p_command_id;
    IF FOUND THEN
        RETURN QUERY SELECT CASE
                                WHEN v_command.stream_id <> p_stream_id THEN 'command_reused'
                                WHEN v_command.fingerprint IS DISTINCT FROM p_fingerprint
                                     AND v_command.fingerprint IS NOT NULL
                                     AND p_fingerprint IS NOT NULL THEN 'command_mismatch'
                                ELSE 'duplicate'
                            END,
                            v_command.stream_version, v_command.positions, v_command.recorded_at;
        RETURN;
    END IF;

    SELECT e.stream_type, e.version INTO v_head
      FROM events e WHERE e.stream_id = p_stream_id ORDER BY e.version DESC LIMIT 1;
    IF FOUND THEN
        IF v_head.stream_type <> p_stream_type THEN
            RETURN QUERY SELECT 'stream_type_mismatch:' || v_head.stream_type, v_head.version,
                                NULL::bigint[], NULL::timestamptz;
            RETURN;
        END IF;
        v_version := v_head.version;
    END IF;

    IF p_expected_version IS NOT NULL AND p_expected_version <> v_version THEN
        RETURN QUERY SELECT 'conflict', v_version, NULL::bigint[], NULL::timestamptz;
        RETURN;
    END IF;
    IF v_version > 9223372036854775807 - v_count THEN
        RETURN QUERY SELECT 'version_overflow', v_version, NULL::bigint[], NULL::timestamptz;
        RETURN;
    END IF;

    -- Take a transaction id before drawing positions: subscribers wait for
    -- in-flight transaction ids to settle before skipping a missing position.
    PERFORM pg_current_xact_id();
    v_now := clock_timestamp();

    WITH inserted AS (
        INSERT INTO events (tenant_id, stream_id, stream_type, version, event_type, schema_version,
                            payload, actor, command_id, correlation_id, causation_id,
                            traceparent, tracestate, occurred_at, recorded_at)
        SELECT p_tenant_id, p_stream_id, p_stream_type, v_version + e.ord, e.event_type,
               e.schema_version, e.payload, p_actor, p_command_id, p_correlation_id,
               p_causation_id, p_traceparent, p_tracestate, p_occurred_at, v_now
        FROM unnest(p_event_types, p_schema_versions, p_payloads)
             WITH ORDINALITY AS e(event_type, schema_version, payload, ord)
        ORDER BY e.ord
        RETURNING events.position
    )
    SELECT array_agg(i.position ORDER BY i.position) INTO v_positions FROM inserted i;

    INSERT INTO commands (command_id, tenant_id, stream_id, stream_version, positions, recorded_at,
                          fingerprint)
    VALUES (p_command_id, p_tenant_id, p_stream_id, v_version + v_count, v_positions, v_now,
            p_fingerprint);

    RETURN QUERY SELECT 'appended', v_version + v_count, v_positions, v_now;
END $$;
REVOKE EXECUTE ON FUNCTION append_events FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_events TO deedlog_app;
