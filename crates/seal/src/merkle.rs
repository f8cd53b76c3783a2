//! Merkle trees as RFC 9162 (Certificate Transparency 2.0) defines them,
//! section 2.1: SHA-256, a leaf hashed as `0x00 ‖ data`, a node as
//! `0x01 ‖ left ‖ right` (so a leaf can never pass for a node), and a tree
//! of `n` leaves split at the largest power of two below `n`.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf whose data is `data`.
pub fn leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an inner node.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two below `n` (`n` ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The root of the tree over `leaves` (already leaf hashes); the hash of
/// the empty string for none, as the RFC says.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path of leaf `index` (RFC 9162 2.1.3.1), bottom up.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 || index >= n {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut path = inclusion_proof(&leaves[..k], index);
        path.push(root(&leaves[k..]));
        path
    } else {
        let mut path = inclusion_proof(&leaves[k..], index - k);
        path.push(root(&leaves[..k]));
        path
    }
}

/// Whether `path` proves `leaf` at `index` of a tree of `size` leaves
/// with `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && &r == root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf(&(i as u64).to_be_bytes())).collect()
    }

    #[test]
    fn small_trees_are_built_as_the_rfc_says() {
        let l = leaves(3);
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node(&l[0], &l[1]));
        assert_eq!(root(&l), node(&node(&l[0], &l[1]), &l[2]));
        assert_ne!(leaf(b""), root(&[]), "a leaf is not the empty tree");
    }

    proptest! {
        /// Every leaf's path proves it, and proves nothing else: another
        /// leaf, index, size or root fails.
        #[test]
        fn every_path_proves_its_leaf_and_only_it(n in 1usize..70, pick in any::<prop::sample::Index>()) {
            let l = leaves(n);
            let r = root(&l);
            let i = pick.index(n);
            let path = inclusion_proof(&l, i);
            prop_assert!(verify_inclusion(&l[i], i as u64, n as u64, &path, &r));
            let other = leaf(b"edited");
            prop_assert!(!verify_inclusion(&other, i as u64, n as u64, &path, &r));
            if n > 1 {
                let j = (i + 1) % n;
                prop_assert!(!verify_inclusion(&l[i], j as u64, n as u64, &path, &r));
            }
            // (Another size may share the path's shape: a proof is bound to
            // its size by the signed head, not by the path.)
            prop_assert!(!verify_inclusion(&l[i], i as u64, n as u64, &path, &leaf(b"root")));
        }
    }
}
