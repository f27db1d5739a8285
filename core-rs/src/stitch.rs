//! Await attribution's logical stacks (SPEC, "Async stacks"): code that runs after an await is entered from the
//! event loop, so its sampled stack starts at the resumed function. The wait whose completion last reached
//! JavaScript names the logical stack that awaited; when that stack contains the resumed function, the sample
//! is re-rooted under the callers the wait recorded (main > handler instead of a second top-level handler). When
//! it does not, the first wait to end within an interval after the sample is tried: a sampler may stamp a sample
//! before it stops the thread (JavaScriptCore), so a resumed function's first sample can precede the resume.
//!
//! Built once per process (it interns the re-rooted paths, which needs the trie mutable), then consulted per
//! sample through a cursor over the waits in order of end.

use crate::hash::{key, KeyMap};
use crate::ingest::Session;
use crate::{is_real, FLAG_HIDDEN, FLAG_INTERNAL, SYNTH_IDLE};

pub(crate) struct Stitch {
    /// (clipped end, stack id) of every wait, ascending by end, ties in input order.
    by_end: Vec<(f64, i32)>,
    /// How far after a sample the fallback wait may end (the rounded interval).
    interval: f64,
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
    pub(crate) fn build(s: &mut Session, end: f64, interval: f64, flags: &[u8]) -> Option<Stitch> {
        let mut by_end: Vec<(f64, i32)> =
            (0..s.waits.len()).filter_map(|i| s.waits.get(i).map(|w| (s.wait_end(i, &w).min(end), w.stack))).collect();
        // Stable: equal ends stay in input order, so the last of them is the latest.
        by_end.sort_by(|a, b| a.0.total_cmp(&b.0));

        let shown =
            |f: u32| is_real(f) && flags.get(f as usize).is_some_and(|&g| g & (FLAG_INTERNAL | FLAG_HIDDEN) == 0);
        // Per wait stack, whether the first occurrence of each of its frames comes after a shown frame (the rule
        // applies): key(stack + 1, frame) -> that.
        let mut after_shown: KeyMap<bool> = KeyMap::default();
        let mut indexed: KeyMap<()> = KeyMap::default();
        for &(_, stack) in &by_end {
            if indexed.insert(u64::from((stack + 1) as u32), ()).is_none() {
                let mut any = false;
                for f in frames_of(s, s.stack_node(stack)) {
                    after_shown.entry(key((stack + 1) as u32, f)).or_insert(any);
                    any |= shown(f);
                }
            }
        }
        // Per sample path, its first frame that is shown (neither internal nor hidden), or NONE.
        const NONE: u32 = u32::MAX;
        let mut first: KeyMap<u32> = KeyMap::default();

        let mut map: KeyMap<u32> = KeyMap::default();
        let mut todo: Vec<(u32, i32)> = Vec::new();
        let mut cur = 0usize;
        let mut t = 0.0;
        for (p, dt) in s.sample_deltas() {
            t += dt;
            while cur < by_end.len() && by_end[cur].0 <= t {
                cur += 1;
            }
            if s.trie.frame.get(p as usize) == Some(&SYNTH_IDLE) {
                continue;
            }
            let u = *first
                .entry(u64::from(p))
                .or_insert_with(|| frames_of(s, p).into_iter().find(|&f| shown(f)).unwrap_or(NONE));
            if u == NONE {
                continue;
            }
            let applies = |stack: i32| after_shown.get(&key((stack + 1) as u32, u)) == Some(&true);
            let last = cur.checked_sub(1).map(|c| by_end[c].1);
            let next = by_end.get(cur).filter(|w| w.0 <= t + interval).map(|w| w.1);
            let Some(stack) = last.filter(|&w| applies(w)).or_else(|| next.filter(|&w| applies(w))) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(e) = map.entry(key(p, (stack + 1) as u32)) {
                e.insert(p);
                todo.push((p, stack));
            }
        }
        for (p, stack) in todo {
            let q = reroot(s, p, stack, flags);
            map.insert(key(p, (stack + 1) as u32), q);
        }
        (!map.is_empty()).then_some(Stitch { by_end, interval, map })
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
        // The map holds only re-rooted pairs: absent for the last wait, the fallback (build's choice) is tried.
        let at = |i: usize| by_end.get(i).and_then(|w| self.st.map.get(&key(p, (w.1 + 1) as u32)).copied());
        let last = self.next.checked_sub(1).and_then(at);
        let next = by_end.get(self.next).filter(|w| w.0 <= t + self.st.interval).and_then(|_| at(self.next));
        last.or(next).unwrap_or(p)
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

/// The sample path re-rooted under the wait's callers (the rule applies: checked by the caller).
fn reroot(s: &mut Session, p: u32, stack: i32, flags: &[u8]) -> u32 {
    let own = frames_of(s, p);
    let shown = |f: u32| is_real(f) && flags.get(f as usize).is_some_and(|&g| g & (FLAG_INTERNAL | FLAG_HIDDEN) == 0);
    let waited = frames_of(s, s.stack_node(stack));
    let Some(u) = own.iter().position(|&f| shown(f)) else { return p };
    let Some(k) = waited.iter().position(|&f| f == own[u]) else { return p };
    let mut node = 0;
    for &f in waited[..k].iter().chain(&own[u..]) {
        node = s.trie.intern(node, f);
    }
    node
}
