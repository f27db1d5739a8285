//! SPEC §8: grouping library frames and visibility, on the ordered pre-order tree.

use crate::hash::KeyMap;
use crate::processors::Ordered;
use crate::{is_real, FLAG_LIBRARY, NODE_GROUP_ROOT, NODE_VISIBLE, NO_LIBRARY, SYNTH_GC, SYNTH_SELF};

pub(crate) struct Groups {
    pub group: Vec<i32>,
    pub flags: Vec<u8>,
    pub root: Vec<u32>,
    pub hidden: Vec<u32>,
    pub lib_offsets: Vec<u32>,
    pub libs: Vec<u32>,
}

pub(crate) fn group(o: &Ordered, frame_flags: &[u8], frame_library: &[u32], show_all: bool) -> Groups {
    let n = o.frame.len();
    // Children in display order: in pre-order, a node's children appear in order of index.
    let mut offs = vec![0u32; n + 1];
    for i in 1..n {
        offs[o.parent[i] as usize + 1] += 1;
    }
    for i in 0..n {
        offs[i + 1] += offs[i];
    }
    let mut fill = offs.clone();
    let mut kids = vec![0u32; n.saturating_sub(1)];
    for i in 1..n {
        let p = o.parent[i] as usize;
        kids[fill[p] as usize] = i as u32;
        fill[p] += 1;
    }
    let children = |i: usize| &kids[offs[i] as usize..offs[i + 1] as usize];

    let mut group = vec![-1i32; n];
    let mut roots: Vec<u32> = Vec::new();
    if !show_all {
        // hidden(node): a real library frame, or a [self] or [gc] node whose parent is hidden.
        let mut hidden = vec![false; n];
        for i in 1..n {
            let f = o.frame[i];
            hidden[i] = if is_real(f) {
                frame_flags.get(f as usize).copied().unwrap_or(0) & FLAG_LIBRARY != 0
            } else {
                (f == SYNTH_SELF || f == SYNTH_GC) && hidden[o.parent[i] as usize]
            };
        }
        let mut stack: Vec<u32> = Vec::new();
        // Each node is considered in pre-order, before its own children (pyinstrument's recursion: a
        // child may start a group, then its subtree is visited); group ids follow that order.
        for c in 1..n {
            if group[c] != -1 || !is_real(o.frame[c]) || !hidden[c] {
                continue;
            }
            let starts = children(c).iter().any(|&d| is_real(o.frame[d as usize]) && hidden[d as usize]);
            if !starts {
                continue;
            }
            let g = roots.len() as i32;
            roots.push(c as u32);
            stack.clear();
            stack.push(c as u32);
            while let Some(y) = stack.pop() {
                group[y as usize] = g;
                for &d in children(y as usize) {
                    if hidden[d as usize] {
                        stack.push(d);
                    }
                }
            }
        }
    }

    let big = 0.2 * o.time.first().copied().unwrap_or(0.0);
    let mut flags = vec![0u8; n];
    for i in 0..n {
        let g = group[i];
        let mut visible = g == -1 || roots[g as usize] as usize == i;
        if !visible {
            let mut total_self = o.self_time[i];
            for &d in children(i) {
                let d = d as usize;
                if group[d] != g {
                    visible = true;
                }
                if o.frame[d] == SYNTH_SELF || o.frame[d] == SYNTH_GC {
                    total_self += o.time[d];
                }
            }
            visible = visible || total_self > big;
        }
        if visible {
            flags[i] |= NODE_VISIBLE;
        }
        if g != -1 && roots[g as usize] as usize == i {
            flags[i] |= NODE_GROUP_ROOT;
        }
    }

    // Per group: hidden real frames, and distinct libraries in pre-order of first appearance.
    let ng = roots.len();
    let mut hidden_count = vec![0u32; ng];
    let mut libs: Vec<Vec<u32>> = vec![Vec::new(); ng];
    let mut seen: KeyMap<()> = KeyMap::default();
    for i in 0..n {
        let g = group[i];
        if g < 0 || !is_real(o.frame[i]) {
            continue;
        }
        if flags[i] & NODE_VISIBLE == 0 {
            hidden_count[g as usize] += 1;
        }
        let lib = frame_library.get(o.frame[i] as usize).copied().unwrap_or(NO_LIBRARY);
        if lib != NO_LIBRARY && seen.insert(crate::hash::key(g as u32, lib), ()).is_none() {
            libs[g as usize].push(lib);
        }
    }
    let mut lib_offsets = Vec::with_capacity(ng + 1);
    let mut flat_libs = Vec::new();
    lib_offsets.push(0u32);
    for l in &libs {
        flat_libs.extend_from_slice(l);
        lib_offsets.push(flat_libs.len() as u32);
    }
    Groups { group, flags, root: roots, hidden: hidden_count, lib_offsets, libs: flat_libs }
}
