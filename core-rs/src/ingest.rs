//! Ingest: stacks and samples arrive in chunks and are interned on arrival.
//!
//! A sample is kept as one 8-byte record: the core path id (frames root -> leaf, plus the synthetic state
//! frame when the state is not js, so the state costs no extra byte) and the time since the previous sample.
//! A delta that does not fit in u32 is written as an escape record pointing into a side table of f64 deltas,
//! so no time is lost and the common case stays 8 bytes.

use crate::hash::Trie;
use crate::{err, round_time, Error, MAX_STATE, SYNTH_IDLE, SYNTH_SELF};

/// Record id marking an escape: its delta field indexes `Session::big`, which holds the next record's delta.
pub(crate) const ESCAPE: u32 = u32::MAX;
/// Core node of the path [SYNTH idle] (gaps), created with the session.
pub(crate) const IDLE_PATH: u32 = 1;

/// Records in fixed blocks: appending never copies or doubles a big buffer (a Vec would briefly hold
/// 3x the samples while reallocating, and wasm memory never shrinks), so memory stays ~8 bytes/sample.
#[derive(Default)]
pub(crate) struct Records {
    blocks: Vec<Vec<u64>>,
    len: usize,
}

const BLOCK: usize = 1 << 16;

impl Records {
    #[inline]
    pub fn push(&mut self, r: u64) {
        match self.blocks.last_mut() {
            Some(b) if b.len() < BLOCK => b.push(r),
            _ => {
                let mut b = Vec::with_capacity(BLOCK);
                b.push(r);
                self.blocks.push(b);
            }
        }
        self.len += 1;
    }
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn bytes(&self) -> usize {
        self.blocks.len() * BLOCK * 8 + self.blocks.capacity() * 24
    }
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.blocks.iter().flat_map(|b| b.iter().copied())
    }
}

pub struct Session {
    /// Unique paths. Different input stacks with the same frame path share one node.
    pub(crate) trie: Trie,
    /// Input stack id (global over chunks) -> core node.
    stack_core: Vec<u32>,
    /// Largest frame id seen in a stack: checked against the frame count at process time, when it is known.
    max_frame: Option<u32>,
    /// One u64 per sample: low half the core node, high half the delta (us) from the previous sample.
    pub(crate) records: Records,
    /// Deltas too large for a record.
    pub(crate) big: Vec<f64>,
    pub(crate) samples: usize,
    /// The previous sample's time as given (validation) and rounded (deltas, the end of the last sample).
    last_raw: f64,
    pub(crate) last_time: f64,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    pub fn new() -> Session {
        let mut trie = Trie::new();
        let idle = trie.intern(0, SYNTH_IDLE);
        debug_assert_eq!(idle, IDLE_PATH);
        Session {
            trie,
            stack_core: Vec::new(),
            max_frame: None,
            records: Records::default(),
            big: Vec::new(),
            samples: 0,
            last_raw: 0.0,
            last_time: 0.0,
        }
    }

    pub fn stack_count(&self) -> usize {
        self.stack_core.len()
    }

    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// Bytes held per sample and in total, for the memory tests and benchmarks.
    pub fn memory_bytes(&self) -> usize {
        self.records.bytes()
            + self.big.capacity() * 8
            + self.stack_core.capacity() * 4
            + self.trie.len() * 8 * 3
    }

    pub(crate) fn max_frame(&self) -> Option<u32> {
        self.max_frame
    }

    fn check_capacity(&self, more: usize) -> Result<(), Error> {
        // Node ids must stay below ESCAPE; stack ids must fit in an Int32Array.
        let nodes = (self.trie.len() as u64).saturating_add(more as u64);
        let stacks = (self.stack_core.len() as u64).saturating_add(more as u64);
        if nodes >= u64::from(ESCAPE) || stacks > i32::MAX as u64 {
            return err("too many stacks".into());
        }
        Ok(())
    }

    /// Appends a chunk of the stack table; ids continue from the previous chunk. All or nothing.
    pub fn add_stacks(&mut self, parent: &[i32], frame: &[u32]) -> Result<(), Error> {
        if parent.len() != frame.len() {
            return err(format!(
                "stack table: parent has {} entries but frame has {}",
                parent.len(),
                frame.len()
            ));
        }
        self.check_capacity(parent.len())?;
        let base = self.stack_core.len();
        for (i, &p) in parent.iter().enumerate() {
            let id = base + i;
            if p < -1 || p as i64 >= id as i64 {
                return err(format!(
                    "stack {id}: parent {p} is not -1 or a smaller stack id"
                ));
            }
        }
        self.stack_core.reserve(parent.len());
        for (&p, &f) in parent.iter().zip(frame) {
            // p was checked above: -1 or an earlier stack (possibly of this chunk, already pushed).
            let pc = if p < 0 {
                0
            } else {
                self.stack_core[p as usize]
            };
            let c = self.trie.intern(pc, f);
            self.stack_core.push(c);
            self.max_frame = Some(self.max_frame.map_or(f, |m| m.max(f)));
        }
        Ok(())
    }

    /// Appends a chunk of samples (in time order, continuing the previous chunk). All or nothing.
    pub fn add_samples(&mut self, stack: &[i32], time: &[f64], state: &[u8]) -> Result<(), Error> {
        if stack.len() != time.len() || stack.len() != state.len() {
            return err(format!(
                "sample table: stack, time and state have {}, {} and {} entries",
                stack.len(),
                time.len(),
                state.len()
            ));
        }
        self.check_capacity(stack.len())?;
        let nstacks = self.stack_core.len() as i64;
        let mut prev = if self.samples > 0 {
            Some(self.last_raw)
        } else {
            None
        };
        for i in 0..stack.len() {
            let idx = self.samples + i;
            let s = stack[i];
            if s < -1 || s as i64 >= nstacks {
                return err(format!(
                    "sample {idx}: stack id {s} out of range ({nstacks} stacks)"
                ));
            }
            let t = time[i];
            if !t.is_finite() {
                return err(format!("sample {idx}: time {t} is not finite"));
            }
            if t < 0.0 {
                return err(format!("sample {idx}: time {t} is negative"));
            }
            if let Some(p) = prev {
                if t < p {
                    return err(format!(
                        "sample {idx}: time {t} is smaller than the one before it ({p})"
                    ));
                }
            }
            prev = Some(t);
            if state[i] > MAX_STATE {
                return err(format!(
                    "sample {idx}: state {} is not a SampleState (0..5)",
                    state[i]
                ));
            }
        }
        for i in 0..stack.len() {
            let s = stack[i];
            let mut c = if s < 0 {
                0
            } else {
                self.stack_core[s as usize]
            };
            let st = state[i];
            if st != 0 {
                // The state is the last frame of the path: idle=1 -> SYNTH idle, ... outOfContext=5.
                c = self.trie.intern(c, SYNTH_SELF + u32::from(st));
            }
            let rt = round_time(time[i]);
            let base = if self.samples + i == 0 {
                0.0
            } else {
                self.last_time
            };
            let delta = rt - base;
            if delta >= 0.0 && delta < f64::from(u32::MAX) {
                self.records
                    .push(u64::from(c) | ((delta as u32 as u64) << 32));
            } else {
                let slot = self.big.len() as u32;
                self.big.push(delta);
                self.records
                    .push(u64::from(ESCAPE) | (u64::from(slot) << 32));
                self.records.push(u64::from(c));
            }
            self.last_time = rt;
            self.last_raw = time[i];
        }
        self.samples += stack.len();
        Ok(())
    }

    /// Clears everything (the session can be reused).
    pub fn clear(&mut self) {
        *self = Session::new();
    }
}
