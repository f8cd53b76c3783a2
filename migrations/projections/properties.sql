-- Read model of the properties context: the list and detail of every
-- property, its asking-price history and its valuations.
-- Runs with search_path set to the target schema (live or a rebuild aside);
-- names no schema. The runtime adds row-level security and grants.

CREATE TABLE properties (
    property_id         uuid        PRIMARY KEY,
    tenant_id           uuid        NOT NULL,
    street              text        NOT NULL,
    postal_code         text        NOT NULL,
    city                text        NOT NULL,
    country             text        NOT NULL,
    latitude            double precision,
    longitude           double precision,
    kind                text        NOT NULL
                        CHECK (kind IN ('house', 'apartment', 'multi_family', 'land', 'commercial')),
    rooms               integer,
    bedrooms            integer,
    bathrooms           integer,
    living_area_m2      integer,
    plot_area_m2        integer,
    year_built          integer,
    -- Each attribute's source and confidence: {"rooms": {"source": {...}, "confidence_pct": 90}, ...}
    attribute_sources   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    asking_price_minor  bigint,
    currency            text,
    listing_status      text        NOT NULL
                        CHECK (listing_status IN ('draft', 'active', 'reserved', 'under_contract', 'sold', 'withdrawn')),
    agent_id            uuid,
    owner_contact_id    uuid,
    tags                text[]      NOT NULL DEFAULT '{}',
    archived            boolean     NOT NULL DEFAULT false,
    latest_valuation_minor bigint,
    latest_valuation_currency text,
    version             bigint      NOT NULL,
    last_position       bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
-- The list's filters and sorts, always within one tenant.
CREATE INDEX properties_by_status ON properties (tenant_id, listing_status, updated_at DESC);
CREATE INDEX properties_by_city ON properties (tenant_id, lower(city));
CREATE INDEX properties_by_price ON properties (tenant_id, asking_price_minor);
CREATE INDEX properties_by_agent ON properties (tenant_id, agent_id);
-- A contact's owned properties (the contact directory).
CREATE INDEX properties_by_owner ON properties (tenant_id, owner_contact_id) WHERE owner_contact_id IS NOT NULL;
CREATE INDEX properties_by_created ON properties (tenant_id, created_at DESC, property_id);
CREATE INDEX properties_by_tag ON properties USING gin (tags);
CREATE INDEX properties_address_search ON properties USING gin (
    to_tsvector('simple', street || ' ' || postal_code || ' ' || city || ' ' || country)
);

-- Every asking-price change, in order.
CREATE TABLE price_history (
    tenant_id     uuid        NOT NULL,
    property_id   uuid        NOT NULL,
    position      bigint      NOT NULL,
    changed_at    timestamptz NOT NULL,
    changed_by    text        NOT NULL,
    from_minor    bigint,
    to_minor      bigint      NOT NULL,
    currency      text        NOT NULL,
    PRIMARY KEY (property_id, position)
);
CREATE INDEX price_history_by_tenant ON price_history (tenant_id, changed_at);

-- Every valuation, automated or manual.
CREATE TABLE valuations (
    tenant_id     uuid        NOT NULL,
    property_id   uuid        NOT NULL,
    position      bigint      NOT NULL,
    valued_on     date        NOT NULL,
    value_minor   bigint      NOT NULL,
    currency      text        NOT NULL,
    -- manual, import or provider
    source_kind   text        NOT NULL,
    -- the provider's name when source_kind = 'provider'
    source_name   text,
    recorded_at   timestamptz NOT NULL,
    PRIMARY KEY (property_id, position)
);
