//! The gRPC methods of the communications service, each a short
//! description of its command over the shared path in the crate root.

use crate::{convert, refused, CommunicationsApi};
use deedlog_communications_domain::{Action, State};
use deedlog_kernel::Role;
use deedlog_proto::common::v1::{AsOfRequest, CommandReply, RecordState};
use deedlog_proto::communications::v1 as pb;
use deedlog_proto::communications::v1::communications_service_server::CommunicationsService;
use deedlog_service::reference::{self, DEAL, PROPERTY};
use deedlog_service::request::{new_record_id, optional_uuid, required_uuid};
use deedlog_service::{Answer, Paths};
use tonic::{Request, Response};
use uuid::Uuid;

/// Contact details are the request's `details`: the domain's `name` is `details.name`.
const DETAILS: Paths = Paths(&[
    ("name", "details.name"),
    ("email", "details.email"),
    ("phone", "details.phone"),
    ("address", "details.address"),
]);

/// The conversation of the message `in_reply_to`, when the contact has it.
fn conversation_of(state: &State, in_reply_to: Option<Uuid>) -> Option<Uuid> {
    let contact = state.0.as_ref()?;
    contact
        .messages
        .get(&in_reply_to?)
        .map(|m| m.conversation_id)
}

#[tonic::async_trait]
impl CommunicationsService for CommunicationsApi {
    async fn get_as_of(&self, request: Request<AsOfRequest>) -> Answer<RecordState> {
        self.ctx.as_of(request).await
    }

    async fn create_contact(
        &self,
        request: Request<pb::CreateContactRequest>,
    ) -> Answer<CommandReply> {
        let auth = self.ctx.admit_writer(&request).await?;
        let r = request.get_ref();
        let envelope = auth.command(r, r.command.as_ref())?;
        let contact = new_record_id("contact_id", &r.contact_id, &envelope)?;
        let action = convert::details(r.details.as_ref(), |name, email, phone, address| {
            Action::Create {
                name,
                email,
                phone,
                address,
            }
        })
        .map_err(|e| DETAILS.rename(e))?;
        self.ctx
            .run_fixed(&envelope, contact, DETAILS, action)
            .await
    }

    async fn update_contact(
        &self,
        request: Request<pb::UpdateContactRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change_named(request, DETAILS, |r| {
                convert::details(r.details.as_ref(), |name, email, phone, address| {
                    Action::Update {
                        name,
                        email,
                        phone,
                        address,
                    }
                })
            })
            .await
    }

    async fn grant_consent(
        &self,
        request: Request<pb::GrantConsentRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::GrantConsent {
                    channel: convert::channel(r.channel())?,
                    lawful_basis: convert::lawful_basis(r.lawful_basis())?,
                    source: r.source.clone(),
                })
            })
            .await
    }

    async fn withdraw_consent(
        &self,
        request: Request<pb::WithdrawConsentRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::WithdrawConsent {
                    channel: convert::channel(r.channel())?,
                    source: r.source.clone(),
                })
            })
            .await
    }

    async fn set_do_not_call(
        &self,
        request: Request<pb::SetDoNotCallRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| Ok(Action::SetDoNotCall(r.do_not_call)))
            .await
    }

    async fn unsubscribe(&self, request: Request<pb::UnsubscribeRequest>) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::Unsubscribe {
                    source: r.source.clone(),
                })
            })
            .await
    }

    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Answer<pb::SendMessageReply> {
        let opened = self.open(&request).await?;
        let r = request.get_ref();
        // The command id by default, so a retried command names the same message.
        let message_id = new_record_id("message_id", &r.message_id, &opened.envelope)?;
        let conversation_id =
            optional_uuid("conversation_id", &r.conversation_id)?.unwrap_or(message_id);
        let action = Action::SendMessage {
            message_id,
            conversation_id,
            channel: convert::channel(r.channel())?,
            subject: convert::optional_text(&r.subject),
            body: r.body.clone(),
            property: optional_uuid("property_id", &r.property_id)?,
            deal: optional_uuid("deal_id", &r.deal_id)?,
            policy: opened.policy,
        };
        if let Action::SendMessage { property, deal, .. } = &action {
            let tenant = opened.envelope.metadata.tenant_id;
            let executor = &self.ctx.executor;
            reference::require_optional(executor, tenant, "property_id", PROPERTY, *property)
                .await?;
            reference::require_optional(executor, tenant, "deal_id", DEAL, *deal).await?;
        }
        let executed = self
            .ctx
            .execute(
                &opened.envelope,
                opened.contact,
                move |_| Ok(action.clone()),
            )
            .await?;
        // The refusal is on record by now; the caller still hears it as one.
        if let Some(error) = refused(&executed) {
            return Err(error.into());
        }
        Ok(Response::new(pb::SendMessageReply {
            reply: Some(executed.reply()),
            message_id: message_id.to_string(),
            conversation_id: conversation_id.to_string(),
        }))
    }

    async fn record_delivery(
        &self,
        request: Request<pb::RecordDeliveryRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |r| {
                Ok(Action::RecordDelivery {
                    message_id: required_uuid("message_id", &r.message_id)?,
                    status: convert::delivery_status(r.status(), &r.detail)?,
                    provider_event_id: convert::provider_event_id(&r.provider_event_id)?,
                })
            })
            .await
    }

    async fn record_reply(&self, request: Request<pb::RecordReplyRequest>) -> Answer<CommandReply> {
        let opened = self.open(&request).await?;
        let r = request.get_ref();
        let message_id = new_record_id("message_id", &r.message_id, &opened.envelope)?;
        let in_reply_to = optional_uuid("in_reply_to", &r.in_reply_to)?;
        let conversation = optional_uuid("conversation_id", &r.conversation_id)?;
        let channel = convert::channel(r.channel())?;
        let provider_event_id = convert::provider_event_id(&r.provider_event_id)?;
        self.ctx
            .run(&opened.envelope, opened.contact, |state| {
                // Without a conversation, the reply joins that of the message it
                // answers, or else starts its own.
                let conversation_id = conversation
                    .or_else(|| conversation_of(state, in_reply_to))
                    .unwrap_or(message_id);
                Ok(Action::RecordReply {
                    message_id,
                    in_reply_to,
                    conversation_id,
                    channel,
                    body: r.body.clone(),
                    provider_event_id: provider_event_id.clone(),
                })
            })
            .await
    }

    async fn resume_cadence(
        &self,
        request: Request<pb::ResumeCadenceRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change(request, |_| Ok(Action::ResumeCadence))
            .await
    }

    async fn forget_contact(
        &self,
        request: Request<pb::ForgetContactRequest>,
    ) -> Answer<CommandReply> {
        self.ctx
            .change_as(
                Role::manages_all_records,
                "forget contacts",
                request,
                |_| Ok(Action::Forget),
            )
            .await
    }
}
