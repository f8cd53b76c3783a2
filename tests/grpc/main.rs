//! gRPC tests of the command services: a real cluster on port 0, a real
//! PostgreSQL database per test, real tokens.

mod as_of;
mod auth;
mod communications;
mod contract;
mod countries;
mod credentials;
mod deals;
mod forgetting;
mod idempotency;
mod instances;
mod plumbing;
mod projections;
mod properties;
mod reasons;
mod references;
mod refusals;
mod tenancy;
mod values;

use tonic_types::StatusExt;

/// Asserts that `result` failed with `code` and a message containing `text`.
#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    text: &str,
) -> tonic::Status {
    let status = result.expect_err("the call is refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(text),
        "expected {text:?} in {:?}",
        status.message()
    );
    status
}

/// Asserts that creating a listed apartment as `who` is refused with `code`
/// and `text` in the message.
pub async fn assert_listing_refused(
    c: &mut deedlog_tests::Clients,
    who: &deedlog_tests::Session,
    code: tonic::Code,
    text: &str,
) {
    let listing = deedlog_tests::fixtures::listed_apartment();
    assert_status(
        c.properties.create_property(who.request(listing)).await,
        code,
        text,
    );
}

/// The `ErrorInfo` of a refusal or conflict: its reason and particulars.
pub fn error_info(status: &tonic::Status) -> (String, std::collections::HashMap<String, String>) {
    let info = status
        .get_error_details()
        .error_info()
        .cloned()
        .unwrap_or_else(|| panic!("an ErrorInfo in {status:?}"));
    assert_eq!(info.domain, "deedlog");
    (info.reason, info.metadata)
}

/// Asserts that `result` was refused as INVALID_ARGUMENT with `text` in the
/// message and `field` as the first violation.
#[track_caller]
pub fn assert_invalid_field<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    text: &str,
    field: &str,
) -> tonic::Status {
    let status = assert_status(result, tonic::Code::InvalidArgument, text);
    assert_eq!(violated_field(&status), field, "{status:?}");
    status
}

/// The field named by an INVALID_ARGUMENT status's first violation.
pub fn violated_field(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}
