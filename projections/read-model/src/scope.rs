//! A transaction bound to one tenant, the only way to read a read model.

use crate::error::Error;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A read-only transaction as `deedlog_app` with `tenant` bound.
///
/// Row-level security on every read-model table lets `deedlog_app` see the
/// rows whose `tenant_id` is `current_setting('deedlog.tenant_id')`, and
/// nothing when none is bound. The pool may log in as a role that bypasses
/// those policies (the schema owner does), so the scope switches to
/// `deedlog_app` with `SET LOCAL ROLE`: the policies then apply to every
/// statement, whatever the query says. Both the role and the tenant are
/// transaction-local (`SET LOCAL`, `set_config(…, true)`), so they end with
/// the transaction and a pooled connection never carries one tenant's
/// binding into another's request. The login role must be a member of
/// `deedlog_app`.
#[derive(Debug)]
pub struct TenantScope {
    tenant: Uuid,
    tx: Transaction<'static, Postgres>,
}

impl TenantScope {
    /// Begins the transaction on `pool` and binds `tenant`.
    pub async fn begin(pool: &PgPool, tenant: Uuid) -> Result<Self, Error> {
        let mut tx = pool.begin().await.map_err(Error::db("begin a read"))?;
        // Read-only first: it must precede every query of the transaction.
        // A plain string runs as a simple query (both statements in one
        // round trip); unlike `sqlx::raw_sql`, its future is `Send` in the
        // generic contexts of web handlers.
        sqlx::Executor::execute(
            &mut *tx,
            "SET TRANSACTION READ ONLY; SET LOCAL ROLE deedlog_app",
        )
        .await
        .map_err(Error::db("switch to the application role"))?;
        sqlx::query("SELECT set_config('deedlog.tenant_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("bind the tenant"))?;
        Ok(Self { tenant, tx })
    }

    /// The tenant bound.
    pub fn tenant(&self) -> Uuid {
        self.tenant
    }

    /// The connection every query function takes.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Ends the transaction (it changed nothing; this only returns the
    /// connection to the pool sooner than a drop would).
    pub async fn finish(self) -> Result<(), Error> {
        self.tx.commit().await.map_err(Error::db("end a read"))
    }
}
