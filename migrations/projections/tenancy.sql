-- Read model of the tenancy context: tenants with their settings, their
-- feature modules, their users (roster and sign-in state) and the history
-- of the roles users were given.
-- Runs with search_path set to the target schema (live or a rebuild aside);
-- names no schema. The runtime adds row-level security and grants.
-- Never holds a password hash or anything about refresh tokens but when
-- they were all revoked.

CREATE TABLE tenants (
    tenant_id           uuid        PRIMARY KEY,
    name                text        NOT NULL,
    slug                text        NOT NULL,
    status              text        NOT NULL
                        CHECK (status IN ('active', 'suspended')),
    -- when the current suspension began; null while active
    suspended_at        timestamptz,
    time_zone           text        NOT NULL,
    cadence_limit       integer     NOT NULL,
    cadence_window_days integer     NOT NULL,
    version             bigint      NOT NULL,
    last_position       bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
-- Operators look tenants up by slug (unique by construction of the log; no
-- unique constraint, so that a read model never refuses what the log holds).
CREATE INDEX tenants_by_slug ON tenants (slug);

-- One row per tenant and module the domain knows, on or off.
CREATE TABLE modules (
    tenant_id     uuid        NOT NULL,
    module        text        NOT NULL,
    enabled       boolean     NOT NULL,
    changed_at    timestamptz NOT NULL,
    changed_by    text        NOT NULL,
    last_position bigint      NOT NULL,
    PRIMARY KEY (tenant_id, module)
);

-- One row per user: the roster (tenant stream) and sign-in state
-- (credentials stream).
CREATE TABLE users (
    user_id              uuid        PRIMARY KEY,
    tenant_id            uuid        NOT NULL,
    -- null only while the credentials stream has events for a user the
    -- tenant stream has not recorded (a request that failed part-way)
    email                text,
    display_name         text,
    role                 text
                         CHECK (role IN ('admin', 'manager', 'agent', 'viewer', 'auditor')),
    status               text
                         CHECK (status IN ('invited', 'active', 'deactivated')),
    invited_at           timestamptz,
    invited_by           text,
    activated_at         timestamptz,
    deactivated_at       timestamptz,
    deactivated_by       text,
    password_set_at      timestamptz,
    last_login_at        timestamptz,
    failed_logins        integer     NOT NULL,
    failed_login_times   timestamptz[] NOT NULL,
    last_failed_login_at timestamptz,
    lockouts             integer     NOT NULL,
    locked_until         timestamptz,
    tokens_revoked_at    timestamptz,
    last_position        bigint      NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
-- The admin's user list: by status and name, by email, by role, lock-outs.
CREATE INDEX users_by_status ON users (tenant_id, status, lower(display_name));
CREATE INDEX users_by_email ON users (tenant_id, email);
CREATE INDEX users_by_role ON users (tenant_id, role);
CREATE INDEX users_locked ON users (tenant_id, locked_until) WHERE locked_until IS NOT NULL;

-- Every role a user was given: the first at registration or invitation
-- (from_role null), then every change.
CREATE TABLE role_changes (
    tenant_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    position    bigint      NOT NULL,
    changed_at  timestamptz NOT NULL,
    changed_by  text        NOT NULL,
    from_role   text,
    to_role     text        NOT NULL,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX role_changes_by_time ON role_changes (tenant_id, changed_at);
CREATE INDEX role_changes_by_actor ON role_changes (tenant_id, changed_by, changed_at);
