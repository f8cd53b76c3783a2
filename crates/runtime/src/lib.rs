//! Process plumbing shared by every deedlog component: settings, telemetry,
//! shutdown, token signing and verification, and the edge error codes.

pub mod auth;
pub mod error_code;
pub mod settings;
pub mod shutdown;
pub mod telemetry;

pub use error_code::ErrorCode;
pub use settings::{
    AuthSettings, DatabaseSettings, Environment, LogFormat, LogSettings, Overrides,
    ServicesSettings, Settings, SubscriptionSettings, TelemetrySettings,
};
pub use shutdown::{shutdown_on_signals, CancellationToken};
pub use telemetry::TelemetryGuard;
