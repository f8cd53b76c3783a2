//! Registration, login, refresh, logout and accepting an invitation: the
//! calls made without an access token.

mod join;
mod sign_in;

use crate::{credentials_target, step, TenancyApi};
use deedlog_kernel::UserId;
use deedlog_proto::common::v1::CommandReply;
use deedlog_service::{CommandEnvelope, Error, Executed, Part};
use deedlog_tenancy_domain::credentials::{self, Credentials};

impl TenancyApi {
    /// The password step of a command that sets one with other changes.
    async fn prepare_password(
        &self,
        env: &CommandEnvelope,
        user: UserId,
        hash: &str,
    ) -> Result<Part, Error> {
        let set = credentials::Action::SetPassword {
            hash: hash.to_owned(),
        };
        self.executor
            .prepare::<Credentials>(&step(env, "password"), credentials_target(user), |_| {
                Ok(set)
            })
            .await
    }
}

/// The request as fingerprinted: without its password, whose fast digest
/// in the command record could be brute-forced. A repeat with another
/// password is then answered with the first outcome, and changes nothing.
/// Likewise an invitation token is replaced by the user it names.
fn without_password<R: Clone>(request: &R, password: impl Fn(&mut R) -> &mut String) -> R {
    let mut request = request.clone();
    password(&mut request).clear();
    request
}

/// The reply to a command that changed several records: the record at
/// `main`, and the last position written by any of them.
pub(crate) fn together_reply(done: &[Executed<()>], main: usize) -> CommandReply {
    let mut reply = done[main].reply();
    reply.position = done.iter().map(|d| d.position).max().unwrap_or(0);
    reply.duplicate = done.iter().all(|d| d.duplicate);
    reply
}
