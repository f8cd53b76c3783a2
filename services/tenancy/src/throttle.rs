//! Throttling of failed logins per client address: a sliding window of the
//! instants of each address's recent failures. An address with `limit`
//! failures inside the window may not try again until the oldest of them
//! leaves it. Successful logins are not counted.
//!
//! An attempt is counted as a failure when it is admitted and forgotten when
//! it turns out not to be one, so a burst of concurrent guesses cannot slip
//! past the limit while the first ones are still being checked. The state is
//! in memory, per process (ADR 0027).

use deedlog_kernel::number::reaches;
use deedlog_runtime::auth::CLIENT_ADDRESS_HEADER;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tonic::metadata::MetadataMap;

/// How many failed logins an address may have within `window`, and which
/// peers may name the client they call for.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    pub failures: u32,
    pub window: Duration,
    /// Peers (the gateway) whose `x-deedlog-client-addr` header is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

/// An admitted attempt, counted as a failure until [`Failures::forget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub address: IpAddr,
    pub at: Instant,
}

/// The recent failures of every address (pure: time comes in).
#[derive(Debug)]
pub struct Failures {
    limit: u32,
    window: Duration,
    by_address: HashMap<IpAddr, VecDeque<Instant>>,
}

/// Addresses kept before a sweep drops those with no failure in the window.
const SWEEP_ABOVE: usize = 100_000;

impl Failures {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            by_address: HashMap::new(),
        }
    }

    /// Admits an attempt from `address` at `now` and counts it as a failure,
    /// or refuses it with how long until the address may try again.
    pub fn admit(&mut self, address: IpAddr, now: Instant) -> Result<Attempt, Duration> {
        if self.by_address.len() > SWEEP_ABOVE {
            let window = self.window;
            self.by_address.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        let times = self.by_address.entry(address).or_default();
        prune(times, now, self.window);
        if reaches(times.len(), self.limit) {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = (oldest + self.window).saturating_duration_since(now);
            return Err(wait);
        }
        times.push_back(now);
        Ok(Attempt { address, at: now })
    }

    /// Takes back an admitted attempt that was not a failure.
    pub fn forget(&mut self, attempt: Attempt) {
        if let Some(times) = self.by_address.get_mut(&attempt.address) {
            if let Some(i) = times.iter().rposition(|t| *t == attempt.at) {
                times.remove(i);
            }
            if times.is_empty() {
                self.by_address.remove(&attempt.address);
            }
        }
    }

    /// Failures of `address` counted now (for tests).
    #[cfg(test)]
    fn counted(&self, address: IpAddr, now: Instant) -> usize {
        self.by_address.get(&address).map_or(0, |times| {
            times.iter().filter(|t| **t + self.window > now).count()
        })
    }
}

/// Drops the instants that have left the window ending at `now`.
fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times.front().is_some_and(|t| *t + window <= now) {
        times.pop_front();
    }
}

/// The failures of a service, shared by its handlers.
#[derive(Debug)]
pub struct LoginThrottle {
    failures: Mutex<Failures>,
    trusted_proxies: Vec<IpAddr>,
}

impl LoginThrottle {
    pub fn new(limits: &LoginLimits) -> Self {
        Self {
            failures: Mutex::new(Failures::new(limits.failures, limits.window)),
            trusted_proxies: limits.trusted_proxies.clone(),
        }
    }

    pub fn admit(&self, address: IpAddr) -> Result<Attempt, Duration> {
        self.lock().admit(address, Instant::now())
    }

    pub fn forget(&self, attempt: Attempt) {
        self.lock().forget(attempt);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        // The counts stay consistent if a holder panicked: each change is one step.
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The address a login is counted against: the peer's, or the client's
    /// the peer names when the peer is a trusted proxy (the gateway).
    pub fn client_address(&self, metadata: &MetadataMap, peer: Option<SocketAddr>) -> IpAddr {
        client_address(metadata, peer, &self.trusted_proxies)
    }
}

fn client_address(
    metadata: &MetadataMap,
    peer: Option<SocketAddr>,
    trusted_proxies: &[IpAddr],
) -> IpAddr {
    // Without a peer address (not over TCP) every such caller shares one allowance.
    let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    metadata
        .get(CLIENT_ADDRESS_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WINDOW: Duration = Duration::from_secs(60);

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn the_limit_refuses_until_the_oldest_failure_leaves_the_window() {
        let start = Instant::now();
        let mut failures = Failures::new(3, WINDOW);
        for s in 0..3 {
            failures
                .admit(ip(1), start + Duration::from_secs(s))
                .expect("under the limit");
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(failures.admit(ip(1), later), Err(Duration::from_secs(50)));
        assert!(
            failures.admit(ip(2), later).is_ok(),
            "addresses are separate"
        );
        assert!(failures.admit(ip(1), start + WINDOW).is_ok());
    }

    #[test]
    fn a_forgotten_attempt_does_not_count() {
        let start = Instant::now();
        let mut failures = Failures::new(1, WINDOW);
        let attempt = failures.admit(ip(1), start).expect("first");
        failures.forget(attempt);
        assert!(failures.admit(ip(1), start).is_ok());
        assert!(failures.admit(ip(1), start).is_err());
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let mut metadata = MetadataMap::new();
        metadata.insert(CLIENT_ADDRESS_HEADER, "192.0.2.7".parse().expect("ascii"));
        let gateway: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        let stranger: SocketAddr = "198.51.100.1:5000".parse().expect("address");
        let trusted = [gateway.ip()];
        assert_eq!(
            client_address(&metadata, Some(gateway), &trusted),
            IpAddr::from([192, 0, 2, 7])
        );
        assert_eq!(
            client_address(&metadata, Some(stranger), &trusted),
            stranger.ip()
        );
        assert_eq!(
            client_address(&MetadataMap::new(), Some(gateway), &trusted),
            gateway.ip()
        );
        let mut garbage = MetadataMap::new();
        garbage.insert(
            CLIENT_ADDRESS_HEADER,
            "not an address".parse().expect("ascii"),
        );
        assert_eq!(
            client_address(&garbage, Some(gateway), &trusted),
            gateway.ip()
        );
    }

    /// One step: an attempt from one of three addresses at a time offset,
    /// which then fails or succeeds.
    fn steps() -> impl Strategy<Value = Vec<(u8, u64, bool)>> {
        prop::collection::vec((0u8..3, 0u64..30, any::<bool>()), 0..200)
    }

    proptest! {
        /// Against a model that keeps every failure: an attempt is admitted
        /// exactly when fewer than `limit` failures of its address lie in the
        /// window, a refusal's wait ends when the oldest leaves it, and
        /// successes never count.
        #[test]
        fn admits_exactly_while_fewer_than_the_limit_failed_in_the_window(
            limit in 1u32..6,
            window_s in 1u64..90,
            steps in steps(),
        ) {
            let start = Instant::now();
            let window = Duration::from_secs(window_s);
            let mut failures = Failures::new(limit, window);
            let mut model: Vec<(IpAddr, Instant)> = Vec::new();
            let mut now = start;
            for (address, advance, fails) in steps {
                now += Duration::from_secs(advance);
                let address = ip(address);
                let recent: Vec<Instant> = model
                    .iter()
                    .filter(|(a, t)| *a == address && *t + window > now)
                    .map(|(_, t)| *t)
                    .collect();
                match failures.admit(address, now) {
                    Ok(attempt) => {
                        prop_assert!(recent.len() < limit as usize);
                        if fails {
                            model.push((address, now));
                        } else {
                            failures.forget(attempt);
                        }
                    }
                    Err(wait) => {
                        prop_assert!(recent.len() >= limit as usize);
                        let oldest = recent.iter().min().copied().expect("a failure");
                        prop_assert_eq!(wait, oldest + window - now);
                    }
                }
                let counted = model
                    .iter()
                    .filter(|(a, t)| *a == address && *t + window > now)
                    .count();
                prop_assert_eq!(failures.counted(address, now), counted);
            }
        }
    }
}
