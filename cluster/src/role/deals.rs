//! The deals service role.

use super::{routes_of, Shared};
use tonic::service::Routes;

pub fn build(shared: &Shared<'_>) -> (&'static str, Routes) {
    routes_of(
        deedlog_deals::DealsApi::new(
            shared.executor.clone(),
            shared.auth.clone(),
            shared.directory.clone(),
        )
        .into_server(),
    )
}
