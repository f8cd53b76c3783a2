//! A small deterministic random number generator (SplitMix64).
//!
//! Written out here rather than taken from a crate so that a seed produces
//! the same data for as long as this file is unchanged: a generator crate
//! may change its streams between versions, and then re-running a seed
//! would send different commands under the same command ids.

/// SplitMix64: a 64-bit state advanced by a constant and mixed on output.
#[derive(Debug, Clone)]
pub struct Rng(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: spreads every input bit over the output.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator for one purpose, keyed by every part that names it (seed,
    /// tenant, property index, a label), so no two purposes share a stream.
    pub fn new(parts: &[u64]) -> Self {
        let state = parts.iter().fold(0x6465_6564_6c6f_6721_u64, |acc, part| {
            mix(acc.wrapping_add(GOLDEN) ^ mix(*part))
        });
        Self(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// A number in `0..n` (`n` > 0), by multiply-shift: no modulo bias worth naming.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0, "below(0) has no answer");
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        debug_assert!(low <= high);
        let span = high.abs_diff(low).saturating_add(1);
        low.wrapping_add_unsigned(self.below(span))
    }

    /// True `pct` times in a hundred.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// One of `items` (not empty), each as likely.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let index = self.below(items.len() as u64) as usize;
        items[index]
    }

    /// An index into `weights` (not all zero), each as likely as its weight.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut left = self.below(total.max(1));
        for (index, weight) in weights.iter().enumerate() {
            if left < *weight {
                return index;
            }
            left -= weight;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_parts_give_the_same_stream_and_other_parts_another() {
        let draw = |parts: &[u64]| {
            let mut rng = Rng::new(parts);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(&[1, 2, 3]), draw(&[1, 2, 3]));
        assert_ne!(draw(&[1, 2, 3]), draw(&[1, 3, 2]));
        assert_ne!(draw(&[1, 2, 3]), draw(&[1, 2, 4]));
    }

    #[test]
    fn draws_stay_in_their_ranges_and_weights_are_followed() {
        let mut rng = Rng::new(&[7]);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            assert!(rng.below(10) < 10);
            let n = rng.between(-3, 3);
            assert!((-3..=3).contains(&n));
            counts[rng.weighted(&[1, 0, 3])] += 1;
        }
        assert_eq!(counts[1], 0);
        // About 1 : 3, within a few percent.
        assert!((6_800..8_200).contains(&counts[0]), "{counts:?}");
    }
}
