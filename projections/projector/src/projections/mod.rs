//! deedlog's projections, one module each.

/// Declares a projection: its unit struct and its [`Projection`] impl,
/// whose name is also the file of its DDL
/// (`migrations/projections/<name>.sql`), and whose batches go to `$apply`,
/// an `async fn(&mut PgConnection, …) -> Result<(), ApplyError>` of the
/// module. With `stream`, `$apply` gets only the batch's events of that
/// stream type (a `deedlog_kernel::stream_type` constant), decoded into
/// `$event`, with the [`Keys`], and is not called when there are none;
/// without, it gets the batch as it is. A projection opens the sealed
/// personal fields of its stream type (with `stream`), of those listed in
/// a trailing `opens [...]` (without), or of every event (neither).
///
/// [`Keys`]: crate::projection::Keys
///
/// [`Projection`]: crate::projection::Projection
macro_rules! projection {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $apply:path $(, opens [$($opens:expr),*])?) => {
        projection!(@impl $(#[$doc])* $ty, $name, $(opens [$($opens),*])?, |conn, events, _keys| {
            $apply(conn, events).await
        });
    };
    ($(#[$doc:meta])* $ty:ident, $name:literal, stream $stream:ident of $event:ty, $apply:path) => {
        projection!(@impl $(#[$doc])* $ty, $name, opens [deedlog_kernel::stream_type::$stream], |conn, events, keys| {
            let decoded = $crate::projections::decode::events_of::<$event>(
                events,
                deedlog_kernel::stream_type::$stream,
            )?;
            if decoded.is_empty() {
                return Ok(());
            }
            $apply(conn, &decoded, keys).await
        });
    };
    (@impl $(#[$doc:meta])* $ty:ident, $name:literal, $(opens [$($opens:expr),*])?, |$conn:ident, $events:ident, $keys:ident| $body:block) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;

        #[async_trait::async_trait]
        impl $crate::projection::Projection for $ty {
            fn name(&self) -> &'static str {
                $name
            }

            $(fn opens(&self) -> Option<&'static [&'static str]> {
                Some(&[$($opens),*])
            })?

            fn ddl(&self) -> &'static str {
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../migrations/projections/",
                    $name,
                    ".sql"
                ))
            }

            async fn apply(
                &self,
                $conn: &mut sqlx::PgConnection,
                $events: &[deedlog_eventstore::RecordedEvent],
                $keys: $crate::projection::Keys<'_>,
            ) -> Result<(), $crate::projection::ApplyError> {
                $body
            }
        }
    };
}

pub mod analytics;
pub mod applied;
pub mod communications;
pub mod credential_times;
pub mod deals;
pub mod decode;
pub mod notifications;
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
        Arc::new(notifications::Notifications),
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
