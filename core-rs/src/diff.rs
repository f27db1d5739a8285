//! SPEC "Diff of two trees": BASE and NEW aligned by frame path into one tree, with both sides' times, then
//! filtered, ordered and grouped as a ProcessedTree is; and the two flat views as one, by size of change.

use crate::group;
use crate::hash::{key, KeyMap};
use crate::processors::Ordered;
use crate::{err, is_real, Error, FlatTime, ProcessedTree, SYNTH_IDLE, SYNTH_ROOT, SYNTH_SELF};

/// Sides bits (DiffTree.side).
pub const SIDE_BASE: u8 = 1;
pub const SIDE_NEW: u8 = 2;

#[derive(Clone, Copy, Debug)]
pub struct DiffOptions<'a> {
    pub show_all: bool,
    pub filter_threshold: f64,
    pub flat_time: FlatTime,
    /// Flat rows ordered by the change of their share of each run, not of their time.
    pub normalize: bool,
    pub frame_flags: &'a [u8],
    pub frame_library: &'a [u32],
}

/// session/types.ts DiffTree: NEW's columns under ProcessedTree's names, BASE's beside them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffTree {
    pub frame: Vec<u32>,
    pub parent: Vec<i32>,
    pub depth: Vec<u32>,
    pub time: Vec<f64>,
    pub self_time: Vec<f64>,
    pub await_time: Vec<f64>,
    pub base_time: Vec<f64>,
    pub base_self_time: Vec<f64>,
    pub base_await_time: Vec<f64>,
    pub side: Vec<u8>,
    pub group: Vec<i32>,
    pub flags: Vec<u8>,
    pub group_root: Vec<u32>,
    pub group_hidden: Vec<u32>,
    pub group_lib_offsets: Vec<u32>,
    pub group_libs: Vec<u32>,
    pub flat_frame: Vec<u32>,
    pub flat_self: Vec<f64>,
    pub flat_total: Vec<f64>,
    pub flat_base_self: Vec<f64>,
    pub flat_base_total: Vec<f64>,
}

/// One side's columns of the merged tree; index 0 BASE, 1 NEW.
#[derive(Default)]
struct Side {
    time: Vec<f64>,
    own: Vec<f64>,
    wait: Vec<f64>,
}

impl Side {
    fn push(&mut self) {
        self.time.push(0.0);
        self.own.push(0.0);
        self.wait.push(0.0);
    }
}

struct Merged {
    frame: Vec<u32>,
    parent: Vec<u32>,
    side: Vec<u8>,
    sides: [Side; 2],
    child: KeyMap<u32>,
}

impl Merged {
    fn node(&mut self, parent: u32, frame: u32) -> u32 {
        if let Some(&m) = self.child.get(&key(parent, frame)) {
            return m;
        }
        let m = self.frame.len() as u32;
        self.frame.push(frame);
        self.parent.push(parent);
        self.side.push(0);
        self.sides[0].push();
        self.sides[1].push();
        self.child.insert(key(parent, frame), m);
        m
    }

    /// Rules 1-2 for one side's tree.
    fn add(&mut self, t: &ProcessedTree, s: usize) {
        let mut to = vec![0u32; t.frame.len()];
        for i in 0..t.frame.len() {
            let (m, own) = if i == 0 {
                (0, t.self_time[0])
            } else if t.frame[i] == SYNTH_SELF {
                let m = to[t.parent[i] as usize];
                self.sides[s].own[m as usize] += t.time[i];
                continue;
            } else {
                (self.node(to[t.parent[i] as usize], t.frame[i]), t.self_time[i])
            };
            to[i] = m;
            let (m, side) = (m as usize, &mut self.sides[s]);
            side.time[m] += t.time[i];
            side.own[m] += own;
            side.wait[m] += t.await_time[i];
            self.side[m] |= 1 << s;
        }
    }
}

fn validate(t: &ProcessedTree, name: &str, frames: usize) -> Result<(), Error> {
    let n = t.frame.len();
    if n == 0 || t.frame[0] != SYNTH_ROOT {
        return err(format!("{name}: the tree has no root"));
    }
    for i in 1..n {
        if !(0..i as i32).contains(&t.parent[i]) {
            return err(format!("{name}: node {i} is not in pre-order"));
        }
    }
    for &f in t.frame.iter().chain(&t.flat_frame) {
        if is_real(f) && f as usize >= frames {
            return err(format!("{name}: frame id {f} out of range ({frames} frames)"));
        }
    }
    Ok(())
}

// Node-id sweeps (parent[i] < i) index several columns at i and at parent[i]: index loops, all alike.
#[allow(clippy::needless_range_loop)]
pub fn diff(base: &ProcessedTree, next: &ProcessedTree, o: &DiffOptions) -> Result<DiffTree, Error> {
    let frames = o.frame_flags.len();
    if o.frame_library.len() != frames {
        return err(format!("frameLibrary has {} entries but frameFlags has {frames}", o.frame_library.len()));
    }
    validate(base, "base", frames)?;
    validate(next, "new", frames)?;
    let mut g = Merged {
        frame: vec![SYNTH_ROOT],
        parent: vec![0],
        side: vec![SIDE_BASE | SIDE_NEW],
        sides: [Side::default(), Side::default()],
        child: KeyMap::default(),
    };
    g.sides[0].push();
    g.sides[1].push();
    g.add(next, 1);
    g.add(base, 0);
    let totals = [base.time[0], next.time[0]];

    // Rule 3, then rule 4's [self] children (appended: parents still come before children).
    let limit = [o.filter_threshold * totals[0], o.filter_threshold * totals[1]];
    let drop = |time: [f64; 2]| !o.show_all && time[0] < limit[0] && time[1] < limit[1];
    let n = g.frame.len();
    let mut keep = vec![true; n];
    let mut kept_children = vec![0u32; n];
    for i in 1..n {
        let p = g.parent[i] as usize;
        keep[i] = keep[p] && !drop([g.sides[0].time[i], g.sides[1].time[i]]);
        if keep[i] {
            kept_children[p] += 1;
        }
    }
    for i in 0..n {
        let own = [g.sides[0].own[i], g.sides[1].own[i]];
        if !keep[i] || kept_children[i] == 0 || (own[0] <= 0.0 && own[1] <= 0.0) {
            continue;
        }
        for s in &mut g.sides {
            s.own[i] = 0.0;
        }
        if drop(own) {
            continue;
        }
        let m = g.node(i as u32, SYNTH_SELF) as usize;
        for (s, side) in g.sides.iter_mut().enumerate() {
            side.time[m] = own[s];
            side.own[m] = own[s];
        }
        g.side[m] = ((own[0] > 0.0) as u8 * SIDE_BASE) | ((own[1] > 0.0) as u8 * SIDE_NEW);
        keep.push(true);
    }

    // Rule 5: children lists (CSR) sorted, then pre-order with an explicit stack.
    let n = g.frame.len();
    let mut offs = vec![0u32; n + 1];
    for i in 1..n {
        if keep[i] {
            offs[g.parent[i] as usize + 1] += 1;
        }
    }
    for i in 0..n {
        offs[i + 1] += offs[i];
    }
    let mut fill = offs.clone();
    let mut kids = vec![0u32; offs[n] as usize];
    for i in 1..n {
        if keep[i] {
            let p = g.parent[i] as usize;
            kids[fill[p] as usize] = i as u32;
            fill[p] += 1;
        }
    }
    let [b, t] = &g.sides;
    for p in 0..n {
        kids[offs[p] as usize..offs[p + 1] as usize].sort_by(|&x, &y| {
            let (x, y) = (x as usize, y as usize);
            t.time[y].total_cmp(&t.time[x]).then(b.time[y].total_cmp(&b.time[x]))
        });
    }
    let mut d = DiffTree::default();
    let mut ord = Ordered {
        frame: Vec::new(),
        parent: Vec::new(),
        depth: Vec::new(),
        time: Vec::new(),
        self_time: Vec::new(),
        await_time: Vec::new(),
        cpu_time: Vec::new(),
    };
    let mut out_idx = vec![0u32; n];
    let mut stack: Vec<u32> = vec![0];
    while let Some(x) = stack.pop() {
        let x = x as usize;
        out_idx[x] = ord.frame.len() as u32;
        let (parent, depth) = if x == 0 {
            (-1, 0)
        } else {
            (out_idx[g.parent[x] as usize] as i32, ord.depth[out_idx[g.parent[x] as usize] as usize] + 1)
        };
        ord.frame.push(g.frame[x]);
        ord.parent.push(parent);
        ord.depth.push(depth);
        ord.time.push(t.time[x]);
        ord.self_time.push(t.own[x]);
        ord.await_time.push(t.wait[x]);
        ord.cpu_time.push(0.0);
        d.base_time.push(b.time[x]);
        d.base_self_time.push(b.own[x]);
        d.base_await_time.push(b.wait[x]);
        d.side.push(g.side[x]);
        for k in (offs[x]..offs[x + 1]).rev() {
            stack.push(kids[k as usize]);
        }
    }

    // Rule 6.
    let groups = group::group(&ord, o.frame_flags, o.frame_library, o.show_all);
    d.frame = ord.frame;
    d.parent = ord.parent;
    d.depth = ord.depth;
    d.time = ord.time;
    d.self_time = ord.self_time;
    d.await_time = ord.await_time;
    d.group = groups.group;
    d.flags = groups.flags;
    d.group_root = groups.root;
    d.group_hidden = groups.hidden;
    d.group_lib_offsets = groups.lib_offsets;
    d.group_libs = groups.libs;
    flat_rows(&mut d, base, next, totals, o);
    Ok(d)
}

/// Rule 7.
fn flat_rows(d: &mut DiffTree, base: &ProcessedTree, next: &ProcessedTree, totals: [f64; 2], o: &DiffOptions) {
    let mut row: KeyMap<u32> = KeyMap::default();
    let mut frame: Vec<u32> = Vec::new();
    let mut cols = [[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]]; // [side][self, total]
    for (s, t) in [(1, next), (0, base)] {
        for (k, &f) in t.flat_frame.iter().enumerate() {
            if f == SYNTH_IDLE {
                continue;
            }
            let r = *row.entry(key(0, f)).or_insert_with(|| {
                frame.push(f);
                for side in &mut cols {
                    side[0].push(0.0);
                    side[1].push(0.0);
                }
                frame.len() as u32 - 1
            }) as usize;
            cols[s][0][r] += t.flat_self[k];
            cols[s][1][r] += t.flat_total[k];
        }
    }
    let which = if o.flat_time == FlatTime::Total { 1 } else { 0 };
    let chosen = |s: usize, r: usize| cols[s][which][r];
    let share = |s: usize, r: usize| if totals[s] > 0.0 { chosen(s, r) / totals[s] } else { 0.0 };
    let change = |r: usize| {
        if o.normalize {
            share(1, r) - share(0, r)
        } else {
            chosen(1, r) - chosen(0, r)
        }
    };
    let mut rows: Vec<usize> = (0..frame.len())
        .filter(|&r| {
            o.show_all
                || !(chosen(0, r) < o.filter_threshold * totals[0] && chosen(1, r) < o.filter_threshold * totals[1])
        })
        .collect();
    rows.sort_by(|&x, &y| change(y).abs().total_cmp(&change(x).abs()));
    for r in rows {
        d.flat_frame.push(frame[r]);
        d.flat_self.push(cols[1][0][r]);
        d.flat_total.push(cols[1][1][r]);
        d.flat_base_self.push(cols[0][0][r]);
        d.flat_base_total.push(cols[0][1][r]);
    }
}
