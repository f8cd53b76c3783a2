-- Read model of record timelines: every event of a property, deal or
-- contact in words, with who did it, for record detail pages and auditors.
-- Runs with search_path set to the target schema (live or a rebuild aside);
-- names no schema. The runtime adds row-level security and grants.

-- One row per event of a property, deal or contact stream.
CREATE TABLE entries (
    position        bigint      PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    stream_id       uuid        NOT NULL,
    stream_type     text        NOT NULL
                    CHECK (stream_type IN ('property', 'deal', 'contact')),
    version         bigint      NOT NULL,
    occurred_at     timestamptz NOT NULL,
    event_type      text        NOT NULL,
    -- as stored in the log, e.g. user:<uuid>
    actor           text        NOT NULL,
    -- the actor's display name as known at this position; null when unknown
    actor_name      text,
    -- the event in words, without the actor
    summary         text        NOT NULL,
    -- summary || ' by ' || actor_name when the name is known, else summary
    text            text        NOT NULL,
    correlation_id  uuid        NOT NULL,
    causation_id    uuid        NOT NULL
);
-- A record's timeline, newest first or oldest first.
CREATE INDEX entries_by_stream ON entries (tenant_id, stream_id, position);
-- Audit: what a user did, events of a type, a time range, one business flow.
CREATE INDEX entries_by_actor ON entries (tenant_id, actor, position);
CREATE INDEX entries_by_type ON entries (tenant_id, event_type, position);
CREATE INDEX entries_by_time ON entries (tenant_id, occurred_at, position);
CREATE INDEX entries_by_correlation ON entries (tenant_id, correlation_id, position);

-- Users' display names, from the tenant stream (registration, invitations).
CREATE TABLE actors (
    tenant_id       uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    display_name    text        NOT NULL,
    last_position   bigint      NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- The names of deal scenarios, so a removal can name what was removed.
CREATE TABLE scenario_names (
    tenant_id       uuid        NOT NULL,
    deal_id         uuid        NOT NULL,
    scenario_id     uuid        NOT NULL,
    name            text        NOT NULL,
    last_position   bigint      NOT NULL,
    PRIMARY KEY (deal_id, scenario_id)
);
