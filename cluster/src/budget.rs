//! The connection budget: `database.max_connections` is the most
//! connections one process opens to PostgreSQL, whatever it runs. Some are
//! held apart from the pools (lease sessions); the rest is shared by one
//! pool per database role, each sized by what the process's components do
//! with it. Pools close connections idle for a few
//! seconds, so an idle process holds little more than the held ones.

use crate::Component;
use deedlog_runtime::settings::{ProjectorSource, Settings};
use std::fmt;

/// How a process's connections are divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    /// Command services' appends and reads, as `database.app_role`.
    pub app: u32,
    /// Reads of every tenant's log (projector, tenancy, relay, sealer), as
    /// `database.reader_role`, with the projector's and relay's LISTEN.
    pub reader: u32,
    /// Read models, as the connecting user: the projector's writes and the
    /// gateway's reads, with the gateway's LISTEN.
    pub owner: u32,
    /// Held outside the pools: the projector's lease session and its
    /// one-off leases' (create, verify); the relay's lease; the sealer's lock.
    pub held: u32,
}

impl Budget {
    /// Divides `total` among what `components` need; refuses a total too
    /// small to give each pool they use one connection.
    pub fn plan(
        total: u32,
        components: &[Component],
        source: ProjectorSource,
    ) -> Result<Budget, TooSmall> {
        let has = |c: Component| components.contains(&c);
        let log_projector = has(Component::Projector) && source == ProjectorSource::Log;
        // Detached from the pools: the projector's lease session and its
        // one-off leases' session; the relay's lease; the sealer's lock.
        let held = if log_projector { 2 } else { 0 }
            + u32::from(has(Component::Relay))
            + u32::from(has(Component::Sealer));
        // A LISTEN session keeps a connection of its pool for itself: the
        // projector's and the relay's of the reader pool, the gateway's of
        // the read-model pool. Each such pool gets one more for it.
        let reader_listens = u32::from(log_projector) + u32::from(has(Component::Relay));
        let owner_listens = u32::from(has(Component::Gateway));
        // Weights: commands and read models carry the load; the log is
        // read by one shared tail and the occasional catch-up.
        let pools = [
            (Component::COMMAND_SERVICES.iter().any(|c| has(*c)), 2),
            (has(Component::Gateway) || has(Component::Projector), 2),
            (
                has(Component::Tenancy)
                    || log_projector
                    || has(Component::Relay)
                    || has(Component::Sealer),
                1,
            ),
        ];
        let used = pools.iter().filter(|(used, _)| *used).count() as u32;
        let needed = held + reader_listens + owner_listens + used;
        if total < needed {
            return Err(TooSmall {
                total,
                needed,
                held: held + reader_listens + owner_listens,
            });
        }
        let rest = total - held - reader_listens - owner_listens;
        let weights: u32 = pools.iter().filter(|(u, _)| *u).map(|(_, w)| w).sum();
        let mut shares = pools.map(|(used, weight)| match used {
            true => (rest * weight / weights.max(1)).max(1),
            false => 0,
        });
        // Rounding: what is left goes to the first pool in use; a minimum
        // of one that overshot comes off the largest.
        let mut sum: u32 = shares.iter().sum();
        while sum > rest {
            let largest = (0..3).max_by_key(|&i| shares[i]).expect("three pools");
            shares[largest] -= 1;
            sum -= 1;
        }
        if let Some(first) = (0..3).find(|&i| shares[i] > 0) {
            shares[first] += rest - sum;
        }
        let [app, owner, reader] = shares;
        Ok(Budget {
            app,
            reader: reader + reader_listens,
            owner: owner + owner_listens,
            held,
        })
    }

    /// The budget `settings` give `components`.
    pub fn of(settings: &Settings, components: &[Component]) -> Result<Budget, TooSmall> {
        Self::plan(
            settings.database.max_connections,
            components,
            settings.projector.source,
        )
    }

    pub fn total(&self) -> u32 {
        self.app + self.reader + self.owner + self.held
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} for commands, {} for reading the log, {} for read models, {} held for leases",
            self.app, self.reader, self.owner, self.held
        )
    }
}

/// `database.max_connections` cannot serve the components asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooSmall {
    pub total: u32,
    pub needed: u32,
    pub held: u32,
}

impl fmt::Display for TooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "database.max_connections = {} is too small for these components: they need at least {} \
             ({} held for leases and LISTEN, and one per pool); raise it",
            self.total, self.needed, self.held
        )
    }
}

impl std::error::Error for TooSmall {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn up() -> Vec<Component> {
        Component::ALL.to_vec()
    }

    #[test]
    fn up_with_the_default_total_gets_every_pool_a_working_share() {
        let budget = Budget::plan(20, &up(), ProjectorSource::Log).expect("fits");
        assert_eq!(
            budget,
            Budget {
                app: 6,
                reader: 4,
                owner: 7,
                held: 3
            }
        );
    }

    /// The table in docs/configuration.md, "The connection budget".
    #[test]
    fn the_documented_shares_are_the_planned_ones() {
        use Component::*;
        let with_relay = [&Component::ALL[..], &[Relay]].concat();
        let rows: [(&[Component], [u32; 4]); 6] = [
            (&Component::ALL, [3, 6, 7, 4]),
            (&with_relay, [4, 6, 6, 4]),
            (&[Properties], [0, 20, 0, 0]),
            (&[Tenancy], [0, 14, 0, 6]),
            (&[Projector], [2, 0, 12, 6]),
            (&[Gateway], [0, 0, 20, 0]),
        ];
        for (components, [held, app, owner, reader]) in rows {
            let budget = Budget::plan(20, components, ProjectorSource::Log).expect("fits");
            let expected = Budget {
                app,
                reader,
                owner,
                held,
            };
            assert_eq!(budget, expected, "{components:?}");
        }
    }

    #[test]
    fn a_single_command_service_gets_the_whole_budget_for_appends() {
        let budget =
            Budget::plan(20, &[Component::Properties], ProjectorSource::Log).expect("fits");
        assert_eq!(
            budget,
            Budget {
                app: 20,
                ..Budget::default()
            }
        );
    }

    #[test]
    fn a_total_below_what_the_components_hold_is_refused_with_the_minimum() {
        let error = Budget::plan(6, &up(), ProjectorSource::Log).expect_err("too small");
        assert_eq!(error.needed, 8);
        let message = error.to_string();
        assert!(
            message.contains("database.max_connections = 6"),
            "{message}"
        );
        assert!(message.contains("at least 8"), "{message}");
    }

    fn components() -> impl Strategy<Value = Vec<Component>> {
        let all = [&Component::ALL[..], &[Component::Relay]].concat();
        let count = all.len();
        proptest::sample::subsequence(all, 1..=count)
    }

    proptest! {
        /// Whatever runs and whatever the total: never more than the total,
        /// and every pool in use gets at least one connection.
        #[test]
        fn the_budget_never_exceeds_the_total(
            total in 1u32..200,
            components in components(),
            kafka in any::<bool>(),
        ) {
            let source = if kafka { ProjectorSource::Kafka } else { ProjectorSource::Log };
            let has = |c: Component| components.contains(&c);
            match Budget::plan(total, &components, source) {
                Ok(budget) => {
                    prop_assert!(budget.total() <= total, "{budget:?} > {total}");
                    prop_assert_eq!(budget.total(), total, "the whole total is used");
                    let commands = Component::COMMAND_SERVICES.iter().any(|c| has(*c));
                    prop_assert_eq!(budget.app > 0, commands);
                    prop_assert_eq!(
                        budget.owner > 0,
                        has(Component::Gateway) || has(Component::Projector)
                    );
                    let reads_log = has(Component::Tenancy)
                        || has(Component::Relay)
                        || has(Component::Sealer)
                        || (has(Component::Projector) && !kafka);
                    prop_assert_eq!(budget.reader > 0, reads_log);
                }
                Err(error) => prop_assert!(total < error.needed),
            }
        }
    }
}
