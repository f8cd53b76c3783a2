//! Rate limits per user and per IP address: a token bucket per key that
//! holds a minute's allowance and refills continuously. Buckets that have
//! refilled completely are forgotten, so memory follows active callers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

/// Whose allowance a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    User(Uuid),
    Ip(IpAddr),
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets for users and for IP addresses.
#[derive(Debug)]
pub struct RateLimiter {
    per_user: f64,
    per_ip: f64,
    buckets: Mutex<HashMap<Key, Bucket>>,
}

impl RateLimiter {
    /// Allows `per_user` and `per_ip` requests a minute, in bursts up to the same.
    pub fn new(per_user: u32, per_ip: u32) -> Self {
        Self {
            per_user: per_user.into(),
            per_ip: per_ip.into(),
            buckets: Mutex::default(),
        }
    }

    /// Spends one request of `key`'s allowance; false when none is left.
    pub fn allow(&self, key: Key) -> bool {
        let capacity = match key {
            Key::User(_) => self.per_user,
            Key::Ip(_) => self.per_ip,
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|k, b| refill(b, now, capacity_of(self, k)) < capacity_of(self, k));
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let tokens = refill(bucket, now, capacity);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            true
        } else {
            bucket.tokens = tokens;
            false
        }
    }
}

fn capacity_of(limiter: &RateLimiter, key: &Key) -> f64 {
    match key {
        Key::User(_) => limiter.per_user,
        Key::Ip(_) => limiter.per_ip,
    }
}

/// The bucket's tokens now: a minute refills it from empty.
fn refill(bucket: &mut Bucket, now: Instant, capacity: f64) -> f64 {
    let elapsed = now.duration_since(bucket.at).as_secs_f64();
    bucket.at = now;
    (bucket.tokens + elapsed * capacity / 60.0).min(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_allowance_is_refused_and_keys_are_separate() {
        let limiter = RateLimiter::new(3, 5);
        let user = Key::User(Uuid::nil());
        assert!((0..3).all(|_| limiter.allow(user)));
        assert!(!limiter.allow(user));
        let ip = Key::Ip(IpAddr::from([127, 0, 0, 1]));
        assert!((0..5).all(|_| limiter.allow(ip)));
        assert!(!limiter.allow(ip));
    }
}
