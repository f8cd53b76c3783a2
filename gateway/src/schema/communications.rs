//! Contacts: compliance per channel, messages, conversations, timeline; the
//! tenant's suppression list.

use super::deals::Deal;
use super::enums::{stored_name, Channel};
use super::inbox::Conversation;
use super::loaders::{DealsOfBuyerKey, LastMessageKey, OwnedPropertiesKey, TenantLoader};
use super::page::{connection, page, Connection, Count};
use super::properties::{batched, timeline_of, Property};
use super::reads::{found, record_scope, scope};
use crate::error::{bad_input, from_read, internal};
use crate::viewer::allowed;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, InputObject, Json, Object, Result, SimpleObject};
use deedlog_kernel::contact_point::{self, EMAIL_INDEX, PHONE_INDEX};
use deedlog_kernel::Role;
use deedlog_read_model::communications::{
    self as rm, ComplianceRow, ContactRow, ContactSearch, MessageRow, SuppressionRow,
};
use deedlog_read_model::timeline::EntryRow;
use deedlog_read_model::TenantScope;
use uuid::Uuid;

const READ: &str = "read contacts and messages";

/// A contact as the communications read model has it.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Contact {
    #[graphql(flatten)]
    pub record: ContactRow,
}

impl Contact {
    /// The contact with this id in the scope's tenant; NOT_FOUND when there is none.
    pub async fn read(scope: &mut TenantScope, id: Uuid) -> Result<Self> {
        found(rm::get(scope.conn(), id).await, "contact", |record| {
            Contact { record }
        })
    }
}

#[ComplexObject]
impl Contact {
    /// Whether the contact can be reached on each channel, and why not.
    async fn compliance(&self, ctx: &Context<'_>) -> Result<Vec<ComplianceRow>> {
        let mut scope = record_scope(ctx, READ).await?;
        rm::compliance(scope.conn(), self.record.contact_id)
            .await
            .map_err(from_read)
    }

    /// Messages out, in and refused, newest first.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<Message>> {
        let page = page(first, after, last, before)?;
        let mut scope = record_scope(ctx, READ).await?;
        let contact = self.record.contact_id;
        let rows = rm::messages(scope.conn(), contact, &page)
            .await
            .map_err(from_read)?;
        Ok(connection(rows, Count::Messages(contact), |record| {
            Message { record }
        }))
    }

    /// The contact's conversations, the most recently active first.
    async fn conversations(&self, ctx: &Context<'_>) -> Result<Vec<Conversation>> {
        let mut scope = record_scope(ctx, READ).await?;
        let rows = rm::conversations(scope.conn(), self.record.contact_id)
            .await
            .map_err(from_read)?;
        Ok(rows
            .into_iter()
            .map(|record| Conversation { record })
            .collect())
    }

    /// The deals the contact is the buyer or investor of, newest first.
    async fn deals(&self, ctx: &Context<'_>) -> Result<Vec<Deal>> {
        let rows = batched(ctx, DealsOfBuyerKey(self.record.contact_id)).await?;
        Ok(rows.into_iter().map(Deal::from).collect())
    }

    /// The properties the contact owns, oldest first.
    async fn owned_properties(&self, ctx: &Context<'_>) -> Result<Vec<Property>> {
        let rows = batched(ctx, OwnedPropertiesKey(self.record.contact_id)).await?;
        Ok(rows.into_iter().map(|record| Property { record }).collect())
    }

    /// The contact's latest message, out or in (none before the first).
    async fn last_message(&self, ctx: &Context<'_>) -> Result<Option<Message>> {
        allowed(ctx, Role::may_read_records, READ)?;
        let loader = ctx.data::<DataLoader<TenantLoader>>()?;
        Ok(loader
            .load_one(LastMessageKey(self.record.contact_id))
            .await?
            .map(|record| Message { record }))
    }

    /// The contact's events in words (no personal data), oldest first.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<EntryRow>> {
        let page = page(first, after, last, before)?;
        timeline_of(ctx, self.record.contact_id, page).await
    }
}

/// A message, with why it was refused when it was.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Message {
    #[graphql(flatten)]
    pub record: MessageRow,
}

#[ComplexObject]
impl Message {
    /// The rules that refused the message, with their details.
    async fn refusal_reasons(&self) -> Option<Json<serde_json::Value>> {
        self.record.refusal_reasons.clone().map(Json)
    }
}

#[derive(Debug, Default)]
pub struct CommunicationsQuery;

#[Object]
impl CommunicationsQuery {
    /// One contact; NOT_FOUND when the tenant has none with this id.
    async fn contact(&self, ctx: &Context<'_>, id: Uuid) -> Result<Contact> {
        let mut scope = record_scope(ctx, READ).await?;
        Contact::read(&mut scope, id).await
    }

    /// The tenant's contacts by name, a page at a time (`first` or `last`
    /// 1–100). `search` narrows them: text with an `@` finds the contact
    /// with that email address, a phone number (digits with `+`, spaces,
    /// hyphens, dots or parentheses) the contact with that number, both
    /// exactly and in any spelling of the same address or number; other
    /// text finds the contacts whose name contains it, in any letter case.
    /// `filter` narrows them further.
    #[allow(clippy::too_many_arguments)]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        filter: Option<ContactFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<Contact>> {
        let viewer = allowed(ctx, Role::may_read_records, READ)?;
        let page = page(first, after, last, before)?;
        let search = match asked(search.as_deref()).map_err(bad_input)? {
            Asked::All => ContactSearch::All,
            Asked::Name(name) => ContactSearch::Name(name),
            // Hashed before the scope takes its connection: the key service
            // may need one of the same pool.
            Asked::Email(email) => {
                ContactSearch::Email(blind_index(ctx, viewer, EMAIL_INDEX, &email).await?)
            }
            Asked::Phone(phone) => {
                ContactSearch::Phone(blind_index(ctx, viewer, PHONE_INDEX, &phone).await?)
            }
        };
        let f = filter.unwrap_or_default();
        let filter = rm::ContactFilter {
            search,
            channel_consent: f.channel_consent.map(stored_name),
            suppressed: f.suppressed,
            has_open_deal: f.has_open_deal,
            agent_id: f.agent_id,
        };
        let mut scope = scope(ctx, viewer).await?;
        let rows = rm::contacts(scope.conn(), &filter, &page)
            .await
            .map_err(from_read)?;
        Ok(connection(rows, Count::Contacts(filter), |record| {
            Contact { record }
        }))
    }

    /// Every contact and channel that may not be messaged, and why.
    async fn suppressions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<SuppressionRow>> {
        let page = page(first, after, last, before)?;
        let mut scope = record_scope(ctx, READ).await?;
        let rows = rm::suppressions(scope.conn(), &page)
            .await
            .map_err(from_read)?;
        Ok(connection(rows, Count::Suppressions, |row| row))
    }
}

/// Which contacts to list; every field set narrows the list.
#[derive(Debug, Default, InputObject)]
pub struct ContactFilter {
    /// Contacts who granted consent on this channel.
    pub channel_consent: Option<Channel>,
    /// Contacts on (true) or off (false) the suppression list, on any channel.
    pub suppressed: Option<bool>,
    /// Contacts who are (true) or are not (false) the buyer of an open deal.
    pub has_open_deal: Option<bool>,
    /// An agent's contacts: buyers of the agent's deals and owners of the
    /// agent's properties.
    pub agent_id: Option<Uuid>,
}

/// What a contact search asks for, its address or number in canonical form.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    All,
    Name(String),
    Email(String),
    Phone(String),
}

/// The longest name fragment searched for (a contact's name is at most 200).
const MAX_SEARCH: usize = 200;

/// Reads `search`: an email address when it has an `@`, a phone number
/// when it has digits and no letters, otherwise part of a name.
fn asked(search: Option<&str>) -> Result<Asked, String> {
    let Some(text) = search.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Asked::All);
    };
    if text.contains('@') {
        return contact_point::email(text)
            .map(Asked::Email)
            .map_err(|rule| format!("search has an @, so it is an email address, which {rule}"));
    }
    if text.chars().any(|c| c.is_ascii_digit()) && !text.chars().any(char::is_alphabetic) {
        return contact_point::phone(text)
            .map(Asked::Phone)
            .map_err(|rule| format!("search is a phone number, which {rule}"));
    }
    if text.chars().count() > MAX_SEARCH {
        return Err(format!(
            "search is at most {MAX_SEARCH} characters, the longest a name can be"
        ));
    }
    Ok(Asked::Name(text.to_owned()))
}

/// The blind index of `value` under `label` in the viewer's tenant.
async fn blind_index(
    ctx: &Context<'_>,
    viewer: &crate::viewer::Viewer,
    label: &str,
    value: &str,
) -> Result<String> {
    let keyring = ctx.data::<deedlog_privacy::Keyring>()?;
    keyring
        .blind_index(viewer.caller.tenant.as_uuid(), label, value)
        .await
        .map_err(|e| internal("compute a blind index for a contact search", &e))
}

#[cfg(test)]
mod tests {
    use super::{asked, Asked};

    #[test]
    fn a_search_is_an_address_a_number_or_a_name() {
        assert_eq!(asked(None), Ok(Asked::All));
        assert_eq!(asked(Some("  ")), Ok(Asked::All));
        assert_eq!(
            asked(Some(" Anna@Example.com ")),
            Ok(Asked::Email("anna@example.com".into()))
        );
        assert_eq!(
            asked(Some("+49 (30) 123-456")),
            Ok(Asked::Phone("+4930123456".into()))
        );
        assert_eq!(asked(Some("ann")), Ok(Asked::Name("ann".into())));
        assert_eq!(asked(Some("Flat 2b")), Ok(Asked::Name("Flat 2b".into())));
    }

    #[test]
    fn a_malformed_address_or_number_is_refused_with_the_rule() {
        let email = asked(Some("anna@")).expect_err("refused");
        assert!(
            email.contains("email address such as anna@example.com"),
            "{email}"
        );
        let phone = asked(Some("030 123456")).expect_err("refused");
        assert!(phone.contains("+ and 7 to 15 digits"), "{phone}");
        let long = asked(Some(&"a".repeat(201))).expect_err("refused");
        assert!(long.contains("at most 200"), "{long}");
    }
}
