//! The rules of a contact's life and of every message to and from them.

use crate::command::{Action, Command};
use crate::compliance::Consent;
use crate::error::Error;
use crate::event::Event;
use crate::message::{self, MAX_REPLY_LEN};
use crate::model::{
    normalise_email, normalise_name, normalise_phone, normalise_source, Channel, LawfulBasis,
    PostalAddress,
};
use crate::refusal::refusal_reasons;
use crate::state::{Contact, State};

pub fn decide(state: &State, command: &Command) -> Result<Vec<Event>, Error> {
    let contact = match (&state.0, &command.action) {
        // Forgetting is for good: nothing more is decided about the person,
        // not even a new contact under the same id.
        (Some(contact), _) if contact.forgotten => return Err(Error::Forgotten),
        (Some(_), Action::Create { .. }) => return Err(Error::AlreadyExists),
        (
            None,
            Action::Create {
                name,
                email,
                phone,
                address,
            },
        ) => {
            let details = Details::check(name, email, phone, address)?;
            return Ok(vec![Event::ContactCreated {
                name: details.name,
                email: details.email,
                phone: details.phone,
                address: details.address,
            }]);
        }
        (None, _) => return Err(Error::NotFound),
        (Some(contact), _) => contact,
    };
    let unless = |unchanged: bool, event: Event| if unchanged { vec![] } else { vec![event] };
    let compliance = &contact.compliance;
    let at = command.at;
    Ok(match &command.action {
        Action::Create { .. } => return Err(Error::AlreadyExists),
        Action::Update {
            name,
            email,
            phone,
            address,
        } => update(contact, Details::check(name, email, phone, address)?),
        Action::GrantConsent {
            channel,
            lawful_basis,
            source,
        } => grant(contact, *channel, *lawful_basis, normalise_source(source)?),
        Action::WithdrawConsent { channel, source } => {
            let source = normalise_source(source)?;
            unless(
                !compliance.profile(*channel).consented(),
                Event::ConsentWithdrawn {
                    channel: *channel,
                    source,
                },
            )
        }
        Action::SetDoNotCall(true) => unless(compliance.do_not_call, Event::DoNotCallSet {}),
        Action::SetDoNotCall(false) => unless(!compliance.do_not_call, Event::DoNotCallCleared {}),
        Action::Unsubscribe { source } => {
            let source = normalise_source(source)?;
            unless(compliance.unsubscribed, Event::Unsubscribed { source })
        }
        Action::ResumeCadence => unless(contact.paused_since.is_none(), Event::CadenceResumed {}),
        Action::Forget => vec![Event::ContactForgotten {}],
        Action::SendMessage {
            message_id,
            conversation_id,
            channel,
            subject,
            body,
            property,
            deal,
            policy,
        } => {
            message::fresh_id(contact, *message_id)?;
            let subject = message::check_outgoing(contact, *channel, subject.as_deref(), body)?;
            policy.validate()?;
            let reasons = refusal_reasons(contact, *channel, at, policy);
            if reasons.is_empty() {
                vec![Event::MessageQueued {
                    message_id: *message_id,
                    conversation_id: *conversation_id,
                    channel: *channel,
                    subject,
                    body: body.clone(),
                    property: *property,
                    deal: *deal,
                    at,
                }]
            } else {
                vec![Event::MessageRefused {
                    message_id: *message_id,
                    conversation_id: *conversation_id,
                    channel: *channel,
                    reasons,
                    at,
                }]
            }
        }
        Action::RecordDelivery {
            message_id,
            status,
            provider_event_id,
        } => message::once_per_provider_event(contact, provider_event_id, |provider_event_id| {
            message::delivery_event(contact, *message_id, status, provider_event_id, at)
        })?,
        Action::RecordReply {
            message_id,
            in_reply_to,
            conversation_id,
            channel,
            body,
            provider_event_id,
        } => message::once_per_provider_event(contact, provider_event_id, |provider_event_id| {
            message::fresh_id(contact, *message_id)?;
            if let Some(original) = in_reply_to {
                message::check_thread(contact, *original, *conversation_id)?;
            }
            Ok(Event::ReplyReceived {
                message_id: *message_id,
                in_reply_to: *in_reply_to,
                conversation_id: *conversation_id,
                channel: *channel,
                body: message::cut(body, MAX_REPLY_LEN),
                provider_event_id,
                at,
            })
        })?,
    })
}

/// A contact's details, checked and normalised.
struct Details {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    address: Option<PostalAddress>,
}

impl Details {
    fn check(
        name: &str,
        email: &Option<String>,
        phone: &Option<String>,
        address: &Option<PostalAddress>,
    ) -> Result<Self, Error> {
        Ok(Self {
            name: normalise_name(name)?,
            email: email.as_deref().map(normalise_email).transpose()?,
            phone: phone.as_deref().map(normalise_phone).transpose()?,
            address: address
                .as_ref()
                .map(PostalAddress::normalised)
                .transpose()?,
        })
    }
}

/// Records new details; a channel whose address changed is deliverable again.
fn update(contact: &Contact, new: Details) -> Vec<Event> {
    let renewed = |old: &Option<_>, new: &Option<_>| new.is_some() && old != new;
    let email_renewed = renewed(&contact.email, &new.email);
    let phone_renewed = renewed(&contact.phone, &new.phone);
    let address_renewed = new.address.is_some() && contact.address != new.address;
    let unchanged = contact.name == new.name
        && contact.email == new.email
        && contact.phone == new.phone
        && contact.address == new.address;
    if unchanged {
        return vec![];
    }
    let cleared = Channel::ALL.into_iter().filter(|channel| {
        let renewed = match channel {
            Channel::Email => email_renewed,
            Channel::Sms | Channel::Call => phone_renewed,
            Channel::Letter => address_renewed,
        };
        renewed && contact.compliance.profile(*channel).hard_bounced
    });
    let mut events = vec![Event::ContactUpdated {
        name: new.name,
        email: new.email,
        phone: new.phone,
        address: new.address,
    }];
    events.extend(cleared.map(|channel| Event::HardBounceCleared { channel }));
    events
}

/// Records a consent; for email it is also the explicit new opt-in that
/// lifts an unsubscription.
fn grant(
    contact: &Contact,
    channel: Channel,
    lawful_basis: LawfulBasis,
    source: String,
) -> Vec<Event> {
    let compliance = &contact.compliance;
    let lifts_unsubscribe = channel == Channel::Email && compliance.unsubscribed;
    let unchanged = matches!(
        compliance.profile(channel).consent.as_ref(),
        Some(Consent::Granted { lawful_basis: basis, source: from })
            if *basis == lawful_basis && *from == source
    );
    if unchanged && !lifts_unsubscribe {
        return vec![];
    }
    let mut events = vec![Event::ConsentGranted {
        channel,
        lawful_basis,
        source,
    }];
    if lifts_unsubscribe {
        events.push(Event::UnsubscribeCleared {});
    }
    events
}
