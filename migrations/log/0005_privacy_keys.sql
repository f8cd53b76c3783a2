-- Crypto-shredding (ADR 0035): one data key per data subject (a contact, a
-- user; a tenant for its blind-index key), wrapped by a master key that
-- never enters the database (except the development key, below).
-- Never edit this file once applied; add a new migration instead.
--
-- Roles: neither the application nor the log reader touches these tables
-- directly. They call the SECURITY DEFINER functions below, which create a
-- subject's key once and read keys by id within a tenant. Nothing but the
-- forget_subject trigger (appending a forgetting event) destroys a key, and
-- only the owner (rotate-master-key) rewraps one.

-- The master key this database's keys are wrapped under (its fingerprint),
-- and in development only, the generated master key itself.
CREATE TABLE privacy_master (
    singleton       boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    master_key_id   text        NOT NULL,
    development_key bytea,
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Autovacuum at once after any change: a destroyed key's bytes must not
-- linger in dead tuples (they are wrapped, but the master key is live).
CREATE TABLE privacy_keys (
    key_id        uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL,
    subject_id    uuid        NOT NULL,
    master_key_id text,
    wrapped       bytea,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    destroyed_at  timestamptz,
    CONSTRAINT privacy_keys_subject_key UNIQUE (tenant_id, subject_id),
    CONSTRAINT privacy_keys_live_or_destroyed
        CHECK ((wrapped IS NULL AND master_key_id IS NULL) = (destroyed_at IS NOT NULL))
) WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_insert_threshold = -1);

COMMENT ON TABLE privacy_keys IS 'Data keys of data subjects, wrapped by the master key; a forgotten subject keeps its row with no key (ADR 0035).';

ALTER TABLE privacy_master ENABLE ROW LEVEL SECURITY;
ALTER TABLE privacy_keys ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON privacy_master, privacy_keys FROM PUBLIC;

-- Registers the master key on first use and returns the database's. With
-- p_development_key (development only), stores that key when none is.
CREATE FUNCTION privacy_register_master(p_master_key_id text, p_development_key bytea)
RETURNS TABLE (master_key_id text, development_key bytea)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    INSERT INTO privacy_master (master_key_id, development_key)
    VALUES (p_master_key_id, p_development_key)
    ON CONFLICT (singleton) DO NOTHING;
    SELECT m.master_key_id, m.development_key FROM privacy_master m;
$$;

-- The subject's key: the one it has (live or destroyed), or the one offered.
CREATE FUNCTION privacy_key_for(p_tenant_id uuid, p_subject_id uuid, p_key_id uuid,
                                p_master_key_id text, p_wrapped bytea)
RETURNS TABLE (tenant_id uuid, subject_id uuid, key_id uuid, master_key_id text, wrapped bytea)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    INSERT INTO privacy_keys (key_id, tenant_id, subject_id, master_key_id, wrapped)
    VALUES (p_key_id, p_tenant_id, p_subject_id, p_master_key_id, p_wrapped)
    ON CONFLICT (tenant_id, subject_id) DO NOTHING;
    SELECT k.tenant_id, k.subject_id, k.key_id, k.master_key_id, k.wrapped
    FROM privacy_keys k WHERE k.tenant_id = p_tenant_id AND k.subject_id = p_subject_id;
$$;

-- Keys by (tenant, key id) pairs; a key named under another tenant is not returned.
CREATE FUNCTION privacy_keys_of(p_tenant_ids uuid[], p_key_ids uuid[])
RETURNS TABLE (tenant_id uuid, subject_id uuid, key_id uuid, master_key_id text, wrapped bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT k.tenant_id, k.subject_id, k.key_id, k.master_key_id, k.wrapped
    FROM unnest(p_tenant_ids, p_key_ids) AS w(tenant_id, key_id)
    JOIN privacy_keys k ON k.key_id = w.key_id AND k.tenant_id = w.tenant_id;
$$;

-- Which of these (tenant, subject) pairs were forgotten: readers erase a
-- forgotten subject's legacy plaintext (events from before sealing).
CREATE FUNCTION privacy_forgotten_of(p_tenant_ids uuid[], p_subject_ids uuid[])
RETURNS TABLE (tenant_id uuid, subject_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT k.tenant_id, k.subject_id
    FROM unnest(p_tenant_ids, p_subject_ids) AS w(tenant_id, subject_id)
    JOIN privacy_keys k ON k.tenant_id = w.tenant_id AND k.subject_id = w.subject_id
    WHERE k.destroyed_at IS NOT NULL;
$$;

REVOKE ALL ON FUNCTION privacy_register_master(text, bytea), privacy_key_for(uuid, uuid, uuid, text, bytea),
    privacy_keys_of(uuid[], uuid[]), privacy_forgotten_of(uuid[], uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_register_master(text, bytea), privacy_key_for(uuid, uuid, uuid, text, bytea),
    privacy_keys_of(uuid[], uuid[]), privacy_forgotten_of(uuid[], uuid[]) TO deedlog_app, deedlog_log_reader;

-- Subjects whose personal data sits in clear in events written before
-- sealing (`deedlog privacy seal-legacy` fills it; nothing else writes it).
-- Readers erase such a subject's fields once it is forgotten, but the log's
-- bytes keep them until a log rewrite (ADR 0035).
CREATE TABLE privacy_legacy (
    tenant_id      uuid        NOT NULL,
    subject_id     uuid        NOT NULL,
    events         bigint      NOT NULL,
    first_position bigint      NOT NULL,
    last_position  bigint      NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, subject_id)
);
ALTER TABLE privacy_legacy ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON privacy_legacy FROM PUBLIC;

-- Forgetting: appending ContactForgotten (a contact's stream) or
-- UserForgotten (a tenant's stream, the user in its payload) destroys the
-- subject's key in the same transaction; a subject without a key yet
-- (legacy plaintext, or never sealed) gets a destroyed row, so nothing can
-- seal for it later. The event types are the domains' FORGETTING
-- declarations (a test compares them).
CREATE FUNCTION forget_subject() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    v_subject uuid := CASE NEW.event_type
        WHEN 'ContactForgotten' THEN NEW.stream_id
        ELSE (NEW.payload ->> 'user')::uuid END;
BEGIN
    INSERT INTO privacy_keys (key_id, tenant_id, subject_id, master_key_id, wrapped, destroyed_at)
    VALUES (gen_random_uuid(), NEW.tenant_id, v_subject, NULL, NULL, clock_timestamp())
    ON CONFLICT (tenant_id, subject_id)
    DO UPDATE SET master_key_id = NULL, wrapped = NULL, destroyed_at = clock_timestamp();
    RETURN NULL;
END $$;

CREATE TRIGGER events_forget_subjects AFTER INSERT ON events FOR EACH ROW
    WHEN ((NEW.stream_type = 'contact' AND NEW.event_type = 'ContactForgotten')
       OR (NEW.stream_type = 'tenant' AND NEW.event_type = 'UserForgotten'))
    EXECUTE FUNCTION forget_subject();
