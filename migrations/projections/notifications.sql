-- Read model of per-user notifications: what happened to the deals,
-- properties and conversations a user is the agent of, addressed to them,
-- and how far each user has read their feed. Built from the deal,
-- property, contact and notification_inbox streams.
-- Runs with search_path set to the target schema (live or a rebuild aside);
-- names no schema. The runtime adds row-level security and grants.
--
-- No personal data: ids, kinds, stages, amounts, positions and times only.
-- The API resolves names (agents, contacts, addresses) through the read
-- models that own them. Nobody is notified of their own action: a
-- notification whose addressee is the event's actor is not written.

-- One row per notification: the addressee and the log position of the
-- event that caused it (an event notifies an addressee at most once).
CREATE TABLE notifications (
    tenant_id         uuid        NOT NULL,
    recipient_id      uuid        NOT NULL,
    position          bigint      NOT NULL,
    occurred_at       timestamptz NOT NULL,
    kind              text        NOT NULL
                      CHECK (kind IN ('deal_assigned', 'deal_reassigned_away',
                                      'property_assigned', 'property_reassigned_away',
                                      'reply_received', 'deal_stage_changed',
                                      'asking_price_changed')),
    -- the user who acted (from the event's actor); null for a system actor
    actor_id          uuid,
    deal_id           uuid,
    property_id       uuid,
    contact_id        uuid,
    conversation_id   uuid,
    message_id        uuid,
    stage_from        text,
    stage_to          text,
    amount_from_minor bigint,
    amount_to_minor   bigint,
    currency          text,
    -- assigned: the agent before (if any); reassigned away: the new agent
    other_agent_id    uuid,
    PRIMARY KEY (recipient_id, position)
);
-- A user's feed, newest first, and their unread count.
CREATE INDEX notifications_feed ON notifications (tenant_id, recipient_id, position DESC);

-- How far each user has read their feed (NotificationsRead): every
-- notification at or below read_up_to is read.
CREATE TABLE read_marks (
    tenant_id     uuid   NOT NULL,
    user_id       uuid   PRIMARY KEY,
    read_up_to    bigint NOT NULL,
    last_position bigint NOT NULL
);

-- Helper: the agent and stage of each deal, to address its notifications.
CREATE TABLE deal_agents (
    deal_id       uuid   PRIMARY KEY,
    tenant_id     uuid   NOT NULL,
    property_id   uuid   NOT NULL,
    agent_id      uuid   NOT NULL,
    stage         text   NOT NULL,
    last_position bigint NOT NULL
);

-- Helper: the agent of each property (none while unassigned).
CREATE TABLE property_agents (
    property_id   uuid   PRIMARY KEY,
    tenant_id     uuid   NOT NULL,
    agent_id      uuid,
    last_position bigint NOT NULL
);

-- Helper: the deal and property each conversation is about, as its queued
-- messages name them (the first that names one fixes it).
CREATE TABLE conversation_links (
    conversation_id uuid   PRIMARY KEY,
    tenant_id       uuid   NOT NULL,
    contact_id      uuid   NOT NULL,
    deal_id         uuid,
    property_id     uuid,
    last_position   bigint NOT NULL
);
