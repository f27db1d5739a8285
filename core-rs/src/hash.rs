//! A small, fast hasher for u64 keys (std's SipHash is several times slower and we need no DoS resistance:
//! keys are (parent node, frame) pairs of our own trie).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // murmur3's fmix64: every key bit reaches the low bits (the bucket index) and the top 7 (the tag).
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^= x >> 33;
        x
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(b);
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.0 = self.0.rotate_left(32) ^ u64::from(n);
    }
}

pub type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

#[inline]
pub fn key(parent: u32, frame: u32) -> u64 {
    (u64::from(parent) << 32) | u64::from(frame)
}

/// A path trie: node 0 is the empty path; every other node is (parent, frame) with parent < node.
#[derive(Clone, Default)]
pub struct Trie {
    pub parent: Vec<u32>,
    pub frame: Vec<u32>,
    map: KeyMap<u32>,
}

impl Trie {
    pub fn new() -> Trie {
        Trie { parent: vec![0], frame: vec![crate::SYNTH_ROOT], map: KeyMap::default() }
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// The node for path(parent) + [frame], created if absent. Ids stay below u32::MAX (the caller checks
    /// capacity first; memory runs out long before).
    #[inline]
    pub fn intern(&mut self, parent: u32, frame: u32) -> u32 {
        let next = self.parent.len() as u32;
        let id = *self.map.entry(key(parent, frame)).or_insert(next);
        if id == next {
            self.parent.push(parent);
            self.frame.push(frame);
        }
        id
    }
}
