-- Read model for analysts: pipeline value by stage over time, the
-- conversion funnel, the agent leaderboard, asking-price changes and
-- message volume per channel and week. Built from the deal, property and
-- contact streams.
-- Runs with search_path set to the target schema (live or a rebuild aside);
-- names no schema. The runtime adds row-level security and grants.
--
-- Days and weeks are those of the event's occurred_at in UTC; a week starts
-- on its Monday (ISO 8601). A deal whose amounts are all still unknown is
-- counted under the currency 'XXX' (ISO 4217: no currency).

-- Helper: each deal as its events left it, to turn the next event into
-- deltas of the aggregates below.
CREATE TABLE deal_state (
    deal_id           uuid        PRIMARY KEY,
    tenant_id         uuid        NOT NULL,
    property_id       uuid        NOT NULL,
    buyer_id          uuid        NOT NULL,
    agent_id          uuid        NOT NULL,
    stage             text        NOT NULL,
    last_open_stage   text        NOT NULL,
    offer_minor       bigint,
    commission_minor  bigint,
    final_price_minor bigint,
    currency          text,
    probability_pct   smallint,
    entered_stage_at  timestamptz NOT NULL,
    reached_stages    text[]      NOT NULL,
    version           bigint      NOT NULL,
    last_position     bigint      NOT NULL
);

-- End-of-day snapshots of the open pipeline, written only for the days on
-- which a tenant's pipeline changed: the pipeline on day X is the snapshot
-- of the latest day <= X.
CREATE TABLE pipeline_by_day (
    tenant_id            uuid   NOT NULL,
    day                  date   NOT NULL,
    stage                text   NOT NULL,
    currency             text   NOT NULL,
    deal_count           bigint NOT NULL,
    offer_total_minor    bigint NOT NULL,
    weighted_total_minor bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, stage, currency)
);

-- How many deals reached each stage and how long they stayed.
CREATE TABLE funnel (
    tenant_id     uuid   NOT NULL,
    stage         text   NOT NULL,
    deals_reached bigint NOT NULL,
    entries       bigint NOT NULL,
    exits         bigint NOT NULL,
    total_seconds bigint NOT NULL,
    avg_seconds   bigint,
    PRIMARY KEY (tenant_id, stage)
);

-- Won, lost and open deals per agent.
CREATE TABLE agent_leaderboard (
    tenant_id        uuid   NOT NULL,
    agent_id         uuid   NOT NULL,
    currency         text   NOT NULL,
    deals_won        bigint NOT NULL,
    won_volume_minor bigint NOT NULL,
    commission_minor bigint NOT NULL,
    deals_lost       bigint NOT NULL,
    open_deals       bigint NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, currency)
);
-- The leaderboard, best first.
CREATE INDEX agent_leaderboard_by_volume ON agent_leaderboard (tenant_id, currency, won_volume_minor DESC);

-- Asking-price changes per week.
CREATE TABLE price_changes_by_week (
    tenant_id        uuid   NOT NULL,
    week_start       date   NOT NULL,
    currency         text   NOT NULL,
    changes          bigint NOT NULL,
    decreases        bigint NOT NULL,
    increases        bigint NOT NULL,
    abs_change_minor bigint NOT NULL,
    PRIMARY KEY (tenant_id, week_start, currency)
);

-- Messages per channel and week.
CREATE TABLE messages_by_week (
    tenant_id    uuid   NOT NULL,
    week_start   date   NOT NULL,
    channel      text   NOT NULL,
    sent         bigint NOT NULL,
    refused      bigint NOT NULL,
    delivered    bigint NOT NULL,
    opened       bigint NOT NULL,
    bounced      bigint NOT NULL,
    hard_bounced bigint NOT NULL,
    replied      bigint NOT NULL,
    PRIMARY KEY (tenant_id, week_start, channel)
);
