//! Looking up a command id already handled, so a service can answer a
//! repeated command with its first outcome even when re-deciding it on
//! today's state would refuse it (e.g. "already exists").

use crate::append::{to_u64, AppendOutcome};
use crate::error::Error;
use crate::store::EventStore;
use chrono::{DateTime, Utc};
use deedlog_kernel::{CommandId, StreamId, TenantId};

/// A command the log has recorded, and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledCommand {
    pub stream_id: StreamId,
    pub outcome: AppendOutcome,
    /// The digest of the request recorded with it (none before fingerprints).
    pub fingerprint: Option<Vec<u8>>,
}

impl EventStore {
    /// The first outcome of `command_id` in `tenant`, if it was appended before.
    pub async fn find_command(
        &self,
        tenant: TenantId,
        command_id: CommandId,
    ) -> Result<Option<HandledCommand>, Error> {
        let mut tx = self.begin_for_tenant(tenant).await?;
        type Row = (uuid::Uuid, i64, Vec<i64>, DateTime<Utc>, Option<Vec<u8>>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT stream_id, stream_version, positions, recorded_at, fingerprint \
             FROM commands WHERE command_id = $1",
        )
        .bind(command_id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::db("look up a command"))?;
        tx.commit().await.map_err(Error::db("look up a command"))?;
        row.map(|(stream, version, positions, recorded_at, fingerprint)| {
            Ok(HandledCommand {
                stream_id: StreamId::from_uuid(stream),
                outcome: AppendOutcome {
                    stream_version: to_u64(version)?,
                    positions: positions
                        .into_iter()
                        .map(to_u64)
                        .collect::<Result<_, _>>()?,
                    recorded_at,
                    duplicate: true,
                },
                fingerprint,
            })
        })
        .transpose()
    }
}
