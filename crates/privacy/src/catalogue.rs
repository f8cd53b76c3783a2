//! Which event types carry personal data and which forget a subject: the
//! domains' declarations (`personal.rs` in each domain crate), gathered by
//! the composition root.

use deedlog_kernel::privacy::{subject_of, Forgetting, PersonalFields};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    personal: HashMap<&'static str, &'static PersonalFields>,
    forgetting: HashMap<&'static str, Forgetting>,
}

impl Catalogue {
    /// Gathers the declarations; an event type declared twice is a bug.
    pub fn new(personal: &[&'static [PersonalFields]], forgetting: &[Forgetting]) -> Self {
        let mut catalogue = Self::default();
        for spec in personal.iter().flat_map(|specs| specs.iter()) {
            let twice = catalogue.personal.insert(spec.event_type, spec);
            assert!(
                twice.is_none(),
                "{} is declared personal twice",
                spec.event_type
            );
        }
        for forgets in forgetting {
            catalogue.forgetting.insert(forgets.event_type, *forgets);
        }
        catalogue
    }

    /// The personal fields of `event_type`, if it has any.
    pub fn personal(&self, event_type: &str) -> Option<&'static PersonalFields> {
        self.personal.get(event_type).copied()
    }

    /// Whether `event_type` forgets a subject.
    pub fn forgets(&self, event_type: &str) -> bool {
        self.forgetting.contains_key(event_type)
    }

    /// The subject an event forgets, if it is a forgetting event.
    pub fn forgotten_by(&self, event_type: &str, stream: Uuid, payload: &Value) -> Option<Uuid> {
        let forgets = self.forgetting.get(event_type)?;
        subject_of(forgets.subject, &stream.to_string(), payload)?
            .parse()
            .ok()
    }

    /// The subject of an event that holds personal data in clear (written
    /// before sealing), if it is one.
    pub fn clear_subject(&self, event_type: &str, stream: Uuid, payload: &Value) -> Option<Uuid> {
        let spec = self.personal(event_type)?;
        if !crate::keyring::holds_clear_data(spec, payload) {
            return None;
        }
        subject_of(spec.subject, &stream.to_string(), payload)?
            .parse()
            .ok()
    }

    /// The forgetting events, for the check against the log's trigger.
    pub fn forgetting_event_types(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.forgetting.keys().copied()
    }
}
