//! The whole pipeline (SPEC §1-9) and its result, ProcessedTree (session/types.ts).

use crate::hash::Trie;
use crate::ingest::Session;
use crate::stitch::Stitch;
use crate::weights::{AwaitCtx, Gaps};
use crate::{
    err, flat, group, paths, processors, round_time, tree, weights, AsyncMode, Error, Options, FLAG_BUILTIN,
    FLAG_HIDDEN, FLAG_INTERNAL, SYNTHETIC_BASE, SYNTH_AWAIT, SYNTH_GC, SYNTH_NATIVE,
};

/// session/types.ts ProcessedTree: nodes in pre-order (node 0 = root), groups, flat rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessedTree {
    pub frame: Vec<u32>,
    pub parent: Vec<i32>,
    pub depth: Vec<u32>,
    pub time: Vec<f64>,
    pub self_time: Vec<f64>,
    pub await_time: Vec<f64>,
    /// Inclusive CPU time per node (SPEC, CPU time); None when the session has no CPU column (unknown).
    pub cpu_time: Option<Vec<f64>>,
    pub group: Vec<i32>,
    pub flags: Vec<u8>,
    pub group_root: Vec<u32>,
    pub group_hidden: Vec<u32>,
    pub group_lib_offsets: Vec<u32>,
    pub group_libs: Vec<u32>,
    pub flat_frame: Vec<u32>,
    pub flat_self: Vec<f64>,
    pub flat_total: Vec<f64>,
}

/// SPEC §1-3's entries in time order, consecutive entries on one path merged: what a sample format or a timeline
/// draws (SPEC, entries). Paths are a prefix tree whose node 0 is the empty path.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entries {
    pub path_parent: Vec<u32>,
    pub path_frame: Vec<u32>,
    pub entry_path: Vec<u32>,
    pub entry_weight: Vec<f64>,
}

fn validate(s: &Session, o: &Options) -> Result<Vec<u32>, Error> {
    let fc = o.frame_flags.len();
    if o.frame_library.len() != fc {
        return err(format!("frameLibrary has {} entries but frameFlags has {fc}", o.frame_library.len()));
    }
    if let Some(m) = s.max_frame() {
        if m as usize >= fc {
            return err(format!("frame id {m} out of range ({fc} frames)"));
        }
    }
    let mut start = Vec::with_capacity(o.start_stack.len());
    for (i, &f) in o.start_stack.iter().enumerate() {
        if !(f >= 0.0 && f < fc as f64 && f.fract() == 0.0) {
            return err(format!("startStack[{i}]: frame id {f} out of range ({fc} frames)"));
        }
        start.push(f as u32);
    }
    // Not in SPEC's list, but an infinite or NaN end has no meaning (a negative one is just below the
    // last sample time).
    if !o.duration.is_finite() {
        return err(format!("duration {} is not finite", o.duration));
    }
    if o.gap_cap.is_nan() || o.gap_cap < 0.0 {
        return err(format!("gapCap {} is not a time >= 0", o.gap_cap));
    }
    // Not in SPEC's list either: an interval that is not a finite time >= 0 has no meaning.
    if !o.interval.is_finite() || o.interval < 0.0 {
        return err(format!("interval {} is not a time >= 0", o.interval));
    }
    let ns = s.stack_count();
    if s.max_wait_stack >= 0 && s.max_wait_stack as usize >= ns {
        return err(format!("wait stack id {} out of range ({ns} stacks)", s.max_wait_stack));
    }
    Ok(start)
}

/// Per core path (SPEC, await rule 3): no frame of the program's, only the runtime's (every real frame internal,
/// hidden or a builtin, in state js, native or gc; the empty path too). Decided on the flags, so showAll changes
/// nothing.
fn runtime_only_paths(trie: &Trie, flags: &[u8]) -> Vec<bool> {
    let mut out = vec![true; trie.len()];
    for n in 1..trie.len() {
        let f = trie.frame[n];
        let own = if f < SYNTHETIC_BASE {
            flags.get(f as usize).is_some_and(|&x| x & (FLAG_INTERNAL | FLAG_HIDDEN | FLAG_BUILTIN) != 0)
        } else {
            f == SYNTH_NATIVE || f == SYNTH_GC
        };
        out[n] = own && out[trie.parent[n] as usize];
    }
    out
}

impl Session {
    /// The await path of every stack id a wait names (interned once per stack id, memoized), for the sweep.
    fn await_ctx(&mut self, o: &Options) -> Option<AwaitCtx> {
        if o.async_mode == AsyncMode::Disabled || self.waits.len() == 0 {
            return None;
        }
        const UNSET: u32 = u32::MAX;
        let mut paths = vec![UNSET; self.stack_count() + 1];
        for i in 0..self.waits.len() {
            let Some(w) = self.waits.get(i) else { break };
            let k = (w.stack + 1) as usize;
            if paths.get(k) == Some(&UNSET) {
                let c = self.stack_node(w.stack);
                paths[k] = self.trie.intern(c, SYNTH_AWAIT);
            }
        }
        let end = round_time(o.duration).max(self.last_time);
        let interval = round_time(o.interval);
        let stitch = Stitch::build(self, end, interval, o.frame_flags);
        let runtime_only = runtime_only_paths(&self.trie, o.frame_flags);
        let wake_bound = if o.idle_sampled { f64::INFINITY } else { 4.0 * interval };
        Some(AwaitCtx { interval, wake_bound, paths, stitch, runtime_only })
    }

    /// Runs SPEC §1-9 over everything ingested so far. The session is unchanged but for the paths it
    /// interns (process again with other options, or add more samples).
    pub fn process(&mut self, o: &Options) -> Result<ProcessedTree, Error> {
        let start = validate(self, o)?;
        if self.samples == 0 {
            // No entries (SPEC §1): nothing to attribute either.
            return Ok(self.process_entries(o, &start, None));
        }
        let ctx = self.await_ctx(o);
        Ok(self.process_entries(o, &start, ctx.as_ref()))
    }

    /// SPEC, entries: §1-3 in time order, with the options' showAll, async mode and start stack (timeline,
    /// filterThreshold and flatTime play no part).
    pub fn entries(&mut self, o: &Options) -> Result<Entries, Error> {
        let start = validate(self, o)?;
        let ctx = if self.samples == 0 { None } else { self.await_ctx(o) };
        let gaps = self.gaps(o);
        let mut seen = vec![false; self.trie.len()];
        let mut order: Vec<u32> = Vec::new();
        let (mut path, mut weight) = (Vec::new(), Vec::new());
        weights::for_each_entry(self, &gaps, ctx.as_ref(), true, |c, w, _cpu| {
            if w > 0.0 {
                if !seen[c as usize] {
                    seen[c as usize] = true;
                    order.push(c);
                }
                path.push(c);
                weight.push(w);
            }
        });
        let p = paths::build(&self.trie, o.frame_flags, o.show_all, &start, &order);
        let mut e = Entries { path_parent: p.tparent, path_frame: p.frame, ..Entries::default() };
        for (c, w) in path.into_iter().zip(weight) {
            let f = p.cf[c as usize];
            match (e.entry_path.last(), e.entry_weight.last_mut()) {
                (Some(&last), Some(sum)) if last == f => *sum += w,
                _ => {
                    e.entry_path.push(f);
                    e.entry_weight.push(w);
                }
            }
        }
        Ok(e)
    }

    fn gaps(&self, o: &Options) -> Gaps {
        Gaps {
            end: round_time(o.duration).max(self.last_time),
            cap: round_time(o.gap_cap),
            idle_sampled: o.idle_sampled,
            to_previous: o.gap_to_previous,
            interval: round_time(o.interval),
        }
    }

    fn process_entries(&self, o: &Options, start: &[u32], waits: Option<&AwaitCtx>) -> ProcessedTree {
        let gaps = self.gaps(o);

        // §1, streamed: summed weight and cpu per unique core path and the order in which paths first carry
        // wall time. CPU time alone (w = 0, c > 0; SPEC, CPU time) makes no node, so it takes no part in that
        // order; a call with w = 0 and c = 0 is a lazy first appearance (weights.rs).
        let nc = self.trie.len();
        let mut cw = vec![0.0f64; nc];
        let mut cpu_c = vec![0.0f64; nc];
        let mut seen = vec![false; nc];
        let mut order: Vec<u32> = Vec::new();
        weights::for_each_entry(self, &gaps, waits, false, |c, w, cpu| {
            let i = c as usize;
            // Without a CPU column cpu is a constant 0: these tests fold away.
            if !seen[i] && (w > 0.0 || cpu == 0.0) {
                seen[i] = true;
                order.push(c);
            }
            cw[i] += w;
            if cpu != 0.0 {
                cpu_c[i] += cpu;
            }
        });

        // §2-3 once per unique path; trim-stem candidates are the paths in `order`, those with wall time.
        let p = paths::build(&self.trie, o.frame_flags, o.show_all, start, &order);
        let m = p.frame.len();
        let mut wf = vec![0.0f64; m];
        let mut cpu_f = vec![0.0f64; m];
        let mut seen_f = vec![false; m];
        let mut order_f: Vec<u32> = Vec::new();
        for &c in &order {
            let f = p.cf[c as usize];
            if !seen_f[f as usize] {
                seen_f[f as usize] = true;
                order_f.push(f);
            }
            wf[f as usize] += cw[c as usize];
        }
        // CPU time per filtered path; the paths with CPU time alone go to the tree after the others.
        let mut cpu_only: Vec<u32> = Vec::new();
        if self.has_cpu() {
            for c in 0..nc {
                if cpu_c[c] != 0.0 {
                    cpu_f[p.cf[c] as usize] += cpu_c[c];
                }
            }
            cpu_only = (0..m as u32).filter(|&f| !seen_f[f as usize] && cpu_f[f as usize] != 0.0).collect();
        }
        drop(seen);

        // §4.
        let raw = if o.timeline {
            // root.time is the sum of all weights, known from the first pass (sums are exact).
            let total: f64 = order.iter().map(|&c| cw[c as usize]).sum();
            let limit = if o.show_all { f64::NAN } else { o.filter_threshold * total };
            let mut tl = tree::Timeline::new(&p, limit);
            let to_f = &p.cf;
            weights::for_each_entry(self, &gaps, waits, true, |c, w, cpu| tl.entry(to_f[c as usize], w, cpu));
            tl.finish()
        } else {
            tree::aggregated(&p, &order_f, &wf, &cpu_f, &cpu_only)
        };
        let root_time = raw.time[0];

        // §5-7, §8, §9.
        let ord = processors::process(raw, o.timeline, o.show_all, o.filter_threshold);
        let g = group::group(&ord, o.frame_flags, o.frame_library, o.show_all);
        let fl =
            flat::flat(&p, &order_f, &wf, o.frame_flags.len(), root_time, o.flat_time, o.filter_threshold, o.show_all);
        ProcessedTree {
            frame: ord.frame,
            parent: ord.parent,
            depth: ord.depth,
            time: ord.time,
            self_time: ord.self_time,
            await_time: ord.await_time,
            cpu_time: self.has_cpu().then_some(ord.cpu_time),
            group: g.group,
            flags: g.flags,
            group_root: g.root,
            group_hidden: g.hidden,
            group_lib_offsets: g.lib_offsets,
            group_libs: g.libs,
            flat_frame: fl.frame,
            flat_self: fl.self_time,
            flat_total: fl.total,
        }
    }
}
