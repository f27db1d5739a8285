//! SPEC §1: entries and the gap rule, streamed over the sample records (no per-sample allocation), and the
//! await attribution section: where a sample's credit ends (rule 1), the wake-up piece (rule 2) and the
//! splitting of idle time among pending waits (rule 3), as one sweep over the waits in order of start.
//!
//! The sweep walks the timeline forwards. Waits enter the pending set when the sweep reaches their start
//! and leave it (a heap by end) when it reaches their end; an idle interval is cut at the next start or end,
//! so each piece has a constant pending set. Point queries ("is a wait pending at p?", rules 1 and 2) use the
//! running maximum of ends over the waits in order of start (binary search); rule 2's "latest end before b"
//! uses the ends sorted.
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

use crate::ingest::{CpuDeltas, NoCpu, Session, WaitRec, IDLE_PATH};
use crate::stitch::Stitch;
use crate::SYNTH_IDLE;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What the sweep needs besides the session: the waits' await paths and rule 1's interval.
pub(crate) struct AwaitCtx {
    /// Rounded meta.interval; 0 = rules 1 and 2 do not apply.
    pub interval: f64,
    /// Rule 2's bound on a wake-up piece: 4 intervals, none with idleSampled (SPEC, await attribution).
    pub wake_bound: f64,
    /// Core node of [stack's frames..., SYNTH await] per stack id + 1 (index 0: unknown stack).
    pub paths: Vec<u32>,
    /// Samples re-rooted under the logical stack that awaited (stitch.rs); None when none is.
    pub stitch: Option<Stitch>,
    /// Per core path: only the runtime's frames (output.rs runtime_only_paths). Such a sample is the runtime
    /// working while the program waits: shared out like an idle sample's entry (SPEC, await attribution).
    pub runtime_only: Vec<bool>,
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
    /// Per wait (order of start): the largest clipped end among it and the waits before it.
    max_end: Vec<f64>,
    /// Every clipped end, ascending.
    ends: Vec<f64>,
}

impl<'a> Sweep<'a> {
    fn new(s: &'a Session, ctx: &'a AwaitCtx, end: f64, exact: bool) -> Sweep<'a> {
        let n = s.waits.len();
        let mut max_end = Vec::with_capacity(n);
        let mut ends = Vec::with_capacity(n);
        let mut m = f64::NEG_INFINITY;
        for i in 0..n {
            if let Some(w) = s.waits.get(i) {
                let e = s.wait_end(i, &w).min(end);
                m = m.max(e);
                ends.push(e);
            }
            max_end.push(m);
        }
        ends.sort_by(f64::total_cmp);
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
            max_end,
            ends,
        }
    }

    #[inline]
    fn rec(&self, i: usize) -> WaitRec {
        self.s.waits.get(i).unwrap_or(WaitRec { start: f64::INFINITY, len: 0, stack: -1 })
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

    /// How many waits start at or before p (they are a prefix, in order of start).
    fn started_by(&self, p: f64) -> usize {
        let (mut lo, mut hi) = (0, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.rec(mid).start <= p {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Is some wait pending at p (start <= p < clipped end)?
    fn pending_at(&self, p: f64) -> bool {
        let k = self.started_by(p);
        k > 0 && self.max_end[k - 1] > p
    }

    /// Rule 1 (a): the start of the last wait of the run that starts in (t, t + w), cut before the first
    /// wait that starts at or after an end of the run's waits before it; None when the run is empty.
    fn last_start_in(&self, t: f64, w: f64) -> Option<f64> {
        let mut last = None;
        let mut min_end = f64::INFINITY;
        for k in self.started_by(t)..self.n {
            let r = self.rec(k);
            if r.start >= t + w || r.start >= min_end {
                break;
            }
            last = Some(r.start);
            min_end = min_end.min(self.clipped_end(k, &r));
        }
        last
    }

    /// Rule 2: the latest clipped end e with a <= e < b.
    fn latest_end_in(&self, a: f64, b: f64) -> Option<f64> {
        let k = self.ends.partition_point(|&e| e < b);
        self.ends[..k].last().copied().filter(|&e| e >= a)
    }

    /// Brings the pending set to point x: waits with start <= x enter, waits with end <= x leave.
    fn advance<F: FnMut(u32, f64, f64)>(&mut self, x: f64, f: &mut F) {
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

    fn leave<F: FnMut(u32, f64, f64)>(&mut self, i: u32, s0: f64, f: &mut F) {
        let st = &mut self.state[i as usize];
        *st |= REMOVED;
        let appeared = *st & APPEARED != 0;
        self.count -= 1;
        self.dead += 1;
        if !self.exact && appeared {
            let d = self.shares - s0;
            if d > 0.0 {
                f(self.path(i), d, 0.0);
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

    /// Rules 2 and 3 on the idle entry [a, b) of path `idle`; `wake` is the path of the sample at b when
    /// that sample is not idle.
    fn idle<F: FnMut(u32, f64, f64)>(&mut self, a: f64, b: f64, idle: u32, wake: Option<u32>, f: &mut F) {
        let interval = self.ctx.interval;
        let woke = match wake {
            Some(j) if interval > 0.0 => {
                let bound = self.ctx.wake_bound;
                self.latest_end_in(a, b).filter(|&e| b - e <= bound && !self.pending_at(e)).map(|e| (j, e))
            }
            _ => None,
        };
        match woke {
            Some((j, e)) => {
                self.split_idle(a, e, idle, f);
                f(j, b - e, 0.0);
            }
            None => self.split_idle(a, b, idle, f),
        }
    }

    /// Rule 3 on [a, b): pieces with no wait pending stay `idle`, the others are shared by the pending waits.
    fn split_idle<F: FnMut(u32, f64, f64)>(&mut self, a: f64, b: f64, idle: u32, f: &mut F) {
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
                f(idle, l, 0.0);
            } else {
                self.split(l, f);
            }
            x = y;
        }
    }

    /// A piece of length l shared by the pending waits.
    fn split<F: FnMut(u32, f64, f64)>(&mut self, l: f64, f: &mut F) {
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
                    f(self.path(i), w, 0.0);
                }
            }
            return;
        }
        if r > 0.0 {
            f(self.path(first), r, 0.0);
            self.state[first as usize] |= APPEARED;
        }
        if q > 0.0 {
            // Every pending wait gets q: those that have not carried weight yet appear now, in order.
            let fresh = core::mem::take(&mut self.fresh);
            for &i in &fresh {
                if self.state[i as usize] == 0 {
                    self.state[i as usize] |= APPEARED;
                    f(self.path(i), 0.0, 0.0);
                }
            }
            self.fresh = fresh;
            self.fresh.clear();
            self.shares += q;
        }
    }

    /// Lazy mode: charges the waits still pending at the end.
    fn finish<F: FnMut(u32, f64, f64)>(&mut self, f: &mut F) {
        while let Some(Reverse((_, i, s0))) = self.heap.pop() {
            self.leave(i, f64::from_bits(s0), f);
        }
    }
}

/// SPEC §1's parameters: what a gap between samples is.
pub(crate) struct Gaps {
    /// max(duration, last time), rounded.
    pub end: f64,
    /// The longest gap credited to the sample before it, rounded.
    pub cap: f64,
    /// meta.idleSampled: a gap between two samples not in state idle is running time (a running gap).
    pub idle_sampled: bool,
    /// meta.runningGap "previous": a running gap is wholly sample i's.
    pub to_previous: bool,
    /// meta.interval, rounded (0: none): in a running gap, sample i keeps up to 2 intervals.
    pub interval: f64,
}

/// Calls `f(core_path, weight, cpu)` for every entry with weight > 0 or cpu > 0, in order.
/// With `waits` (asyncMode enabled/strict and some waits), the await attribution rules apply; then, unless
/// `exact`, weights may arrive late and a path's first appearance may be a call with weight 0 (module doc).
/// CPU (SPEC, CPU time): each span's CPU goes with the entry of its own path, never to the waits; without the
/// column every cpu is a constant 0.
#[inline]
pub(crate) fn for_each_entry<F: FnMut(u32, f64, f64)>(
    s: &Session,
    gaps: &Gaps,
    waits: Option<&AwaitCtx>,
    exact: bool,
    f: F,
) {
    match s.cpu_deltas() {
        Some(cpu) => entries(s, gaps, waits, exact, cpu, f),
        None => entries(s, gaps, waits, exact, NoCpu, f),
    }
}

#[inline]
fn entries<C: CpuDeltas, F: FnMut(u32, f64, f64)>(
    s: &Session,
    gaps: &Gaps,
    waits: Option<&AwaitCtx>,
    exact: bool,
    mut cpu: C,
    mut f: F,
) {
    let (end, gap_cap) = (gaps.end, gaps.cap);
    let mut sweep = waits.filter(|_| s.waits.len() > 0).map(|ctx| Sweep::new(s, ctx, end, exact));
    let interval = waits.map_or(0.0, |c| c.interval);
    let is_idle = |p: u32| s.trie.frame.get(p as usize).copied() == Some(SYNTH_IDLE);
    // With waits, a sample of the runtime alone (AwaitCtx.runtime_only) is shared out like an idle one and no
    // running gap begins or ends at it; it stays a wake-up's target and a running sample for rule 1.
    let runtime_only = sweep.as_ref().and(waits).map_or(&[][..], |c| c.runtime_only.as_slice());
    let idle_like = |p: u32| is_idle(p) || runtime_only.get(p as usize).copied().unwrap_or(false);

    // An idle entry [a, a + len) of path p with cpu c, followed by the sample `next` at a + len (None: no
    // sample, or idle). Rules 2 and 3 share out its wall time; its CPU stays on p, in an entry of its own first.
    let idle = |sw: &mut Option<Sweep>, a: f64, len: f64, c: f64, p: u32, next: Option<u32>, f: &mut F| match sw {
        Some(sw) => {
            if c > 0.0 {
                f(p, 0.0, c);
            }
            if len > 0.0 {
                sw.idle(a, a + len, p, next, f);
            }
        }
        None => {
            if len > 0.0 || c > 0.0 {
                f(p, len, c);
            }
        }
    };
    // Sample p at time t with cpu c, dt until the next sample `next` (None: the end).
    let sample = |sw: &mut Option<Sweep>, p: u32, t: f64, dt: f64, c: f64, next: Option<u32>, f: &mut F| {
        let capped = if dt < gap_cap { dt } else { gap_cap };
        let mut w = capped;
        let wake = next.filter(|&j| !is_idle(j));
        if let Some(sweep) = sw.as_ref().filter(|_| interval > 0.0) {
            // Rule 1: (a) a running sample whose thread went idle gets up to the wait it started last;
            // (b) otherwise a wait pending a little later caps the credit at two intervals.
            let went_idle = next.is_some_and(&idle_like) || w > 2.0 * interval;
            let started =
                (went_idle && !is_idle(p) && !sweep.pending_at(t)).then(|| sweep.last_start_in(t, w)).flatten();
            if let Some(start) = started {
                w = start - t;
            } else if w > 2.0 * interval && sweep.pending_at(t + interval) {
                w = 2.0 * interval;
                // An idle sample and its remainder are one idle entry for rule 2: a wake-up inside the sample's
                // own entry ends it there, so the piece from the wake-up on is the next sample's.
                if idle_like(p) && wake.is_some() {
                    let bound = sweep.ctx.wake_bound;
                    if let Some(e) = sweep
                        .latest_end_in(t, t + dt)
                        .filter(|&e| e < t + w && t + dt - e <= bound && !sweep.pending_at(e))
                    {
                        w = e - t;
                    }
                }
            }
        }
        if let Some(j) = wake.filter(|&j| gaps.idle_sampled && !idle_like(p) && !idle_like(j) && w == capped) {
            // A running gap (rule 1 saw no wait): the sampler was starved, the program ran. Sample i keeps up to
            // 2 intervals, the late part is where the next sample found the thread (or all of it is sample i's,
            // runningGap "previous"); nothing is idle.
            let head = if gaps.to_previous {
                dt
            } else if gaps.interval > 0.0 {
                w.min(2.0 * gaps.interval).min((dt / 2.0).floor())
            } else {
                w
            };
            if head > 0.0 || c > 0.0 {
                f(p, head, c);
            }
            if dt - head > 0.0 {
                f(j, dt - head, 0.0);
            }
            return;
        }
        if sw.is_some() && idle_like(p) {
            idle(sw, t, w, c, p, if w == dt { wake } else { None }, f);
        } else if w > 0.0 || c > 0.0 {
            f(p, w, c);
        }
        // A gap is never credited to the sample after it: what the cap leaves over is idle.
        idle(sw, t + w, dt - w, 0.0, IDLE_PATH, wake, f);
    };

    let mut stitch = waits.and_then(|c| c.stitch.as_ref()).map(|st| st.cursor());
    let mut prev: Option<u32> = None;
    let mut t = 0.0;
    for (id, dt) in s.sample_deltas() {
        let id = stitch.as_mut().map_or(id, |c| c.path(id, t + dt));
        // The CPU time up to this sample is the span before it: the previous sample's, or the leading idle's.
        let dc = cpu.next_delta();
        match prev {
            // Before the first sample: t[0] of idle.
            None => idle(&mut sweep, 0.0, dt, dc, IDLE_PATH, Some(id).filter(|&j| !is_idle(j)), &mut f),
            Some(p) => sample(&mut sweep, p, t, dt, dc, Some(id), &mut f),
        }
        t += dt;
        prev = Some(id);
    }
    // The last sample: no reading after it, so no CPU.
    if let Some(p) = prev {
        sample(&mut sweep, p, s.last_time, end - s.last_time, 0.0, None, &mut f);
    }
    if let Some(sw) = sweep.as_mut() {
        sw.finish(&mut f);
    }
}
