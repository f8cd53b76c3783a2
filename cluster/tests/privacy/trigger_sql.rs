//! The forgetting trigger's event and stream types (log migration 0005)
//! are exactly the domains' FORGETTING declarations, and its subject is
//! where each declaration says.

use deedlog_kernel::privacy::{Forgetting, Subject};
use deedlog_kernel::Decider;
use std::collections::BTreeSet;

fn migration() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/log/0005_privacy_keys.sql"
    );
    std::fs::read_to_string(path).expect("read log migration 0005")
}

/// The quoted literals after each `needle` in `text`.
fn literals_after<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.match_indices(needle)
        .map(|(at, _)| {
            let rest = text[at + needle.len()..].trim_start();
            let rest = rest.strip_prefix('\'').expect("a quoted literal");
            &rest[..rest.find('\'').expect("a closing quote")]
        })
        .collect()
}

/// The `WHEN (...)` condition of the trigger `events_forget_subjects`.
fn when_clause(sql: &str) -> &str {
    let trigger = &sql[sql
        .find("CREATE TRIGGER events_forget_subjects")
        .expect("the trigger is created")..];
    let when = trigger.find("WHEN").expect("a WHEN clause");
    let end = trigger.find("EXECUTE FUNCTION").expect("EXECUTE FUNCTION");
    &trigger[when..end]
}

/// The `forget_subject` function's body.
fn function_body(sql: &str) -> &str {
    let start = sql
        .find("CREATE FUNCTION forget_subject()")
        .expect("the function is created");
    let body = &sql[start..];
    &body[..body.find("END $$").expect("its end")]
}

fn declared() -> Vec<(&'static str, Forgetting)> {
    vec![
        (
            deedlog_communications_domain::Communications::STREAM_TYPE,
            deedlog_communications_domain::personal::FORGETTING,
        ),
        (
            deedlog_tenancy_domain::tenant::Tenants::STREAM_TYPE,
            deedlog_tenancy_domain::personal::FORGETTING,
        ),
    ]
}

#[test]
fn the_triggers_forgetting_events_are_the_domains_declarations() {
    let sql = migration();
    let when = when_clause(&sql);
    // Each disjunct: (NEW.stream_type = '…' AND NEW.event_type = '…').
    let stream_types = literals_after(when, "NEW.stream_type =");
    let event_types = literals_after(when, "NEW.event_type =");
    assert_eq!(
        stream_types.len(),
        event_types.len(),
        "every event type is bound to a stream type: {when}"
    );
    assert_eq!(
        when.matches(" OR ").count() + 1,
        event_types.len(),
        "{when}"
    );
    let in_sql: BTreeSet<(&str, &str)> = stream_types.into_iter().zip(event_types).collect();
    let in_domains: BTreeSet<(&str, &str)> = declared()
        .iter()
        .map(|(stream_type, forgetting)| (*stream_type, forgetting.event_type))
        .collect();
    assert_eq!(in_sql, in_domains);
    // And the same as the catalogue the cluster builds.
    let catalogue = crate::support::catalogue();
    let catalogued: BTreeSet<&str> = catalogue.forgetting_event_types().collect();
    assert_eq!(
        catalogued,
        in_domains
            .iter()
            .map(|(_, event_type)| *event_type)
            .collect()
    );
}

#[test]
fn the_trigger_finds_each_subject_where_its_declaration_says() {
    let sql = migration();
    let body = function_body(&sql);
    let named: Vec<&str> = literals_after(body, "WHEN");
    for (_, forgetting) in declared() {
        match forgetting.subject {
            Subject::Stream => {
                let when = format!("WHEN '{}' THEN NEW.stream_id", forgetting.event_type);
                assert!(body.contains(&when), "{when} in {body}");
            }
            Subject::Field(path) => {
                assert!(
                    !path.contains('.'),
                    "a nested path needs #>> in the trigger"
                );
                let from_payload = format!("(NEW.payload ->> '{path}')::uuid");
                assert!(body.contains(&from_payload), "{from_payload} in {body}");
                // The ELSE branch takes it: no other event type may reach it.
                assert!(!named.contains(&forgetting.event_type), "{body}");
            }
        }
    }
    assert_eq!(
        named.len() + 1,
        declared().len(),
        "one WHEN per stream subject and the ELSE for the payload's: {body}"
    );
}
