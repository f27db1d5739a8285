//! SPEC §2 (path filtering) and §3 (trim stem), once per unique path: the core trie is mapped onto a
//! filtered trie F (memoized by node), and trimming re-roots F's candidate subtree instead of copying paths.

use crate::hash::Trie;
use crate::{is_real, FLAG_HIDDEN, FLAG_INTERNAL};

/// Unique filtered, trimmed paths. Node 0 is the empty path; parents come before children.
pub(crate) struct Paths {
    /// Core node -> F node.
    pub cf: Vec<u32>,
    pub frame: Vec<u32>,
    /// Parent in the trimmed trie (the trimmed stem's last node is replaced by the root).
    pub tparent: Vec<u32>,
    /// Depth in the trimmed trie (path length after trimming).
    pub tdepth: Vec<u32>,
}

#[inline]
fn removed(flags: &[u8], f: u32) -> bool {
    is_real(f) && flags.get(f as usize).copied().unwrap_or(0) & (FLAG_INTERNAL | FLAG_HIDDEN) != 0
}

/// `used`: core nodes that carry an entry (weight or cpu > 0; trim-stem candidates are drawn from these only).
pub(crate) fn build(core: &Trie, flags: &[u8], show_all: bool, start_stack: &[u32], used: &[u32]) -> Paths {
    let n = core.len();
    let (cf, fparent, frame) = if show_all {
        ((0..n as u32).collect::<Vec<u32>>(), core.parent.clone(), core.frame.clone())
    } else {
        let mut f = Trie::new();
        let mut cf = vec![0u32; n];
        for c in 1..n {
            let fr = core.frame[c];
            let p = cf[core.parent[c] as usize];
            cf[c] = if removed(flags, fr) { p } else { f.intern(p, fr) };
        }
        (cf, f.parent, f.frame)
    };
    let m = frame.len();
    let s: Vec<u32> = start_stack.iter().copied().filter(|&f| show_all || !removed(flags, f)).collect();

    // depth, and md = how many leading frames of the path equal S's leading frames.
    let mut depth = vec![0u32; m];
    let mut md = vec![0u32; m];
    for i in 1..m {
        let p = fparent[i] as usize;
        depth[i] = depth[p] + 1;
        let dp = depth[p] as usize;
        md[i] = if md[p] == depth[p] && dp < s.len() && frame[i] == s[dp] { depth[i] } else { md[p] };
    }

    // j = min(|S| - 1, min over candidates of md - 1), when every candidate starts with S[0] (md >= 1).
    let mut j = 0u32;
    let mut anchor_from = 0u32;
    if !s.is_empty() {
        let mut min_md = u32::MAX;
        let mut ok = true;
        for &c in used {
            let fnode = cf[c as usize];
            if fnode == 0 {
                continue;
            }
            // The path's first frame: climb to depth 1 (cheap: md tells us the answer without climbing
            // when it is >= 1, since then path[0] == S[0] is real).
            if md[fnode as usize] == 0 {
                let mut x = fnode as usize;
                while depth[x] > 1 {
                    x = fparent[x] as usize;
                }
                if is_real(frame[x]) {
                    ok = false;
                    break;
                }
                continue; // starts with a synthetic frame: not a candidate
            }
            if md[fnode as usize] < min_md {
                min_md = md[fnode as usize];
                anchor_from = fnode;
            }
        }
        if ok && min_md != u32::MAX {
            j = (s.len() as u32 - 1).min(min_md - 1);
        }
    }

    let mut tparent = fparent;
    let mut tdepth = depth.clone();
    if j > 0 {
        // The anchor is the candidates' common prefix S[0..j); its children become the root's children.
        let mut a = anchor_from as usize;
        while depth[a] > j {
            a = tparent[a] as usize;
        }
        let mut under = vec![false; m];
        for i in 1..m {
            let p = tparent[i] as usize;
            if p == a {
                under[i] = true;
                tparent[i] = 0;
            } else {
                under[i] = under[p];
            }
            if under[i] {
                tdepth[i] = depth[i] - j;
            }
        }
    }
    Paths { cf, frame, tparent, tdepth }
}
