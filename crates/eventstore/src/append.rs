//! Appending one command's events to one stream.

use crate::error::{sqlstate, Error};
use crate::event::{ExpectedVersion, NewEvent};
use crate::group_commit::MAX_EVENTS_TO_GROUP;
use crate::limits::{self, MAX_VERSION};
use crate::store::EventStore;
use chrono::{DateTime, Utc};
use deedlog_kernel::number::fit;
use deedlog_kernel::{CommandMetadata, StreamId};
use sqlx::{PgConnection, Row};
use std::collections::HashSet;

/// The events of one command for one stream, with who/when/why.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream_id: StreamId,
    /// The kind of record, e.g. `property`; fixed by the stream's first append.
    pub stream_type: String,
    pub expected: ExpectedVersion,
    pub metadata: CommandMetadata,
    pub events: Vec<NewEvent>,
    /// A digest of the request behind the command: a repeat of its command
    /// id with another fingerprint is refused (`None`: not compared).
    pub fingerprint: Option<[u8; 32]>,
}

/// What an append did (or, for a repeated command id, what it did the first time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The stream's version after the append.
    pub stream_version: u64,
    /// The global position of each appended event, in stream order.
    pub positions: Vec<u64>,
    pub recorded_at: DateTime<Utc>,
    /// True when the command id had been appended before and nothing was added now.
    pub duplicate: bool,
}

impl AppendOutcome {
    /// The highest position written, what a reader waits for to see this append.
    pub fn last_position(&self) -> u64 {
        self.positions.last().copied().unwrap_or(0)
    }
}

/// Attempts when a concurrent writer wins the race inside the database; the
/// second attempt then sees the winner and answers precisely (conflict or duplicate).
const RACE_ATTEMPTS: usize = 2;

const APPEND_SQL: &str = "SELECT outcome, stream_version, positions, recorded_at \
     FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text[]::json[], $15)";

impl EventStore {
    /// Appends `request`'s events atomically, or refuses them all.
    #[tracing::instrument(skip_all, fields(stream.id = %request.stream_id, stream.type = %request.stream_type, events = request.events.len()))]
    /// With group commit (ADR 0040), it may share a transaction with other
    /// commands' appends; it still succeeds or fails on its own.
    pub async fn append(&self, request: &AppendRequest) -> Result<AppendOutcome, Error> {
        limits::check(request)?;
        match &self.group {
            Some(queue) if request.events.len() <= MAX_EVENTS_TO_GROUP => {
                queue.append(request).await
            }
            _ => self.append_alone(request).await,
        }
    }

    /// The single-append path: one call of `append_events`, one transaction.
    async fn append_alone(&self, request: &AppendRequest) -> Result<AppendOutcome, Error> {
        let mut conn = self
            .app_pool
            .acquire()
            .await
            .map_err(Error::db("append events"))?;
        self.append_alone_on(&mut conn, request).await
    }

    /// [`EventStore::append_alone`] on `conn`.
    async fn append_alone_on(
        &self,
        conn: &mut PgConnection,
        request: &AppendRequest,
    ) -> Result<AppendOutcome, Error> {
        let mut attempt = 1;
        loop {
            match self.append_once(conn, request).await {
                Err(_) if attempt < RACE_ATTEMPTS => attempt += 1,
                Err(lost) => return Err(self.race_verdict(request, lost).await),
                Ok(result) => {
                    if matches!(&result, Ok(outcome) if !outcome.duplicate) {
                        self.notifier.appended();
                    }
                    return result;
                }
            }
        }
    }

    async fn append_once(
        &self,
        conn: &mut PgConnection,
        request: &AppendRequest,
    ) -> Result<Result<AppendOutcome, Error>, RaceLost> {
        let query = match append_query(request) {
            Ok(query) => query,
            Err(error) => return Ok(Err(error)),
        };
        let row = answered(query.fetch_one(conn).await)?;
        Ok(row.and_then(|row| interpret(request, &row)))
    }

    /// Appends the events of one command to several streams of one tenant
    /// in one transaction: all of them, or none. A request whose command id
    /// was appended before counts as done (a repeat); any refusal (conflict,
    /// stream type, unknown tenant) appends nothing of the whole group.
    /// With `registers_tenant`, the tenant is registered in that same
    /// transaction, so a refused registration leaves nothing behind.
    #[tracing::instrument(skip_all, fields(streams = requests.len()))]
    pub async fn append_together(
        &self,
        requests: &[AppendRequest],
        registers_tenant: bool,
    ) -> Result<Vec<AppendOutcome>, Error> {
        let Some(first) = requests.first() else {
            return Ok(Vec::new());
        };
        let tenant = first.metadata.tenant_id;
        if requests.iter().any(|r| r.metadata.tenant_id != tenant) {
            return Err(Error::Corrupt {
                position: 0,
                reason: "one atomic append spans a single tenant".to_owned(),
            });
        }
        for request in requests {
            limits::check(request)?;
        }
        let mut attempt = 1;
        loop {
            match self.append_group_once(requests, registers_tenant).await {
                Err((_, _)) if attempt < RACE_ATTEMPTS => attempt += 1,
                Err((index, lost)) => return Err(self.race_verdict(&requests[index], lost).await),
                Ok(result) => {
                    if matches!(&result, Ok(outcomes) if outcomes.iter().any(|o| !o.duplicate)) {
                        self.notifier.appended();
                    }
                    return result;
                }
            }
        }
    }

    async fn append_group_once(
        &self,
        requests: &[AppendRequest],
        registers_tenant: bool,
    ) -> Result<Result<Vec<AppendOutcome>, Error>, (usize, RaceLost)> {
        let context = "append events to several records";
        let tenant = requests[0].metadata.tenant_id;
        let mut tx = match self.begin_for_tenant(tenant).await {
            Ok(tx) => tx,
            Err(error) => return Ok(Err(error)),
        };
        if registers_tenant {
            let registered = sqlx::query(
                "INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant.as_uuid())
            .execute(&mut *tx)
            .await;
            if let Err(error) = registered {
                return Ok(Err(Error::db("register tenant")(error)));
            }
        }
        let mut outcomes = Vec::with_capacity(requests.len());
        for (index, request) in requests.iter().enumerate() {
            let query = match append_query(request) {
                Ok(query) => query,
                Err(error) => return Ok(Err(error)),
            };
            let row = answered(query.fetch_one(&mut *tx).await).map_err(|lost| (index, lost))?;
            match row.and_then(|row| interpret(request, &row)) {
                Ok(outcome) => outcomes.push(outcome),
                // Dropping the transaction rolls back what the group appended.
                Err(refused) => return Ok(Err(refused)),
            }
        }
        Ok(tx
            .commit()
            .await
            .map(|()| outcomes)
            .map_err(Error::db(context)))
    }

    /// Appends several commands' events in calls of `append_batch`, one
    /// transaction each. Each command stays atomic on its own: the answers
    /// are per request, in order, exactly as [`EventStore::append`] would
    /// give them one after another. Commands that repeat an earlier one's
    /// stream or command id go in a later round (its own call), after it.
    /// When a call fails as a whole (a constraint, a concurrent writer
    /// outside it), its commands are appended one by one.
    #[tracing::instrument(skip_all, fields(commands = requests.len()))]
    pub async fn append_batch(
        &self,
        requests: &[AppendRequest],
    ) -> Vec<Result<AppendOutcome, Error>> {
        match self.app_pool.acquire().await {
            Ok(mut conn) => self.append_batch_on(&mut conn, requests).await.0,
            // Each then tries, and fails, on its own.
            Err(_) => {
                futures::future::join_all(requests.iter().map(|request| async move {
                    limits::check(request)?;
                    self.append_alone(request).await
                }))
                .await
            }
        }
    }

    /// [`EventStore::append_batch`] on `conn`. Also says whether `conn`
    /// is still known good: false once the connection failed.
    pub(crate) async fn append_batch_on(
        &self,
        conn: &mut PgConnection,
        requests: &[AppendRequest],
    ) -> (Vec<Result<AppendOutcome, Error>>, bool) {
        let mut answers: Vec<Option<Result<AppendOutcome, Error>>> = requests
            .iter()
            .map(|request| limits::check(request).err().map(Err))
            .collect();
        let mut left: Vec<usize> = (0..requests.len())
            .filter(|&i| answers[i].is_none())
            .collect();
        let mut healthy = true;
        while !left.is_empty() {
            let (round, later) = rounds(requests, &left);
            left = later;
            let outcomes = match round.as_slice() {
                [only] => vec![self.append_alone_on(conn, &requests[*only]).await],
                _ => {
                    let batch: Vec<&AppendRequest> = round.iter().map(|&i| &requests[i]).collect();
                    match self.append_batch_once(conn, &batch).await {
                        Ok(outcomes) => {
                            if outcomes.iter().any(|o| matches!(o, Ok(o) if !o.duplicate)) {
                                self.notifier.appended();
                            }
                            outcomes
                        }
                        Err(error) => {
                            tracing::debug!(%error, "batch failed as a whole; appending its commands one by one");
                            healthy &= !matches!(error, Error::Unavailable { .. });
                            futures::future::join_all(batch.iter().map(|r| self.append_alone(r)))
                                .await
                        }
                    }
                }
            };
            if outcomes
                .iter()
                .any(|o| matches!(o, Err(Error::Unavailable { .. })))
            {
                healthy = false;
            }
            for (i, outcome) in round.iter().zip(outcomes) {
                answers[*i] = Some(outcome);
            }
        }
        let answers = answers
            .into_iter()
            .map(|answer| answer.unwrap_or_else(|| Err(unanswered())))
            .collect();
        (answers, healthy)
    }

    /// One call of `append_batch`: per request its outcome or refusal, or
    /// the database's error for the batch as a whole.
    async fn append_batch_once(
        &self,
        conn: &mut PgConnection,
        requests: &[&AppendRequest],
    ) -> Result<Vec<Result<AppendOutcome, Error>>, Error> {
        let context = "append a batch of commands";
        let arrays = BatchArrays::of(requests)?;
        let rows = arrays
            .query()
            .fetch_all(conn)
            .await
            .map_err(Error::db(context))?;
        let mut answers: Vec<Option<Result<AppendOutcome, Error>>> =
            requests.iter().map(|_| None).collect();
        for row in &rows {
            let index: i32 = row.try_get("command_index").map_err(Error::db(context))?;
            let slot = usize::try_from(index - 1)
                .ok()
                .filter(|&i| i < requests.len());
            if let Some(i) = slot {
                answers[i] = Some(interpret(requests[i], row));
            }
        }
        Ok(answers
            .into_iter()
            .map(|answer| answer.unwrap_or_else(|| Err(unanswered())))
            .collect())
    }

    /// Explains a collision that persisted after a retry.
    async fn race_verdict(&self, request: &AppendRequest, lost: RaceLost) -> Error {
        if lost.on_command_id {
            return Error::CommandIdReused {
                command_id: request.metadata.command_id,
            };
        }
        match self.of_other_tenant(request).await {
            Ok(true) => Error::StreamNotInTenant {
                stream: request.stream_id,
                tenant: request.metadata.tenant_id,
            },
            Ok(false) => match self.stream_version(request).await {
                Ok(actual) => Error::Conflict {
                    stream: request.stream_id,
                    expected: request.expected,
                    actual,
                },
                Err(error) => error,
            },
            Err(error) => error,
        }
    }

    /// Whether the stream exists in another tenant (invisible to this one).
    async fn of_other_tenant(&self, request: &AppendRequest) -> Result<bool, Error> {
        sqlx::query_scalar("SELECT stream_of_other_tenant($1, $2)")
            .bind(request.stream_id.as_uuid())
            .bind(request.metadata.tenant_id.as_uuid())
            .fetch_one(&self.app_pool)
            .await
            .map_err(Error::db("look up the stream's tenant"))
    }

    /// The stream's current version as this tenant sees it (0 when absent).
    async fn stream_version(&self, request: &AppendRequest) -> Result<u64, Error> {
        let mut tx = self.begin_for_tenant(request.metadata.tenant_id).await?;
        let version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM events WHERE stream_id = $1")
                .bind(request.stream_id.as_uuid())
                .fetch_one(&mut *tx)
                .await
                .map_err(Error::db("read stream version"))?;
        tx.commit()
            .await
            .map_err(Error::db("read stream version"))?;
        version.map_or(Ok(0), to_u64)
    }
}

/// Splits `left` (indexes into `requests`, in order) into this round and
/// the later ones: a request whose stream or command id an earlier request
/// of `left` has waits for a later round, so that it is decided after it.
fn rounds(requests: &[AppendRequest], left: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (mut streams, mut commands) = (HashSet::new(), HashSet::new());
    let (mut now, mut later) = (Vec::new(), Vec::new());
    for &i in left {
        let meta = &requests[i].metadata;
        let fresh_stream = streams.insert(requests[i].stream_id);
        let fresh_command = commands.insert((meta.tenant_id, meta.command_id));
        if fresh_stream && fresh_command {
            now.push(i);
        } else {
            later.push(i);
        }
    }
    (now, later)
}

/// A concurrent writer won inside the database; the append can be asked again.
/// A command id taken by another tenant stays invisible and keeps failing.
struct RaceLost {
    on_command_id: bool,
}

/// The call of `append_events` for `request`.
fn append_query(
    request: &AppendRequest,
) -> Result<sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>, Error> {
    let meta = &request.metadata;
    let types: Vec<&str> = request
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    // limits::check refused versions beyond an i32 before this point.
    let versions = request
        .events
        .iter()
        .map(|e| fit::<u32, i32>("schema version", e.schema_version))
        .collect::<Result<Vec<_>, _>>()?;
    let payloads: Vec<&str> = request.events.iter().map(|e| e.payload.get()).collect();
    Ok(sqlx::query(APPEND_SQL)
        .bind(meta.tenant_id.as_uuid())
        .bind(request.stream_id.as_uuid())
        .bind(&request.stream_type)
        .bind(request.expected.as_sql()?)
        .bind(meta.command_id.as_uuid())
        .bind(meta.actor.trim())
        .bind(meta.correlation_id.as_uuid())
        .bind(meta.causation_id.as_uuid())
        .bind(meta.trace.as_ref().map(|t| t.traceparent.as_str()))
        .bind(meta.trace.as_ref().and_then(|t| t.tracestate.as_deref()))
        .bind(meta.occurred_at)
        .bind(types)
        .bind(versions)
        .bind(payloads)
        .bind(request.fingerprint.map(|f| f.to_vec())))
}

const APPEND_BATCH_SQL: &str = "SELECT command_index, outcome, stream_version, positions, recorded_at \
     FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::text[]::json[])";

/// The arguments of `append_batch`: one array element per command, and
/// per event (each naming its command by its 1-based index).
#[derive(Default)]
struct BatchArrays<'a> {
    tenants: Vec<uuid::Uuid>,
    streams: Vec<uuid::Uuid>,
    stream_types: Vec<&'a str>,
    expected: Vec<Option<i64>>,
    command_ids: Vec<uuid::Uuid>,
    actors: Vec<&'a str>,
    correlations: Vec<uuid::Uuid>,
    causations: Vec<uuid::Uuid>,
    traceparents: Vec<Option<&'a str>>,
    tracestates: Vec<Option<&'a str>>,
    occurred: Vec<DateTime<Utc>>,
    fingerprints: Vec<Option<Vec<u8>>>,
    event_commands: Vec<i32>,
    event_ords: Vec<i32>,
    event_types: Vec<&'a str>,
    schema_versions: Vec<i32>,
    payloads: Vec<&'a str>,
}

impl<'a> BatchArrays<'a> {
    fn of(requests: &[&'a AppendRequest]) -> Result<Self, Error> {
        let mut arrays = Self::default();
        for (index, request) in requests.iter().enumerate() {
            let meta = &request.metadata;
            let command = fit::<usize, i32>("command index", index + 1)?;
            arrays.tenants.push(meta.tenant_id.as_uuid());
            arrays.streams.push(request.stream_id.as_uuid());
            arrays.stream_types.push(&request.stream_type);
            arrays.expected.push(request.expected.as_sql()?);
            arrays.command_ids.push(meta.command_id.as_uuid());
            arrays.actors.push(meta.actor.trim());
            arrays.correlations.push(meta.correlation_id.as_uuid());
            arrays.causations.push(meta.causation_id.as_uuid());
            let trace = meta.trace.as_ref();
            arrays
                .traceparents
                .push(trace.map(|t| t.traceparent.as_str()));
            arrays
                .tracestates
                .push(trace.and_then(|t| t.tracestate.as_deref()));
            arrays.occurred.push(meta.occurred_at);
            arrays
                .fingerprints
                .push(request.fingerprint.map(|f| f.to_vec()));
            for (ord, event) in request.events.iter().enumerate() {
                arrays.event_commands.push(command);
                arrays
                    .event_ords
                    .push(fit::<usize, i32>("event index", ord + 1)?);
                arrays.event_types.push(&event.event_type);
                arrays
                    .schema_versions
                    .push(fit::<u32, i32>("schema version", event.schema_version)?);
                arrays.payloads.push(event.payload.get());
            }
        }
        Ok(arrays)
    }

    fn query(self) -> sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(APPEND_BATCH_SQL)
            .bind(self.tenants)
            .bind(self.streams)
            .bind(self.stream_types)
            .bind(self.expected)
            .bind(self.command_ids)
            .bind(self.actors)
            .bind(self.correlations)
            .bind(self.causations)
            .bind(self.traceparents)
            .bind(self.tracestates)
            .bind(self.occurred)
            .bind(self.fingerprints)
            .bind(self.event_commands)
            .bind(self.event_ords)
            .bind(self.event_types)
            .bind(self.schema_versions)
            .bind(self.payloads)
    }
}

/// A request the batch gave no answer for: a defect of `append_batch`.
fn unanswered() -> Error {
    Error::Corrupt {
        position: 0,
        reason: "append_batch gave no outcome for a command".to_owned(),
    }
}

/// The function's answer row (or the database's error), unless a
/// concurrent writer won the race.
fn answered(
    row: Result<sqlx::postgres::PgRow, sqlx::Error>,
) -> Result<Result<sqlx::postgres::PgRow, Error>, RaceLost> {
    match row {
        Ok(row) => Ok(Ok(row)),
        // 23505: a concurrent writer took this version or this command id first.
        Err(error) if sqlstate(&error).as_deref() == Some("23505") => Err(RaceLost {
            on_command_id: constraint(&error) == Some("commands_pkey"),
        }),
        Err(error) => Ok(Err(Error::db("append events")(error))),
    }
}

fn constraint(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

/// Turns the database function's answer into an outcome or a refusal.
fn interpret(request: &AppendRequest, row: &sqlx::postgres::PgRow) -> Result<AppendOutcome, Error> {
    let decode = |e| Error::Database {
        context: "decode append result",
        source: e,
    };
    let outcome: String = row.try_get("outcome").map_err(decode)?;
    let version: Option<i64> = row.try_get("stream_version").map_err(decode)?;
    let positions: Option<Vec<i64>> = row.try_get("positions").map_err(decode)?;
    let recorded_at: Option<DateTime<Utc>> = row.try_get("recorded_at").map_err(decode)?;
    let version = version.map_or(Ok(0), to_u64)?;
    let positions = positions
        .unwrap_or_default()
        .into_iter()
        .map(to_u64)
        .collect::<Result<Vec<_>, _>>()?;
    let stream = request.stream_id;
    let tenant = request.metadata.tenant_id;
    let success = |duplicate| AppendOutcome {
        stream_version: version,
        positions: positions.clone(),
        recorded_at: recorded_at.unwrap_or_default(),
        duplicate,
    };
    match outcome.as_str() {
        "appended" => Ok(success(false)),
        "duplicate" => Ok(success(true)),
        "conflict" => Err(Error::Conflict {
            stream,
            expected: request.expected,
            actual: version,
        }),
        "unknown_tenant" => Err(Error::UnknownTenant { tenant }),
        "command_reused" => Err(Error::CommandIdReused {
            command_id: request.metadata.command_id,
        }),
        "command_mismatch" => Err(Error::CommandMismatch {
            command_id: request.metadata.command_id,
        }),
        "version_overflow" => Err(Error::VersionOverflow {
            stream,
            version,
            adding: request.events.len(),
            max: MAX_VERSION,
        }),
        other => match other.strip_prefix("stream_type_mismatch:") {
            Some(existing) => Err(Error::StreamTypeMismatch {
                stream,
                existing: existing.to_owned(),
                given: request.stream_type.clone(),
            }),
            None => Err(Error::Corrupt {
                position: 0,
                reason: format!("append_events answered with unknown outcome {other:?}"),
            }),
        },
    }
}

/// Positions and versions are positive bigints in the database; a negative
/// one is named, never read as 0.
pub(crate) fn to_u64(value: i64) -> Result<u64, Error> {
    Ok(fit("stored position or version", value)?)
}
