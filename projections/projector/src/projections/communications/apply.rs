//! One event applied to the contact, message and conversation rows.

use super::*;

pub(super) fn apply_one(
    works: &mut HashMap<Uuid, Working>,
    batch: &mut Batch,
    recorded: &RecordedEvent,
    event: &Event,
) -> Result<(), ApplyError> {
    let id = recorded.stream_id.as_uuid();
    let position = big(recorded.position);
    if let Event::ContactCreated { .. } = event {
        match works.get(&id) {
            // Applied before (a replayed dead letter that had gone through).
            Some(work) if work.row.last_position >= position => {}
            Some(_) => {
                return Err(ApplyError::event(recorded, "the contact already has a row"));
            }
            None => {
                works.insert(id, Working::created(recorded, event));
            }
        }
        return Ok(());
    }
    let missing = "no row for this contact (its creation was not applied)";
    let Some(work) = unapplied(works, recorded, missing, |w| w.row.last_position)? else {
        return Ok(());
    };
    work.state = evolve(std::mem::take(&mut work.state), event);
    let Some(contact) = work.state.0.as_ref() else {
        return Err(ApplyError::event(recorded, "the contact has no state"));
    };
    match event {
        Event::ContactUpdated { .. } => set_details(&mut work.row, contact),
        Event::MessageQueued {
            message_id,
            conversation_id,
            channel,
            subject,
            body,
            property,
            deal,
            at,
        } => {
            let mut message = new_message(recorded, *message_id, *conversation_id, *channel, *at);
            message.direction = "outbound".into();
            message.status = "queued".into();
            message.subject = subject.clone();
            message.body = Some(body.clone());
            message.property_id = *property;
            message.deal_id = *deal;
            add_message(batch, recorded, message)?;
            let conversation = conversation(batch, recorded, *conversation_id, *channel, *at);
            conversation.messages_out += 1;
            conversation.last_message_at = Some(*at);
            conversation.last_direction = Some("outbound".into());
            conversation.last_outbound_at = Some(*at);
            if property.is_some() {
                conversation.property_id = *property;
            }
            if deal.is_some() {
                conversation.deal_id = *deal;
            }
            work.row.messages_out += 1;
            work.row.last_message_at = Some(*at);
        }
        Event::MessageRefused {
            message_id,
            conversation_id,
            channel,
            reasons,
            at,
        } => {
            let mut message = new_message(recorded, *message_id, *conversation_id, *channel, *at);
            message.direction = "outbound".into();
            message.status = "refused".into();
            message.refusal_reasons =
                Some(serde_json::to_value(reasons).map_err(|e| ApplyError::event(recorded, e))?);
            message.refusal_codes = reasons.iter().map(|r| r.code().to_owned()).collect();
            add_message(batch, recorded, message)?;
            let conversation = conversation(batch, recorded, *conversation_id, *channel, *at);
            conversation.messages_refused += 1;
            conversation.last_refused_at = Some(*at);
            work.row.messages_refused += 1;
        }
        Event::MessageDelivered { message_id, at, .. } => {
            let message = report(batch, recorded, contact, *message_id)?;
            message.delivered_at.get_or_insert(*at);
        }
        Event::MessageOpened { message_id, at, .. } => {
            let message = report(batch, recorded, contact, *message_id)?;
            message.opened_at.get_or_insert(*at);
        }
        Event::MessageBounced {
            message_id,
            hard,
            detail,
            at,
            ..
        } => {
            let message = report(batch, recorded, contact, *message_id)?;
            message.bounced_at = Some(*at);
            message.bounce_hard = Some(*hard);
            message.bounce_detail = Some(detail.clone());
        }
        Event::ReplyReceived {
            message_id,
            in_reply_to,
            conversation_id,
            channel,
            body,
            provider_event_id,
            at,
        } => {
            let mut message = new_message(recorded, *message_id, *conversation_id, *channel, *at);
            message.direction = "inbound".into();
            message.status = "received".into();
            message.body = Some(body.clone());
            message.in_reply_to = *in_reply_to;
            message.provider_event_id = Some(provider_event_id.clone());
            add_message(batch, recorded, message)?;
            if let Some(original) = in_reply_to.and_then(|m| batch.messages.get_mut(&(id, m))) {
                if original.replied_at.is_none() {
                    original.replied_at = Some(*at);
                    original.last_position = position;
                    original.updated_at = recorded.occurred_at;
                }
            }
            let conversation = conversation(batch, recorded, *conversation_id, *channel, *at);
            conversation.messages_in += 1;
            conversation.last_message_at = Some(*at);
            conversation.last_direction = Some("inbound".into());
            conversation.last_inbound_at = Some(*at);
            work.row.messages_in += 1;
            work.row.last_message_at = Some(*at);
        }
        Event::ContactForgotten {} => {
            // The domain's state reads erased now (ADR 0035): so do the
            // contact's details, and after the batch its message texts.
            set_details(&mut work.row, contact);
            batch.forgotten.insert(id);
        }
        Event::ContactCreated { .. }
        | Event::HardBounceCleared { .. }
        | Event::ConsentGranted { .. }
        | Event::ConsentWithdrawn { .. }
        | Event::DoNotCallSet {}
        | Event::DoNotCallCleared {}
        | Event::Unsubscribed { .. }
        | Event::UnsubscribeCleared {}
        | Event::CadenceResumed {} => {}
    }
    work.sync(recorded, event);
    Ok(())
}

pub(super) fn set_details(row: &mut ContactRow, contact: &Contact) {
    row.name = contact.name.clone();
    row.email = contact.email.clone();
    row.phone = contact.phone.clone();
    let address = contact.address.as_ref();
    row.street = address.map(|a| a.street.clone());
    row.postal_code = address.map(|a| a.postal_code.clone());
    row.city = address.map(|a| a.city.clone());
    row.country = address.map(|a| a.country.clone());
}

pub(super) fn address_of(row: &ContactRow) -> Option<deedlog_communications_domain::PostalAddress> {
    Some(deedlog_communications_domain::PostalAddress {
        street: row.street.clone()?,
        postal_code: row.postal_code.clone()?,
        city: row.city.clone()?,
        country: row.country.clone()?,
    })
}
