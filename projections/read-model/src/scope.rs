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
        // One round trip for the transaction and its whole binding: begun
        // read-only, as the application role, with the tenant set. It runs
        // as a simple query (several statements in one message). Writing the
        // tenant into the text is safe: a `Uuid` displays as hex digits and
        // dashes only.
        let begin = format!(
            "BEGIN READ ONLY; SET LOCAL ROLE deedlog_app; \
             SELECT set_config('deedlog.tenant_id', '{tenant}', true)"
        );
        let tx = pool
            .begin_with(begin)
            .await
            .map_err(Error::db("begin a read as the application role"))?;
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
