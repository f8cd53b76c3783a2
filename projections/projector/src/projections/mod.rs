//! deedlog's projections, one module each.

pub mod analytics;
pub mod communications;
pub mod credential_times;
pub mod deals;
pub mod decode;
pub mod properties;
pub mod tenancy;
pub mod timeline;

use crate::projection::Projection;
use std::sync::Arc;

/// Every projection deedlog runs.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(properties::Properties),
        Arc::new(deals::Deals),
        Arc::new(communications::Communications),
        Arc::new(tenancy::Tenancy),
        Arc::new(analytics::Analytics),
        Arc::new(timeline::Timeline),
    ]
}

/// The projection called `name`.
pub fn by_name(name: &str) -> Result<Arc<dyn Projection>, crate::Error> {
    let all = all();
    let known = all.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
    all.into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| crate::Error::UnknownProjection {
            name: name.to_owned(),
            known,
        })
}
