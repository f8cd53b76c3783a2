//! Marking one's notifications read (ADR 0038): an append to the caller's
//! notification inbox stream, decided against the log's head as it is when
//! the command arrives.

use crate::TenancyApi;
use deedlog_kernel::{Decider, StreamId};
use deedlog_proto::common::v1::CommandReply;
use deedlog_proto::tenancy::v1 as pb;
use deedlog_service::convert::user;
use deedlog_service::{Answer, Error, Target};
use deedlog_tenancy_domain::inbox::{self, Inboxes, MarkRead};
use tonic::{Request, Response};

impl TenancyApi {
    /// Any active user marks their own inbox; the domain refuses another's
    /// and a position beyond the head.
    pub(crate) async fn mark_notifications_read(
        &self,
        request: Request<pb::MarkNotificationsReadRequest>,
    ) -> Answer<CommandReply> {
        let (auth, _, _) = self.admitted(&request).await?;
        let r = request.get_ref();
        let owner = user("user_id", &r.user_id)?;
        let head = self
            .reader
            .head_position()
            .await
            .map_err(|e| Error::internal("read the log's head", &e))?;
        let command = MarkRead {
            user: owner,
            caller: auth.caller.user,
            up_to: r.up_to,
            head,
        };
        let env = auth.command(r, r.command.as_ref())?;
        let target = Target {
            stream_id: StreamId::from_uuid(inbox::stream_of(owner)),
            stream_type: Inboxes::STREAM_TYPE,
        };
        let done = self
            .executor
            .execute::<Inboxes>(&env, target, |_| Ok(command))
            .await?;
        Ok(Response::new(done.reply()))
    }
}
