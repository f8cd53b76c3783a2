//! The tenancy read model holds what the tenant and credentials events say,
//! and never a secret.

use crate::support::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use deedlog_kernel::{CommandMetadata, DomainEvent, Module, Role, StreamId, TenantId, UserId};
use deedlog_projector::projections::tenancy::Tenancy;
use deedlog_read_model::tenancy::{ModuleRow, RoleChangeRow, TenantRow, UserRow};
use deedlog_read_model::Int64;
use deedlog_tenancy_domain::credentials::{self, NewToken};
use deedlog_tenancy_domain::settings::CommunicationSettings;
use deedlog_tenancy_domain::slug;
use deedlog_tenancy_domain::tenant::{self, NewUser};
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$WhOcRAfhay2Q8ziqHHVOuA$FwLMKO9W2Gh3xEk5F6KkYDJWHQONqwdl64J5vpJID2M";

/// 2026-11-30 09:00 UTC plus `minutes`.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0)
        .single()
        .expect("instant")
        + Duration::minutes(minutes)
}

/// Appends `events` to a stream of `stream_type` as `actor` at `when`;
/// returns the last position.
async fn append_to<E: serde::Serialize + DomainEvent>(
    db: &TestDb,
    stream: StreamId,
    stream_type: &str,
    events: &[E],
    metadata: CommandMetadata,
) -> u64 {
    db.append_to(metadata.tenant_id, stream, stream_type, events, metadata)
        .await
}

/// One tenant's streams and who acts on them.
struct Org {
    tenant: TenantId,
    admin: UserId,
}

impl Org {
    fn stream(&self) -> StreamId {
        StreamId::from_uuid(self.tenant.as_uuid())
    }

    fn by(&self, user: UserId, minutes: i64) -> CommandMetadata {
        metadata_by(self.tenant, &actor(user), at(minutes))
    }

    /// Appends to the tenant's stream, as the admin.
    async fn tenant(&self, db: &TestDb, minutes: i64, events: &[tenant::Event]) -> u64 {
        append_to(
            db,
            self.stream(),
            "tenant",
            events,
            self.by(self.admin, minutes),
        )
        .await
    }

    /// Appends to `user`'s credentials stream, as that user.
    async fn credentials(
        &self,
        db: &TestDb,
        user: UserId,
        minutes: i64,
        events: &[credentials::Event],
    ) -> u64 {
        self.credentials_at(db, user, at(minutes), events).await
    }

    async fn credentials_at(
        &self,
        db: &TestDb,
        user: UserId,
        when: DateTime<Utc>,
        events: &[credentials::Event],
    ) -> u64 {
        append_to(
            db,
            StreamId::from_uuid(user.as_uuid()),
            "credentials",
            events,
            metadata_by(self.tenant, &actor(user), when),
        )
        .await
    }

    /// Registers the tenant as the services do: slug claim, registration
    /// with the first admin, the admin's password.
    async fn register(db: &TestDb, name: &str, slug: &str, minutes: i64) -> Org {
        let org = Org {
            tenant: db.tenant().await,
            admin: UserId::from_uuid(Uuid::now_v7()),
        };
        append_to(
            db,
            StreamId::from_uuid(Uuid::now_v7()),
            "tenant_slug",
            &[slug::Event::SlugClaimed {
                slug: slug.to_owned(),
                tenant: org.tenant,
            }],
            org.by(org.admin, minutes),
        )
        .await;
        org.tenant(
            db,
            minutes,
            &[tenant::Event::TenantRegistered {
                name: name.to_owned(),
                slug: slug.to_owned(),
                modules: Module::ALL.into_iter().collect(),
                first_admin: person(org.admin, &format!("admin@{slug}.de"), "Jonas Berg"),
            }],
        )
        .await;
        org.credentials(db, org.admin, minutes, &[password()]).await;
        org
    }

    /// Invites a new user with `role`; returns their id.
    async fn invite(
        &self,
        db: &TestDb,
        minutes: i64,
        email: &str,
        name: &str,
        role: Role,
    ) -> UserId {
        let user = UserId::from_uuid(Uuid::now_v7());
        self.tenant(
            db,
            minutes,
            &[tenant::Event::UserInvited {
                user: person(user, email, name),
                role,
            }],
        )
        .await;
        user
    }

    /// Registers the tenant and Anna Schmidt, an agent invited at `invited`
    /// who accepts at `accepted`; her email is at the tenant's slug.
    async fn with_anna(
        db: &TestDb,
        name: &str,
        slug: &str,
        invited: i64,
        accepted: i64,
    ) -> (Org, UserId) {
        let org = Org::register(db, name, slug, 0).await;
        let anna = org
            .invite(
                db,
                invited,
                &format!("anna@{slug}.de"),
                "Anna Schmidt",
                Role::Agent,
            )
            .await;
        org.accept(db, anna, accepted).await;
        (org, anna)
    }

    /// `user` logs in at `minutes`, given a refresh token `id`.
    async fn login(&self, db: &TestDb, user: UserId, minutes: i64, id: Uuid) -> u64 {
        let event = credentials::Event::LoginSucceeded {
            at: at(minutes),
            token: token(id, minutes),
        };
        self.credentials(db, user, minutes, &[event]).await
    }

    /// `user` fails to log in at `minutes`.
    async fn login_failed(&self, db: &TestDb, user: UserId, minutes: i64) -> u64 {
        let event = credentials::Event::LoginFailed { at: at(minutes) };
        self.credentials(db, user, minutes, &[event]).await
    }

    /// The admin deactivates `user`, whose tokens are then all revoked, as
    /// the services do; returns the position of the revocation.
    async fn deactivate(&self, db: &TestDb, user: UserId, minutes: i64) -> u64 {
        self.tenant(db, minutes, &[tenant::Event::UserDeactivated { user }])
            .await;
        let revoked = credentials::Event::AllRefreshTokensRevoked {};
        self.credentials(db, user, minutes, &[revoked]).await
    }

    /// The admin enables or disables `module`.
    async fn module(&self, db: &TestDb, minutes: i64, module: Module, enabled: bool) -> u64 {
        let event = if enabled {
            tenant::Event::ModuleEnabled { module }
        } else {
            tenant::Event::ModuleDisabled { module }
        };
        self.tenant(db, minutes, &[event]).await
    }

    /// The invited user accepts: password, then activation (as the user).
    async fn accept(&self, db: &TestDb, user: UserId, minutes: i64) -> u64 {
        self.credentials(db, user, minutes, &[password()]).await;
        append_to(
            db,
            self.stream(),
            "tenant",
            &[tenant::Event::UserActivated { user }],
            self.by(user, minutes),
        )
        .await
    }
}

fn actor(user: UserId) -> String {
    format!("user:{}", user.as_uuid())
}

fn person(id: UserId, email: &str, display_name: &str) -> NewUser {
    NewUser {
        id,
        email: email.to_owned(),
        display_name: display_name.to_owned(),
    }
}

fn password() -> credentials::Event {
    credentials::Event::PasswordSet {
        hash: HASH.to_owned(),
    }
}

fn token(id: Uuid, minutes: i64) -> NewToken {
    NewToken {
        id,
        expires_at: at(minutes) + Duration::days(30),
    }
}

/// The rows of `table`, ordered.
async fn rows<T: DeserializeOwned + Send + Unpin + 'static>(
    db: &TestDb,
    table: &str,
    order: &str,
) -> Vec<T> {
    let json: Option<sqlx::types::Json<Vec<T>>> = sqlx::query_scalar(&format!(
        "SELECT json_agg(t ORDER BY {order}) FROM rm_tenancy.{table} t"
    ))
    .fetch_one(&db.pool)
    .await
    .expect("rows");
    json.map(|j| j.0).unwrap_or_default()
}

async fn user(db: &TestDb, id: UserId) -> UserRow {
    let json: sqlx::types::Json<UserRow> =
        sqlx::query_scalar("SELECT to_json(u) FROM rm_tenancy.users u WHERE user_id = $1")
            .bind(id.as_uuid())
            .fetch_one(&db.pool)
            .await
            .expect("user row");
    json.0
}

async fn tenant_row(db: &TestDb, org: &Org) -> TenantRow {
    let json: sqlx::types::Json<TenantRow> =
        sqlx::query_scalar("SELECT to_json(t) FROM rm_tenancy.tenants t WHERE tenant_id = $1")
            .bind(org.tenant.as_uuid())
            .fetch_one(&db.pool)
            .await
            .expect("tenant row");
    json.0
}

async fn modules(db: &TestDb, org: &Org) -> Vec<(String, bool, DateTime<Utc>)> {
    rows::<ModuleRow>(db, "modules", "module")
        .await
        .into_iter()
        .filter(|m| m.tenant_id == org.tenant.as_uuid())
        .map(|m| (m.module, m.enabled, m.changed_at))
        .collect()
}

/// A role change as (user, from, to, when, by).
type Change = (Uuid, Option<String>, String, DateTime<Utc>, String);

#[tokio::test]
async fn registration_invitations_roles_and_deactivation_build_the_roster() {
    let db = TestDb::new().await;
    let (org, anna) = Org::with_anna(&db, "Berg Immobilien GmbH", "berg-immobilien", 5, 10).await;
    org.tenant(
        &db,
        20,
        &[tenant::Event::UserRoleChanged {
            user: anna,
            from: Role::Agent,
            to: Role::Manager,
        }],
    )
    .await;
    let ben = org
        .invite(&db, 30, "ben@berg-immobilien.de", "Ben Vogel", Role::Viewer)
        .await;
    let carl = org
        .invite(
            &db,
            31,
            "carl@berg-immobilien.de",
            "Carl Weiss",
            Role::Auditor,
        )
        .await;
    org.accept(&db, carl, 32).await;
    org.login(&db, carl, 33, Uuid::now_v7()).await;
    let head = org.deactivate(&db, carl, 40).await;

    let mut projector = db.projector(Arc::new(Tenancy), 4).await;
    catch_up(&mut projector).await;
    assert_eq!(projector.position(), head);

    let t = tenant_row(&db, &org).await;
    assert_eq!(
        (t.name.as_str(), t.slug.as_str(), t.status.as_str()),
        ("Berg Immobilien GmbH", "berg-immobilien", "active")
    );
    assert_eq!(
        (t.time_zone.as_str(), t.cadence_limit, t.cadence_window_days),
        ("UTC", 3, 7),
        "the defaults until settings change"
    );
    assert_eq!(t.suspended_at, None);
    assert_eq!(
        t.version, 8,
        "registration, 3 invitations, 2 activations, a role change, a deactivation"
    );
    assert_eq!((t.created_at, t.updated_at), (at(0), at(40)));
    assert_eq!(
        modules(&db, &org).await,
        vec![
            ("analytics".to_owned(), true, at(0)),
            ("communications".to_owned(), true, at(0)),
            ("deals".to_owned(), true, at(0)),
            ("properties".to_owned(), true, at(0)),
        ]
    );

    let admin = user(&db, org.admin).await;
    assert_eq!(admin.tenant_id, org.tenant.as_uuid());
    assert_eq!(admin.email.as_deref(), Some("admin@berg-immobilien.de"));
    assert_eq!(admin.display_name.as_deref(), Some("Jonas Berg"));
    assert_eq!(admin.role.as_deref(), Some("admin"));
    assert_eq!(admin.status.as_deref(), Some("active"));
    assert_eq!((admin.invited_at, admin.activated_at), (None, Some(at(0))));
    assert_eq!(admin.password_set_at, Some(at(0)));
    assert_eq!((admin.created_at, admin.updated_at), (at(0), at(0)));

    let anna_row = user(&db, anna).await;
    assert_eq!(anna_row.role.as_deref(), Some("manager"));
    assert_eq!(anna_row.status.as_deref(), Some("active"));
    assert_eq!(anna_row.invited_at, Some(at(5)));
    assert_eq!(anna_row.invited_by, Some(actor(org.admin)));
    assert_eq!(anna_row.activated_at, Some(at(10)));
    assert_eq!(anna_row.password_set_at, Some(at(10)));
    assert_eq!((anna_row.created_at, anna_row.updated_at), (at(5), at(20)));

    let ben_row = user(&db, ben).await;
    assert_eq!(ben_row.status.as_deref(), Some("invited"));
    assert_eq!(ben_row.role.as_deref(), Some("viewer"));
    assert_eq!(
        (ben_row.activated_at, ben_row.password_set_at),
        (None, None)
    );

    let carl_row = user(&db, carl).await;
    assert_eq!(carl_row.status.as_deref(), Some("deactivated"));
    assert_eq!(carl_row.role.as_deref(), Some("auditor"));
    assert_eq!(carl_row.activated_at, Some(at(32)));
    assert_eq!(carl_row.last_login_at, Some(at(33)));
    assert_eq!(carl_row.deactivated_at, Some(at(40)));
    assert_eq!(carl_row.deactivated_by, Some(actor(org.admin)));
    assert_eq!(carl_row.tokens_revoked_at, Some(at(40)));
    assert_eq!(carl_row.last_position, big(head));

    let changes: Vec<Change> = rows::<RoleChangeRow>(&db, "role_changes", "position")
        .await
        .into_iter()
        .map(|c| {
            (
                c.user_id,
                c.from_role,
                c.to_role,
                c.changed_at,
                c.changed_by,
            )
        })
        .collect();
    let by_admin = actor(org.admin);
    assert_eq!(
        changes,
        vec![
            (
                org.admin.as_uuid(),
                None,
                "admin".into(),
                at(0),
                by_admin.clone()
            ),
            (
                anna.as_uuid(),
                None,
                "agent".into(),
                at(5),
                by_admin.clone()
            ),
            (
                anna.as_uuid(),
                Some("agent".into()),
                "manager".into(),
                at(20),
                by_admin.clone()
            ),
            (
                ben.as_uuid(),
                None,
                "viewer".into(),
                at(30),
                by_admin.clone()
            ),
            (carl.as_uuid(), None, "auditor".into(), at(31), by_admin),
        ]
    );
}

#[tokio::test]
async fn modules_suspension_settings_and_renaming_change_the_tenant() {
    let db = TestDb::new().await;
    let org = Org::register(&db, "Nord Makler", "nord-makler", 0).await;
    let mut projector = db.projector(Arc::new(Tenancy), 100).await;

    org.module(&db, 10, Module::Communications, false).await;
    org.module(&db, 11, Module::Analytics, false).await;
    org.tenant(&db, 12, &[tenant::Event::TenantSuspended {}])
        .await;
    catch_up(&mut projector).await;
    let t = tenant_row(&db, &org).await;
    assert_eq!(
        (t.status.as_str(), t.suspended_at),
        ("suspended", Some(at(12)))
    );
    assert_eq!(
        modules(&db, &org).await,
        vec![
            ("analytics".to_owned(), false, at(11)),
            ("communications".to_owned(), false, at(10)),
            ("deals".to_owned(), true, at(0)),
            ("properties".to_owned(), true, at(0)),
        ]
    );

    org.tenant(&db, 20, &[tenant::Event::TenantReactivated {}])
        .await;
    org.module(&db, 21, Module::Communications, true).await;
    org.tenant(
        &db,
        22,
        &[tenant::Event::CommunicationSettingsChanged {
            settings: CommunicationSettings {
                time_zone: "Europe/Berlin".into(),
                cadence_limit: 5,
                cadence_window_days: 14,
            },
        }],
    )
    .await;
    org.tenant(
        &db,
        23,
        &[tenant::Event::TenantRenamed {
            name: "Nord Makler & Partner".into(),
        }],
    )
    .await;
    catch_up(&mut projector).await;
    let t = tenant_row(&db, &org).await;
    assert_eq!((t.status.as_str(), t.suspended_at), ("active", None));
    assert_eq!(t.name, "Nord Makler & Partner");
    assert_eq!(
        (t.time_zone.as_str(), t.cadence_limit, t.cadence_window_days),
        ("Europe/Berlin", 5, 14)
    );
    assert_eq!((t.version, t.updated_at), (Int64(8), at(23)));
    let communications: Vec<ModuleRow> = rows::<ModuleRow>(&db, "modules", "module")
        .await
        .into_iter()
        .filter(|m| m.module == "communications")
        .collect();
    assert_eq!(communications.len(), 1);
    assert!(communications[0].enabled);
    assert_eq!(communications[0].changed_at, at(21));
    assert_eq!(communications[0].changed_by, actor(org.admin));
    assert_eq!(
        db.count("SELECT count(*) FROM rm_tenancy.modules").await,
        4,
        "one row per module the domain knows"
    );
}

#[tokio::test]
async fn five_failed_logins_in_fifteen_minutes_lock_a_user_out() {
    let db = TestDb::new().await;
    let (org, anna) = Org::with_anna(&db, "Süd Immobilien", "sued-immo", 1, 2).await;
    let first = Uuid::now_v7();
    org.login(&db, anna, 3, first).await;
    // Two failures that age out of the window, then four within it.
    for minute in [10, 11, 30, 31, 32, 33] {
        org.login_failed(&db, anna, minute).await;
    }
    let mut projector = db.projector(Arc::new(Tenancy), 3).await;
    catch_up(&mut projector).await;
    let row = user(&db, anna).await;
    assert_eq!(
        row.failed_logins, 4,
        "the failures at 9:10 and 9:11 no longer count at 9:33"
    );
    assert_eq!(row.failed_login_times, vec![at(30), at(31), at(32), at(33)]);
    assert_eq!(row.last_failed_login_at, Some(at(33)));
    assert_eq!((row.locked_until, row.lockouts), (None, 0));
    assert_eq!(row.last_login_at, Some(at(3)));

    // The fifth within 15 minutes, at a nanosecond instant as the service writes it.
    let fifth = at(34) + Duration::nanoseconds(512_734_219);
    org.credentials_at(
        &db,
        anna,
        fifth,
        &[
            credentials::Event::LoginFailed { at: fifth },
            credentials::Event::LockedOut {
                until: fifth + Duration::minutes(15),
            },
        ],
    )
    .await;
    catch_up(&mut projector).await;
    let row = user(&db, anna).await;
    let micros = at(34) + Duration::microseconds(512_734);
    assert_eq!(row.locked_until, Some(micros + Duration::minutes(15)));
    assert_eq!(row.lockouts, 1);
    assert_eq!(row.last_failed_login_at, Some(micros));
    assert_eq!(
        (row.failed_logins, row.failed_login_times.len()),
        (0, 0),
        "a lock-out starts the count again"
    );
    let locked = db
        .count(&format!(
            "SELECT count(*) FROM rm_tenancy.users WHERE tenant_id = '{}' AND locked_until > '{}'",
            org.tenant.as_uuid(),
            at(40).to_rfc3339()
        ))
        .await;
    assert_eq!(locked, 1, "at 9:40 an admin sees Anna locked out");

    // Token rotation and logout change nothing visible; a later login resets the count.
    let before = user(&db, anna).await;
    let second = Uuid::now_v7();
    org.credentials(
        &db,
        anna,
        36,
        &[credentials::Event::RefreshTokenRotated {
            old: first,
            new: token(second, 36),
        }],
    )
    .await;
    org.credentials(
        &db,
        anna,
        37,
        &[credentials::Event::RefreshTokenRevoked { token: second }],
    )
    .await;
    catch_up(&mut projector).await;
    let after = user(&db, anna).await;
    assert_eq!(
        (after.updated_at, after.last_position),
        (before.updated_at, before.last_position)
    );
    org.login_failed(&db, anna, 55).await;
    org.login(&db, anna, 56, Uuid::now_v7()).await;
    catch_up(&mut projector).await;
    let row = user(&db, anna).await;
    assert_eq!(row.last_login_at, Some(at(56)));
    assert_eq!(row.failed_logins, 0);
    assert_eq!(row.last_failed_login_at, Some(at(55)));
    assert_eq!(
        row.locked_until,
        Some(micros + Duration::minutes(15)),
        "the last lock-out stays visible, in the past"
    );
}

#[tokio::test]
async fn no_row_of_rm_tenancy_holds_a_password_hash_or_a_token_id() {
    let db = TestDb::new().await;
    let (org, anna) = Org::with_anna(&db, "Berg Immobilien GmbH", "berg-immobilien", 1, 2).await;
    let tokens = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    org.login(&db, anna, 3, tokens[0]).await;
    org.credentials(
        &db,
        anna,
        4,
        &[credentials::Event::RefreshTokenRotated {
            old: tokens[0],
            new: token(tokens[1], 4),
        }],
    )
    .await;
    org.login(&db, org.admin, 5, tokens[2]).await;
    org.credentials(
        &db,
        anna,
        6,
        &[credentials::Event::RefreshTokenRevoked { token: tokens[1] }],
    )
    .await;
    org.deactivate(&db, anna, 7).await;
    let mut projector = db.projector(Arc::new(Tenancy), 100).await;
    catch_up(&mut projector).await;
    assert_eq!(db.count("SELECT count(*) FROM rm_tenancy.users").await, 2);

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'rm_tenancy' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("tables");
    assert!(tables.len() >= 5, "{tables:?}");
    let (salt, digest) = (
        "WhOcRAfhay2Q8ziqHHVOuA",
        "FwLMKO9W2Gh3xEk5F6KkYDJWHQONqwdl64J5vpJID2M",
    );
    let mut secrets = vec![
        HASH.to_owned(),
        "$argon2id$".into(),
        salt.into(),
        digest.into(),
    ];
    secrets.extend(tokens.iter().map(|t| t.to_string()));
    for table in &tables {
        for secret in &secrets {
            let found = db
                .count(&format!(
                    "SELECT count(*) FROM rm_tenancy.{table} t WHERE strpos(t::text, '{secret}') > 0"
                ))
                .await;
            assert_eq!(found, 0, "rm_tenancy.{table} holds a secret");
        }
    }
    let suspicious: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'rm_tenancy' AND table_name <> 'checkpoint' AND (column_name LIKE '%hash%' OR column_name LIKE '%secret%' \
           OR (column_name LIKE '%token%' AND column_name <> 'tokens_revoked_at'))",
    )
    .fetch_all(&db.pool)
    .await
    .expect("columns");
    assert!(suspicious.is_empty(), "{suspicious:?}");
}

#[tokio::test]
async fn credentials_before_the_roster_leave_a_partial_row_the_roster_completes() {
    let db = TestDb::new().await;
    let org = Org::register(&db, "Ost Haus", "ost-haus", 0).await;
    let early = UserId::from_uuid(Uuid::now_v7());
    org.credentials(&db, early, 1, &[password()]).await;
    let mut projector = db.projector(Arc::new(Tenancy), 100).await;
    catch_up(&mut projector).await;
    let row = user(&db, early).await;
    assert_eq!(row.tenant_id, org.tenant.as_uuid());
    assert_eq!(row.password_set_at, Some(at(1)));
    assert_eq!((row.email, row.role, row.status), (None, None, None));

    org.tenant(
        &db,
        2,
        &[tenant::Event::UserInvited {
            user: person(early, "early@ost-haus.de", "Eva Früh"),
            role: Role::Viewer,
        }],
    )
    .await;
    catch_up(&mut projector).await;
    let row = user(&db, early).await;
    assert_eq!(row.email.as_deref(), Some("early@ost-haus.de"));
    assert_eq!(row.status.as_deref(), Some("invited"));
    assert_eq!(row.password_set_at, Some(at(1)));
    assert_eq!((row.created_at, row.updated_at), (at(1), at(2)));
}

#[tokio::test]
async fn an_event_for_a_user_never_invited_is_a_dead_letter() {
    let db = TestDb::new().await;
    let org = Org::register(&db, "West Wohnen", "west-wohnen", 0).await;
    let stranger = UserId::from_uuid(Uuid::now_v7());
    org.tenant(&db, 1, &[tenant::Event::UserActivated { user: stranger }])
        .await;
    org.tenant(
        &db,
        2,
        &[tenant::Event::TenantRenamed {
            name: "West Wohnen GmbH".into(),
        }],
    )
    .await;
    let mut projector = db.projector(Arc::new(Tenancy), 100).await;
    catch_up(&mut projector).await;
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deedlog_read.dead_letters \
             WHERE projection = 'tenancy' AND event_type = 'UserActivated'"
        )
        .await,
        1
    );
    let t = tenant_row(&db, &org).await;
    assert_eq!(t.name, "West Wohnen GmbH", "the projection went on");
    assert_eq!(db.count("SELECT count(*) FROM rm_tenancy.users").await, 1);
}

/// A realistic history of two tenants, interleaved, with property events
/// between them; returns the log's head.
async fn history(db: &TestDb) -> u64 {
    let orgs = [
        Org::register(db, "Berg Immobilien GmbH", "berg-immobilien", 0).await,
        Org::register(db, "Nord Makler", "nord-makler", 1).await,
    ];
    let roles = [
        Role::Agent,
        Role::Manager,
        Role::Viewer,
        Role::Auditor,
        Role::Agent,
        Role::Admin,
    ];
    let mut users: Vec<Vec<UserId>> = vec![Vec::new(), Vec::new()];
    let mut minute = 10;
    let mut head = 0;
    for n in 0..12_usize {
        for (i, org) in orgs.iter().enumerate() {
            minute += 1;
            let user = org
                .invite(
                    db,
                    minute,
                    &format!("user{n}@tenant{i}.de"),
                    &format!("User {n}"),
                    roles[n % roles.len()],
                )
                .await;
            users[i].push(user);
            if n % 4 != 3 {
                org.accept(db, user, minute).await;
            }
            if n % 5 == 2 {
                // Credentials first, then the roster: a partial row filled in.
                let early = UserId::from_uuid(Uuid::now_v7());
                org.credentials(db, early, minute, &[password()]).await;
                org.tenant(
                    db,
                    minute,
                    &[tenant::Event::UserInvited {
                        user: person(early, &format!("early{n}@tenant{i}.de"), "Early"),
                        role: Role::Viewer,
                    }],
                )
                .await;
            }
            let mut price = 30_000_000;
            db.append(
                org.tenant,
                new_stream(),
                &[created("Hamburg", price), change(n as u64, &mut price)],
            )
            .await;
        }
    }
    for step in 0..40_i64 {
        for (i, org) in orgs.iter().enumerate() {
            minute += 1;
            let active: Vec<UserId> = users[i]
                .iter()
                .enumerate()
                .filter(|(n, _)| n % 4 != 3)
                .map(|(_, u)| *u)
                .collect();
            let user = active[(step as usize * 7 + i) % active.len()];
            head = match step % 10 {
                0 | 5 => org.login(db, user, minute, Uuid::now_v7()).await,
                1..=3 => {
                    let mut events = vec![credentials::Event::LoginFailed { at: at(minute) }];
                    if step % 20 == 3 {
                        // The fourth and fifth failure within 15 minutes.
                        org.credentials(db, active[0], minute, &events).await;
                        events.push(credentials::Event::LockedOut {
                            until: at(minute + 15),
                        });
                    }
                    org.credentials(db, active[0], minute, &events).await
                }
                4 => {
                    let (from, to) = if step % 20 == 4 {
                        (Role::Agent, Role::Manager)
                    } else {
                        (Role::Manager, Role::Agent)
                    };
                    org.tenant(
                        db,
                        minute,
                        &[tenant::Event::UserRoleChanged {
                            user: users[i][0],
                            from,
                            to,
                        }],
                    )
                    .await
                }
                6 => {
                    let module = Module::ALL[(step as usize / 20) * 2];
                    org.module(db, minute, module, step % 20 != 6).await
                }
                7 => {
                    let event = if step % 20 == 7 {
                        tenant::Event::TenantSuspended {}
                    } else {
                        tenant::Event::TenantReactivated {}
                    };
                    org.tenant(db, minute, &[event]).await
                }
                8 => {
                    org.tenant(
                        db,
                        minute,
                        &[tenant::Event::CommunicationSettingsChanged {
                            settings: CommunicationSettings {
                                time_zone: "Europe/Berlin".into(),
                                cadence_limit: 2 + step as u32 / 10,
                                cadence_window_days: 7,
                            },
                        }],
                    )
                    .await
                }
                _ => {
                    let gone = active[(step as usize / 10) * 2 + 1];
                    org.deactivate(db, gone, minute).await
                }
            };
        }
    }
    head
}

/// Every table of rm_tenancy as JSON text, rows in key order.
async fn dump(db: &TestDb) -> Vec<(String, String)> {
    let mut tables = Vec::new();
    for (table, order) in [
        ("tenants", "tenant_id"),
        ("modules", "tenant_id, module"),
        ("users", "user_id"),
        ("role_changes", "user_id, position"),
    ] {
        let json: Option<String> = sqlx::query_scalar(&format!(
            "SELECT json_agg(t ORDER BY {order})::text FROM rm_tenancy.{table} t"
        ))
        .fetch_one(&db.pool)
        .await
        .expect("dump");
        tables.push((table.to_owned(), json.unwrap_or_default()));
    }
    tables
}

#[tokio::test]
async fn two_tenants_give_the_same_rows_whatever_the_batch_and_reconcile_clean() {
    let db = TestDb::new().await;
    let head = history(&db).await;

    let mut one = db.projector(Arc::new(Tenancy), 1).await;
    catch_up(&mut one).await;
    assert_eq!(one.position(), head);
    let by_one = dump(&db).await;
    drop(one);
    sqlx::query("DROP SCHEMA rm_tenancy CASCADE")
        .execute(&db.pool)
        .await
        .expect("drop the read model");
    let mut many = db.projector(Arc::new(Tenancy), 1000).await;
    catch_up(&mut many).await;
    let by_many = dump(&db).await;
    for ((table, a), (_, b)) in by_one.iter().zip(&by_many) {
        assert!(
            a == b,
            "rm_tenancy.{table} differs between batches of 1 and 1000 ({} and {} bytes)",
            a.len(),
            b.len()
        );
    }

    let counts = [
        ("SELECT count(*) FROM rm_tenancy.tenants", 2, ""),
        ("SELECT count(*) FROM rm_tenancy.modules", 8, ""),
        (
            "SELECT count(*) FROM rm_tenancy.users",
            2 * (1 + 12 + 2),
            "per tenant: the admin, 12 invited and 2 whose credentials came first",
        ),
        (
            "SELECT count(*) FROM rm_tenancy.users WHERE email IS NULL OR status IS NULL",
            0,
            "",
        ),
        (
            "SELECT count(*) FROM rm_tenancy.users WHERE locked_until IS NOT NULL",
            2,
            "one lock-out per tenant",
        ),
        (
            "SELECT count(*) FROM rm_tenancy.users WHERE status = 'deactivated'",
            2 * 4,
            "",
        ),
    ];
    for (sql, expected, why) in counts {
        assert_eq!(db.count(sql).await, expected, "{sql}: {why}");
    }
    let per_tenant: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM rm_tenancy.role_changes GROUP BY tenant_id ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("role changes");
    assert_eq!(per_tenant, vec![1 + 12 + 2 + 4, 1 + 12 + 2 + 4]);
    let statuses: BTreeSet<String> = rows::<TenantRow>(&db, "tenants", "tenant_id")
        .await
        .into_iter()
        .map(|t| t.status)
        .collect();
    assert_eq!(statuses, BTreeSet::from(["active".to_owned()]));

    let report = assert_reconciles_clean(&db, Arc::new(Tenancy), 7).await;
    assert_eq!(report.position, head);
}

fn big(position: u64) -> i64 {
    i64::try_from(position).expect("position fits")
}
