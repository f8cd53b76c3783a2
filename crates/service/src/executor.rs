//! Load → decide → append: the one path every command takes. Commands on
//! one record queue within an instance ([`RecordLocks`]); a command that
//! loses a race to another instance is re-decided on the new state a
//! bounded number of times, after a jittered pause (only when its caller
//! did not pin a version); a repeated command id returns its first outcome.

use crate::cache::StateCache;
use crate::error::Error;
use crate::record_lock::RecordLocks;
use crate::request::CommandEnvelope;
use deedlog_eventstore::{
    AppendOutcome, AppendRequest, EventStore, ExpectedVersion, NewEvent, RecordedEvent,
    StreamQuery, Until,
};
use deedlog_kernel::number::fit;
use deedlog_kernel::{codec, Decider, DomainEvent, Refusal, RefusalKind, StreamId};
use deedlog_proto::common::v1::CommandReply;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// The record a command is about.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub stream_id: StreamId,
    /// The kind of record, e.g. `property`.
    pub stream_type: &'static str,
}

/// What a carried-out command did.
#[derive(Debug)]
pub struct Executed<E> {
    pub stream_id: StreamId,
    pub version: u64,
    /// The last position written; 0 when nothing was.
    pub position: u64,
    pub duplicate: bool,
    /// The events the command appended (for a duplicate: the first time; empty for a no-op).
    pub events: Vec<E>,
}

impl<E> Executed<E> {
    pub fn reply(&self) -> CommandReply {
        CommandReply {
            record_id: self.stream_id.to_string(),
            version: self.version,
            position: self.position,
            duplicate: self.duplicate,
        }
    }
}

/// Runs commands against the log.
#[derive(Debug, Clone)]
pub struct Executor {
    store: EventStore,
    cache: Arc<StateCache>,
    locks: Arc<RecordLocks>,
    /// Attempts after the first, when a command loses a race.
    conflict_retries: u32,
}

impl Executor {
    /// An executor that remembers up to `cache_capacity` records' states (0: none).
    pub fn new(store: EventStore, conflict_retries: u32, cache_capacity: usize) -> Self {
        Self {
            store,
            cache: Arc::new(StateCache::new(cache_capacity)),
            locks: Arc::default(),
            conflict_retries,
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Attempts after the first, when a command loses a race.
    pub fn conflict_retries(&self) -> u32 {
        self.conflict_retries
    }

    /// Drops a record's cached state (it changed outside `execute`).
    pub(crate) fn forget(&self, tenant: deedlog_kernel::TenantId, stream: StreamId) {
        self.cache.forget(tenant, stream);
    }

    /// Loads the record's state and version.
    pub async fn load<D>(
        &self,
        tenant: deedlog_kernel::TenantId,
        target: Target,
    ) -> Result<(D::State, u64), Error>
    where
        D: Decider,
        D::Event: DeserializeOwned,
    {
        let (events, version) = self
            .read::<D::Event>(tenant, target, StreamQuery::ALL)
            .await?;
        Ok((events.iter().fold(D::State::default(), D::evolve), version))
    }

    /// Reads and decodes part of a stream; returns the events and the last version read.
    async fn read<E: DeserializeOwned>(
        &self,
        tenant: deedlog_kernel::TenantId,
        target: Target,
        query: StreamQuery,
    ) -> Result<(Vec<E>, u64), Error> {
        let recorded = self
            .store
            .read_stream(tenant, target.stream_id, query)
            .await?;
        let version = recorded.last().map_or(0, |e| e.version);
        let events = recorded
            .iter()
            .map(decode)
            .collect::<Result<Vec<E>, Error>>()?;
        Ok((events, version))
    }

    /// Decides `command` (built from the current state) and appends its events.
    #[tracing::instrument(skip_all, fields(stream.id = %target.stream_id, stream.type = target.stream_type, command.id = %envelope.metadata.command_id))]
    pub async fn execute<D>(
        &self,
        envelope: &CommandEnvelope,
        target: Target,
        command: impl Fn(&D::State) -> Result<D::Command, Error>,
    ) -> Result<Executed<D::Event>, Error>
    where
        D: Decider,
        D::State: Clone + Send + Sync + 'static,
        D::Event: Serialize + DeserializeOwned + DomainEvent,
        D::Error: Refusal,
    {
        let tenant = envelope.metadata.tenant_id;
        let stream = target.stream_id;
        let _turn = self.locks.lock(tenant, stream).await;
        let mut attempt = 0;
        loop {
            // A cached state is a guess the append verifies; anything else
            // it would answer (a refusal, a no-op, a version mismatch) is
            // checked again on a fresh read first.
            let (state, version, fresh) = match self.cache.get::<D::State>(tenant, stream) {
                Some((state, version)) => (state, version, false),
                None => {
                    let (state, version) = self.load::<D>(tenant, target).await?;
                    (state, version, true)
                }
            };
            if let Some(expected) = envelope.expected_version {
                if expected != version {
                    if !fresh {
                        self.cache.forget(tenant, stream);
                        continue;
                    }
                    return match self.first_outcome(envelope, target).await? {
                        Some(done) => Ok(done),
                        None => Err(conflict(target, expected, version)),
                    };
                }
            }
            let decided =
                command(&state).and_then(|c| D::decide(&state, &c).map_err(|e| refusal(&e)));
            let events = match decided {
                Ok(events) if !events.is_empty() => events,
                _ if !fresh => {
                    self.cache.forget(tenant, stream);
                    continue;
                }
                // A refusal or a no-op may be the repeat of a command that
                // already changed the record: answer with what it did then.
                other => {
                    self.cache.put(tenant, stream, state, version);
                    if let Some(done) = self.first_outcome(envelope, target).await? {
                        return Ok(done);
                    }
                    let events = other?;
                    return Ok(Executed {
                        stream_id: stream,
                        version,
                        position: 0,
                        duplicate: false,
                        events,
                    });
                }
            };
            let request = append_request(&self.store, envelope, target, version, &events).await?;
            let started = std::time::Instant::now();
            let appended = self.store.append(&request).await;
            crate::metrics::observe_append(
                target.stream_type,
                match &appended {
                    Ok(outcome) if outcome.duplicate => "duplicate",
                    Ok(_) => "appended",
                    Err(deedlog_eventstore::Error::Conflict { .. }) => "conflict",
                    Err(_) => "failed",
                },
                started.elapsed(),
            );
            match appended {
                Ok(outcome) if outcome.duplicate => {
                    self.cache.forget(tenant, stream);
                    let first = self.first_outcome(envelope, target).await?;
                    return first.ok_or_else(|| {
                        Error::internal("find a repeated command", &envelope.metadata.command_id)
                    });
                }
                Ok(outcome) => {
                    let after = events.iter().fold(state, D::evolve);
                    self.cache
                        .put(tenant, stream, after, outcome.stream_version);
                    return Ok(executed(target, outcome, events));
                }
                Err(deedlog_eventstore::Error::Conflict { .. }) if !fresh => {
                    self.cache.forget(tenant, stream);
                }
                Err(deedlog_eventstore::Error::Conflict { actual, .. })
                    if envelope.expected_version.is_none() && attempt < self.conflict_retries =>
                {
                    attempt += 1;
                    crate::metrics::count_retry();
                    tracing::debug!(attempt, actual, "command lost a race; deciding again");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(error) => {
                    self.cache.forget(tenant, stream);
                    return Err(error.into());
                }
            }
        }
    }

    /// What this command id did before, if it was handled already, with the
    /// events it appended then (so a repeated refusal is answered as one).
    pub(crate) async fn first_outcome<E: DeserializeOwned>(
        &self,
        envelope: &CommandEnvelope,
        target: Target,
    ) -> Result<Option<Executed<E>>, Error> {
        let found = self
            .store
            .find_command(envelope.metadata.tenant_id, envelope.metadata.command_id)
            .await?;
        match found {
            None => Ok(None),
            Some(done) if mismatched(envelope, done.fingerprint.as_deref()) => {
                Err(Error::from(deedlog_eventstore::Error::CommandMismatch {
                    command_id: envelope.metadata.command_id,
                }))
            }
            Some(done) if done.stream_id == target.stream_id => {
                let last = done.outcome.stream_version;
                let count: u64 = fit(
                    "count of the command's events",
                    done.outcome.positions.len(),
                )
                .map_err(deedlog_eventstore::Error::from)?;
                let query = StreamQuery {
                    from_version: last.saturating_sub(count) + 1,
                    until: Until::Version(last),
                };
                let (events, _) = self
                    .read::<E>(envelope.metadata.tenant_id, target, query)
                    .await?;
                let mut first = executed(target, done.outcome, Vec::new());
                first.events = events;
                Ok(Some(first))
            }
            Some(_) => Err(Error::invalid(
                "command.command_id",
                "this command id was already used for another record; use a new id per command",
            )),
        }
    }
}

/// Whether a recorded command's fingerprint tells that `envelope` is another request.
fn mismatched(envelope: &CommandEnvelope, recorded: Option<&[u8]>) -> bool {
    matches!((envelope.fingerprint, recorded), (Some(now), Some(then)) if now[..] != *then)
}

/// The domain event a stored event holds.
pub(crate) fn decode<E: DeserializeOwned>(event: &RecordedEvent) -> Result<E, Error> {
    codec::decode(&event.event_type, &event.payload)
        .map_err(|e| Error::internal("decode a stored event", &e))
}

pub(crate) fn executed<E>(target: Target, outcome: AppendOutcome, events: Vec<E>) -> Executed<E> {
    Executed {
        stream_id: target.stream_id,
        version: outcome.stream_version,
        position: outcome.last_position(),
        duplicate: outcome.duplicate,
        events: if outcome.duplicate {
            Vec::new()
        } else {
            events
        },
    }
}

/// A random pause of up to 5 ms × 2^attempt (at most 320 ms), so that
/// instances racing for one record stop meeting at the same instant.
pub(crate) fn backoff(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let ceiling_us = 5_000u64 << attempt.min(6);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    std::time::Duration::from_micros(random % ceiling_us)
}

fn conflict(target: Target, expected: u64, actual: u64) -> Error {
    let message = format!(
        "{} {} is at version {actual}, not the expected version {expected}; reload it and decide again",
        target.stream_type, target.stream_id
    );
    Error::conflict(message, target.stream_id, expected, actual)
}

/// The append of `events` decided on `target` at `version`, their personal
/// fields sealed by the store's keyring (ADR 0035).
pub(crate) async fn append_request<E: Serialize + DomainEvent>(
    store: &EventStore,
    envelope: &CommandEnvelope,
    target: Target,
    version: u64,
    events: &[E],
) -> Result<AppendRequest, Error> {
    Ok(AppendRequest {
        stream_id: target.stream_id,
        stream_type: target.stream_type.to_owned(),
        expected: if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        },
        metadata: envelope.metadata.clone(),
        events: encode(store, envelope, target, events).await?,
        fingerprint: envelope.fingerprint,
    })
}

/// Encodes and seals: no event reaches the log without passing the keyring,
/// so a store without one appends nothing (personal data never goes in clear).
async fn encode<E: Serialize + DomainEvent>(
    store: &EventStore,
    envelope: &CommandEnvelope,
    target: Target,
    events: &[E],
) -> Result<Vec<NewEvent>, Error> {
    let keyring = store
        .keyring()
        .ok_or_else(|| Error::internal("seal personal data", &"the event store has no keyring"))?;
    let tenant = envelope.metadata.tenant_id.as_uuid();
    let mut encoded = Vec::with_capacity(events.len());
    for event in events {
        let (event_type, mut payload) =
            codec::encode(event).map_err(|e| Error::internal("encode an event", &e))?;
        keyring
            .seal(tenant, target.stream_id.as_uuid(), event_type, &mut payload)
            .await
            .map_err(|e| Error::internal("seal personal data", &e))?;
        encoded.push(
            NewEvent::new(event_type, event.schema_version(), &payload)
                .map_err(|e| Error::internal("encode an event", &e))?,
        );
    }
    Ok(encoded)
}

/// The service error for a domain refusal.
pub fn refusal(error: &impl Refusal) -> Error {
    match error.kind() {
        RefusalKind::InvalidArgument { field, reason } => Error::InvalidArgument { field, reason },
        RefusalKind::NotFound => Error::NotFound(error.to_string()),
        RefusalKind::Refused(reason) => Error::refused(reason, error.to_string()),
    }
}
