//! The tenancy context's rules, pure: tenants with their modules and user
//! roster (one stream per tenant), and each user's credentials (one stream
//! per user: password, lock-out after 5 failed logins in 15 minutes, refresh
//! tokens). Who may do what: admins everything; managers invite agents and
//! viewers; a tenant always keeps one active admin; a suspended tenant takes
//! no commands but reactivation.

pub mod credentials;
pub mod inbox;
pub mod personal;
mod refusal;
pub mod role;
pub mod settings;
pub mod slug;
pub mod tenant;

pub use role::{Module, Role};
