-- Read model of the communications context: contacts, their compliance
-- status per channel, the suppression list, every message to and from them
-- and the conversations the messages are grouped in.
-- Runs with search_path set to the target schema (live or a rebuild aside);
-- names no schema. The runtime adds row-level security and grants.
--
-- Personal data (names, email addresses, phone numbers, postal addresses,
-- subjects and bodies) is kept in `contacts` and `messages` only.

CREATE TABLE contacts (
    contact_id          uuid        PRIMARY KEY,
    tenant_id           uuid        NOT NULL,
    name                text        NOT NULL,
    email               text,
    phone               text,
    street              text,
    postal_code         text,
    city                text,
    country             text,
    -- Blind indexes (ADR 0036): HMAC-SHA256 of the canonical email address
    -- and phone number under the tenant's index key, in hex; searched instead of
    -- the plaintext, and null once the contact is forgotten.
    email_index         text,
    phone_index         text,
    do_not_call         boolean     NOT NULL,
    unsubscribed        boolean     NOT NULL,
    -- The channels an earlier message bounced hard on, in the order email, sms, call, letter.
    hard_bounced_channels text[]    NOT NULL DEFAULT '{}',
    paused_after_reply  boolean     NOT NULL,
    paused_since        timestamptz,
    messages_out        bigint      NOT NULL,
    messages_refused    bigint      NOT NULL,
    messages_in         bigint      NOT NULL,
    last_message_at     timestamptz,
    version             bigint      NOT NULL,
    last_position       bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX contacts_by_name ON contacts (tenant_id, lower(name), contact_id);
CREATE INDEX contacts_by_email ON contacts (tenant_id, email_index) WHERE email_index IS NOT NULL;
CREATE INDEX contacts_by_phone ON contacts (tenant_id, phone_index) WHERE phone_index IS NOT NULL;
CREATE INDEX contacts_by_last_message ON contacts (tenant_id, last_message_at DESC NULLS LAST, contact_id);
CREATE INDEX contacts_paused ON contacts (tenant_id, paused_since) WHERE paused_after_reply;

-- The compliance status of every contact on every channel.
CREATE TABLE compliance (
    tenant_id           uuid        NOT NULL,
    contact_id          uuid        NOT NULL,
    channel             text        NOT NULL
                        CHECK (channel IN ('email', 'sms', 'call', 'letter')),
    consent             text        NOT NULL
                        CHECK (consent IN ('granted', 'withdrawn', 'none')),
    lawful_basis        text
                        CHECK (lawful_basis IN ('consent', 'contract', 'legitimate_interest', 'legal_obligation')),
    consent_source      text,
    consent_changed_at  timestamptz,
    hard_bounced        boolean     NOT NULL,
    reachable           boolean     NOT NULL,
    suppressed          boolean     NOT NULL,
    suppression_reasons text[]      NOT NULL DEFAULT '{}',
    blocked_by          text[]      NOT NULL DEFAULT '{}',
    sendable            boolean     NOT NULL,
    last_position       bigint      NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (contact_id, channel)
);
CREATE INDEX compliance_by_channel ON compliance (tenant_id, channel, consent);

-- The suppression list: one row per contact, channel and reason in force.
CREATE TABLE suppressions (
    tenant_id           uuid        NOT NULL,
    contact_id          uuid        NOT NULL,
    channel             text        NOT NULL
                        CHECK (channel IN ('email', 'sms', 'call', 'letter')),
    reason              text        NOT NULL
                        CHECK (reason IN ('do_not_call', 'unsubscribed', 'hard_bounced')),
    since               timestamptz NOT NULL,
    position            bigint      NOT NULL,
    -- unsubscribed: where the unsubscription came from
    source              text,
    -- hard_bounced: the message that bounced
    message_id          uuid,
    PRIMARY KEY (contact_id, channel, reason)
);
CREATE INDEX suppressions_by_channel ON suppressions (tenant_id, channel, reason, since DESC);

-- Every message to and from a contact, refused sends included.
CREATE TABLE messages (
    tenant_id           uuid        NOT NULL,
    contact_id          uuid        NOT NULL,
    message_id          uuid        NOT NULL,
    conversation_id     uuid        NOT NULL,
    direction           text        NOT NULL
                        CHECK (direction IN ('outbound', 'inbound')),
    channel             text        NOT NULL
                        CHECK (channel IN ('email', 'sms', 'call', 'letter')),
    status              text        NOT NULL
                        CHECK (status IN ('refused', 'queued', 'delivered', 'opened', 'bounced', 'received')),
    subject             text,
    body                text,
    property_id         uuid,
    deal_id             uuid,
    in_reply_to         uuid,
    -- Every reason of a refusal, as the event has them: [{"code": "no_consent", "channel": "sms"}, ...]
    refusal_reasons     jsonb,
    refusal_codes       text[]      NOT NULL DEFAULT '{}',
    message_at          timestamptz NOT NULL,
    actor               text        NOT NULL,
    delivered_at        timestamptz,
    opened_at           timestamptz,
    bounced_at          timestamptz,
    bounce_hard         boolean,
    bounce_detail       text,
    replied_at          timestamptz,
    provider_event_id   text,
    position            bigint      NOT NULL,
    last_position       bigint      NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (contact_id, message_id)
);
CREATE INDEX messages_by_contact ON messages (tenant_id, contact_id, message_at DESC, message_id);
CREATE INDEX messages_by_conversation ON messages (tenant_id, contact_id, conversation_id, message_at, message_id);
CREATE INDEX messages_by_property ON messages (tenant_id, property_id, message_at DESC) WHERE property_id IS NOT NULL;
CREATE INDEX messages_by_deal ON messages (tenant_id, deal_id, message_at DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX messages_by_channel ON messages (tenant_id, channel, message_at);
CREATE INDEX messages_refused ON messages (tenant_id, message_at DESC) WHERE status = 'refused';

-- Conversations: the messages of a contact grouped by their conversation id.
CREATE TABLE conversations (
    tenant_id           uuid        NOT NULL,
    contact_id          uuid        NOT NULL,
    conversation_id     uuid        NOT NULL,
    channels            text[]      NOT NULL DEFAULT '{}',
    property_id         uuid,
    deal_id             uuid,
    started_at          timestamptz NOT NULL,
    last_message_at     timestamptz,
    last_direction      text
                        CHECK (last_direction IN ('outbound', 'inbound')),
    last_outbound_at    timestamptz,
    last_inbound_at     timestamptz,
    last_refused_at     timestamptz,
    messages_out        bigint      NOT NULL,
    messages_refused    bigint      NOT NULL,
    messages_in         bigint      NOT NULL,
    status              text        NOT NULL
                        CHECK (status IN ('open', 'paused')),
    paused_since        timestamptz,
    last_position       bigint      NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (contact_id, conversation_id)
);
CREATE INDEX conversations_by_last_message ON conversations (tenant_id, last_message_at DESC NULLS LAST, conversation_id);
-- The inbox in its default order: awaiting a reply first (inbox::ConversationOrder).
CREATE INDEX conversations_inbox ON conversations (tenant_id, (COALESCE(last_direction = 'inbound', false)) DESC,
    (COALESCE(last_message_at, started_at)) DESC, contact_id DESC, conversation_id DESC);
CREATE INDEX conversations_by_contact ON conversations (tenant_id, contact_id, last_message_at DESC NULLS LAST);
CREATE INDEX conversations_by_property ON conversations (tenant_id, property_id) WHERE property_id IS NOT NULL;
CREATE INDEX conversations_by_deal ON conversations (tenant_id, deal_id) WHERE deal_id IS NOT NULL;
