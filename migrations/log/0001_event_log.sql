-- deedlog's event log: the system of record.
-- Never edit this file once applied; add a new migration instead.

-- Roles are cluster-wide and this migration runs once per database, possibly
-- in parallel (one test database each), so creating them tolerates a
-- concurrent creator. Both are NOLOGIN: a login role is granted membership,
-- or (in development) the superuser switches to them with SET ROLE.
DO $$
BEGIN
    CREATE ROLE deedlog_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

DO $$
BEGIN
    CREATE ROLE deedlog_log_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

-- The tenant bound to the current transaction, or NULL when none is.
-- current_setting returns '' (not NULL) once a SET LOCAL has expired.
-- Policies spell the expression out instead of calling this function: an
-- inlined SQL function is re-parsed every time a statement is planned.
CREATE FUNCTION current_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
    tenant_id     uuid        PRIMARY KEY,
    registered_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE SEQUENCE events_position_seq AS bigint;

CREATE TABLE events (
    position       bigint      PRIMARY KEY DEFAULT nextval('events_position_seq'),
    tenant_id      uuid        NOT NULL,
    stream_id      uuid        NOT NULL,
    stream_type    text        NOT NULL,
    version        bigint      NOT NULL CHECK (version >= 1),
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL CHECK (schema_version >= 1),
    payload        json        NOT NULL CHECK (json_typeof(payload) = 'object'),
    actor          text        NOT NULL CHECK (actor <> ''),
    command_id     uuid        NOT NULL,
    correlation_id uuid        NOT NULL,
    causation_id   uuid        NOT NULL,
    traceparent    text,
    tracestate     text,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);
ALTER SEQUENCE events_position_seq OWNED BY events.position;

COMMENT ON TABLE events IS 'The append-only event log; one row per event, never updated or deleted.';
COMMENT ON COLUMN events.position IS 'Global position: increases with every append; gaps are allowed.';
COMMENT ON COLUMN events.version IS 'Version of the stream after this event (1 for the first event).';
COMMENT ON COLUMN events.payload IS 'The event as a JSON object, byte for byte as written (json, not jsonb: see ADR 0001).';
COMMENT ON COLUMN events.schema_version IS 'Version of the payload schema as stored; older versions are upcast when read.';
COMMENT ON COLUMN events.occurred_at IS 'When the command was accepted, by the service clock.';
COMMENT ON COLUMN events.recorded_at IS 'When the log stored the event; state-as-of reads use this.';

-- One row per successful append, so the same command id returns the first outcome.
CREATE TABLE commands (
    command_id     uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    stream_id      uuid        NOT NULL,
    stream_version bigint      NOT NULL,
    positions      bigint[]    NOT NULL,
    recorded_at    timestamptz NOT NULL
);

-- Immutability: history is never edited (privacy destroys keys instead).
CREATE FUNCTION refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the event log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'DL001';
END $$;

CREATE TRIGGER events_are_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER events_are_not_truncated BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER commands_are_immutable BEFORE UPDATE OR DELETE ON commands
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER commands_are_not_truncated BEFORE TRUNCATE ON commands
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

-- Tenant isolation. Application connections see and write only the tenant
-- bound to their transaction; the log reader (projectors, auditors) reads all.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE commands ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenants_of_app ON tenants TO deedlog_app
    USING (tenant_id = NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid);
CREATE POLICY events_of_app ON events TO deedlog_app
    USING (tenant_id = NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid);
CREATE POLICY commands_of_app ON commands TO deedlog_app
    USING (tenant_id = NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('deedlog.tenant_id', true), '')::uuid);

CREATE POLICY tenants_of_reader ON tenants FOR SELECT TO deedlog_log_reader USING (true);
CREATE POLICY events_of_reader ON events FOR SELECT TO deedlog_log_reader USING (true);
CREATE POLICY commands_of_reader ON commands FOR SELECT TO deedlog_log_reader USING (true);

-- Privileges: the application may only add; the reader may only read.
REVOKE ALL ON tenants, events, commands FROM PUBLIC;
GRANT SELECT, INSERT ON tenants, events, commands TO deedlog_app;
GRANT USAGE ON SEQUENCE events_position_seq TO deedlog_app;
GRANT SELECT ON tenants, events, commands TO deedlog_log_reader;

-- Whether a stream belongs to a tenant other than p_tenant_id, seen past
-- row-level security. Asked only after an append collided with rows it
-- cannot see, to tell "another tenant's stream" from a lost race.
CREATE FUNCTION stream_of_other_tenant(p_stream_id uuid, p_tenant_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = p_stream_id AND e.tenant_id <> p_tenant_id)
$$;
REVOKE EXECUTE ON FUNCTION stream_of_other_tenant(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stream_of_other_tenant(uuid, uuid) TO deedlog_app;

-- Binds the current transaction to p_tenant_id for row-level security
-- (like SET LOCAL), refusing a transaction already bound to another tenant.
CREATE FUNCTION bind_tenant(p_tenant_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_bound uuid := current_tenant_id();
BEGIN
    IF v_bound IS NOT NULL AND v_bound <> p_tenant_id THEN
        RAISE EXCEPTION 'transaction is bound to tenant %, cannot act for tenant %', v_bound, p_tenant_id
            USING ERRCODE = 'DL002';
    END IF;
    PERFORM set_config('deedlog.tenant_id', p_tenant_id::text, true);
END $$;

-- Appends the events of one command to one stream, atomically, in one round
-- trip. Outcomes that are answers rather than failures (a conflict, a
-- duplicate command, an unknown tenant...) come back as the `outcome` column;
-- a concurrent writer that wins the race surfaces as a unique violation, and
-- so does another tenant's stream, invisible here under row-level security.
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
    p_payloads         json[]
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

    SELECT c.stream_id, c.stream_version, c.positions, c.recorded_at
      INTO v_command FROM commands c WHERE c.command_id = p_command_id;
    IF FOUND THEN
        RETURN QUERY SELECT CASE WHEN v_command.stream_id = p_stream_id THEN 'duplicate' ELSE 'command_reused' END,
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

    INSERT INTO commands (command_id, tenant_id, stream_id, stream_version, positions, recorded_at)
    VALUES (p_command_id, p_tenant_id, p_stream_id, v_version + v_count, v_positions, v_now);

    RETURN QUERY SELECT 'appended', v_version + v_count, v_positions, v_now;
END $$;
REVOKE EXECUTE ON FUNCTION append_events FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_events TO deedlog_app;

-- Reads one stream of one tenant in version order, in one round trip: binds
-- the tenant for row-level security like append_events, with the same
-- plan settings (index scans in version order, no sort).
CREATE FUNCTION read_stream(
    p_tenant_id    uuid,
    p_stream_id    uuid,
    p_from_version bigint,
    p_to_version   bigint,
    p_until        timestamptz    -- NULL: no time limit
)
RETURNS TABLE ("position" bigint, tenant_id uuid, stream_id uuid, stream_type text, version bigint,
               event_type text, schema_version integer, payload text, actor text, command_id uuid,
               correlation_id uuid, causation_id uuid, traceparent text, tracestate text,
               occurred_at timestamptz, recorded_at timestamptz)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
    PERFORM bind_tenant(p_tenant_id);
    RETURN QUERY
        SELECT e.position, e.tenant_id, e.stream_id, e.stream_type, e.version, e.event_type,
               e.schema_version, e.payload::text, e.actor, e.command_id, e.correlation_id,
               e.causation_id, e.traceparent, e.tracestate, e.occurred_at, e.recorded_at
        FROM events e
        WHERE e.stream_id = p_stream_id
          AND e.version BETWEEN p_from_version AND p_to_version
          AND (p_until IS NULL OR e.recorded_at <= p_until)
        ORDER BY e.version;
END $$;
REVOKE EXECUTE ON FUNCTION read_stream FROM PUBLIC;
GRANT EXECUTE ON FUNCTION read_stream TO deedlog_app;
