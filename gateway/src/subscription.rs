//! Live activity over WebSocket (graphql-transport-ws): the property, deal
//! and contact events of the caller's tenant, in words, from the timeline
//! read model. A subscription resumes after any position it is given, so a
//! client that reconnects with the last position it saw misses nothing.
//!
//! One LISTEN connection per gateway wakes every subscription when the log
//! grows; each then reads its tenant's new entries in a tenant scope. A
//! periodic read covers a wake that came before the projector had applied
//! the events.

use crate::app::AppState;
use crate::error::{bad_input, from_read};
use crate::http::credentials;
use crate::schema::reads::Reads;
use crate::viewer::{allowed, Credentials};
use async_graphql::{Context, Data, Enum, Result, Subscription};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use deedlog_kernel::Role;
use deedlog_read_model::timeline::{self, EntryRow};
use deedlog_read_model::TenantScope;
use futures::Stream;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The log's NOTIFY channel (the event store's `notify::CHANNEL`).
const CHANNEL: &str = "deedlog_events";
const POLL: Duration = Duration::from_millis(500);
const BATCH: i64 = 100;

/// Kinds of records whose activity a client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum RecordKind {
    Property,
    Deal,
    Contact,
}

impl RecordKind {
    fn stream_type(self) -> &'static str {
        match self {
            RecordKind::Property => "property",
            RecordKind::Deal => "deal",
            RecordKind::Contact => "contact",
        }
    }
}

/// Wakes subscriptions when the log grows.
#[derive(Debug, Clone)]
pub struct LogTicks(pub watch::Receiver<u64>);

impl LogTicks {
    /// Listens on the log's channel; reconnects after a lost connection.
    pub fn start(pool: sqlx::PgPool) -> Self {
        let (tx, rx) = watch::channel(0u64);
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if listener.listen(CHANNEL).await.is_ok() {
                            while listener.recv().await.is_ok() {
                                tx.send_modify(|n| *n += 1);
                            }
                        }
                    }
                    Err(error) => tracing::warn!(%error, "listen for new events"),
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(POLL).await;
            }
        });
        Self(rx)
    }
}

#[derive(Debug, Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The tenant's property, deal and contact events from after `after`
    /// (a log position; 0 or absent: only new ones), in log order.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        after: Option<u64>,
        kinds: Option<Vec<RecordKind>>,
    ) -> Result<impl Stream<Item = EntryRow>> {
        let viewer = allowed(ctx, Role::may_read_records, "follow activity")?;
        let tenant = viewer.caller.tenant.as_uuid();
        let pool = ctx.data::<Reads>()?.pool.clone();
        let kinds = kinds
            .unwrap_or_else(|| vec![RecordKind::Property, RecordKind::Deal, RecordKind::Contact]);
        if kinds.is_empty() {
            return Err(bad_input(
                "`kinds` names no record kind; leave it out to follow all",
            ));
        }
        let types: Vec<String> = kinds.iter().map(|k| k.stream_type().to_owned()).collect();
        let start = match after {
            Some(position) => {
                i64::try_from(position).map_err(|_| bad_input("`after` is not a log position"))?
            }
            None => head(&pool, tenant).await?,
        };
        Ok(feed(
            pool,
            tenant,
            types,
            start,
            ctx.data::<LogTicks>()?.0.clone(),
        ))
    }
}

/// The latest position of the tenant's timeline: where "only new" starts.
async fn head(pool: &sqlx::PgPool, tenant: uuid::Uuid) -> Result<i64> {
    let mut scope = TenantScope::begin(pool, tenant).await.map_err(from_read)?;
    let rows = timeline::latest_position(scope.conn())
        .await
        .map_err(from_read)?;
    Ok(rows)
}

/// Entries after `start`, read in batches, waiting for a tick (or the
/// poll interval) when none are new.
fn feed(
    pool: sqlx::PgPool,
    tenant: uuid::Uuid,
    types: Vec<String>,
    start: i64,
    ticks: watch::Receiver<u64>,
) -> impl Stream<Item = EntryRow> {
    let state = (start, VecDeque::<EntryRow>::new(), ticks);
    futures::stream::unfold(state, move |(mut after, mut queue, mut ticks)| {
        let pool = pool.clone();
        let types = types.clone();
        async move {
            loop {
                if let Some(row) = queue.pop_front() {
                    return Some((row, (after, queue, ticks)));
                }
                match read(&pool, tenant, after, &types).await {
                    Ok(rows) if !rows.is_empty() => {
                        after = rows.last().map_or(after, |r| r.position);
                        queue.extend(rows);
                    }
                    Ok(_) => {
                        let _ = tokio::time::timeout(POLL, ticks.changed()).await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "read activity for a subscription");
                        tokio::time::sleep(POLL).await;
                    }
                }
            }
        }
    })
}

async fn read(
    pool: &sqlx::PgPool,
    tenant: uuid::Uuid,
    after: i64,
    types: &[String],
) -> Result<Vec<EntryRow>, deedlog_read_model::Error> {
    let mut scope = TenantScope::begin(pool, tenant).await?;
    let rows = timeline::since(scope.conn(), after, types, BATCH).await?;
    scope.finish().await?;
    Ok(rows)
}

/// `GET /graphql/ws`: the token comes in `connection_init`'s payload as
/// `{"authorization": "Bearer …"}` (browsers cannot set headers on a
/// WebSocket), or else in the upgrade request's header.
pub async fn websocket(
    State(state): State<Arc<AppState>>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    let from_header = credentials(&state.verifier, &headers);
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let mut data = Data::default();
                    let header = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .and_then(|v| HeaderValue::from_str(v).ok());
                    let from_payload = header.and_then(|value| {
                        let mut headers = HeaderMap::new();
                        headers.insert(axum::http::header::AUTHORIZATION, value);
                        credentials(&state.verifier, &headers)
                    });
                    let credentials: Option<Credentials> = from_payload.or(from_header);
                    if let Some(c) = credentials {
                        data.insert(c);
                    }
                    Ok(data)
                })
                .serve()
        })
}
