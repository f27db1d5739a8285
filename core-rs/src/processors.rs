//! SPEC §5 (remove irrelevant nodes), §6 (remove unnecessary [self] nodes), §7 (order), then the pre-order
//! layout of the output. All sweeps are over node ids (parent < child) or an explicit stack.

use crate::tree::RawTree;
use crate::SYNTH_SELF;

/// The processed tree in pre-order (node 0 = root).
pub(crate) struct Ordered {
    pub frame: Vec<u32>,
    pub parent: Vec<i32>,
    pub depth: Vec<u32>,
    pub time: Vec<f64>,
    pub self_time: Vec<f64>,
    pub await_time: Vec<f64>,
    /// Inclusive CPU time (SPEC, CPU time); zeros when the session has none.
    pub cpu_time: Vec<f64>,
}

// Node-id sweeps (parent[i] < i) index several columns at i and at parent[i]: index loops, all alike.
#[allow(clippy::needless_range_loop)]
pub(crate) fn process(mut t: RawTree, timeline: bool, show_all: bool, filter_threshold: f64) -> Ordered {
    let n = t.len();
    // §5: a node survives when it and every ancestor below the root reach the threshold (a dropped
    // child takes its whole subtree; parents keep their time).
    let total = t.time[0];
    let limit = filter_threshold * total;
    // Not `time >= limit`: SPEC §5 drops a child when time < limit, so a NaN limit drops nothing.
    let below = |time: f64| time < limit;
    let mut keep = vec![true; n];
    for i in 1..n {
        let p = t.parent[i] as usize;
        keep[i] = keep[p] && (show_all || !below(t.time[i]));
    }
    // §6: a lone [self] child folds into its parent's selfTime.
    let mut count = vec![0u32; n];
    let mut only = vec![0u32; n];
    for i in 1..n {
        if keep[i] {
            let p = t.parent[i] as usize;
            count[p] += 1;
            only[p] = i as u32;
        }
    }
    for p in 0..n {
        if keep[p] && count[p] == 1 {
            let c = only[p] as usize;
            if t.frame[c] == SYNTH_SELF {
                keep[c] = false;
                count[p] = 0;
                let ct = t.time[c];
                t.self_time[p] += ct;
            }
        }
    }
    // §7: children lists in creation order (CSR), then sorted by time, descending, stable (ties keep
    // creation order) in aggregated mode.
    let mut offs = vec![0u32; n + 1];
    for p in 0..n {
        offs[p + 1] = offs[p] + count[p];
    }
    let mut fill = offs.clone();
    let mut kids = vec![0u32; offs[n] as usize];
    for i in 1..n {
        if keep[i] {
            let p = t.parent[i] as usize;
            kids[fill[p] as usize] = i as u32;
            fill[p] += 1;
        }
    }
    if !timeline {
        for p in 0..n {
            let seg = &mut kids[offs[p] as usize..offs[p + 1] as usize];
            if seg.len() > 1 {
                seg.sort_by(|&a, &b| t.time[b as usize].total_cmp(&t.time[a as usize]));
            }
        }
    }
    // Pre-order with an explicit stack.
    let m = offs[n] as usize + 1;
    let mut o = Ordered {
        frame: Vec::with_capacity(m),
        parent: Vec::with_capacity(m),
        depth: Vec::with_capacity(m),
        time: Vec::with_capacity(m),
        self_time: Vec::with_capacity(m),
        await_time: Vec::with_capacity(m),
        cpu_time: Vec::with_capacity(m),
    };
    let mut out_idx = vec![0u32; n];
    let mut stack: Vec<u32> = vec![0];
    while let Some(x) = stack.pop() {
        let x = x as usize;
        let idx = o.frame.len() as u32;
        out_idx[x] = idx;
        if x == 0 {
            o.parent.push(-1);
            o.depth.push(0);
        } else {
            let p = out_idx[t.parent[x] as usize];
            o.parent.push(p as i32);
            o.depth.push(o.depth[p as usize] + 1);
        }
        o.frame.push(t.frame[x]);
        o.time.push(t.time[x]);
        o.self_time.push(t.self_time[x]);
        o.await_time.push(t.await_time[x]);
        o.cpu_time.push(t.cpu_time[x]);
        for k in (offs[x]..offs[x + 1]).rev() {
            stack.push(kids[k as usize]);
        }
    }
    o
}
