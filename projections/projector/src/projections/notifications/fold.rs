//! Folding one event into the projection's state and the notifications it
//! causes.

use crate::projection::ApplyError;
use crate::projections::decode::big;
use deedlog_deals_domain::{Event as DealEvent, Stage};
use deedlog_eventstore::RecordedEvent;
use deedlog_kernel::Money;
use deedlog_properties_domain::Event as PropertyEvent;
use deedlog_read_model::notifications::{
    kind, ConversationLinkRow, DealAgentRow, NotificationRow, PropertyAgentRow, ReadMarkRow,
};
use deedlog_read_model::Int64;
use deedlog_tenancy_domain::inbox::Event as InboxEvent;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// What the projection reads of a queued message or a reply: ids only.
#[derive(Debug, serde::Deserialize)]
pub struct Message {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    #[serde(default)]
    pub property: Option<Uuid>,
    #[serde(default)]
    pub deal: Option<Uuid>,
}

/// An event of the batch this projection reads.
// Lives for one batch; boxing the property event would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Decoded {
    Deal(DealEvent),
    Property(PropertyEvent),
    /// A queued message (`reply` false) or a reply of a contact stream.
    Message {
        reply: bool,
        message: Message,
    },
    Inbox(InboxEvent),
}

/// The keys of the state rows a batch changed.
#[derive(Debug, Default)]
pub struct Touched {
    pub deals: BTreeSet<Uuid>,
    pub properties: BTreeSet<Uuid>,
    pub conversations: BTreeSet<Uuid>,
    pub users: BTreeSet<Uuid>,
}

/// The state rows of a batch, by key.
pub struct State {
    pub deals: HashMap<Uuid, DealAgentRow>,
    pub properties: HashMap<Uuid, PropertyAgentRow>,
    pub conversations: HashMap<Uuid, ConversationLinkRow>,
    pub marks: HashMap<Uuid, ReadMarkRow>,
    pub touched: Touched,
}

/// The user id of an actor such as `user:<uuid>`; none for system actors.
fn actor_user(actor: &str) -> Option<Uuid> {
    actor
        .strip_prefix("user:")
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// A notification of `recorded` to `recipient`, with its kind and nothing else.
fn notification(recorded: &RecordedEvent, recipient: Uuid, kind: &str) -> NotificationRow {
    NotificationRow {
        tenant_id: recorded.tenant_id.as_uuid(),
        recipient_id: recipient,
        position: big(recorded.position),
        occurred_at: recorded.occurred_at,
        kind: kind.to_owned(),
        actor_id: actor_user(&recorded.actor),
        deal_id: None,
        property_id: None,
        contact_id: None,
        conversation_id: None,
        message_id: None,
        stage_from: None,
        stage_to: None,
        amount_from_minor: None,
        amount_to_minor: None,
        currency: None,
        other_agent_id: None,
    }
}

/// Adds `row` unless its addressee is the one who acted.
fn notify(out: &mut Vec<NotificationRow>, row: NotificationRow) {
    if row.actor_id != Some(row.recipient_id) {
        out.push(row);
    }
}

/// Applies one event: moves the state and adds the notifications it causes.
/// An event at or below a state row's last position was applied before (a
/// replayed dead letter that had gone through) and changes nothing.
pub fn apply_one(
    state: &mut State,
    out: &mut Vec<NotificationRow>,
    recorded: &RecordedEvent,
    event: &Decoded,
) -> Result<(), ApplyError> {
    match event {
        Decoded::Deal(event) => deal(state, out, recorded, event),
        Decoded::Property(event) => property(state, out, recorded, event),
        Decoded::Message { reply, message } => {
            conversation(state, out, recorded, *reply, message);
            Ok(())
        }
        Decoded::Inbox(InboxEvent::NotificationsRead { user, up_to }) => {
            let user = user.as_uuid();
            let position: i64 = big(recorded.position);
            let mark = state.marks.entry(user).or_insert_with(|| ReadMarkRow {
                tenant_id: recorded.tenant_id.as_uuid(),
                user_id: user,
                read_up_to: 0,
                last_position: 0,
            });
            if mark.last_position < position {
                mark.read_up_to = mark.read_up_to.max(big(*up_to));
                mark.last_position = position;
                state.touched.users.insert(user);
            }
            Ok(())
        }
    }
}

fn deal(
    state: &mut State,
    out: &mut Vec<NotificationRow>,
    recorded: &RecordedEvent,
    event: &DealEvent,
) -> Result<(), ApplyError> {
    let id = recorded.stream_id.as_uuid();
    let position: i64 = big(recorded.position);
    if let DealEvent::DealOpened {
        property, agent, ..
    } = event
    {
        if state
            .deals
            .get(&id)
            .is_some_and(|d| d.last_position >= position)
        {
            return Ok(());
        }
        state.deals.insert(
            id,
            DealAgentRow {
                tenant_id: recorded.tenant_id.as_uuid(),
                deal_id: id,
                property_id: *property,
                agent_id: agent.as_uuid(),
                stage: Stage::Lead.as_str().to_owned(),
                last_position: position,
            },
        );
        state.touched.deals.insert(id);
        let mut row = notification(recorded, agent.as_uuid(), kind::DEAL_ASSIGNED);
        row.deal_id = Some(id);
        row.property_id = Some(*property);
        notify(out, row);
        return Ok(());
    }
    let Some(deal) = state.deals.get_mut(&id) else {
        return Err(ApplyError::event(
            recorded,
            "no agent for this deal (its opening was not applied)",
        ));
    };
    if deal.last_position >= position {
        return Ok(());
    }
    deal.last_position = position;
    state.touched.deals.insert(id);
    let base = |recipient: Uuid, kind: &str| {
        let mut row = notification(recorded, recipient, kind);
        row.deal_id = Some(id);
        row.property_id = Some(deal.property_id);
        row
    };
    let stage_change = |to: Stage, amount: Option<&Money>| {
        let mut row = base(deal.agent_id, kind::DEAL_STAGE_CHANGED);
        row.stage_from = Some(deal.stage.clone());
        row.stage_to = Some(to.as_str().to_owned());
        row.amount_to_minor = amount.map(|m| Int64(m.amount_minor));
        row.currency = amount.map(|m| m.currency.code().to_owned());
        row
    };
    let (rows, stage, agent) = match event {
        DealEvent::DealReassigned { from, to } => {
            let mut assigned = base(to.as_uuid(), kind::DEAL_ASSIGNED);
            assigned.other_agent_id = Some(from.as_uuid());
            let mut away = base(from.as_uuid(), kind::DEAL_REASSIGNED_AWAY);
            away.other_agent_id = Some(to.as_uuid());
            let rows = if from == to {
                vec![]
            } else {
                vec![assigned, away]
            };
            (rows, None, Some(*to))
        }
        DealEvent::StageMoved { to, .. } => (vec![stage_change(*to, None)], Some(*to), None),
        DealEvent::DealWon { final_price, .. } => (
            vec![stage_change(Stage::ClosedWon, Some(final_price))],
            Some(Stage::ClosedWon),
            None,
        ),
        DealEvent::DealLost { .. } => (
            vec![stage_change(Stage::ClosedLost, None)],
            Some(Stage::ClosedLost),
            None,
        ),
        DealEvent::DealReopened { to } => (vec![stage_change(*to, None)], Some(*to), None),
        _ => (vec![], None, None),
    };
    for row in rows {
        notify(out, row);
    }
    if let Some(stage) = stage {
        deal.stage = stage.as_str().to_owned();
    }
    if let Some(agent) = agent.map(|u| u.as_uuid()) {
        deal.agent_id = agent;
    }
    Ok(())
}

fn property(
    state: &mut State,
    out: &mut Vec<NotificationRow>,
    recorded: &RecordedEvent,
    event: &PropertyEvent,
) -> Result<(), ApplyError> {
    let id = recorded.stream_id.as_uuid();
    let position: i64 = big(recorded.position);
    if let PropertyEvent::PropertyCreated { agent, .. } = event {
        if state
            .properties
            .get(&id)
            .is_some_and(|p| p.last_position >= position)
        {
            return Ok(());
        }
        state.properties.insert(
            id,
            PropertyAgentRow {
                tenant_id: recorded.tenant_id.as_uuid(),
                property_id: id,
                agent_id: agent.map(|u| u.as_uuid()),
                last_position: position,
            },
        );
        state.touched.properties.insert(id);
        if let Some(agent) = agent {
            let mut row = notification(recorded, agent.as_uuid(), kind::PROPERTY_ASSIGNED);
            row.property_id = Some(id);
            notify(out, row);
        }
        return Ok(());
    }
    let Some(property) = state.properties.get_mut(&id) else {
        return Err(ApplyError::event(
            recorded,
            "no state for this property (its creation was not applied)",
        ));
    };
    if property.last_position >= position {
        return Ok(());
    }
    property.last_position = position;
    state.touched.properties.insert(id);
    let base = |recipient: Uuid, kind: &str| {
        let mut row = notification(recorded, recipient, kind);
        row.property_id = Some(id);
        row
    };
    match event {
        PropertyEvent::AgentAssigned { from, to } => {
            if *from != Some(*to) {
                let mut assigned = base(to.as_uuid(), kind::PROPERTY_ASSIGNED);
                assigned.other_agent_id = from.map(|u| u.as_uuid());
                notify(out, assigned);
                if let Some(from) = from {
                    let mut away = base(from.as_uuid(), kind::PROPERTY_REASSIGNED_AWAY);
                    away.other_agent_id = Some(to.as_uuid());
                    notify(out, away);
                }
            }
            property.agent_id = Some(to.as_uuid());
        }
        PropertyEvent::AskingPriceChanged { from, to } => {
            if let Some(agent) = property.agent_id {
                let mut row = base(agent, kind::ASKING_PRICE_CHANGED);
                row.amount_from_minor = from.map(|m| Int64(m.amount_minor));
                row.amount_to_minor = Some(Int64(to.amount_minor));
                row.currency = Some(to.currency.code().to_owned());
                notify(out, row);
            }
        }
        _ => {}
    }
    Ok(())
}

/// A queued message links its conversation to the deal and property it
/// names (the first that names one fixes it); a reply notifies the agent
/// of the conversation's deal, or of its property when it has no deal.
fn conversation(
    state: &mut State,
    out: &mut Vec<NotificationRow>,
    recorded: &RecordedEvent,
    reply: bool,
    message: &Message,
) {
    let position: i64 = big(recorded.position);
    let id = message.conversation_id;
    let link = state
        .conversations
        .entry(id)
        .or_insert_with(|| ConversationLinkRow {
            tenant_id: recorded.tenant_id.as_uuid(),
            conversation_id: id,
            contact_id: recorded.stream_id.as_uuid(),
            deal_id: None,
            property_id: None,
            last_position: 0,
        });
    if link.last_position >= position {
        return;
    }
    link.last_position = position;
    state.touched.conversations.insert(id);
    if !reply {
        link.deal_id = link.deal_id.or(message.deal);
        link.property_id = link.property_id.or(message.property);
        return;
    }
    let agent = match (link.deal_id, link.property_id) {
        (Some(deal), _) => state.deals.get(&deal).map(|d| d.agent_id),
        (None, Some(property)) => state.properties.get(&property).and_then(|p| p.agent_id),
        (None, None) => None,
    };
    let Some(agent) = agent else {
        return;
    };
    let mut row = notification(recorded, agent, kind::REPLY_RECEIVED);
    row.deal_id = link.deal_id;
    row.property_id = link.property_id.or_else(|| {
        link.deal_id
            .and_then(|deal| state.deals.get(&deal).map(|d| d.property_id))
    });
    row.contact_id = Some(link.contact_id);
    row.conversation_id = Some(id);
    row.message_id = Some(message.message_id);
    notify(out, row);
}
