-- Operational tables of the projectors. Runs with search_path = deedlog_read,
-- so these tables and this migrator's history live in that schema.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deedlog_app') THEN
        CREATE ROLE deedlog_app NOLOGIN;
    END IF;
    -- Analysts read every projection, change nothing (see docs/read-models.md).
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deedlog_analyst') THEN
        CREATE ROLE deedlog_analyst NOLOGIN;
    END IF;
END
$$;

-- An event a projection could not apply, kept with the error until an
-- operator replays or skips it.
CREATE TABLE dead_letters (
    id            bigserial PRIMARY KEY,
    projection    text        NOT NULL,
    -- The schema the event failed in: the live one, or a rebuild aside.
    schema_name   text        NOT NULL,
    position      bigint      NOT NULL,
    tenant_id     uuid        NOT NULL,
    stream_id     uuid        NOT NULL,
    event_type    text        NOT NULL,
    error         text        NOT NULL,
    failed_at     timestamptz NOT NULL DEFAULT now(),
    status        text        NOT NULL DEFAULT 'pending'
                  -- superseded: the projection was rebuilt since, which applied the event afresh
                  CHECK (status IN ('pending', 'replayed', 'skipped', 'superseded')),
    resolved_at   timestamptz
);
CREATE INDEX dead_letters_by_schema ON dead_letters (schema_name, position);
CREATE INDEX dead_letters_pending ON dead_letters (projection) WHERE status = 'pending';

-- One reconciliation run and what it found.
CREATE TABLE reconciliation_runs (
    id            bigserial PRIMARY KEY,
    projection    text        NOT NULL,
    position      bigint,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    status        text        NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'clean', 'drift', 'failed')),
    missing_rows  bigint      NOT NULL DEFAULT 0,
    extra_rows    bigint      NOT NULL DEFAULT 0,
    differing_rows bigint     NOT NULL DEFAULT 0,
    -- Every difference: {"table", "kind", "key", "columns"} objects.
    report        jsonb       NOT NULL DEFAULT '[]'::jsonb,
    error         text
);
CREATE INDEX reconciliation_runs_by_projection ON reconciliation_runs (projection, started_at DESC);

-- Operator tables: not tenant data. Row-level security on, no policy for
-- the application roles, so only the owner (the projector, the deedlog
-- command) reads and writes them.
ALTER TABLE dead_letters ENABLE ROW LEVEL SECURITY;
ALTER TABLE reconciliation_runs ENABLE ROW LEVEL SECURITY;
GRANT USAGE ON SCHEMA deedlog_read TO deedlog_analyst;
CREATE POLICY reconciliation_runs_of_analyst ON reconciliation_runs FOR SELECT TO deedlog_analyst USING (true);
GRANT SELECT ON reconciliation_runs TO deedlog_analyst;
