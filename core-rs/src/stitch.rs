//! Await attribution's logical stacks (SPEC, "Async stacks"): code that runs after an await is entered from the
//! event loop, so its sampled stack starts at the resumed function. The wait whose completion last reached
//! JavaScript names the logical stack that awaited; when that stack contains the resumed function, the sample
//! is re-rooted under the callers the wait recorded (main > handler instead of a second top-level handler).
//!
//! Built once per process (it interns the re-rooted paths, which needs the trie mutable), then consulted per
//! sample through a cursor over the waits in order of end.

use crate::hash::{key, KeyMap};
use crate::ingest::{Session, ESCAPE};
use crate::{is_real, FLAG_HIDDEN, FLAG_INTERNAL, SYNTH_IDLE};

pub(crate) struct Stitch {
    /// (clipped end, stack id) of every wait, ascending by end, ties in input order.
    by_end: Vec<(f64, i32)>,
    /// key(sample path, wait stack + 1) -> the re-rooted path; absent = the sample's own path.
    map: KeyMap<u32>,
}

/// Which wait last reached JavaScript, as sample times advance.
pub(crate) struct Cursor<'a> {
    st: &'a Stitch,
    next: usize,
}

impl Stitch {
    /// None when no sample is re-rooted.
    pub(crate) fn build(s: &mut Session, end: f64, flags: &[u8]) -> Option<Stitch> {
        let mut by_end: Vec<(f64, i32)> = (0..s.waits.len())
            .filter_map(|i| s.waits.get(i).map(|w| (s.wait_end(i, &w).min(end), w.stack)))
            .collect();
        // Stable: equal ends stay in input order, so the last of them is the latest.
        by_end.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut st = Stitch { by_end, map: KeyMap::default() };

        let mut todo: Vec<(u32, i32)> = Vec::new();
        let mut seen: KeyMap<()> = KeyMap::default();
        let mut cur = 0usize;
        for_each_sample(s, |p, t| {
            while cur < st.by_end.len() && st.by_end[cur].0 <= t {
                cur += 1;
            }
            if cur == 0 || s.trie.frame.get(p as usize) == Some(&SYNTH_IDLE) {
                return;
            }
            let stack = st.by_end[cur - 1].1;
            if seen.insert(key(p, (stack + 1) as u32), ()).is_none() {
                todo.push((p, stack));
            }
        });
        for (p, stack) in todo {
            if let Some(q) = reroot(s, p, stack, flags) {
                st.map.insert(key(p, (stack + 1) as u32), q);
            }
        }
        (!st.map.is_empty()).then_some(st)
    }

    pub(crate) fn cursor(&self) -> Cursor<'_> {
        Cursor { st: self, next: 0 }
    }
}

impl Cursor<'_> {
    /// The path sample path `p` at time `t` stands for (times non-decreasing across calls).
    #[inline]
    pub(crate) fn path(&mut self, p: u32, t: f64) -> u32 {
        let by_end = &self.st.by_end;
        while self.next < by_end.len() && by_end[self.next].0 <= t {
            self.next += 1;
        }
        if self.next == 0 {
            return p;
        }
        let stack = by_end[self.next - 1].1;
        self.st.map.get(&key(p, (stack + 1) as u32)).copied().unwrap_or(p)
    }
}

/// Every sample's core path and time, in order.
fn for_each_sample<F: FnMut(u32, f64)>(s: &Session, mut f: F) {
    let mut t = 0.0;
    let mut big: Option<f64> = None;
    for r in s.records.iter() {
        let id = r as u32;
        let d = (r >> 32) as u32;
        if id == ESCAPE {
            big = Some(s.big.get(d as usize).copied().unwrap_or(0.0));
            continue;
        }
        t += big.take().unwrap_or(f64::from(d));
        f(id, t);
    }
}

/// Frames of a trie node, root -> leaf.
fn frames_of(s: &Session, mut node: u32) -> Vec<u32> {
    let mut out = Vec::new();
    while node != 0 {
        out.push(s.trie.frame[node as usize]);
        node = s.trie.parent[node as usize];
    }
    out.reverse();
    out
}

/// The sample path re-rooted under the wait's callers, or None when the rule does not apply.
fn reroot(s: &mut Session, p: u32, stack: i32, flags: &[u8]) -> Option<u32> {
    let own = frames_of(s, p);
    let shown = |f: u32| is_real(f) && flags.get(f as usize).is_some_and(|&g| g & (FLAG_INTERNAL | FLAG_HIDDEN) == 0);
    let u = own.iter().position(|&f| shown(f))?;
    let waited = frames_of(s, s.stack_node(stack));
    let k = waited.iter().position(|&f| f == own[u])?;
    if k == 0 {
        return None;
    }
    let mut node = 0;
    for &f in waited[..k].iter().chain(&own[u..]) {
        node = s.trie.intern(node, f);
    }
    Some(node)
}
