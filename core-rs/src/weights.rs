//! SPEC §1: entries and the gap rule, streamed over the sample records (no per-sample allocation), and the
//! await attribution section: the gap rule's trust in pending waits (rule 1) and the splitting of idle time
//! among pending waits (rule 2), as one sweep over the waits in order of start.
//!
//! The sweep walks the timeline forwards. Waits enter the pending set when the sweep reaches their start
//! and leave it (a heap by end) when it reaches their end; an idle interval is cut at the next start or end,
//! so each piece has a constant pending set. Rule 1 looks ahead (t[i] + interval) with its own cursor and the
//! largest end among the waits started by then: some wait is pending there iff that end lies beyond.
//!
//! Two ways to hand out a piece's k entries:
//! - exact (timeline mode, where the order of entries shapes the tree): each pending wait gets its entry,
//!   in order of start, O(k) per piece;
//! - lazy (aggregated mode and first passes, which only need each path's total and the order in which paths
//!   first carry weight): every pending wait gets floor(L / k) of the piece, so a running sum S of those
//!   shares stands for all of them; a wait is charged S(leave) - S(enter) when it leaves. Only the first
//!   pending wait's remainder is charged on the spot, and a wait's first appearance (its first piece with a
//!   share > 0) is reported on the spot, in order, as a call with weight 0. Cost: O(log waits) per piece and
//!   per wait, whatever the number of pending waits.

use crate::ingest::{Session, WaitRec, ESCAPE, IDLE_PATH};
use crate::SYNTH_IDLE;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What the sweep needs besides the session: the waits' await paths and rule 1's interval.
pub(crate) struct AwaitCtx {
    /// Rounded meta.interval; 0 = rule 1 does not apply.
    pub interval: f64,
    /// Core node of [stack's frames..., SYNTH await] per stack id + 1 (index 0: unknown stack).
    pub paths: Vec<u32>,
}

const REMOVED: u8 = 1;
const APPEARED: u8 = 2;

struct Sweep<'a> {
    s: &'a Session,
    ctx: &'a AwaitCtx,
    /// The session's end (waits' ends are clipped to it).
    end: f64,
    exact: bool,
    n: usize,
    /// Next wait to enter the pending set.
    next: usize,
    /// Pending waits by end: (end bits, index, S when it entered). Ends are >= 0, so bits order like values.
    heap: BinaryHeap<Reverse<(u64, u32, u64)>>,
    /// Pending waits in order of start (entered in that order), with removed ones left in until compaction.
    live: Vec<u32>,
    head: usize,
    /// Lazy mode: pending waits that have not appeared yet, in order of start (removed ones left in).
    fresh: Vec<u32>,
    dead: usize,
    count: usize,
    /// Per wait: REMOVED, APPEARED.
    state: Vec<u8>,
    /// Lazy mode: the sum of floor(L / k) over the pieces so far.
    shares: f64,
    /// Rule 1: next wait to look at, and the largest clipped end of the waits before it.
    r1_next: usize,
    r1_max_end: f64,
}

impl<'a> Sweep<'a> {
    fn new(s: &'a Session, ctx: &'a AwaitCtx, end: f64, exact: bool) -> Sweep<'a> {
        let n = s.waits.len();
        Sweep {
            s,
            ctx,
            end,
            exact,
            n,
            next: 0,
            heap: BinaryHeap::new(),
            live: Vec::new(),
            head: 0,
            fresh: Vec::new(),
            dead: 0,
            count: 0,
            state: vec![0; n],
            shares: 0.0,
            r1_next: 0,
            r1_max_end: f64::NEG_INFINITY,
        }
    }

    #[inline]
    fn rec(&self, i: usize) -> WaitRec {
        self.s.waits.get(i).unwrap_or(WaitRec {
            start: f64::INFINITY,
            len: 0,
            stack: -1,
        })
    }

    /// Wait i's end, clipped to the session's end.
    #[inline]
    fn clipped_end(&self, i: usize, w: &WaitRec) -> f64 {
        self.s.wait_end(i, w).min(self.end)
    }

    #[inline]
    fn path(&self, i: u32) -> u32 {
        let st = self.rec(i as usize).stack;
        self.ctx.paths.get((st + 1) as usize).copied().unwrap_or(0)
    }

    /// Rule 1: is some wait pending at p (start <= p < end)?
    fn pending_at(&mut self, p: f64) -> bool {
        while self.r1_next < self.n {
            let w = self.rec(self.r1_next);
            if w.start > p {
                break;
            }
            let e = self.clipped_end(self.r1_next, &w);
            if e > self.r1_max_end {
                self.r1_max_end = e;
            }
            self.r1_next += 1;
        }
        self.r1_max_end > p
    }

    /// Brings the pending set to point x: waits with start <= x enter, waits with end <= x leave.
    fn advance<F: FnMut(u32, f64)>(&mut self, x: f64, f: &mut F) {
        while self.next < self.n {
            let w = self.rec(self.next);
            if w.start > x {
                break;
            }
            let e = self.clipped_end(self.next, &w);
            if e > x {
                let i = self.next as u32;
                self.heap.push(Reverse((e.to_bits(), i, self.shares.to_bits())));
                self.live.push(i);
                if !self.exact {
                    self.fresh.push(i);
                }
                self.count += 1;
            }
            self.next += 1;
        }
        while let Some(&Reverse((e, i, s0))) = self.heap.peek() {
            if f64::from_bits(e) > x {
                break;
            }
            self.heap.pop();
            self.leave(i, f64::from_bits(s0), f);
        }
        if self.dead > 64 && self.dead > self.count {
            let state = &self.state;
            self.live.retain(|&i| state[i as usize] & REMOVED == 0);
            self.fresh.retain(|&i| state[i as usize] == 0);
            self.head = 0;
            self.dead = 0;
        }
    }

    fn leave<F: FnMut(u32, f64)>(&mut self, i: u32, s0: f64, f: &mut F) {
        let st = &mut self.state[i as usize];
        *st |= REMOVED;
        let appeared = *st & APPEARED != 0;
        self.count -= 1;
        self.dead += 1;
        if !self.exact && appeared {
            let d = self.shares - s0;
            if d > 0.0 {
                f(self.path(i), d);
            }
        }
    }

    /// The pending wait that started first.
    fn first(&mut self) -> u32 {
        while self.head < self.live.len() && self.state[self.live[self.head] as usize] & REMOVED != 0 {
            self.head += 1;
        }
        self.live.get(self.head).copied().unwrap_or(0)
    }

    /// Rule 2 on the idle entry [a, b) of path `idle`.
    fn idle<F: FnMut(u32, f64)>(&mut self, a: f64, b: f64, idle: u32, f: &mut F) {
        let mut x = a;
        while x < b {
            self.advance(x, f);
            let mut y = b;
            if let Some(&Reverse((e, _, _))) = self.heap.peek() {
                y = y.min(f64::from_bits(e));
            }
            if self.next < self.n {
                y = y.min(self.rec(self.next).start);
            }
            let l = y - x;
            if self.count == 0 {
                f(idle, l);
            } else {
                self.split(l, f);
            }
            x = y;
        }
    }

    /// A piece of length l shared by the pending waits.
    fn split<F: FnMut(u32, f64)>(&mut self, l: f64, f: &mut F) {
        let k = self.count as f64;
        let q = (l / k).floor();
        let r = l - k * q;
        let first = self.first();
        if self.exact {
            let mut extra = r;
            for j in self.head..self.live.len() {
                let i = self.live[j];
                if self.state[i as usize] & REMOVED != 0 {
                    continue;
                }
                let w = q + extra;
                extra = 0.0;
                if w > 0.0 {
                    f(self.path(i), w);
                }
            }
            return;
        }
        if r > 0.0 {
            f(self.path(first), r);
            self.state[first as usize] |= APPEARED;
        }
        if q > 0.0 {
            // Every pending wait gets q: those that have not carried weight yet appear now, in order.
            let fresh = core::mem::take(&mut self.fresh);
            for &i in &fresh {
                if self.state[i as usize] == 0 {
                    self.state[i as usize] |= APPEARED;
                    f(self.path(i), 0.0);
                }
            }
            self.fresh = fresh;
            self.fresh.clear();
            self.shares += q;
        }
    }

    /// Lazy mode: charges the waits still pending at the end.
    fn finish<F: FnMut(u32, f64)>(&mut self, f: &mut F) {
        while let Some(Reverse((_, i, s0))) = self.heap.pop() {
            self.leave(i, f64::from_bits(s0), f);
        }
    }
}

/// Calls `f(core_path, weight)` for every entry with weight > 0, in order.
/// `end` = max(duration, last time); `gap_cap` = the longest gap credited to the sample before it.
/// With `waits` (asyncMode enabled/strict and some waits), the await attribution rules apply; then, unless
/// `exact`, weights may arrive late and a path's first appearance may be a call with weight 0 (module doc).
#[inline]
pub(crate) fn for_each_entry<F: FnMut(u32, f64)>(
    s: &Session,
    end: f64,
    gap_cap: f64,
    waits: Option<&AwaitCtx>,
    exact: bool,
    mut f: F,
) {
    let mut sweep = waits
        .filter(|_| s.waits.len() > 0)
        .map(|ctx| Sweep::new(s, ctx, end, exact));
    let interval = waits.map_or(0.0, |c| c.interval);
    let is_idle = |p: u32| s.trie.frame.get(p as usize).copied() == Some(SYNTH_IDLE);

    // An idle entry [a, a + len) of path p.
    let idle = |sw: &mut Option<Sweep>, a: f64, len: f64, p: u32, f: &mut F| {
        if len > 0.0 {
            match sw {
                Some(sw) => sw.idle(a, a + len, p, f),
                None => f(p, len),
            }
        }
    };
    // Sample p at time t, dt until the next sample (or the end).
    let sample = |sw: &mut Option<Sweep>, p: u32, t: f64, dt: f64, f: &mut F| {
        let mut w = if dt < gap_cap { dt } else { gap_cap };
        if let Some(sweep) = sw.as_mut() {
            if interval > 0.0 && w > 2.0 * interval && sweep.pending_at(t + interval) {
                w = 2.0 * interval;
            }
        }
        if w > 0.0 {
            if sw.is_some() && is_idle(p) {
                idle(sw, t, w, p, f);
            } else {
                f(p, w);
            }
        }
        // A gap is never credited to the sample after it: what the cap leaves over is idle.
        idle(sw, t + w, dt - w, IDLE_PATH, f);
    };

    let mut prev: Option<u32> = None;
    let mut big: Option<f64> = None;
    let mut t = 0.0;
    for r in s.records.iter() {
        let id = r as u32;
        let d = (r >> 32) as u32;
        if id == ESCAPE {
            big = Some(s.big.get(d as usize).copied().unwrap_or(0.0));
            continue;
        }
        let dt = big.take().unwrap_or(f64::from(d));
        match prev {
            // Before the first sample: t[0] of idle.
            None => idle(&mut sweep, 0.0, dt, IDLE_PATH, &mut f),
            Some(p) => sample(&mut sweep, p, t, dt, &mut f),
        }
        t += dt;
        prev = Some(id);
    }
    if let Some(p) = prev {
        sample(&mut sweep, p, s.last_time, end - s.last_time, &mut f);
    }
    if let Some(sw) = sweep.as_mut() {
        sw.finish(&mut f);
    }
}
