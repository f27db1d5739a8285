//! SPEC §9: the flat view, from the unique trimmed paths (not per sample).
//! total[f] counts each entry once per distinct frame: it is the sum of inclusive path weights over the
//! trie nodes that are the first occurrence of f on their path (found by one iterative DFS).

use crate::paths::Paths;
use crate::{is_real, FlatTime, SYNTHETIC_BASE};

pub(crate) struct Flat {
    pub frame: Vec<u32>,
    pub self_time: Vec<f64>,
    pub total: Vec<f64>,
}

const NONE: u32 = u32::MAX;

// The pipeline's inputs to SPEC §9, called once from output.rs; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn flat(
    paths: &Paths,
    order: &[u32],
    weight: &[f64],
    frame_count: usize,
    root_time: f64,
    flat_time: FlatTime,
    filter_threshold: f64,
    show_all: bool,
) -> Flat {
    let m = paths.frame.len();
    let slot = |f: u32| {
        if is_real(f) {
            f as usize
        } else {
            frame_count + (f - SYNTHETIC_BASE) as usize
        }
    };
    let slots = frame_count + 256;

    // Discovery order: each entry's path root -> leaf, skipping nodes seen before. A frame's first
    // appearance is at its first node in this order.
    let mut visited = vec![false; m];
    visited[0] = true;
    let mut disc: Vec<u32> = Vec::new();
    let mut chain: Vec<u32> = Vec::new();
    for &p in order {
        chain.clear();
        let mut x = p;
        while !visited[x as usize] {
            visited[x as usize] = true;
            chain.push(x);
            x = paths.tparent[x as usize];
        }
        disc.extend(chain.iter().rev());
    }
    let mut row = vec![NONE; slots];
    let mut rows: Vec<u32> = Vec::new();
    for &x in &disc {
        let s = slot(paths.frame[x as usize]);
        if row[s] == NONE {
            row[s] = rows.len() as u32;
            rows.push(paths.frame[x as usize]);
        }
    }
    let mut self_t = vec![0.0f64; rows.len()];
    let mut total = vec![0.0f64; rows.len()];
    let mut incl = vec![0.0f64; m];
    for &p in order {
        if p != 0 {
            let w = weight[p as usize];
            self_t[row[slot(paths.frame[p as usize])] as usize] += w;
            incl[p as usize] = w;
        }
    }
    for &x in disc.iter().rev() {
        let p = paths.tparent[x as usize] as usize;
        let w = incl[x as usize];
        incl[p] += w;
    }
    // Children of discovered nodes (CSR), then a DFS counting each frame's occurrences on the current path.
    let mut offs = vec![0u32; m + 1];
    for &x in &disc {
        offs[paths.tparent[x as usize] as usize + 1] += 1;
    }
    for i in 0..m {
        offs[i + 1] += offs[i];
    }
    let mut fill = offs.clone();
    let mut kids = vec![0u32; disc.len()];
    for &x in &disc {
        let p = paths.tparent[x as usize] as usize;
        kids[fill[p] as usize] = x;
        fill[p] += 1;
    }
    let mut on_path = vec![0u32; slots];
    // Entries are node ids; bit 32 marks the second visit (leaving the node).
    const LEAVE: u64 = 1 << 32;
    let mut st: Vec<u64> = (offs[0]..offs[1]).map(|k| u64::from(kids[k as usize])).collect();
    while let Some(e) = st.pop() {
        let x = (e as u32) as usize;
        let s = slot(paths.frame[x]);
        if e & LEAVE != 0 {
            on_path[s] -= 1;
            continue;
        }
        if on_path[s] == 0 {
            total[row[s] as usize] += incl[x];
        }
        on_path[s] += 1;
        st.push(x as u64 | LEAVE);
        for k in offs[x]..offs[x + 1] {
            st.push(u64::from(kids[k as usize]));
        }
    }

    let chosen = |i: usize| {
        if flat_time == FlatTime::SelfTime {
            self_t[i]
        } else {
            total[i]
        }
    };
    let limit = filter_threshold * root_time;
    // Not `chosen >= limit`: SPEC §9 drops a row when its chosen time < limit, so a NaN limit drops nothing.
    let below = |time: f64| time < limit;
    let mut idx: Vec<u32> = (0..rows.len() as u32).filter(|&i| show_all || !below(chosen(i as usize))).collect();
    idx.sort_by(|&a, &b| chosen(b as usize).total_cmp(&chosen(a as usize)));
    Flat {
        frame: idx.iter().map(|&i| rows[i as usize]).collect(),
        self_time: idx.iter().map(|&i| self_t[i as usize]).collect(),
        total: idx.iter().map(|&i| total[i as usize]).collect(),
    }
}
