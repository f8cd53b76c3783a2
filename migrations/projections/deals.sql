-- Read model of the deals context: one row per deal (the deal detail and
-- the pipeline board, a GROUP BY stage over it), every stage change of a
-- deal (timeline, time in stage, funnel) and the deals' what-if scenarios
-- with their figures.
-- Runs with search_path set to the target schema (live or a rebuild aside);
-- names no schema. The runtime adds row-level security and grants.

CREATE TABLE deals (
    deal_id               uuid        PRIMARY KEY,
    tenant_id             uuid        NOT NULL,
    property_id           uuid        NOT NULL,
    buyer_contact_id      uuid        NOT NULL,
    agent_id              uuid        NOT NULL,
    stage                 text        NOT NULL
                          CHECK (stage IN ('lead', 'qualified', 'viewing', 'offer', 'negotiation',
                                           'under_contract', 'closed_won', 'closed_lost')),
    is_open               boolean     NOT NULL,
    -- The open stage a reopened deal returns to.
    last_open_stage       text        NOT NULL,
    stage_entered_at      timestamptz NOT NULL,
    -- The deal's one currency (of offer, commission, final price, expected value).
    currency              text,
    offer_minor           bigint,
    commission_minor      bigint,
    -- Effective probability: the explicit one if set, else the stage's default.
    probability_pct       integer     NOT NULL CHECK (probability_pct BETWEEN 0 AND 100),
    probability_explicit  boolean     NOT NULL,
    -- offer × probability, rounded to the minor unit (the domain's figure).
    expected_value_minor  bigint,
    expected_close        date,
    final_price_minor     bigint,
    lost_reason           text,
    won_at                timestamptz,
    lost_at               timestamptz,
    closed_at             timestamptz,
    reopened_count        integer     NOT NULL,
    scenario_count        integer     NOT NULL,
    version               bigint      NOT NULL,
    last_position         bigint      NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
-- The pipeline board: GROUP BY stage within one tenant (and one agent).
CREATE INDEX deals_by_stage ON deals (tenant_id, stage, updated_at DESC, deal_id DESC);
-- The deals list in its default order (deal_list::DealOrder::UpdatedDesc).
CREATE INDEX deals_by_updated ON deals (tenant_id, updated_at DESC, deal_id DESC);
CREATE INDEX deals_by_agent ON deals (tenant_id, agent_id, stage);
-- Open deals by expected closing date (forecasts, overdue deals).
CREATE INDEX deals_by_expected_close ON deals (tenant_id, expected_close) WHERE is_open;
CREATE INDEX deals_by_property ON deals (tenant_id, property_id);
CREATE INDEX deals_by_buyer ON deals (tenant_id, buyer_contact_id);
CREATE INDEX deals_by_created ON deals (tenant_id, created_at DESC, deal_id);
CREATE INDEX deals_by_closed ON deals (tenant_id, closed_at) WHERE closed_at IS NOT NULL;

-- Every stage change of a deal, from its opening at lead on.
CREATE TABLE stage_history (
    tenant_id     uuid        NOT NULL,
    deal_id       uuid        NOT NULL,
    position      bigint      NOT NULL,
    version       bigint      NOT NULL,
    -- opened, moved, won, lost or reopened
    kind          text        NOT NULL
                  CHECK (kind IN ('opened', 'moved', 'won', 'lost', 'reopened')),
    from_stage    text,
    to_stage      text        NOT NULL,
    changed_at    timestamptz NOT NULL,
    changed_by    text        NOT NULL,
    PRIMARY KEY (deal_id, position)
);
CREATE INDEX stage_history_by_stage ON stage_history (tenant_id, to_stage, changed_at);
CREATE INDEX stage_history_by_time ON stage_history (tenant_id, changed_at);

-- The what-if scenarios a deal keeps (removed ones are deleted, as the deal
-- forgets them), with their figures at the deal's current probability.
CREATE TABLE scenarios (
    tenant_id              uuid        NOT NULL,
    deal_id                uuid        NOT NULL,
    scenario_id            uuid        NOT NULL,
    name                   text        NOT NULL,
    currency               text        NOT NULL,
    price_minor            bigint      NOT NULL,
    -- As in the event: [{"label": "...", "amount": {"amount_minor": 1, "currency": "EUR"}}]
    costs                  jsonb       NOT NULL,
    loan_minor             bigint,
    annual_rate_bp         integer,
    term_months            integer,
    total_costs_minor      bigint,
    monthly_payment_minor  bigint,
    total_interest_minor   bigint,
    equity_needed_minor    bigint,
    probability_pct        integer     NOT NULL,
    expected_value_minor   bigint,
    added_position         bigint      NOT NULL,
    added_at               timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    last_position          bigint      NOT NULL,
    PRIMARY KEY (deal_id, scenario_id)
);
CREATE INDEX scenarios_by_deal ON scenarios (tenant_id, deal_id, added_position);
