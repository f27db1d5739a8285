//! SPEC §4: tree building. Nodes are numbered in creation order, so parent < child and a reverse sweep
//! computes inclusive times bottom-up without recursion.

use crate::paths::Paths;
use crate::{is_real, SYNTH_AWAIT, SYNTH_ROOT, SYNTH_SELF};

const NONE: u32 = u32::MAX;

/// The unprocessed tree. During building `time` holds the weight ending at each node; `finish` makes it
/// inclusive (likewise `await_time`).
#[derive(Default)]
pub(crate) struct RawTree {
    pub frame: Vec<u32>,
    pub parent: Vec<u32>,
    pub time: Vec<f64>,
    pub self_time: Vec<f64>,
    pub await_time: Vec<f64>,
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
        id
    }

    pub fn len(&self) -> usize {
        self.frame.len()
    }

    /// Credits an entry of weight w ending at `leaf` (its [self] child `self_node` when the path ends with
    /// a real frame or is empty).
    #[inline]
    fn credit(&mut self, leaf: u32, self_node: u32, w: f64) {
        if self_node != NONE {
            let s = self_node as usize;
            self.time[s] += w;
            self.self_time[s] += w;
        } else {
            let l = leaf as usize;
            self.time[l] += w;
            self.self_time[l] += w;
            if self.frame[l] == SYNTH_AWAIT {
                self.await_time[l] += w;
            }
        }
    }

    fn finish(&mut self) {
        for i in (1..self.len()).rev() {
            let p = self.parent[i] as usize;
            let (t, a) = (self.time[i], self.await_time[i]);
            self.time[p] += t;
            self.await_time[p] += a;
        }
    }
}

#[inline]
fn ends_real(paths: &Paths, p: u32) -> bool {
    // An empty path counts as ending at the root, whose weight goes to the root's [self] child.
    p == 0 || is_real(paths.frame[p as usize])
}

/// Aggregated mode: each unique path is mapped to its node once. `order` lists the F nodes carrying
/// entries in order of first appearance and `weight` their summed weights; creation order is the same as
/// walking every entry.
pub(crate) fn aggregated(paths: &Paths, order: &[u32], weight: &[f64]) -> RawTree {
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
        let w = weight[p as usize];
        t.credit(tnode[p as usize], tself[p as usize], w);
    }
    t.finish();
    t
}

/// Timeline mode: entries are walked one by one, but only below the point where the path leaves the
/// previous entry's path (the "spine" of last children), so a run of identical samples costs O(1) each.
pub(crate) struct Timeline<'a> {
    paths: &'a Paths,
    pub tree: RawTree,
    /// Tree nodes of the previous entry's path, by depth (spine[0] = root).
    spine: Vec<u32>,
    last: u32,
    last_self: u32,
    chain: Vec<u32>,
}

impl<'a> Timeline<'a> {
    pub fn new(paths: &'a Paths) -> Timeline<'a> {
        Timeline {
            paths,
            tree: RawTree::with_root(),
            spine: vec![0],
            last: NONE,
            last_self: NONE,
            chain: Vec::new(),
        }
    }

    #[inline]
    pub fn entry(&mut self, p: u32, w: f64) {
        let paths = self.paths;
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
            self.spine.truncate(paths.tdepth[a as usize] as usize + 1);
            for i in (0..self.chain.len()).rev() {
                let x = self.chain[i];
                let parent = *self.spine.last().unwrap_or(&0);
                let n = self.tree.push(paths.frame[x as usize], parent);
                self.spine.push(n);
            }
            let leaf = *self.spine.last().unwrap_or(&0);
            self.last_self = if ends_real(paths, p) {
                self.tree.push(SYNTH_SELF, leaf)
            } else {
                NONE
            };
            self.last = p;
        }
        let leaf = *self.spine.last().unwrap_or(&0);
        self.tree.credit(leaf, self.last_self, w);
    }

    pub fn finish(mut self) -> RawTree {
        self.tree.finish();
        self.tree
    }
}
