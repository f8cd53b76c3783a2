//! Which fields of a command request carry its command options and the id
//! of the record it is about, so that the shared command path reads them
//! itself instead of every handler passing two accessors.
//!
//! The impls live here, beside the trait, because both the trait's users
//! and the request types (deedlog-proto) are foreign to the service crates.

use deedlog_proto::common::v1::CommandOptions;
use deedlog_proto::properties::v1 as properties;
use deedlog_proto::tenancy::v1 as tenancy;
use deedlog_proto::{communications::v1 as communications, deals::v1 as deals};

/// A command request: where its command options are.
pub trait CommandRequest: prost::Message {
    /// The request's command options (id, correlation, expected version).
    fn options(&self) -> Option<&CommandOptions>;
}

/// A command request on an existing record.
pub trait RecordRequest: CommandRequest {
    /// The id of the record the command is about, as the request spells it.
    fn record_id(&self) -> &str;
}

/// Implements [`CommandRequest`] for requests whose options are `command`.
macro_rules! command_requests {
    ($($request:ty),+ $(,)?) => {$(
        impl CommandRequest for $request {
            fn options(&self) -> Option<&CommandOptions> {
                self.command.as_ref()
            }
        }
    )+};
}

/// Implements [`RecordRequest`] (and [`CommandRequest`]) for requests whose
/// options are `command` and whose record id is the field `$id`.
macro_rules! record_requests {
    ($id:ident: $($request:ty),+ $(,)?) => {
        command_requests!($($request),+);
        $(
            impl RecordRequest for $request {
                fn record_id(&self) -> &str {
                    &self.$id
                }
            }
        )+
    };
}

command_requests!(
    tenancy::RenameTenantRequest,
    tenancy::SetModuleRequest,
    tenancy::SetCommunicationSettingsRequest,
    tenancy::ChangeRoleRequest,
    tenancy::ForgetUserRequest,
    tenancy::MarkNotificationsReadRequest,
);

record_requests!(deal_id:
    deals::MoveStageRequest,
    deals::WinDealRequest,
    deals::LoseDealRequest,
    deals::SetOfferRequest,
    deals::SetCommissionRequest,
    deals::SetProbabilityRequest,
    deals::SetExpectedCloseRequest,
    deals::ReassignDealRequest,
    deals::ReopenDealRequest,
    deals::ScenarioRequest,
    deals::RemoveScenarioRequest,
);

record_requests!(property_id:
    properties::ChangeAddressRequest,
    properties::ChangeAttributesRequest,
    properties::ChangeAskingPriceRequest,
    properties::RecordValuationRequest,
    properties::ChangeListingStatusRequest,
    properties::AssignAgentRequest,
    properties::SetOwnerRequest,
    properties::TagRequest,
    properties::ArchivePropertyRequest,
    properties::RestorePropertyRequest,
);

record_requests!(contact_id:
    communications::UpdateContactRequest,
    communications::GrantConsentRequest,
    communications::WithdrawConsentRequest,
    communications::SetDoNotCallRequest,
    communications::UnsubscribeRequest,
    communications::SendMessageRequest,
    communications::RecordDeliveryRequest,
    communications::RecordReplyRequest,
    communications::ResumeCadenceRequest,
    communications::ForgetContactRequest,
);
