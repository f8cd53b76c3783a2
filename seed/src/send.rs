//! Sends one planned step as its gRPC request, as the step's user, retrying
//! what is worth retrying: the same command id makes a retry safe (a
//! repeated id is answered with its first outcome).

use super::plan::{Action, Address, Attributes, Channel, Delivery, Expect, Source, Step};
use super::session::Session;
use chrono::NaiveDate;
use deedlog_client::{Caller, Clients};
use deedlog_deals::convert::stage_to_proto;
use deedlog_properties::convert::{kind_to_proto, status_to_proto};
use deedlog_proto::common::v1::{CommandOptions, CommandReply, Date, Money};
use deedlog_proto::communications::v1 as comms;
use deedlog_proto::deals::v1 as deals;
use deedlog_proto::properties::v1 as props;
use std::future::Future;
use std::time::Duration;
use tonic::{Code, Request, Response, Status};

/// What a step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The command id had been handled before: nothing was appended.
    pub duplicate: bool,
    /// A message that compliance refused, as planned.
    pub refused: bool,
}

impl From<CommandReply> for Outcome {
    fn from(reply: CommandReply) -> Self {
        Self {
            duplicate: reply.duplicate,
            refused: false,
        }
    }
}

/// Attempts at a call that failed for a passing reason.
const ATTEMPTS: u32 = 6;

fn transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::ResourceExhausted | Code::Aborted | Code::DeadlineExceeded
    )
}

/// Calls `rpc` with `message` as `session`'s user, renewing the token once
/// when it is refused and retrying passing failures with a growing pause.
pub async fn call<T, R, F, Fut>(session: &Session, message: T, rpc: F) -> Result<R, Status>
where
    T: Clone,
    F: Fn(Request<T>) -> Fut,
    Fut: Future<Output = Result<Response<R>, Status>>,
{
    let mut renewed = false;
    let mut attempt = 0;
    loop {
        let token = session
            .token()
            .await
            .map_err(|e| Status::unauthenticated(format!("{e:#}")))?;
        let caller = Caller::with_bearer(&token).map_err(|e| Status::internal(e.to_string()))?;
        let answer = rpc(caller.request(message.clone())).await;
        match answer {
            Ok(response) => return Ok(response.into_inner()),
            Err(status) if status.code() == Code::Unauthenticated && !renewed => {
                renewed = true;
                session
                    .renew(&token)
                    .await
                    .map_err(|e| Status::unauthenticated(format!("{e:#}")))?;
            }
            Err(status) if transient(status.code()) && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            Err(status) => return Err(status),
        }
    }
}

pub fn command(id: uuid::Uuid) -> Option<CommandOptions> {
    Some(CommandOptions {
        command_id: id.to_string(),
        ..CommandOptions::default()
    })
}

pub fn eur(cents: i64) -> Option<Money> {
    Some(Money {
        amount_minor: cents,
        currency: "EUR".into(),
    })
}

fn date(day: NaiveDate) -> Option<Date> {
    use chrono::Datelike;
    Some(Date {
        year: day.year(),
        month: day.month(),
        day: day.day(),
    })
}

/// Sends `step` as `session`'s user; `today` turns the plan's day offsets into dates.
pub async fn send(
    services: &Clients,
    session: &Session,
    step: &Step,
    today: NaiveDate,
) -> Result<Outcome, Status> {
    let command = command(step.command_id);
    // Every arm builds its request, then sends it through `call` to one of
    // the clients: `rpc!(deals.open_deal(message))`.
    macro_rules! rpc {
        ($client:ident . $method:ident($message:expr)) => {
            call(session, $message, |r| {
                let mut c = services.$client.clone();
                async move { c.$method(r).await }
            })
            .await?
        };
    }
    let s = services;
    let reply: CommandReply = match &step.action {
        Action::CreateProperty {
            id,
            address,
            kind,
            attributes,
            source,
            confidence_pct,
            asking_price,
            tags,
        } => {
            let message = props::CreatePropertyRequest {
                command,
                property_id: id.to_string(),
                address: Some(property_address(address)),
                kind: kind_to_proto(*kind).into(),
                attributes: Some(property_attributes(attributes, source, *confidence_pct)),
                asking_price: eur(*asking_price),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                ..Default::default()
            };
            rpc!(properties.create_property(message))
        }
        Action::ChangeAskingPrice { property, price } => {
            let message = props::ChangeAskingPriceRequest {
                command,
                property_id: property.to_string(),
                asking_price: eur(*price),
            };
            rpc!(properties.change_asking_price(message))
        }
        Action::RecordValuation {
            property,
            value,
            provider,
            days_ago,
        } => {
            let source = match provider {
                Some(name) => props::Provenance {
                    source: props::SourceKind::Provider.into(),
                    provider: (*name).to_owned(),
                    confidence_pct: 80,
                },
                None => props::Provenance {
                    source: props::SourceKind::Manual.into(),
                    provider: String::new(),
                    confidence_pct: 100,
                },
            };
            let valued_on = today - chrono::Duration::days(i64::from(*days_ago));
            let message = props::RecordValuationRequest {
                command,
                property_id: property.to_string(),
                value: eur(*value),
                source: Some(source),
                valued_on: date(valued_on),
            };
            rpc!(properties.record_valuation(message))
        }
        Action::ChangeListingStatus { property, to } => {
            let message = props::ChangeListingStatusRequest {
                command,
                property_id: property.to_string(),
                status: status_to_proto(*to).into(),
            };
            rpc!(properties.change_listing_status(message))
        }
        Action::CreateContact {
            id,
            name,
            email,
            phone,
            address,
        } => {
            let message = comms::CreateContactRequest {
                command,
                contact_id: id.to_string(),
                details: Some(comms::ContactDetails {
                    name: name.clone(),
                    email: email.clone(),
                    phone: phone.clone().unwrap_or_default(),
                    address: address.as_ref().map(|a| comms::PostalAddress {
                        street: a.street.clone(),
                        postal_code: a.postal_code.to_owned(),
                        city: a.city.to_owned(),
                        country: a.country.to_owned(),
                    }),
                }),
            };
            rpc!(communications.create_contact(message))
        }
        Action::GrantConsent {
            contact,
            channel,
            source,
        } => {
            let message = comms::GrantConsentRequest {
                command,
                contact_id: contact.to_string(),
                channel: message_channel(*channel).into(),
                lawful_basis: comms::LawfulBasis::Consent.into(),
                source: (*source).to_owned(),
            };
            rpc!(communications.grant_consent(message))
        }
        Action::WithdrawConsent {
            contact,
            channel,
            source,
        } => {
            let message = comms::WithdrawConsentRequest {
                command,
                contact_id: contact.to_string(),
                channel: message_channel(*channel).into(),
                source: (*source).to_owned(),
            };
            rpc!(communications.withdraw_consent(message))
        }
        Action::Unsubscribe { contact } => {
            let message = comms::UnsubscribeRequest {
                command,
                contact_id: contact.to_string(),
                source: super::wording::UNSUBSCRIBE_SOURCE.to_owned(),
            };
            rpc!(communications.unsubscribe(message))
        }
        Action::SendMessage {
            contact,
            message: id,
            conversation,
            channel,
            subject,
            body,
            property,
            deal,
            expect,
        } => {
            let message = comms::SendMessageRequest {
                command,
                contact_id: contact.to_string(),
                message_id: id.to_string(),
                conversation_id: conversation.to_string(),
                channel: message_channel(*channel).into(),
                subject: subject.clone().unwrap_or_default(),
                body: body.clone(),
                property_id: property.to_string(),
                deal_id: deal.map(|d| d.to_string()).unwrap_or_default(),
            };
            let sent = call(session, message, |r| {
                let mut c = s.communications.clone();
                async move { c.send_message(r).await }
            })
            .await;
            return match (sent, expect) {
                (Ok(reply), Expect::Queued | Expect::Either) => {
                    Ok(reply.reply.unwrap_or_default().into())
                }
                (Err(status), Expect::Refused | Expect::Either)
                    if status.code() == Code::FailedPrecondition =>
                {
                    Ok(Outcome {
                        duplicate: false,
                        refused: true,
                    })
                }
                (Ok(_), Expect::Refused) => Err(Status::internal(
                    "the plan expected this message to be refused, but it was queued",
                )),
                (Err(status), _) => Err(status),
            };
        }
        Action::RecordDelivery {
            contact,
            message: id,
            status,
            provider_event_id,
        } => {
            let (status, detail) = match status {
                Delivery::Delivered => (comms::DeliveryStatus::Delivered, ""),
                Delivery::Opened => (comms::DeliveryStatus::Opened, ""),
                Delivery::SoftBounced(detail) => (comms::DeliveryStatus::SoftBounced, *detail),
                Delivery::HardBounced(detail) => (comms::DeliveryStatus::HardBounced, *detail),
            };
            let message = comms::RecordDeliveryRequest {
                command,
                contact_id: contact.to_string(),
                message_id: id.to_string(),
                status: status.into(),
                detail: detail.to_owned(),
                provider_event_id: provider_event_id.clone(),
            };
            rpc!(communications.record_delivery(message))
        }
        Action::RecordReply {
            contact,
            message: id,
            in_reply_to,
            conversation,
            body,
            provider_event_id,
        } => {
            let message = comms::RecordReplyRequest {
                command,
                contact_id: contact.to_string(),
                message_id: id.to_string(),
                in_reply_to: in_reply_to.to_string(),
                conversation_id: conversation.to_string(),
                channel: comms::Channel::Email.into(),
                body: (*body).to_owned(),
                provider_event_id: provider_event_id.clone(),
            };
            rpc!(communications.record_reply(message))
        }
        Action::ResumeCadence { contact } => {
            let message = comms::ResumeCadenceRequest {
                command,
                contact_id: contact.to_string(),
            };
            rpc!(communications.resume_cadence(message))
        }
        Action::OpenDeal {
            id,
            property,
            buyer,
            commission,
            expected_close_in_days,
        } => {
            let message = deals::OpenDealRequest {
                command,
                deal_id: id.to_string(),
                property_id: property.to_string(),
                buyer_contact_id: buyer.to_string(),
                commission: eur(*commission),
                expected_close: expected_close_in_days
                    .and_then(|days| date(today + chrono::Duration::days(i64::from(days)))),
                ..Default::default()
            };
            rpc!(deals.open_deal(message))
        }
        Action::MoveStage { deal, to } => {
            let message = deals::MoveStageRequest {
                command,
                deal_id: deal.to_string(),
                stage: stage_to_proto(*to).into(),
            };
            rpc!(deals.move_stage(message))
        }
        Action::SetOffer { deal, offer } => {
            let message = deals::SetOfferRequest {
                command,
                deal_id: deal.to_string(),
                offer: eur(*offer),
            };
            rpc!(deals.set_offer(message))
        }
        Action::SetProbability { deal, pct } => {
            let message = deals::SetProbabilityRequest {
                command,
                deal_id: deal.to_string(),
                probability_pct: Some(*pct),
            };
            rpc!(deals.set_probability(message))
        }
        Action::WinDeal { deal, final_price } => {
            let message = deals::WinDealRequest {
                command,
                deal_id: deal.to_string(),
                final_price: eur(*final_price),
            };
            rpc!(deals.win_deal(message))
        }
        Action::LoseDeal { deal, reason } => {
            let message = deals::LoseDealRequest {
                command,
                deal_id: deal.to_string(),
                reason: (*reason).to_owned(),
            };
            rpc!(deals.lose_deal(message))
        }
    };
    Ok(reply.into())
}

fn property_address(a: &Address) -> props::Address {
    props::Address {
        street: a.street.clone(),
        postal_code: a.postal_code.to_owned(),
        city: a.city.to_owned(),
        country: a.country.to_owned(),
        latitude: Some(a.latitude),
        longitude: Some(a.longitude),
    }
}

fn property_attributes(a: &Attributes, source: &Source, confidence_pct: u32) -> props::Attributes {
    let provenance = match source {
        Source::Manual => props::Provenance {
            source: props::SourceKind::Manual.into(),
            provider: String::new(),
            confidence_pct,
        },
        Source::Import => props::Provenance {
            source: props::SourceKind::Import.into(),
            provider: String::new(),
            confidence_pct,
        },
        Source::Provider(name) => props::Provenance {
            source: props::SourceKind::Provider.into(),
            provider: (*name).to_owned(),
            confidence_pct,
        },
    };
    let sourced = |value: Option<i64>| {
        value.map(|value| props::SourcedInt {
            value,
            provenance: Some(provenance.clone()),
        })
    };
    props::Attributes {
        rooms: sourced(a.rooms),
        bedrooms: sourced(a.bedrooms),
        bathrooms: sourced(a.bathrooms),
        living_area_m2: sourced(a.living_area_m2),
        plot_area_m2: sourced(a.plot_area_m2),
        year_built: sourced(a.year_built),
    }
}

fn message_channel(channel: Channel) -> comms::Channel {
    match channel {
        Channel::Email => comms::Channel::Email,
        Channel::Sms => comms::Channel::Sms,
    }
}
