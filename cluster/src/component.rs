//! The roles a process can run, as `deedlog up` and `deedlog serve` name them.

use deedlog_runtime::settings::Settings;
use std::fmt;
use std::net::SocketAddr;

/// A part of deedlog that runs as a server; `deedlog serve` takes its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Component {
    Tenancy,
    Properties,
    Deals,
    Communications,
    /// The projector: builds the read models from the log (no listener).
    Projector,
    /// The GraphQL gateway (HTTP).
    Gateway,
    /// Publishes the log to Kafka (needs kafka.brokers; no listener).
    Relay,
    /// Seals the log: signed Merkle heads over blocks of positions (no listener).
    Sealer,
}

impl Component {
    pub const COMMAND_SERVICES: [Component; 4] = [
        Component::Tenancy,
        Component::Properties,
        Component::Deals,
        Component::Communications,
    ];

    /// Everything `deedlog up` runs.
    pub const ALL: [Component; 7] = [
        Component::Tenancy,
        Component::Properties,
        Component::Deals,
        Component::Communications,
        Component::Projector,
        Component::Gateway,
        Component::Sealer,
    ];

    /// Where a command service listens (the gateway binds its own; the
    /// projector does not listen).
    pub(crate) fn listen(self, settings: &Settings) -> Option<SocketAddr> {
        let s = &settings.services;
        match self {
            Component::Tenancy => Some(s.tenancy_listen),
            Component::Properties => Some(s.properties_listen),
            Component::Deals => Some(s.deals_listen),
            Component::Communications => Some(s.communications_listen),
            Component::Projector | Component::Gateway | Component::Relay | Component::Sealer => {
                None
            }
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use clap::ValueEnum;
        // The command line's name; `pad` so that `{:<15}` lines the addresses up.
        let name = self.to_possible_value().expect("no component is skipped");
        f.pad(name.get_name())
    }
}
