//! Mutations of the communications context, one per command.

use super::command::{call, id_or_empty, result, rpc, send, CommandInput, CommandResult};
use crate::schema::enums::{Channel, DeliveryStatus, LawfulBasis};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use deedlog_proto::communications::v1 as pb;
use uuid::Uuid;

#[derive(Debug, InputObject)]
pub struct PostalAddressInput {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, e.g. DE, in any letter case: stored upper-case
    /// (" de " is stored DE); a name (Deutschland) or a code no country has
    /// (XX) is refused with BAD_USER_INPUT.
    pub country: String,
}

impl From<PostalAddressInput> for pb::PostalAddress {
    fn from(a: PostalAddressInput) -> Self {
        pb::PostalAddress {
            street: a.street,
            postal_code: a.postal_code,
            city: a.city,
            country: a.country,
        }
    }
}

/// A contact's name and how to reach them; absent email, phone or address
/// mean none.
#[derive(Debug, InputObject)]
pub struct ContactDetailsInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<PostalAddressInput>,
}

impl From<ContactDetailsInput> for pb::ContactDetails {
    fn from(d: ContactDetailsInput) -> Self {
        pb::ContactDetails {
            name: d.name,
            email: d.email.unwrap_or_default(),
            phone: d.phone.unwrap_or_default(),
            address: d.address.map(Into::into),
        }
    }
}

#[derive(Debug, InputObject)]
pub struct SendMessageInput {
    pub contact_id: Uuid,
    /// The message's id; derived from the idempotency key when absent.
    pub message_id: Option<Uuid>,
    /// The conversation the message belongs to; a new one when absent.
    pub conversation_id: Option<Uuid>,
    pub channel: Channel,
    pub subject: Option<String>,
    pub body: String,
    pub property_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
}

/// What a provider reported about a sent message.
#[derive(Debug, InputObject)]
pub struct RecordDeliveryInput {
    pub contact_id: Uuid,
    pub message_id: Uuid,
    pub status: DeliveryStatus,
    /// Kept for bounces.
    pub detail: Option<String>,
    /// The provider's id of this report; a repeated one changes nothing.
    pub provider_event_id: String,
}

#[derive(Debug, InputObject)]
pub struct RecordReplyInput {
    pub contact_id: Uuid,
    /// The inbound message's id; derived from the idempotency key when absent.
    pub message_id: Option<Uuid>,
    /// The message this one answers.
    pub in_reply_to: Option<Uuid>,
    /// Defaults to the conversation of `inReplyTo`, else a new one.
    pub conversation_id: Option<Uuid>,
    pub channel: Channel,
    pub body: String,
    /// The provider's id of the reply (any id unique to it when recorded by
    /// hand); a repeated one changes nothing.
    pub provider_event_id: String,
}

/// A message queued for the provider.
#[derive(Debug, SimpleObject)]
pub struct SentMessage {
    pub result: CommandResult,
    pub message_id: String,
    pub conversation_id: String,
}

#[derive(Debug, Default)]
pub struct CommunicationsMutation;

#[Object]
impl CommunicationsMutation {
    /// Creates a contact.
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Option<Uuid>,
        details: ContactDetailsInput,
    ) -> Result<CommandResult> {
        let body = pb::CreateContactRequest {
            command: command.options()?,
            contact_id: id_or_empty(contact_id),
            details: Some(details.into()),
        };
        send(ctx, body, rpc!(communications.create_contact)).await
    }

    /// Replaces a contact's details.
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Uuid,
        details: ContactDetailsInput,
    ) -> Result<CommandResult> {
        let body = pb::UpdateContactRequest {
            command: command.options()?,
            contact_id: contact_id.to_string(),
            details: Some(details.into()),
        };
        send(ctx, body, rpc!(communications.update_contact)).await
    }

    /// Records a contact's consent to be messaged on a channel, with its
    /// lawful basis and where it was given (e.g. "web form").
    async fn grant_consent(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Uuid,
        channel: Channel,
        lawful_basis: LawfulBasis,
        source: String,
    ) -> Result<CommandResult> {
        let body = pb::GrantConsentRequest {
            command: command.options()?,
            contact_id: contact_id.to_string(),
            channel: pb::Channel::from(channel).into(),
            lawful_basis: pb::LawfulBasis::from(lawful_basis).into(),
            source,
        };
        send(ctx, body, rpc!(communications.grant_consent)).await
    }

    /// Records that a contact withdrew their consent for a channel.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Uuid,
        channel: Channel,
        source: String,
    ) -> Result<CommandResult> {
        let body = pb::WithdrawConsentRequest {
            command: command.options()?,
            contact_id: contact_id.to_string(),
            channel: pb::Channel::from(channel).into(),
            source,
        };
        send(ctx, body, rpc!(communications.withdraw_consent)).await
    }

    /// Puts a contact on the do-not-call list (calls and sms), or takes them
    /// off it.
    async fn set_do_not_call(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Uuid,
        do_not_call: bool,
    ) -> Result<CommandResult> {
        let body = pb::SetDoNotCallRequest {
            command: command.options()?,
            contact_id: contact_id.to_string(),
            do_not_call,
        };
        send(ctx, body, rpc!(communications.set_do_not_call)).await
    }

    /// Unsubscribes a contact from email.
    async fn unsubscribe(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Uuid,
        source: String,
    ) -> Result<CommandResult> {
        let body = pb::UnsubscribeRequest {
            command: command.options()?,
            contact_id: contact_id.to_string(),
            source,
        };
        send(ctx, body, rpc!(communications.unsubscribe)).await
    }

    /// Queues a message for the provider. A refusal is recorded too and
    /// fails with RULE_REFUSED naming every reason; `extensions.reason` is
    /// MESSAGE_REFUSED and `extensions.details` holds the reason codes, the
    /// message id and the refusal's log position (docs/errors.md).
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        input: SendMessageInput,
    ) -> Result<SentMessage> {
        let body = pb::SendMessageRequest {
            command: command.options()?,
            contact_id: input.contact_id.to_string(),
            message_id: id_or_empty(input.message_id),
            conversation_id: id_or_empty(input.conversation_id),
            channel: pb::Channel::from(input.channel).into(),
            subject: input.subject.unwrap_or_default(),
            body: input.body,
            property_id: id_or_empty(input.property_id),
            deal_id: id_or_empty(input.deal_id),
        };
        let sent = call(ctx, body, rpc!(communications.send_message)).await?;
        Ok(SentMessage {
            result: result(sent.reply)?,
            message_id: sent.message_id,
            conversation_id: sent.conversation_id,
        })
    }

    /// Records what became of a sent message; provider webhooks do this too.
    async fn record_delivery(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        input: RecordDeliveryInput,
    ) -> Result<CommandResult> {
        let body = pb::RecordDeliveryRequest {
            command: command.options()?,
            contact_id: input.contact_id.to_string(),
            message_id: input.message_id.to_string(),
            status: pb::DeliveryStatus::from(input.status).into(),
            detail: input.detail.unwrap_or_default(),
            provider_event_id: input.provider_event_id,
        };
        send(ctx, body, rpc!(communications.record_delivery)).await
    }

    /// Records a contact's reply, e.g. one an agent took by phone; provider
    /// webhooks do this too.
    async fn record_reply(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        input: RecordReplyInput,
    ) -> Result<CommandResult> {
        let body = pb::RecordReplyRequest {
            command: command.options()?,
            contact_id: input.contact_id.to_string(),
            message_id: id_or_empty(input.message_id),
            in_reply_to: id_or_empty(input.in_reply_to),
            conversation_id: id_or_empty(input.conversation_id),
            channel: pb::Channel::from(input.channel).into(),
            body: input.body,
            provider_event_id: input.provider_event_id,
        };
        send(ctx, body, rpc!(communications.record_reply)).await
    }

    /// Lets messages to a contact go out again after a reply paused the cadence.
    async fn resume_cadence(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::ResumeCadenceRequest {
            command: command.options()?,
            contact_id: contact_id.to_string(),
        };
        send(ctx, body, rpc!(communications.resume_cadence)).await
    }

    /// Forgets a contact (right to erasure; admins and managers): their
    /// name, email, phone, address and message texts read "[erased]" from
    /// then on, and the contact takes no more commands (`CONTACT_FORGOTTEN`).
    async fn forget_contact(
        &self,
        ctx: &Context<'_>,
        command: CommandInput,
        contact_id: Uuid,
    ) -> Result<CommandResult> {
        let body = pb::ForgetContactRequest {
            command: command.options()?,
            contact_id: contact_id.to_string(),
        };
        send(ctx, body, rpc!(communications.forget_contact)).await
    }
}
