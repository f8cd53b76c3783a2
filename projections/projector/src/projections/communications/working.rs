//! A contact being folded: its rows, the domain state rebuilt from them,
//! and the compliance and suppression rows that state determines.

use super::*;

/// A contact being folded: its rows and the domain's state rebuilt from them.
pub(super) struct Working {
    pub(super) row: ContactRow,
    pub(super) state: State,
    pub(super) compliance: BTreeMap<Channel, ComplianceRow>,
    pub(super) suppressions: BTreeMap<(Channel, &'static str), SuppressionRow>,
    /// Whether the contact had rows before the batch.
    pub(super) existed: bool,
    pub(super) paused_at_load: Option<DateTime<Utc>>,
    /// The email address and phone number its blind indexes are of.
    pub(super) indexed: (Option<String>, Option<String>),
}

/// The message and conversation rows of the batch, loaded or new.
pub(super) struct Batch {
    pub(super) messages: HashMap<Key, MessageRow>,
    pub(super) conversations: HashMap<Key, ConversationRow>,
    /// Contacts forgotten in the batch, whose message texts are erased.
    pub(super) forgotten: BTreeSet<Uuid>,
}

impl Working {
    /// Rebuilds each loaded contact, with the domain state its rows stand for.
    pub(super) fn load(
        contacts: Vec<ContactRow>,
        compliance: Vec<ComplianceRow>,
        suppressions: Vec<SuppressionRow>,
        messages: &HashMap<Key, MessageRow>,
    ) -> Result<HashMap<Uuid, Working>, String> {
        let mut works: HashMap<Uuid, Working> = HashMap::with_capacity(contacts.len());
        for row in contacts {
            let contact = Contact {
                name: row.name.clone(),
                email: row.email.clone(),
                phone: row.phone.clone(),
                address: address_of(&row),
                compliance: Compliance {
                    channels: BTreeMap::new(),
                    do_not_call: row.do_not_call,
                    unsubscribed: row.unsubscribed,
                },
                paused_since: row.paused_since,
                messages: BTreeMap::new(),
                provider_events: BTreeSet::new(),
                // Only commands read it; no column of the read model does.
                forgotten: false,
            };
            works.insert(
                row.contact_id,
                Working {
                    paused_at_load: row.paused_since,
                    indexed: (row.email.clone(), row.phone.clone()),
                    row,
                    state: State(Some(contact)),
                    compliance: BTreeMap::new(),
                    suppressions: BTreeMap::new(),
                    existed: true,
                },
            );
        }
        for row in compliance {
            let channel = parse::<Channel>(&row.channel)?;
            let Some(work) = works.get_mut(&row.contact_id) else {
                continue;
            };
            let consent = match row.consent.as_str() {
                "granted" => Some(Consent::Granted {
                    lawful_basis: parse::<LawfulBasis>(row.lawful_basis.as_deref().unwrap_or(""))?,
                    source: row.consent_source.clone().unwrap_or_default(),
                }),
                "withdrawn" => Some(Consent::Withdrawn {
                    source: row.consent_source.clone().unwrap_or_default(),
                }),
                _ => None,
            };
            if let Some(contact) = work.state.0.as_mut() {
                contact.compliance.channels.insert(
                    channel,
                    ChannelProfile {
                        consent,
                        hard_bounced: row.hard_bounced,
                    },
                );
            }
            work.compliance.insert(channel, row);
        }
        for row in suppressions {
            let channel = parse::<Channel>(&row.channel)?;
            let reason = SUPPRESSION_CODES
                .into_iter()
                .find(|code| *code == row.reason)
                .ok_or_else(|| format!("unknown suppression reason {}", row.reason))?;
            if let Some(work) = works.get_mut(&row.contact_id) {
                work.suppressions.insert((channel, reason), row);
            }
        }
        for ((contact_id, message_id), row) in messages {
            let Some(contact) = works
                .get_mut(contact_id)
                .and_then(|work| work.state.0.as_mut())
            else {
                continue;
            };
            contact.messages.insert(*message_id, domain_message(row)?);
        }
        Ok(works)
    }

    /// A contact created by `event`, with a compliance row per channel.
    pub(super) fn created(recorded: &RecordedEvent, event: &Event) -> Working {
        let state = evolve(State(None), event);
        let mut row = ContactRow {
            contact_id: recorded.stream_id.as_uuid(),
            tenant_id: recorded.tenant_id.as_uuid(),
            name: String::new(),
            email: None,
            phone: None,
            street: None,
            postal_code: None,
            city: None,
            country: None,
            email_index: None,
            phone_index: None,
            do_not_call: false,
            unsubscribed: false,
            hard_bounced_channels: Vec::new(),
            paused_after_reply: false,
            paused_since: None,
            messages_out: 0,
            messages_refused: 0,
            messages_in: 0,
            last_message_at: None,
            version: Int64(0),
            last_position: Int64(0),
            created_at: recorded.occurred_at,
            updated_at: recorded.occurred_at,
        };
        if let Some(contact) = &state.0 {
            set_details(&mut row, contact);
        }
        let mut work = Working {
            row,
            state,
            compliance: BTreeMap::new(),
            suppressions: BTreeMap::new(),
            existed: false,
            paused_at_load: None,
            indexed: (None, None),
        };
        work.sync(recorded, event);
        work
    }

    /// Brings the rows in line with the domain state after `event`.
    pub(super) fn sync(&mut self, recorded: &RecordedEvent, event: &Event) {
        let Some(contact) = self.state.0.as_ref() else {
            return;
        };
        let row = &mut self.row;
        row.do_not_call = contact.compliance.do_not_call;
        row.unsubscribed = contact.compliance.unsubscribed;
        row.paused_since = contact.paused_since;
        row.paused_after_reply = contact.paused_since.is_some();
        row.hard_bounced_channels = Channel::ALL
            .into_iter()
            .filter(|c| contact.compliance.profile(*c).hard_bounced)
            .map(|c| c.as_str().to_owned())
            .collect();
        row.version = big(recorded.version);
        row.last_position = big(recorded.position);
        row.updated_at = recorded.occurred_at;
        if touches_messages_only(event) {
            return;
        }
        for channel in Channel::ALL {
            let reasons = standing_reasons(contact, channel);
            let fresh = compliance_row(row, contact, channel, &reasons);
            let consent_event = match event {
                Event::ConsentGranted { channel: c, .. }
                | Event::ConsentWithdrawn { channel: c, .. } => *c == channel,
                _ => false,
            };
            // Forgetting takes the postal address, and with it whether a
            // letter could reach the contact. Replaying the erased history
            // never had the address, so each row's last change would be
            // elsewhere; stamping every row with the forgetting makes both
            // agree (ADR 0035: live after forgetting = rebuilt from erased).
            let forgetting = matches!(event, Event::ContactForgotten {});
            match self.compliance.get_mut(&channel) {
                Some(old) => {
                    let mut fresh = ComplianceRow {
                        consent_changed_at: old.consent_changed_at,
                        last_position: old.last_position,
                        updated_at: old.updated_at,
                        ..fresh
                    };
                    if consent_event {
                        fresh.consent_changed_at = Some(recorded.occurred_at);
                    }
                    if fresh != *old || forgetting {
                        fresh.last_position = big(recorded.position);
                        fresh.updated_at = recorded.occurred_at;
                        *old = fresh;
                    }
                }
                None => {
                    self.compliance.insert(channel, fresh);
                }
            }
            suppress(
                &mut self.suppressions,
                row,
                recorded,
                event,
                channel,
                &reasons,
            );
        }
    }
}

/// Starts the suppressions of `channel` that `reasons` name and lifts the others.
pub(super) fn suppress(
    suppressions: &mut BTreeMap<(Channel, &'static str), SuppressionRow>,
    row: &ContactRow,
    recorded: &RecordedEvent,
    event: &Event,
    channel: Channel,
    reasons: &[RefusalReason],
) {
    let in_force: Vec<&'static str> = reasons
        .iter()
        .map(RefusalReason::code)
        .filter(|code| SUPPRESSION_CODES.contains(code))
        .collect();
    suppressions.retain(|(c, reason), _| *c != channel || in_force.contains(reason));
    for reason in in_force {
        suppressions
            .entry((channel, reason))
            .or_insert_with(|| SuppressionRow {
                tenant_id: row.tenant_id,
                contact_id: row.contact_id,
                channel: channel.as_str().to_owned(),
                reason: reason.to_owned(),
                since: recorded.occurred_at,
                position: big(recorded.position),
                source: match (reason, event) {
                    ("unsubscribed", Event::Unsubscribed { source }) => Some(source.clone()),
                    _ => None,
                },
                // Not the bounce's detail: providers often quote the address in it.
                message_id: match (reason, event) {
                    ("hard_bounced", Event::MessageBounced { message_id, .. }) => Some(*message_id),
                    _ => None,
                },
            });
    }
}

/// Whether `event` can only change messages, conversations and counts.
pub(super) fn touches_messages_only(event: &Event) -> bool {
    matches!(
        event,
        Event::MessageQueued { .. }
            | Event::MessageRefused { .. }
            | Event::MessageDelivered { .. }
            | Event::MessageOpened { .. }
    )
}

/// The compliance row of `channel` as the domain state says, stamped with
/// the contact row's position and time.
pub(super) fn compliance_row(
    row: &ContactRow,
    contact: &Contact,
    channel: Channel,
    reasons: &[RefusalReason],
) -> ComplianceRow {
    let profile = contact.compliance.profile(channel);
    let (consent, lawful_basis, consent_source) = match &profile.consent {
        None => ("none", None, None),
        Some(Consent::Granted {
            lawful_basis,
            source,
        }) => (
            "granted",
            Some(lawful_basis.as_str().to_owned()),
            Some(source.clone()),
        ),
        Some(Consent::Withdrawn { source }) => ("withdrawn", None, Some(source.clone())),
    };
    let blocked_by: Vec<String> = reasons.iter().map(|r| r.code().to_owned()).collect();
    let suppression_reasons: Vec<String> = blocked_by
        .iter()
        .filter(|code| SUPPRESSION_CODES.contains(&code.as_str()))
        .cloned()
        .collect();
    let reachable = contact.can_reach(channel);
    ComplianceRow {
        tenant_id: row.tenant_id,
        contact_id: row.contact_id,
        channel: channel.as_str().to_owned(),
        consent: consent.to_owned(),
        lawful_basis,
        consent_source,
        consent_changed_at: None,
        hard_bounced: profile.hard_bounced,
        reachable,
        suppressed: !suppression_reasons.is_empty(),
        suppression_reasons,
        sendable: reachable && blocked_by.is_empty(),
        blocked_by,
        last_position: row.last_position,
        updated_at: row.updated_at,
    }
}
