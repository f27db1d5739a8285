//! Ingest: stacks and samples arrive in chunks and are interned on arrival.
//!
//! A sample is kept as one 8-byte record: the core path id (frames root -> leaf, plus the synthetic state
//! frame when the state is not js, so the state costs no extra byte) and the time since the previous sample.
//! A delta that does not fit in u32 is written as an escape record pointing into a side table of f64 deltas,
//! so no time is lost and the common case stays 8 bytes.
//!
//! Waits (SPEC, await attribution) are kept as 16-byte records in order of start; their stack ids are
//! resolved at process time, since a wait may name a stack that arrives in a later chunk.
//!
//! The CPU column (SPEC, CPU time), when every chunk brings one, is kept apart from the records (so a session
//! without it pays nothing): one u16 a sample, the rounded CPU time since the previous sample, with the same
//! kind of escape into a side table for the rare delta that does not fit.

use crate::hash::Trie;
use crate::{err, is_real, round_time, Error, MAX_STATE, SYNTH_GC, SYNTH_IDLE, SYNTH_SELF};

/// Record id marking an escape: its delta field indexes `Session::big`, which holds the next record's delta.
pub(crate) const ESCAPE: u32 = u32::MAX;
/// Core node of the path [SYNTH idle] (gaps), created with the session.
pub(crate) const IDLE_PATH: u32 = 1;

/// Records in fixed blocks: appending never copies or doubles a big buffer (a Vec would briefly hold
/// 3x the samples while reallocating, and wasm memory never shrinks), so memory stays ~8 bytes/sample.
pub(crate) struct Blocks<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

/// One u64 per sample (see `Session::records`).
pub(crate) type Records = Blocks<u64>;

const BLOCK_BITS: u32 = 16;
const BLOCK: usize = 1 << BLOCK_BITS;

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Blocks { blocks: Vec::new(), len: 0 }
    }
}

impl<T: Copy> Blocks<T> {
    #[inline]
    pub fn push(&mut self, r: T) {
        match self.blocks.last_mut() {
            Some(b) if b.len() < BLOCK => b.push(r),
            _ => {
                // The first block grows (a session with 10 waits holds no full block); later ones are
                // allocated whole.
                let cap = if self.blocks.is_empty() { 64 } else { BLOCK };
                let mut b = Vec::with_capacity(cap);
                b.push(r);
                self.blocks.push(b);
            }
        }
        self.len += 1;
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.capacity()).sum::<usize>() * core::mem::size_of::<T>()
            + self.blocks.capacity() * 24
    }
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.blocks.iter().flat_map(|b| b.iter().copied())
    }
    /// The i-th element; i < len.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        self.blocks.get(i >> BLOCK_BITS).and_then(|b| b.get(i & (BLOCK - 1))).copied()
    }
    /// Replaces the i-th element; i < len.
    pub fn set(&mut self, i: usize, r: T) {
        if let Some(x) = self.blocks.get_mut(i >> BLOCK_BITS).and_then(|b| b.get_mut(i & (BLOCK - 1))) {
            *x = r;
        }
    }
}

/// One wait (SPEC, await attribution), 16 bytes: the rounded start, the rounded length (or LEN_ESCAPE: the
/// rounded end is in `Session::wait_big`), and the stack id as given (-1 unknown; checked at process time).
#[derive(Clone, Copy)]
pub(crate) struct WaitRec {
    pub start: f64,
    pub len: u32,
    pub stack: i32,
}

pub(crate) const LEN_ESCAPE: u32 = u32::MAX;

/// A CPU delta of this value stands for the next entry of `Cpu::big`.
const CPU_ESCAPE: u16 = u16::MAX;

/// The CPU column: per sample, the rounded CPU time since the previous sample's (the first: since 0).
#[derive(Default)]
pub(crate) struct Cpu {
    deltas: Blocks<u16>,
    /// Deltas >= CPU_ESCAPE, in sample order.
    big: Vec<f64>,
    /// The previous sample's CPU time as given (validation) and rounded (deltas).
    last_raw: f64,
    last: f64,
}

impl Cpu {
    fn bytes(&self) -> usize {
        self.deltas.bytes() + self.big.capacity() * 8
    }
}

/// Each sample's CPU delta, in order. A trait so that the pass over a session without the column is compiled
/// with a constant 0 (`NoCpu`): no branch or addition of CPU time is left in it.
pub(crate) trait CpuDeltas {
    fn next_delta(&mut self) -> f64;
}

/// The session has no CPU column.
pub(crate) struct NoCpu;

impl CpuDeltas for NoCpu {
    #[inline(always)]
    fn next_delta(&mut self) -> f64 {
        0.0
    }
}

/// A cursor over the CPU column.
pub(crate) struct CpuCursor<'a> {
    cpu: &'a Cpu,
    i: usize,
    big: usize,
}

impl CpuDeltas for CpuCursor<'_> {
    #[inline]
    fn next_delta(&mut self) -> f64 {
        let c = self.cpu;
        let d = c.deltas.get(self.i).unwrap_or(0);
        self.i += 1;
        if d != CPU_ESCAPE {
            return f64::from(d);
        }
        let v = c.big.get(self.big).copied().unwrap_or(0.0);
        self.big += 1;
        v
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
    /// Waits in order of start.
    pub(crate) waits: Blocks<WaitRec>,
    /// (wait index, rounded end) of the waits whose length does not fit a WaitRec (rare), in index order.
    pub(crate) wait_big: Vec<(usize, f64)>,
    /// The previous wait's start as given (validation).
    last_wait_raw: f64,
    /// The largest stack id of a wait (checked against the stack count at process time), -1 when none.
    pub(crate) max_wait_stack: i32,
    /// The CPU column while every chunk with samples has brought one; None before the first and once lost.
    cpu: Option<Cpu>,
    /// Some chunk with samples came without a CPU column: CPU time is unknown for good.
    cpu_lost: bool,
    /// SPEC §1, garbage collection inside running code: the path of the last sample that was not a bare GC one,
    /// and the records of the bare GC samples since, which take their path from it and the next such sample.
    gc_before: Option<u32>,
    gc_pending: Vec<usize>,
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
            waits: Blocks::default(),
            wait_big: Vec::new(),
            last_wait_raw: 0.0,
            max_wait_stack: -1,
            cpu: None,
            cpu_lost: false,
            gc_before: None,
            gc_pending: Vec::new(),
        }
    }

    /// Whether CPU time is known: every chunk of samples came with a CPU column (SPEC, CPU time).
    pub fn has_cpu(&self) -> bool {
        self.cpu.is_some()
    }

    /// A cursor over each sample's CPU delta, in order; None when CPU time is unknown.
    pub(crate) fn cpu_deltas(&self) -> Option<CpuCursor<'_>> {
        self.cpu.as_ref().map(|cpu| CpuCursor { cpu, i: 0, big: 0 })
    }

    pub fn wait_count(&self) -> usize {
        self.waits.len()
    }

    /// The rounded end of wait i (before clipping to the session's end).
    #[inline]
    pub(crate) fn wait_end(&self, i: usize, w: &WaitRec) -> f64 {
        if w.len != LEN_ESCAPE {
            return w.start + f64::from(w.len);
        }
        match self.wait_big.binary_search_by(|e| e.0.cmp(&i)) {
            Ok(k) => self.wait_big[k].1,
            Err(_) => w.start,
        }
    }

    /// Appends a chunk of waits (in order of start, continuing the previous chunk). All or nothing.
    /// A stack id must be -1 or a stack that exists when the session is processed (stacks may come later).
    pub fn add_waits(&mut self, start: &[f64], end: &[f64], stack: &[i32]) -> Result<(), Error> {
        if start.len() != end.len() || start.len() != stack.len() {
            return err(format!(
                "wait table: start, end and stack have {}, {} and {} entries",
                start.len(),
                end.len(),
                stack.len()
            ));
        }
        let mut prev = if self.waits.len() > 0 { Some(self.last_wait_raw) } else { None };
        for i in 0..start.len() {
            let idx = self.waits.len() + i;
            let (a, b, s) = (start[i], end[i], stack[i]);
            if !a.is_finite() || a < 0.0 {
                return err(format!("wait {idx}: start {a} is not a time >= 0"));
            }
            if !b.is_finite() || b < 0.0 {
                return err(format!("wait {idx}: end {b} is not a time >= 0"));
            }
            if b < a {
                return err(format!("wait {idx}: end {b} is before its start {a}"));
            }
            if let Some(p) = prev {
                if a < p {
                    return err(format!("wait {idx}: start {a} is smaller than the one before it ({p})"));
                }
            }
            prev = Some(a);
            if s < -1 {
                return err(format!("wait {idx}: stack id {s} is not -1 or a stack id"));
            }
        }
        for i in 0..start.len() {
            // + 0.0 turns -0 into 0.
            let a = round_time(start[i]) + 0.0;
            let b = round_time(end[i]) + 0.0;
            let len = b - a;
            let rec = if len < f64::from(LEN_ESCAPE) && a + len == b {
                WaitRec { start: a, len: len as u32, stack: stack[i] }
            } else {
                self.wait_big.push((self.waits.len(), b));
                WaitRec { start: a, len: LEN_ESCAPE, stack: stack[i] }
            };
            self.waits.push(rec);
            self.max_wait_stack = self.max_wait_stack.max(stack[i]);
            self.last_wait_raw = start[i];
        }
        Ok(())
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
            + self.waits.bytes()
            + self.wait_big.capacity() * 16
            + self.cpu.as_ref().map_or(0, Cpu::bytes)
    }

    /// Core node of the stack id (-1 = the empty path); the id must be in range.
    #[inline]
    pub(crate) fn stack_node(&self, s: i32) -> u32 {
        if s < 0 {
            0
        } else {
            self.stack_core.get(s as usize).copied().unwrap_or(0)
        }
    }

    /// Each sample's core path and its time since the previous sample (the first: since 0), in order.
    pub(crate) fn sample_deltas(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        let mut big: Option<f64> = None;
        self.records.iter().filter_map(move |r| {
            let id = r as u32;
            let d = (r >> 32) as u32;
            if id == ESCAPE {
                big = Some(self.big.get(d as usize).copied().unwrap_or(0.0));
                return None;
            }
            Some((id, big.take().unwrap_or(f64::from(d))))
        })
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
            return err(format!("stack table: parent has {} entries but frame has {}", parent.len(), frame.len()));
        }
        self.check_capacity(parent.len())?;
        let base = self.stack_core.len();
        for (i, &p) in parent.iter().enumerate() {
            let id = base + i;
            if p < -1 || p as i64 >= id as i64 {
                return err(format!("stack {id}: parent {p} is not -1 or a smaller stack id"));
            }
        }
        self.stack_core.reserve(parent.len());
        for (&p, &f) in parent.iter().zip(frame) {
            // p was checked above: -1 or an earlier stack (possibly of this chunk, already pushed).
            let pc = if p < 0 { 0 } else { self.stack_core[p as usize] };
            let c = self.trie.intern(pc, f);
            self.stack_core.push(c);
            self.max_frame = Some(self.max_frame.map_or(f, |m| m.max(f)));
        }
        Ok(())
    }

    /// Appends a chunk of samples (in time order, continuing the previous chunk), with its CPU column when the
    /// sampler recorded one (SampleTable.cpu). All or nothing.
    pub fn add_samples(&mut self, stack: &[i32], time: &[f64], state: &[u8], cpu: Option<&[f64]>) -> Result<(), Error> {
        if stack.len() != time.len() || stack.len() != state.len() {
            return err(format!(
                "sample table: stack, time and state have {}, {} and {} entries",
                stack.len(),
                time.len(),
                state.len()
            ));
        }
        if let Some(c) = cpu {
            if c.len() != stack.len() {
                return err(format!("sample table: stack and cpu have {} and {} entries", stack.len(), c.len()));
            }
        }
        self.check_capacity(stack.len())?;
        let nstacks = self.stack_core.len() as i64;
        let mut prev = if self.samples > 0 { Some(self.last_raw) } else { None };
        for i in 0..stack.len() {
            let idx = self.samples + i;
            let s = stack[i];
            if s < -1 || s as i64 >= nstacks {
                return err(format!("sample {idx}: stack id {s} out of range ({nstacks} stacks)"));
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
                    return err(format!("sample {idx}: time {t} is smaller than the one before it ({p})"));
                }
            }
            prev = Some(t);
            if state[i] > MAX_STATE {
                return err(format!("sample {idx}: state {} is not a SampleState (0..5)", state[i]));
            }
        }
        if let Some(c) = cpu {
            let mut prev = self.cpu.as_ref().filter(|_| self.samples > 0).map(|k| k.last_raw);
            for (i, &x) in c.iter().enumerate() {
                let idx = self.samples + i;
                if !x.is_finite() || x < 0.0 {
                    return err(format!("sample {idx}: cpu {x} is not a time >= 0"));
                }
                if let Some(p) = prev {
                    if x < p {
                        return err(format!("sample {idx}: cpu {x} is smaller than the one before it ({p})"));
                    }
                }
                prev = Some(x);
            }
        }
        self.add_cpu(cpu, stack.len());
        for i in 0..stack.len() {
            let s = stack[i];
            let mut c = if s < 0 { 0 } else { self.stack_core[s as usize] };
            let st = state[i];
            if st != 0 {
                // The state is the last frame of the path: idle=1 -> SYNTH idle, ... outOfContext=5.
                c = self.trie.intern(c, SYNTH_SELF + u32::from(st));
            }
            let rt = round_time(time[i]);
            let base = if self.samples + i == 0 { 0.0 } else { self.last_time };
            let delta = rt - base;
            if delta >= 0.0 && delta < f64::from(u32::MAX) {
                self.records.push(u64::from(c) | ((delta as u32 as u64) << 32));
            } else {
                let slot = self.big.len() as u32;
                self.big.push(delta);
                self.records.push(u64::from(ESCAPE) | (u64::from(slot) << 32));
                self.records.push(u64::from(c));
            }
            self.gc_inside_code(c);
            self.last_time = rt;
            self.last_raw = time[i];
        }
        self.samples += stack.len();
        Ok(())
    }

    /// SPEC §1, garbage collection inside running code, for the sample of path `c` just recorded (its record is
    /// the last one): a bare GC sample waits for the next sample that is not one; that sample settles the run.
    fn gc_inside_code(&mut self, c: u32) {
        let bare_gc = self.trie.parent[c as usize] == 0 && self.trie.frame[c as usize] == SYNTH_GC;
        if bare_gc {
            self.gc_pending.push(self.records.len() - 1);
            return;
        }
        let before = self.gc_before.replace(c);
        if self.gc_pending.is_empty() {
            return;
        }
        let run = std::mem::take(&mut self.gc_pending);
        if let Some(a) = before.and_then(|b| self.code_around(b, c)) {
            for r in run {
                // The record keeps its delta (high half); only its path changes.
                let old = self.records.get(r).unwrap_or(0);
                self.records.set(r, (old & !0xffff_ffff) | u64::from(a));
            }
        }
    }

    /// The path [common frames of a and b..., SYNTH gc], or None when either is idle or they share no frame.
    fn code_around(&mut self, a: u32, b: u32) -> Option<u32> {
        let t = &self.trie;
        let code = |n: u32| if is_real(t.frame[n as usize]) { n } else { t.parent[n as usize] };
        let depth = |mut n: u32| {
            let mut d = 0;
            while n != 0 {
                n = t.parent[n as usize];
                d += 1;
            }
            d
        };
        if t.frame[a as usize] == SYNTH_IDLE || t.frame[b as usize] == SYNTH_IDLE {
            return None;
        }
        let (mut a, mut b) = (code(a), code(b));
        let (mut da, mut db) = (depth(a), depth(b));
        while da > db {
            a = t.parent[a as usize];
            da -= 1;
        }
        while db > da {
            b = t.parent[b as usize];
            db -= 1;
        }
        while a != b {
            a = t.parent[a as usize];
            b = t.parent[b as usize];
        }
        (a != 0).then(|| self.trie.intern(a, SYNTH_GC))
    }

    /// Appends a validated CPU column, or loses the column for good when samples come without one.
    fn add_cpu(&mut self, cpu: Option<&[f64]>, n: usize) {
        match cpu {
            None if n > 0 => {
                self.cpu = None;
                self.cpu_lost = true;
            }
            None => {}
            // Samples before this chunk came without one.
            Some(_) if self.cpu.is_none() && self.samples > 0 => self.cpu_lost = true,
            Some(_) if self.cpu_lost => {}
            Some(c) => {
                let k = self.cpu.get_or_insert_with(Cpu::default);
                for &x in c {
                    // + 0.0 turns -0 into 0.
                    let r = round_time(x) + 0.0;
                    let d = r - k.last;
                    if d < f64::from(CPU_ESCAPE) {
                        k.deltas.push(d as u16);
                    } else {
                        k.deltas.push(CPU_ESCAPE);
                        k.big.push(d);
                    }
                    k.last = r;
                    k.last_raw = x;
                }
            }
        }
    }

    /// Clears everything (the session can be reused).
    pub fn clear(&mut self) {
        *self = Session::new();
    }
}
