//! Process plumbing shared by every deedlog component.

pub mod settings;
pub mod shutdown;
pub mod telemetry;

pub use settings::{
    DatabaseSettings, LogFormat, LogSettings, Overrides, Settings, SubscriptionSettings,
};
pub use shutdown::shutdown_on_signals;
pub use telemetry::TelemetryGuard;
