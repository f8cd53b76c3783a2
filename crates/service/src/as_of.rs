//! A record's state as of an instant, for auditors: the `GetAsOf` RPC that
//! every command service answers for its own records.
//!
//! The state is rebuilt the way a command sees it: the record's events up
//! to the instant, read under the caller's tenant (the log's `read_stream`
//! binds it, so row-level security hides every other tenant's events),
//! folded with the domain's own `evolve`, then serialised as JSON. The
//! instant is compared with the time the log recorded each event, the one
//! clock every event has from the same source.
//!
//! Reading audit history is no command: a suspended tenant, or one with the
//! context's module off, is still read (its admins and auditors must be able
//! to see what happened). The caller comes admitted, with their current
//! role ([`crate::Directory::admit`]): a token's role claim decides nothing.

use crate::error::Error;
use crate::executor::{decode, Executor};
use crate::request::{required_uuid, Authenticated};
use chrono::{DateTime, Utc};
use deedlog_eventstore::StreamQuery;
use deedlog_kernel::{Decider, StreamId};
use deedlog_proto::common::v1::{AsOfRequest, RecordState};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Answers `GetAsOf` for records whose rules are `D`, for
/// an admitted caller: admins and auditors only; a record the caller's tenant did not have at
/// the instant (unknown, not yet created, of another kind or of another
/// tenant) is NOT_FOUND, with one message for all, so nothing leaks.
#[tracing::instrument(skip_all, fields(stream.type = D::STREAM_TYPE))]
pub async fn state_as_of<D>(
    executor: &Executor,
    auth: &Authenticated,
    body: &AsOfRequest,
) -> Result<RecordState, Error>
where
    D: Decider,
    D::Event: DeserializeOwned,
    D::State: Serialize,
{
    let caller = auth.caller;
    if !caller.role.may_read_audit() {
        return Err(Error::PermissionDenied(format!(
            "only admins and auditors may read the audit history, and the caller is {}",
            caller.role.with_article()
        )));
    }
    let record = required_uuid("record_id", &body.record_id)?;
    let at = match body.at_unix_micros {
        Some(micros) => DateTime::from_timestamp_micros(micros).ok_or_else(|| {
            Error::invalid(
                "at_unix_micros",
                format!("{micros} is not an instant (microseconds since the Unix epoch)"),
            )
        })?,
        None => Utc::now(),
    };
    let stream_type = D::STREAM_TYPE;
    let events = executor
        .store()
        .read_stream(
            caller.tenant,
            StreamId::from_uuid(record),
            StreamQuery::as_of(at),
        )
        .await?;
    let not_found = || {
        Error::NotFound(format!(
            "this tenant had no {stream_type} {record} at {}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        ))
    };
    let Some(last) = events.last() else {
        return Err(not_found());
    };
    if last.stream_type != stream_type {
        return Err(not_found());
    }
    let state = events
        .iter()
        .try_fold(D::State::default(), |state, event| {
            decode::<D::Event>(event).map(|event| D::evolve(state, &event))
        })?;
    let state_json =
        serde_json::to_string(&state).map_err(|e| Error::internal("serialise a state", &e))?;
    Ok(RecordState {
        record_id: record.to_string(),
        record_type: stream_type.to_owned(),
        version: last.version,
        position: last.position,
        at_unix_micros: at.timestamp_micros(),
        state_json,
        recorded_at_unix_micros: last.recorded_at.timestamp_micros(),
    })
}
