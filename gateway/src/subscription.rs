//! Live activity over WebSocket (graphql-transport-ws): the property, deal
//! and contact events of the caller's tenant, in words, from the timeline
//! read model, and the caller's own notifications. A subscription resumes
//! after any position it is given, so a client that reconnects with the
//! last position it saw misses nothing.
//!
//! The gateway's one LISTEN connection wakes every subscription when the log
//! grows; each then reads its tenant's new entries in a tenant scope. A
//! periodic read covers a wake that came before the projector had applied
//! the events.

use crate::app::AppState;
use crate::error::{bad_input, from_read};
use crate::http::admitted;
use crate::roster::Roster;
use crate::schema::loaders::TenantLoader;
use crate::schema::notifications::Notification;
use crate::schema::reads::Reads;
use crate::viewer::{allowed, Credentials, Refused, Viewer};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Data, Enum, Result, Subscription};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use deedlog_kernel::{stream_type, Role};
use deedlog_read_model::notifications;
use deedlog_read_model::timeline::{self, EntryRow};
use deedlog_read_model::{Int64, TenantScope};
use deedlog_runtime::ErrorCode;
use futures::{Stream, StreamExt};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
            RecordKind::Property => stream_type::PROPERTY,
            RecordKind::Deal => stream_type::DEAL,
            RecordKind::Contact => stream_type::CONTACT,
        }
    }
}

/// Wakes subscriptions when the log grows (fed by the gateway's LISTEN
/// session, [`crate::checkpoints`]).
#[derive(Debug, Clone)]
pub struct LogTicks(pub watch::Receiver<u64>);

#[derive(Debug, Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The tenant's property, deal and contact events from after `after`
    /// (a log position; 0 or absent: only new ones), in log order. Ends
    /// when the caller may no longer read them (deactivated, demoted to a
    /// role that does not read records, or their tenant suspended); the
    /// caller is checked again before each read.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(custom = "crate::schema::NonNegative(\"after\")"))] after: Option<
            Int64,
        >,
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
            // 0 or more (the validator refuses less); the read model's
            // positions are i64 like the argument.
            Some(position) => position.0,
            None => head(&pool, tenant).await?,
        };
        let follower = Follower {
            pool,
            roster: ctx.data::<Roster>()?.clone(),
            viewer: viewer.clone(),
        };
        let read = move |follower: Follower, after: i64| {
            let types = types.clone();
            async move {
                let mut scope = TenantScope::begin(&follower.pool, tenant).await?;
                let rows = timeline::since(scope.conn(), after, &types, BATCH).await?;
                scope.finish().await?;
                Ok(rows)
            }
        };
        let feed = Feed {
            may: Role::may_read_records,
            what: "activity",
            position: |row: &EntryRow| row.position.0,
        };
        Ok(feed.live(follower, start, ctx.data::<LogTicks>()?.0.clone(), read))
    }

    /// The viewer's own notifications from after `after` (a log position;
    /// 0: all; absent: only new ones), oldest first. Ends when the viewer
    /// may no longer use the tenant (deactivated, or their tenant
    /// suspended); the viewer is checked again before each read.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(custom = "crate::schema::NonNegative(\"after\")"))] after: Option<
            Int64,
        >,
    ) -> Result<impl Stream<Item = Notification>> {
        let viewer = crate::viewer::viewer(ctx)?;
        let pool = ctx.data::<Reads>()?.pool.clone();
        let start = match after {
            Some(position) => position.0,
            None => {
                let mut scope = TenantScope::begin(&pool, viewer.caller.tenant.as_uuid())
                    .await
                    .map_err(from_read)?;
                notifications::latest_position(scope.conn(), viewer.caller.user.as_uuid())
                    .await
                    .map_err(from_read)?
            }
        };
        let follower = Follower {
            pool,
            roster: ctx.data::<Roster>()?.clone(),
            viewer: viewer.clone(),
        };
        let feed = Feed {
            // Every role reads its own notifications.
            may: |_| true,
            what: "notifications",
            position: |n: &Notification| n.record.position.0,
        };
        Ok(feed.live(
            follower,
            start,
            ctx.data::<LogTicks>()?.0.clone(),
            read_inbox,
        ))
    }
}

/// Who follows a live feed, and where it is read.
#[derive(Clone)]
struct Follower {
    pool: sqlx::PgPool,
    roster: Roster,
    viewer: Viewer,
}

/// What a live feed delivers: rows after a log position, for a viewer
/// whose role `may` read them.
struct Feed<T> {
    may: fn(Role) -> bool,
    /// What is read, for the log.
    what: &'static str,
    /// A row's log position: where the next read resumes.
    position: fn(&T) -> i64,
}

impl<T: Send + 'static> Feed<T> {
    /// The rows `read` gives after `start`, in batches, waiting for a tick
    /// (or the poll interval) when none are new; ends when the follower
    /// may no longer read them (checked again before each read).
    fn live<R, F>(
        self,
        follower: Follower,
        start: i64,
        ticks: watch::Receiver<u64>,
        read: R,
    ) -> impl Stream<Item = T>
    where
        R: Fn(Follower, i64) -> F + Clone + Send + 'static,
        F: std::future::Future<Output = Result<Vec<T>, deedlog_read_model::Error>> + Send,
    {
        let state = (start, VecDeque::<T>::new(), ticks);
        futures::stream::unfold(state, move |(mut after, mut queue, mut ticks)| {
            let (follower, read) = (follower.clone(), read.clone());
            let (may, what, position) = (self.may, self.what, self.position);
            async move {
                loop {
                    if queue.is_empty() {
                        match follower.roster.admit(follower.viewer.clone()).await {
                            Ok(now) if may(now.caller.role) => {}
                            Ok(_) => return None,
                            Err(Refused::Now {
                                code: ErrorCode::Unavailable,
                                ..
                            }) => {
                                // Nothing is sent while the viewer cannot be checked.
                                tokio::time::sleep(POLL).await;
                                continue;
                            }
                            Err(_) => return None,
                        }
                    }
                    if let Some(row) = queue.pop_front() {
                        return Some((row, (after, queue, ticks)));
                    }
                    match read(follower.clone(), after).await {
                        Ok(rows) if !rows.is_empty() => {
                            after = rows.last().map_or(after, position);
                            queue.extend(rows);
                        }
                        Ok(_) => {
                            let _ = tokio::time::timeout(POLL, ticks.changed()).await;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "read {what} for a subscription");
                            tokio::time::sleep(POLL).await;
                        }
                    }
                }
            }
        })
    }
}

/// The viewer's notifications after `after`, with their read mark.
async fn read_inbox(
    follower: Follower,
    after: i64,
) -> Result<Vec<Notification>, deedlog_read_model::Error> {
    let caller = &follower.viewer.caller;
    let user = caller.user.as_uuid();
    let mut scope = TenantScope::begin(&follower.pool, caller.tenant.as_uuid()).await?;
    let rows = notifications::since(scope.conn(), user, after, BATCH).await?;
    let mark = if rows.is_empty() {
        0
    } else {
        notifications::read_up_to(scope.conn(), user).await?
    };
    scope.finish().await?;
    Ok(rows
        .into_iter()
        .map(|row| Notification::new(row, mark))
        .collect())
}

/// The latest position of the tenant's timeline: where "only new" starts.
async fn head(pool: &sqlx::PgPool, tenant: uuid::Uuid) -> Result<i64> {
    let mut scope = TenantScope::begin(pool, tenant).await.map_err(from_read)?;
    let rows = timeline::latest_position(scope.conn())
        .await
        .map_err(from_read)?;
    Ok(rows)
}

/// How long a client has to send `connection_init` after the upgrade.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// `GET /graphql/ws`: the token comes in `connection_init`'s payload as
/// `{"authorization": "Bearer …"}` (browsers cannot set headers on a
/// WebSocket), or else in the upgrade request's header. The gateway reads
/// `connection_init` itself and acknowledges it only for a token that
/// verifies and whose user may use the tenant now; otherwise it closes the
/// socket as graphql-transport-ws asks: 4401 (Unauthorized) for no token, a
/// token that does not verify or a user the tenant no longer has as an
/// active user, and for any message before `connection_init`; 4403
/// (Forbidden) for a genuine token that may not be used now (a suspended
/// tenant's user other than an admin or auditor); 4408 when no
/// `connection_init` comes within 10 s; 4500 when tenancy cannot be asked.
pub async fn websocket(
    State(state): State<Arc<AppState>>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, protocol, headers, socket))
}

/// Admits the connection on its `connection_init`, then serves it.
async fn serve(
    state: Arc<AppState>,
    protocol: GraphQLProtocol,
    headers: HeaderMap,
    mut socket: WebSocket,
) {
    let init = match tokio::time::timeout(INIT_TIMEOUT, first_message(&mut socket)).await {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(_) => return close(socket, 4408, "Connection initialisation timeout").await,
    };
    let payload = match serde_json::from_str::<Value>(&init) {
        Ok(message) if message["type"] == "connection_init" => message["payload"].clone(),
        _ => return close(socket, 4401, "Unauthorized: send connection_init first").await,
    };
    let header = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(Value::as_str)
        .and_then(|v| HeaderValue::from_str(v).ok());
    let admitted = match header {
        Some(value) => {
            let mut from_payload = HeaderMap::new();
            from_payload.insert(axum::http::header::AUTHORIZATION, value);
            admitted(&state, &from_payload).await
        }
        None => admitted(&state, &headers).await,
    };
    let viewer = match admitted {
        Some(Credentials(Ok(viewer))) => viewer,
        Some(Credentials(Err(refused))) => {
            let reason = format!(
                "{}: {}",
                reason(refused.close_code()),
                refused.error().message
            );
            return close(socket, refused.close_code(), &reason).await;
        }
        None => {
            return close(
                socket,
                4401,
                "Unauthorized: connection_init carries no access token",
            )
            .await
        }
    };
    // Hand the connection over with the init it sent, now answered with an ack.
    let (sink, stream) = socket.split();
    let replayed = futures::stream::once(async move { Ok(Message::Text(init.into())) });
    GraphQLWebSocket::new_with_pair(sink, replayed.chain(stream), state.schema.clone(), protocol)
        .on_connection_init(move |_| async move {
            let mut data = Data::default();
            // Notifications name users and properties through the loaders.
            data.insert(DataLoader::new(
                TenantLoader {
                    pool: state.reads.pool.clone(),
                    tenant: viewer.caller.tenant.as_uuid(),
                    transactions: state.reads.transactions.clone(),
                },
                tokio::spawn,
            ));
            data.insert(Credentials(Ok(viewer)));
            Ok(data)
        })
        .serve()
        .await;
}

/// The first text of the connection (pings and pongs skipped); None when it closed.
async fn first_message(socket: &mut WebSocket) -> Option<String> {
    while let Some(Ok(message)) = socket.recv().await {
        match message {
            Message::Text(text) => return Some(text.to_string()),
            Message::Binary(bytes) => return Some(String::from_utf8_lossy(&bytes).into_owned()),
            Message::Close(_) => return None,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    None
}

fn reason(code: u16) -> &'static str {
    match code {
        4403 => "Forbidden",
        4500 => "Unavailable",
        _ => "Unauthorized",
    }
}

/// Closes with `code`; the reason is cut to the 123 bytes a close frame holds.
async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        tracing::debug!("the client left before its refusal was sent");
    }
}
