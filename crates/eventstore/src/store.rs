//! The two ways into the log: [`EventStore`] for application code, bound to
//! one tenant per transaction, and [`LogReader`], the explicit privileged
//! path for projectors and auditors that read every tenant.

use crate::error::Error;
use crate::group_commit::{GroupCommit, Queue};
use crate::notify::Notifier;
use crate::upcast::Upcasters;
use deedlog_kernel::TenantId;
use deedlog_privacy::Keyring;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{Executor, Postgres, Transaction};
use std::sync::Arc;
use std::time::Duration;

/// How long a pooled connection may sit unused before it is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach the log's database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub connect: PgConnectOptions,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Role for application connections; row-level security applies to it.
    pub app_role: String,
    /// Role for the privileged reader of all tenants.
    pub reader_role: String,
}

impl ConnectOptions {
    /// Options for `url` with the default roles and pool sizes.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let connect = url
            .parse::<PgConnectOptions>()
            .map_err(|source| Error::Database {
                context: "parse the database URL",
                source,
            })?;
        // Names deedlog's sessions in pg_stat_activity, unless the URL does.
        let connect = match connect.get_application_name() {
            Some(_) => connect,
            None => connect.application_name("deedlog"),
        };
        let connect = plain_on_loopback(connect, url);
        Ok(Self {
            connect,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            app_role: "deedlog_app".to_owned(),
            reader_role: "deedlog_log_reader".to_owned(),
        })
    }

    /// A pool of at most `max_connections` that keeps none idle for long:
    /// a quiet process gives its connections back to the server.
    pub fn pool_options(&self, max_connections: u32) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(0)
            .idle_timeout(Some(IDLE_TIMEOUT))
            .acquire_timeout(self.acquire_timeout)
    }

    /// A pool whose every connection acts as `role` (`SET ROLE` after connecting).
    pub(crate) async fn pool_as(
        &self,
        role: &str,
        max_connections: u32,
        settings: &'static str,
    ) -> Result<PgPool, Error> {
        // Role names are validated by settings; quoting keeps any other input
        // inert. Custom plans: a generic plan cached while the log was small
        // would keep scanning the whole table once it is large.
        let set_role = format!(
            "SET ROLE \"{}\"; SET plan_cache_mode = force_custom_plan; {settings}",
            role.replace('"', "\"\"")
        );
        self.pool_options(max_connections)
            .after_connect(move |conn, _meta| {
                let set_role = set_role.clone();
                Box::pin(async move {
                    conn.execute(set_role.as_str()).await?;
                    Ok(())
                })
            })
            .connect_with(self.connect.clone())
            .await
            .map_err(Error::db("connect to the event log"))
    }
}

/// No TLS to a server on this machine unless asked for (`sslmode` in the
/// URL or `PGSSLMODE`): sqlx's default, `prefer`, encrypts every message on
/// loopback, where it protects nothing and costs every round trip. Across
/// a network the default stays; production sets `sslmode=verify-full`
/// (docs/configuration.md).
fn plain_on_loopback(connect: PgConnectOptions, url: &str) -> PgConnectOptions {
    let asked =
        url.to_ascii_lowercase().contains("sslmode=") || std::env::var_os("PGSSLMODE").is_some();
    let host = connect.get_host();
    let local = host == "localhost"
        || host.starts_with('/')
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if local && !asked {
        connect.ssl_mode(PgSslMode::Disable)
    } else {
        connect
    }
}

/// Application access to the log: append, read streams, register tenants.
#[derive(Debug, Clone)]
pub struct EventStore {
    pub(crate) app_pool: PgPool,
    pub(crate) notifier: Notifier,
    pub(crate) upcasters: Arc<Upcasters>,
    pub(crate) keyring: Option<Keyring>,
    /// Where appends queue for group commit (ADR 0040); `None`: each alone.
    pub(crate) group: Option<Queue>,
}

impl EventStore {
    /// Connects as the application role. Must run inside a Tokio runtime.
    pub async fn connect(
        options: &ConnectOptions,
        upcasters: Arc<Upcasters>,
    ) -> Result<Self, Error> {
        let app_pool = options
            .pool_as(&options.app_role, options.max_connections, "")
            .await?;
        let notifier = Notifier::start(app_pool.clone());
        Ok(Self {
            app_pool,
            notifier,
            upcasters,
            keyring: None,
            group: None,
        })
    }

    /// The same store with its appends grouped into batches (ADR 0040), as
    /// the command services use it. Must run inside a Tokio runtime.
    pub fn with_group_commit(mut self, options: GroupCommit) -> Self {
        let alone = Self {
            group: None,
            ..self.clone()
        };
        self.group = Some(Queue::start(alone, options));
        self
    }

    /// Registers a tenant so events can be appended for it; registering again is harmless.
    pub async fn register_tenant(&self, tenant: TenantId) -> Result<(), Error> {
        let mut tx = self.begin_for_tenant(tenant).await?;
        sqlx::query(
            "INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(Error::db("register tenant"))?;
        tx.commit().await.map_err(Error::db("register tenant"))
    }

    /// Begins a transaction bound to `tenant`: row-level security shows and
    /// accepts only that tenant's rows until it ends.
    pub async fn begin_for_tenant(
        &self,
        tenant: TenantId,
    ) -> Result<Transaction<'static, Postgres>, Error> {
        // A UUID's text form is hex digits and dashes: safe to inline, and it
        // saves a round trip over a separate parameterised set_config.
        let begin = format!("BEGIN; SELECT set_config('deedlog.tenant_id', '{tenant}', true)");
        self.app_pool
            .begin_with(begin)
            .await
            .map_err(Error::db("begin a tenant transaction"))
    }

    /// The pool of application connections (RLS applies), for code that reads
    /// tenant data in its own transactions.
    pub fn app_pool(&self) -> &PgPool {
        &self.app_pool
    }

    /// The upcasters applied to every event read.
    pub fn upcasters(&self) -> &Upcasters {
        &self.upcasters
    }

    /// Opens sealed personal fields of every event read with `keyring`
    /// (ADR 0035); without one, payloads read as stored.
    pub fn with_keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// The key service that seals what is appended and opens what is read.
    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_ref()
    }
}

/// Privileged, read-only access to every tenant's events, for projectors and
/// auditors. Kept apart from [`EventStore`] so that reading across tenants is
/// always an explicit choice.
#[derive(Debug, Clone)]
pub struct LogReader {
    pub(crate) reader_pool: PgPool,
    pub(crate) upcasters: Arc<Upcasters>,
    pub(crate) keyring: Option<Keyring>,
    /// Stream types whose sealed fields are opened; `None`: all.
    pub(crate) opens: Option<&'static [&'static str]>,
}

impl LogReader {
    /// Connects as the log reader role.
    pub async fn connect(
        options: &ConnectOptions,
        upcasters: Arc<Upcasters>,
    ) -> Result<Self, Error> {
        // Every read walks an index in order (position, or stream and
        // version). Right after a bulk load the planner's statistics are
        // stale and it would rather sort the whole rest of the log for each
        // batch of a subscription, which makes a rebuild quadratic. No JIT:
        // the scan penalty would make it compile every query.
        let reader_pool = options
            .pool_as(
                &options.reader_role,
                // A subscription's LISTEN session is detached from the pool.
                options.max_connections,
                "SET enable_bitmapscan = off; SET enable_seqscan = off; SET jit = off",
            )
            .await?;
        Ok(Self {
            reader_pool,
            upcasters,
            keyring: None,
            opens: None,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.reader_pool
    }

    /// Opens sealed personal fields of every event read with `keyring`
    /// (ADR 0035); without one, payloads read as stored.
    pub fn with_keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// The same reader without a keyring: payloads exactly as stored, with
    /// personal fields sealed (the Kafka relay publishes these).
    pub fn as_stored(&self) -> Self {
        Self {
            keyring: None,
            ..self.clone()
        }
    }

    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_ref()
    }

    /// The same reader with every field exactly as stored: no keyring and
    /// no upcasters (the log's seals cover these bytes, ADR 0037).
    pub fn raw(&self) -> Self {
        Self {
            keyring: None,
            upcasters: Arc::new(Upcasters::new()),
            ..self.clone()
        }
    }

    /// The position of the log's latest committed event (0 when the log
    /// is empty): the furthest position a reader can have reached.
    pub async fn head_position(&self) -> Result<u64, Error> {
        let head: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&self.reader_pool)
            .await
            .map_err(Error::db("read the log's head position"))?;
        // Positions are a sequence from 1; never negative.
        Ok(head.and_then(|p| u64::try_from(p).ok()).unwrap_or(0))
    }

    /// The same reader opening sealed fields only in events of
    /// `stream_types` (`None`: all), for a reader that uses no others.
    pub fn opening_only(&self, stream_types: Option<&'static [&'static str]>) -> Self {
        Self {
            opens: stream_types,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> PgSslMode {
        ConnectOptions::from_url(url)
            .expect("a valid URL")
            .connect
            .get_ssl_mode()
    }

    #[test]
    fn loopback_connects_without_tls_unless_the_url_asks_for_it() {
        if std::env::var_os("PGSSLMODE").is_some() {
            return; // the environment decides; nothing of ours to check
        }
        for url in [
            "postgres://postgres@127.0.0.1:5432/deedlog",
            "postgres://postgres@localhost/deedlog",
            "postgres://postgres@[::1]:5432/deedlog",
        ] {
            assert!(matches!(mode(url), PgSslMode::Disable), "{url}");
        }
        assert!(matches!(
            mode("postgres://postgres@127.0.0.1/deedlog?sslmode=require"),
            PgSslMode::Require
        ));
        assert!(matches!(
            mode("postgres://postgres@db.example.com/deedlog"),
            PgSslMode::Prefer
        ));
    }
}
