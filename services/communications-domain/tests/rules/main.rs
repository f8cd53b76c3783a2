//! Given/when/then for every rule of the communications context (DOMAIN.md,
//! "Communications"), one module per area.

mod cadence;
mod consent;
mod contact;
mod forgetting;
mod provider;
mod quiet_hours;
mod sending;
mod stored;
mod support;
