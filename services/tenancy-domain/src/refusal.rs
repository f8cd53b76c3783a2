//! How tenancy's refusals are reported: bad arguments name their field,
//! unknown records are not found, the rest are rule refusals.

use crate::{credentials, tenant};
use deedlog_kernel::{Refusal, RefusalKind};

impl Refusal for tenant::Error {
    fn kind(&self) -> RefusalKind {
        match self {
            tenant::Error::Invalid { field, reason } => RefusalKind::InvalidArgument {
                field: (*field).to_owned(),
                reason: reason.clone(),
            },
            tenant::Error::NotFound | tenant::Error::UnknownUser(_) => RefusalKind::NotFound,
            _ => RefusalKind::Refused,
        }
    }
}

impl Refusal for credentials::Error {
    fn kind(&self) -> RefusalKind {
        match self {
            credentials::Error::InvalidHash => RefusalKind::InvalidArgument {
                field: "password".to_owned(),
                reason: self.to_string(),
            },
            _ => RefusalKind::Refused,
        }
    }
}
