//! What the credentials stream does to a user's row: the sign-in times,
//! failed logins and lock-outs (never a secret).

use super::{empty_user, stamp_user, State};
use crate::projection::ApplyError;
use crate::projections::credential_times::CredentialTimes;
use crate::projections::decode::{big, int};
use chrono::{DateTime, SubsecRound, Utc};
use deedlog_eventstore::RecordedEvent;
use deedlog_tenancy_domain::credentials::FAILURE_WINDOW;

impl State {
    /// Folds a credentials event into its user's row.
    pub(super) fn credentials_event(
        &mut self,
        recorded: &RecordedEvent,
        event: &CredentialTimes,
    ) -> Result<(), ApplyError> {
        let id = recorded.stream_id.as_uuid();
        let tenant_id = recorded.tenant_id.as_uuid();
        let at = recorded.occurred_at;
        let row = self
            .users
            .entry(id)
            .or_insert_with(|| empty_user(id, tenant_id, at));
        if row.tenant_id != tenant_id {
            return Err(ApplyError::event(
                recorded,
                "the credentials' tenant is not the user's tenant",
            ));
        }
        if row.last_position >= big::<i64>(recorded.position) {
            return Ok(()); // applied before
        }
        match event {
            CredentialTimes::PasswordSet {} => row.password_set_at = Some(at),
            CredentialTimes::LoginSucceeded { at: login } => {
                row.last_login_at = Some(micros(*login));
                row.failed_login_times.clear();
            }
            CredentialTimes::LoginFailed { at: failed } => {
                // As the credentials aggregate counts them towards a lock-out.
                let failed = micros(*failed);
                row.failed_login_times
                    .retain(|t| *t > failed - FAILURE_WINDOW);
                row.failed_login_times.push(failed);
                row.last_failed_login_at = Some(failed);
            }
            CredentialTimes::LockedOut { until } => {
                row.locked_until = Some(micros(*until));
                row.lockouts += 1;
                row.failed_login_times.clear();
            }
            CredentialTimes::AllRefreshTokensRevoked {} => row.tokens_revoked_at = Some(at),
            CredentialTimes::TokenChanged {} => {}
        }
        row.failed_logins = int("failed_logins", row.failed_login_times.len())
            .map_err(|e| ApplyError::event(recorded, e))?;
        stamp_user(row, recorded);
        Ok(())
    }
}

/// An instant from a payload (up to nanoseconds) cut to the microseconds
/// `timestamptz` keeps, so a value folded in memory equals one read back.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
