//! `deedlog config check`: the effective settings, or the invalid key (which
//! loading the settings names before this runs).

use anyhow::Context;
use deedlog_runtime::settings::Settings;

/// The effective settings as TOML, secrets redacted. The settings print
/// themselves (`Serialize`), so a new setting shows up here unasked.
pub(super) fn describe(settings: &Settings) -> anyhow::Result<String> {
    settings.to_toml().context("print the settings as TOML")
}
