//! SPEC §4: tree building. Nodes are numbered in creation order, so parent < child and a reverse sweep
//! computes inclusive times bottom-up without recursion.

use crate::hash::{key, KeyMap};
use crate::paths::Paths;
use crate::{is_real, SYNTH_AWAIT, SYNTH_ROOT, SYNTH_SELF};

const NONE: u32 = u32::MAX;

/// The unprocessed tree. During building `time` holds the weight ending at each node; `finish` makes it
/// inclusive (likewise `await_time` and `cpu_time`).
#[derive(Default)]
pub(crate) struct RawTree {
    pub frame: Vec<u32>,
    pub parent: Vec<u32>,
    pub time: Vec<f64>,
    pub self_time: Vec<f64>,
    pub await_time: Vec<f64>,
    pub cpu_time: Vec<f64>,
}

impl RawTree {
    fn with_root() -> RawTree {
        let mut t = RawTree::default();
        t.push(SYNTH_ROOT, 0);
        t
    }

    #[inline]
    fn push(&mut self, frame: u32, parent: u32) -> u32 {
        let id = self.frame.len() as u32;
        self.frame.push(frame);
        self.parent.push(parent);
        self.time.push(0.0);
        self.self_time.push(0.0);
        self.await_time.push(0.0);
        self.cpu_time.push(0.0);
        id
    }

    pub fn len(&self) -> usize {
        self.frame.len()
    }

    fn truncate(&mut self, n: usize) {
        self.frame.truncate(n);
        self.parent.truncate(n);
        self.time.truncate(n);
        self.self_time.truncate(n);
        self.await_time.truncate(n);
        self.cpu_time.truncate(n);
    }

    /// Credits an entry of weight w and cpu c ending at `leaf` (its [self] child `self_node` when the path
    /// ends with a real frame or is empty).
    #[inline]
    fn credit(&mut self, leaf: u32, self_node: u32, w: f64, c: f64) {
        if self_node != NONE {
            let s = self_node as usize;
            self.time[s] += w;
            self.self_time[s] += w;
            self.cpu_time[s] += c;
        } else {
            let l = leaf as usize;
            self.time[l] += w;
            self.self_time[l] += w;
            self.cpu_time[l] += c;
            if self.frame[l] == SYNTH_AWAIT {
                self.await_time[l] += w;
            }
        }
    }

    fn finish(&mut self) {
        for i in (1..self.len()).rev() {
            let p = self.parent[i] as usize;
            let (t, a, c) = (self.time[i], self.await_time[i], self.cpu_time[i]);
            self.time[p] += t;
            self.await_time[p] += a;
            self.cpu_time[p] += c;
        }
    }
}

#[inline]
fn ends_real(paths: &Paths, p: u32) -> bool {
    // An empty path counts as ending at the root, whose weight goes to the root's [self] child.
    p == 0 || is_real(paths.frame[p as usize])
}

/// The frames a path's entry walks (root excluded): its frames, then [self] when it ends with a real frame.
fn walk_frames(paths: &Paths, p: u32, out: &mut Vec<u32>) {
    out.clear();
    let mut x = p;
    while x != 0 {
        out.push(paths.frame[x as usize]);
        x = paths.tparent[x as usize];
    }
    out.reverse();
    if ends_real(paths, p) {
        out.push(SYNTH_SELF);
    }
}

/// Aggregated mode: each unique path is mapped to its node once. `order` lists the F nodes carrying wall
/// time in order of first appearance, `weight` and `cpu` their summed weights; creation order is the same as
/// walking every entry. `cpu_only` lists the F nodes with CPU time but no wall time (SPEC, CPU time): they
/// make no node, their CPU goes to the deepest node their walk reaches through existing children.
pub(crate) fn aggregated(paths: &Paths, order: &[u32], weight: &[f64], cpu: &[f64], cpu_only: &[u32]) -> RawTree {
    let mut t = RawTree::with_root();
    let m = paths.frame.len();
    let mut tnode = vec![NONE; m];
    let mut tself = vec![NONE; m];
    tnode[0] = 0;
    let mut chain: Vec<u32> = Vec::new();
    for &p in order {
        if tnode[p as usize] == NONE {
            chain.clear();
            let mut x = p;
            while tnode[x as usize] == NONE {
                chain.push(x);
                x = paths.tparent[x as usize];
            }
            for &x in chain.iter().rev() {
                let parent = tnode[paths.tparent[x as usize] as usize];
                tnode[x as usize] = t.push(paths.frame[x as usize], parent);
            }
        }
        if ends_real(paths, p) && tself[p as usize] == NONE {
            tself[p as usize] = t.push(SYNTH_SELF, tnode[p as usize]);
        }
    }
    for &p in order {
        let (w, c) = (weight[p as usize], cpu[p as usize]);
        t.credit(tnode[p as usize], tself[p as usize], w, c);
    }
    if !cpu_only.is_empty() {
        // By frames, as the walk goes (two F nodes may share a trimmed path).
        let mut child: KeyMap<u32> = KeyMap::default();
        for i in 1..t.len() {
            child.insert(key(t.parent[i], t.frame[i]), i as u32);
        }
        let mut frames = Vec::new();
        for &p in cpu_only {
            walk_frames(paths, p, &mut frames);
            let mut node = 0u32;
            for &f in &frames {
                match child.get(&key(node, f)) {
                    Some(&n) => node = n,
                    None => break,
                }
            }
            t.cpu_time[node as usize] += cpu[p as usize];
        }
    }
    t.finish();
    t
}

/// Timeline mode: entries are walked one by one, but only below the point where the path leaves the
/// previous entry's path (the "spine" of last children), so a run of identical samples costs O(1) each.
///
/// Inclusive times are kept as pending sums per spine depth and pushed up when a node leaves the spine;
/// a node that has left the spine is never walked again, so its time is final then. Its subtree is exactly
/// the nodes created after it (everything created while it was on the spine hangs below it), so when §5
/// would drop it, the node arrays are truncated right away: memory stays proportional to the nodes that
/// survive, not to the samples.
pub(crate) struct Timeline<'a> {
    paths: &'a Paths,
    pub tree: RawTree,
    /// Tree nodes of the previous entry's path by depth (spine[0] = root), then its [self] node if any.
    spine: Vec<u32>,
    /// Per spine node: the sums not yet added to it (one vector, so a spine step is one push or pop).
    pend: Vec<Pending>,
    last: u32,
    chain: Vec<u32>,
    frames: Vec<u32>,
    /// §5's limit (filterThreshold * total); NaN when nothing may be dropped (showAll).
    limit: f64,
}

#[derive(Clone, Copy, Default)]
struct Pending {
    time: f64,
    await_time: f64,
    cpu_time: f64,
}

impl<'a> Timeline<'a> {
    pub fn new(paths: &'a Paths, limit: f64) -> Timeline<'a> {
        Timeline {
            paths,
            tree: RawTree::with_root(),
            spine: vec![0],
            pend: vec![Pending::default()],
            last: NONE,
            chain: Vec::new(),
            frames: Vec::new(),
            limit,
        }
    }

    fn push(&mut self, frame: u32) {
        let parent = *self.spine.last().unwrap_or(&0);
        let n = self.tree.push(frame, parent);
        self.spine.push(n);
        self.pend.push(Pending::default());
    }

    /// Shortens the spine to `keep` nodes, finalising the times of the nodes that leave it (deepest first)
    /// and dropping the subtree of the shallowest one §5 would remove.
    fn leave(&mut self, keep: usize) {
        let keep = keep.max(1);
        let mut cut = NONE;
        while self.spine.len() > keep {
            let (Some(x), Some(p)) = (self.spine.pop(), self.pend.pop()) else {
                break;
            };
            let x = x as usize;
            self.tree.time[x] += p.time;
            self.tree.await_time[x] += p.await_time;
            self.tree.cpu_time[x] += p.cpu_time;
            if let Some(up) = self.pend.last_mut() {
                up.time += p.time;
                up.await_time += p.await_time;
                up.cpu_time += p.cpu_time;
            }
            if self.tree.time[x] < self.limit {
                cut = x as u32;
            }
        }
        if cut != NONE {
            self.tree.truncate(cut as usize);
        }
    }

    /// CPU time without wall time (SPEC, CPU time) makes no node, so it never splits a run: it goes to the
    /// deepest node of the current walk (the spine) that its own walk would pass through.
    fn cpu_only(&mut self, p: u32, c: f64) {
        walk_frames(self.paths, p, &mut self.frames);
        let mut k = 0;
        while k < self.frames.len()
            && k + 1 < self.spine.len()
            && self.tree.frame[self.spine[k + 1] as usize] == self.frames[k]
        {
            k += 1;
        }
        self.pend[k].cpu_time += c;
    }

    #[inline]
    pub fn entry(&mut self, p: u32, w: f64, c: f64) {
        let paths = self.paths;
        if w == 0.0 {
            self.cpu_only(p, c);
            return;
        }
        if p != self.last {
            // Nodes shared with the previous path are the parents' last children; below their lowest
            // common ancestor every node is new (the previous path or its [self] is the last child there).
            let q = if self.last == NONE { 0 } else { self.last };
            let (mut a, mut b) = (p, q);
            self.chain.clear();
            while paths.tdepth[a as usize] > paths.tdepth[b as usize] {
                self.chain.push(a);
                a = paths.tparent[a as usize];
            }
            while paths.tdepth[b as usize] > paths.tdepth[a as usize] {
                b = paths.tparent[b as usize];
            }
            while a != b {
                self.chain.push(a);
                a = paths.tparent[a as usize];
                b = paths.tparent[b as usize];
            }
            self.leave(paths.tdepth[a as usize] as usize + 1);
            for i in (0..self.chain.len()).rev() {
                let x = self.chain[i];
                self.push(paths.frame[x as usize]);
            }
            if ends_real(paths, p) {
                self.push(SYNTH_SELF);
            }
            self.last = p;
        }
        // The entry ends at the spine's last node: its [self] node, or its synthetic leaf.
        let d = self.spine.len() - 1;
        let end = self.spine[d] as usize;
        let p = &mut self.pend[d];
        p.time += w;
        // Constant 0 without a CPU column: the test folds away.
        if c != 0.0 {
            p.cpu_time += c;
        }
        if self.tree.frame[end] == SYNTH_AWAIT {
            p.await_time += w;
        }
        self.tree.self_time[end] += w;
    }

    pub fn finish(mut self) -> RawTree {
        self.leave(1);
        let p = self.pend[0];
        self.tree.time[0] += p.time;
        self.tree.await_time[0] += p.await_time;
        self.tree.cpu_time[0] += p.cpu_time;
        self.tree
    }
}
