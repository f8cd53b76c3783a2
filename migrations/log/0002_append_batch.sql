-- Appends the commands of one tenant in one transaction: one round trip and
-- one commit for many commands, each still checked on its own (expected
-- version, idempotency, stream type) by append_events, each with its own
-- outcome. Used by the service's append batcher under load (ADR 0010).
CREATE FUNCTION append_batch(
    p_tenant_id        uuid,
    p_stream_ids       uuid[],
    p_stream_types     text[],
    p_expected         bigint[],      -- per command: NULL any version, 0 no stream
    p_command_ids      uuid[],
    p_actors           text[],
    p_correlation_ids  uuid[],
    p_causation_ids    uuid[],
    p_traceparents     text[],
    p_tracestates      text[],
    p_occurred_at      timestamptz[],
    p_event_counts     integer[],     -- how many of the events below each command has
    p_event_types      text[],
    p_schema_versions  integer[],
    p_payloads         json[]
)
RETURNS TABLE (item integer, outcome text, stream_version bigint, positions bigint[], recorded_at timestamptz)
LANGUAGE plpgsql
AS $$
DECLARE
    v_first integer := 1;
    v_last  integer;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_stream_ids), 0) LOOP
        v_last := v_first + p_event_counts[i] - 1;
        RETURN QUERY
            SELECT i, a.outcome, a.stream_version, a.positions, a.recorded_at
            FROM append_events(p_tenant_id, p_stream_ids[i], p_stream_types[i], p_expected[i],
                               p_command_ids[i], p_actors[i], p_correlation_ids[i],
                               p_causation_ids[i], p_traceparents[i], p_tracestates[i],
                               p_occurred_at[i], p_event_types[v_first:v_last],
                               p_schema_versions[v_first:v_last], p_payloads[v_first:v_last]) a;
        v_first := v_last + 1;
    END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION append_batch FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_batch TO deedlog_app;
