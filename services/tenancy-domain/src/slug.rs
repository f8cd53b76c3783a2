//! Slug claims: a slug names one tenant across all of deedlog. Each slug
//! has its own stream (id derived from the slug by the service), so the
//! log's optimistic concurrency makes the first claim win.

use deedlog_kernel::TenantId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    SlugClaimed { slug: String, tenant: TenantId },
}

deedlog_kernel::event_types!(Event { SlugClaimed });

/// Who holds the slug, if anyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State(pub Option<TenantId>);

/// Claims `slug` for `tenant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub slug: String,
    pub tenant: TenantId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the slug {slug:?} is taken; choose another")]
    Taken { slug: String },
}

impl deedlog_kernel::Refusal for Error {
    fn kind(&self) -> deedlog_kernel::RefusalKind {
        deedlog_kernel::RefusalKind::Refused(deedlog_kernel::Reason::new("SLUG_TAKEN"))
    }
}

/// Grants the claim to the first tenant; the holder's repeat changes nothing.
pub fn decide(state: &State, claim: &Claim) -> Result<Vec<Event>, Error> {
    match state.0 {
        Some(holder) if holder == claim.tenant => Ok(vec![]),
        Some(_) => Err(Error::Taken {
            slug: claim.slug.clone(),
        }),
        None => Ok(vec![Event::SlugClaimed {
            slug: claim.slug.clone(),
            tenant: claim.tenant,
        }]),
    }
}

pub fn evolve(_: State, event: &Event) -> State {
    match event {
        Event::SlugClaimed { tenant, .. } => State(Some(*tenant)),
    }
}

deedlog_kernel::decider! {
    /// The slug-claim decider.
    pub struct Slugs: TENANT_SLUG, State, Claim => Event, Error;
    decide = decide, evolve = evolve
}

#[cfg(test)]
mod tests {
    use super::*;
    use deedlog_kernel::DeciderSpec;
    use uuid::Uuid;

    fn claim(n: u128) -> Claim {
        Claim {
            slug: "berg".into(),
            tenant: TenantId::from_uuid(Uuid::from_u128(n)),
        }
    }

    #[test]
    fn the_first_claim_wins_and_a_repeat_by_the_holder_is_a_no_op() {
        DeciderSpec::<Slugs>::given_nothing()
            .when(claim(1))
            .then_events(vec![Event::SlugClaimed {
                slug: "berg".into(),
                tenant: claim(1).tenant,
            }]);
        let held = vec![Event::SlugClaimed {
            slug: "berg".into(),
            tenant: claim(1).tenant,
        }];
        DeciderSpec::<Slugs>::given(held.clone())
            .when(claim(1))
            .then_events(vec![]);
        DeciderSpec::<Slugs>::given(held)
            .when(claim(2))
            .then_error(Error::Taken {
                slug: "berg".into(),
            });
    }
}
