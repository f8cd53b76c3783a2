//! `rm_tenancy`: the bound tenant, its modules and its users.

use crate::error::Error;
use crate::int64::Int64;
use crate::row::{row, Query};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

row! {
    /// A row of `rm_tenancy.tenants`.
    #[derive(Eq)]
    pub struct TenantRow as "Tenant" in "rm_tenancy"."tenants" {
        pub name: String,
        pub slug: String,
        pub status: String,
        pub suspended_at: Option<DateTime<Utc>>,
        pub time_zone: String,
        pub cadence_limit: i32,
        pub cadence_window_days: i32,
        pub version: Int64,
        pub last_position: Int64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    /// A row of `rm_tenancy.modules`.
    #[derive(Eq)]
    pub struct ModuleRow as "Module" in "rm_tenancy"."modules" {
        pub module: String,
        pub enabled: bool,
        pub changed_at: DateTime<Utc>,
        pub changed_by: String,
        pub last_position: Int64,
    }
}

row! {
    /// A row of `rm_tenancy.users` (never a password hash: the table has none).
    #[derive(Eq)]
    pub struct UserRow as "User" in "rm_tenancy"."users" {
        pub user_id: Uuid,
        pub email: Option<String>,
        pub display_name: Option<String>,
        pub role: Option<String>,
        pub status: Option<String>,
        pub invited_at: Option<DateTime<Utc>>,
        pub invited_by: Option<String>,
        pub activated_at: Option<DateTime<Utc>>,
        pub deactivated_at: Option<DateTime<Utc>>,
        pub deactivated_by: Option<String>,
        pub password_set_at: Option<DateTime<Utc>>,
        pub last_login_at: Option<DateTime<Utc>>,
        pub failed_logins: i32,
        pub failed_login_times: Vec<DateTime<Utc>>,
        pub last_failed_login_at: Option<DateTime<Utc>>,
        pub lockouts: i32,
        pub locked_until: Option<DateTime<Utc>>,
        pub tokens_revoked_at: Option<DateTime<Utc>>,
        pub last_position: Int64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    /// A row of `rm_tenancy.role_changes`: who changed a user's role and when
    /// (the projector keeps it; the API does not read it yet).
    #[derive(Eq)]
    pub struct RoleChangeRow in "rm_tenancy"."role_changes" {
        pub user_id: Uuid,
        pub position: i64,
        pub changed_at: DateTime<Utc>,
        pub changed_by: String,
        pub from_role: Option<String>,
        pub to_role: String,
    }
}

/// The bound tenant, once its registration is projected.
pub async fn tenant(conn: &mut PgConnection) -> Result<Option<TenantRow>, Error> {
    Query::rows("").optional(conn, "read the tenant").await
}

/// The tenant's feature modules, by name.
pub async fn modules(conn: &mut PgConnection) -> Result<Vec<ModuleRow>, Error> {
    Query::rows("ORDER BY module")
        .all(conn, "read the tenant's modules")
        .await
}

/// The users with these ids (in one statement, for a page's worth of
/// agents); unknown ids are left out.
pub async fn users_by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<UserRow>, Error> {
    Query::rows("WHERE user_id = ANY($1)")
        .bind(ids)
        .all(conn, "read users by id")
        .await
}

/// The tenant's users, in the order they were first recorded.
pub async fn users(conn: &mut PgConnection) -> Result<Vec<UserRow>, Error> {
    Query::rows("ORDER BY created_at, user_id")
        .all(conn, "read the tenant's users")
        .await
}
