//! Unit tests of every SPEC.md step, through the public Rust API (Session::add_* / process).

use crate::*;

const ST_JS: u8 = 0;
const ST_IDLE: u8 = 1;
const ST_GC: u8 = 2;
const ST_AWAIT: u8 = 4;
const GC: u32 = 0xffff_ff03;

/// Builds a stack table from frame paths (root -> leaf); returns the stack id of each path.
fn stacks(paths: &[&[u32]]) -> (Vec<i32>, Vec<u32>, Vec<i32>) {
    let (mut parent, mut frame, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for p in paths {
        let mut cur = -1i32;
        for &f in p.iter() {
            // Always append (no sharing): the core must intern equal paths itself.
            parent.push(cur);
            frame.push(f);
            cur = parent.len() as i32 - 1;
        }
        ids.push(cur);
    }
    (parent, frame, ids)
}

struct Case {
    paths: Vec<Vec<u32>>,
    /// (path index or -1, time, state)
    samples: Vec<(i32, f64, u8)>,
    flags: Vec<u8>,
    libs: Vec<u32>,
    duration: f64,
    gap_cap: f64,
    timeline: bool,
    show_all: bool,
    threshold: f64,
    flat_time: FlatTime,
    start: Vec<f64>,
}

fn case(frames: usize) -> Case {
    Case {
        paths: vec![],
        samples: vec![],
        flags: vec![0; frames],
        libs: vec![NO_LIBRARY; frames],
        duration: 0.0,
        gap_cap: 1e9,
        timeline: false,
        show_all: false,
        threshold: 0.0,
        flat_time: FlatTime::SelfTime,
        start: vec![],
    }
}

impl Case {
    fn session(&self) -> Session {
        let refs: Vec<&[u32]> = self.paths.iter().map(|p| p.as_slice()).collect();
        let (parent, frame, ids) = stacks(&refs);
        let mut s = Session::new();
        s.add_stacks(&parent, &frame).unwrap();
        let st: Vec<i32> = self.samples.iter().map(|x| if x.0 < 0 { -1 } else { ids[x.0 as usize] }).collect();
        let t: Vec<f64> = self.samples.iter().map(|x| x.1).collect();
        let state: Vec<u8> = self.samples.iter().map(|x| x.2).collect();
        s.add_samples(&st, &t, &state).unwrap();
        s
    }
    fn opts(&self) -> Options<'_> {
        Options {
            duration: self.duration,
            gap_cap: self.gap_cap,
            timeline: self.timeline,
            show_all: self.show_all,
            filter_threshold: self.threshold,
            flat_time: self.flat_time,
            start_stack: &self.start,
            frame_flags: &self.flags,
            frame_library: &self.libs,
        }
    }
    fn run(&self) -> ProcessedTree {
        self.session().process(&self.opts()).unwrap()
    }
}

fn name(f: u32) -> String {
    match f {
        SYNTH_ROOT => "root".into(),
        SYNTH_SELF => "self".into(),
        SYNTH_IDLE => "idle".into(),
        GC => "gc".into(),
        SYNTH_AWAIT => "await".into(),
        0xffff_ff04 => "native".into(),
        0xffff_ff06 => "ooc".into(),
        f => format!("f{f}"),
    }
}

/// One line per node: indentation by depth, name, time, then s=selfTime / a=awaitTime / g=group when set.
fn show(t: &ProcessedTree) -> Vec<String> {
    (0..t.frame.len())
        .map(|i| {
            let mut s = format!("{}{} {}", "  ".repeat(t.depth[i] as usize), name(t.frame[i]), t.time[i]);
            if t.self_time[i] != 0.0 {
                s += &format!(" s={}", t.self_time[i]);
            }
            if t.await_time[i] != 0.0 {
                s += &format!(" a={}", t.await_time[i]);
            }
            if t.group[i] >= 0 {
                s += &format!(" g={}", t.group[i]);
            }
            if t.flags[i] & NODE_VISIBLE == 0 {
                s += " hidden";
            }
            s
        })
        .collect()
}

fn check_shape(t: &ProcessedTree) {
    let n = t.frame.len();
    for v in [t.parent.len(), t.depth.len(), t.time.len(), t.self_time.len(), t.await_time.len(), t.group.len(), t.flags.len()] {
        assert_eq!(v, n);
    }
    assert_eq!(t.parent[0], -1);
    for i in 1..n {
        assert!((t.parent[i] as usize) < i);
        assert_eq!(t.depth[i], t.depth[t.parent[i] as usize] + 1);
    }
}

// ---- §1 weights and the gap rule ----

#[test]
fn simple_tree_and_weights() {
    let mut c = case(3);
    c.paths = vec![vec![0, 1], vec![0, 2], vec![0, 1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 10.0, ST_JS), (2, 30.0, ST_JS)];
    c.duration = 35.0;
    let t = c.run();
    check_shape(&t);
    // f0 35: f1 gets 10 + 5 (the same path interned twice), f2 20; ordered by time.
    assert_eq!(show(&t), vec!["root 35", "  f0 35", "    f2 20 s=20", "    f1 15 s=15"]);
}

#[test]
fn leading_idle_and_gap_rule() {
    let mut c = case(1);
    c.paths = vec![vec![0]];
    // t0 = 5: 5 of leading idle; dt 100 with cap 10 -> 10 to f0 and 90 idle, never to the next sample.
    c.samples = vec![(0, 5.0, ST_JS), (0, 105.0, ST_JS)];
    c.duration = 108.0;
    c.gap_cap = 10.0;
    let t = c.run();
    assert_eq!(show(&t), vec!["root 108", "  idle 95 s=95", "  f0 13 s=13"]);
    assert_eq!(c.session().sample_count(), 2);
}

#[test]
fn end_is_max_of_duration_and_last_time_and_times_round() {
    let mut c = case(1);
    c.paths = vec![vec![0]];
    // 0.5 rounds to 1 (half away from zero), 2.4 to 2; duration 1 < last time: end = 2.
    c.samples = vec![(0, 0.5, ST_JS), (-1, 2.4, ST_JS)];
    c.duration = 1.0;
    let t = c.run();
    assert_eq!(show(&t), vec!["root 2", "  idle 1 s=1", "  f0 1 s=1"]);
    // Negative duration is below the last time: the end is the last time.
    c.duration = -7.0;
    assert_eq!(c.run().time[0], 2.0);
}

#[test]
fn states_append_synthetic_frames_and_await_time() {
    let mut c = case(2);
    c.paths = vec![vec![0, 1]];
    c.samples = vec![(0, 0.0, ST_AWAIT), (0, 4.0, ST_GC), (0, 6.0, ST_JS), (-1, 7.0, ST_IDLE)];
    c.duration = 10.0;
    let t = c.run();
    assert_eq!(
        show(&t),
        vec![
            "root 10 a=4",
            "  f0 7 a=4",
            "    f1 7 a=4",
            "      await 4 s=4 a=4",
            "      gc 2 s=2",
            "      self 1 s=1",
            "  idle 3 s=3",
        ]
    );
}

#[test]
fn zero_weights_are_dropped_and_no_samples_is_an_empty_tree() {
    let mut c = case(2);
    c.paths = vec![vec![0], vec![1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 0.0, ST_JS), (0, 3.0, ST_JS)];
    c.duration = 3.0;
    // f1's sample has dt 0: no node; f0's last sample ends at the end: weight 0, dropped too.
    assert_eq!(show(&c.run()), vec!["root 3", "  f1 3 s=3"]);
    let e = case(0);
    let t = e.run();
    assert_eq!(show(&t), vec!["root 0"]);
    assert!(t.flat_frame.is_empty() && t.group_root.is_empty());
    assert_eq!(t.group_lib_offsets, vec![0]);
}

#[test]
fn empty_stack_goes_to_roots_self() {
    let mut c = case(1);
    c.paths = vec![vec![0]];
    c.samples = vec![(-1, 0.0, ST_JS), (0, 4.0, ST_JS)];
    c.duration = 5.0;
    assert_eq!(show(&c.run()), vec!["root 5", "  self 4 s=4", "  f0 1 s=1"]);
}

#[test]
fn huge_gaps_use_escape_records_without_losing_time() {
    let mut c = case(1);
    c.paths = vec![vec![0]];
    let big = 6.0e12; // > u32::MAX microseconds
    c.samples = vec![(0, big, ST_JS), (0, 2.0 * big + 1.0, ST_JS)];
    c.gap_cap = f64::INFINITY;
    c.duration = 2.0 * big + 3.0;
    let t = c.run();
    assert_eq!(show(&t), vec!["root 12000000000003", "  f0 6000000000003 s=6000000000003", "  idle 6000000000000 s=6000000000000"]);
    let mut d = case(1);
    d.paths = vec![vec![0]];
    d.samples = vec![(0, 0.0, ST_JS), (0, big, ST_JS)];
    d.duration = big;
    d.gap_cap = 10.0;
    assert_eq!(show(&d.run()), vec!["root 6000000000000", "  idle 5999999999990 s=5999999999990", "  f0 10 s=10"]);
}

#[test]
fn records_are_eight_bytes_per_sample() {
    let mut s = Session::new();
    let (parent, frame, ids) = stacks(&[&[0, 1, 2], &[0, 1, 3]]);
    s.add_stacks(&parent, &frame).unwrap();
    let n = 100_000;
    let st: Vec<i32> = (0..n).map(|i| ids[i % 2]).collect();
    let t: Vec<f64> = (0..n).map(|i| i as f64 * 1000.0).collect();
    let state: Vec<u8> = (0..n).map(|i| (i % 6) as u8).collect();
    s.add_samples(&st, &t, &state).unwrap();
    assert_eq!(s.records.len(), n);
    // Repeated stacks add no path nodes: 2 stacks x 6 states plus prefixes.
    assert!(s.trie.len() < 20);
    assert!(s.memory_bytes() < n * 8 + (1 << 19) + 4096, "{}", s.memory_bytes());
}

// ---- §2 filtering ----

#[test]
fn internal_and_hidden_frames_are_filtered_unless_show_all() {
    let mut c = case(4);
    c.flags = vec![0, FLAG_INTERNAL, FLAG_HIDDEN, 0];
    c.paths = vec![vec![0, 1, 3], vec![0, 2, 3], vec![1, 2]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 1.0, ST_JS), (2, 2.0, ST_GC)];
    c.duration = 3.0;
    // Paths [0,3] merge; [1,2]+gc becomes [gc].
    assert_eq!(show(&c.run()), vec!["root 3", "  f0 2", "    f3 2 s=2", "  gc 1 s=1"]);
    c.show_all = true;
    assert_eq!(
        show(&c.run()),
        vec!["root 3", "  f0 2", "    f1 1", "      f3 1 s=1", "    f2 1", "      f3 1 s=1", "  f1 1", "    f2 1", "      gc 1 s=1"]
    );
}

#[test]
fn a_fully_filtered_path_is_empty() {
    let mut c = case(2);
    c.flags = vec![FLAG_HIDDEN, FLAG_INTERNAL];
    c.paths = vec![vec![0, 1]];
    c.samples = vec![(0, 0.0, ST_JS)];
    c.duration = 2.0;
    assert_eq!(show(&c.run()), vec!["root 2 s=2"]);
}

// ---- §3 trim stem ----

#[test]
fn trim_stem_keeps_the_start_frame_on_top() {
    let mut c = case(6);
    c.paths = vec![vec![0, 1, 2, 3], vec![0, 1, 2, 4]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 1.0, ST_JS), (-1, 2.0, ST_IDLE)];
    c.duration = 3.0;
    c.start = vec![0.0, 1.0, 2.0, 5.0];
    // S = [0,1,2,5]: every candidate matches up to 2, so j = 2 and f2 is the top frame.
    let t = c.run();
    assert_eq!(show(&t), vec!["root 3", "  f2 2", "    f3 1 s=1", "    f4 1 s=1", "  idle 1 s=1"]);
    // Flat view uses trimmed paths: f0 and f1 are gone.
    assert_eq!(t.flat_frame, vec![3, 4, SYNTH_IDLE, 2]);
}

#[test]
fn trim_stem_limits() {
    let mut c = case(6);
    c.paths = vec![vec![0, 1, 2], vec![0, 1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 1.0, ST_JS)];
    c.duration = 2.0;
    c.start = vec![0.0, 1.0, 2.0];
    // [0,1] has no frame after 1: j = 1.
    assert_eq!(show(&c.run()), vec!["root 2", "  f1 2", "    f2 1 s=1", "    self 1 s=1"]);
    // A candidate not starting with S[0]: no trim.
    c.paths = vec![vec![0, 1, 2], vec![3, 1]];
    assert_eq!(show(&c.run())[1], "  f0 1");
    // Empty S: no trim.
    c.paths = vec![vec![0, 1, 2], vec![0, 1]];
    c.start = vec![];
    assert_eq!(show(&c.run())[1], "  f0 2");
    // A zero-weight entry is not a candidate; filtered S frames are skipped.
    c.paths = vec![vec![0, 1, 2], vec![3]];
    c.samples = vec![(1, 0.0, ST_JS), (0, 0.0, ST_JS)];
    c.flags[4] = FLAG_HIDDEN;
    c.start = vec![4.0, 0.0, 1.0, 5.0];
    assert_eq!(show(&c.run()), vec!["root 2", "  f1 2", "    f2 2 s=2"]);
    // Synthetic-first paths are not candidates and are left alone; with showAll S is not filtered.
    c.samples = vec![(0, 0.0, ST_JS), (-1, 1.0, ST_GC)];
    assert_eq!(show(&c.run()), vec!["root 2", "  f1 1", "    f2 1 s=1", "  gc 1 s=1"]);
    c.show_all = true;
    assert_eq!(show(&c.run())[1], "  f0 1");
}

// ---- §4 timeline ----

#[test]
fn timeline_appends_on_change_and_merges_runs() {
    let mut c = case(3);
    c.paths = vec![vec![0, 1], vec![0, 2], vec![0]];
    c.samples = vec![
        (0, 0.0, ST_JS),
        (0, 1.0, ST_JS),
        (1, 2.0, ST_JS),
        (0, 3.0, ST_JS),
        (2, 4.0, ST_JS),
        (2, 5.0, ST_JS),
        (0, 6.0, ST_JS),
    ];
    c.duration = 7.0;
    c.timeline = true;
    assert_eq!(
        show(&c.run()),
        vec!["root 7", "  f0 7", "    f1 2 s=2", "    f2 1 s=1", "    f1 1 s=1", "    self 2 s=2", "    f1 1 s=1"]
    );
    // Aggregated for comparison.
    c.timeline = false;
    assert_eq!(show(&c.run()), vec!["root 7", "  f0 7", "    f1 4 s=4", "    self 2 s=2", "    f2 1 s=1"]);
}

#[test]
fn timeline_gaps_and_states() {
    let mut c = case(1);
    c.paths = vec![vec![0]];
    c.samples = vec![(0, 0.0, ST_JS), (0, 20.0, ST_JS), (0, 21.0, ST_AWAIT), (0, 22.0, ST_AWAIT), (0, 23.0, ST_JS)];
    c.duration = 24.0;
    c.gap_cap = 5.0;
    c.timeline = true;
    assert_eq!(
        show(&c.run()),
        vec!["root 24 a=2", "  f0 5 s=5", "  idle 15 s=15", "  f0 4 a=2", "    self 1 s=1", "    await 2 s=2 a=2", "    self 1 s=1"]
    );
}

// ---- §5 irrelevant nodes, §6 lone [self], §7 order ----

#[test]
fn irrelevant_nodes_are_dropped_with_their_subtree() {
    let mut c = case(4);
    c.paths = vec![vec![0, 1], vec![0, 2, 3], vec![0]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 95.0, ST_JS), (2, 99.0, ST_JS)];
    c.duration = 100.0;
    c.threshold = 0.05;
    // f2 (4 < 5) goes with f3; f0's time is unchanged; f0 has [self] 1 and f1: the [self] (1 < 5) is dropped
    // too, leaving f1 alone (not a [self] node, so it stays a child).
    assert_eq!(show(&c.run()), vec!["root 100", "  f0 100", "    f1 95 s=95"]);
    // Exactly at the threshold stays (child.time < threshold * total drops).
    c.threshold = 0.04;
    assert_eq!(show(&c.run()), vec!["root 100", "  f0 100", "    f1 95 s=95", "    f2 4", "      f3 4 s=4"]);
    c.show_all = true;
    c.threshold = 0.5;
    assert_eq!(show(&c.run()).len(), 6);
}

#[test]
fn lone_self_nodes_fold_into_their_parent() {
    let mut c = case(2);
    c.paths = vec![vec![0], vec![0, 1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 3.0, ST_JS)];
    c.duration = 4.0;
    let t = c.run();
    // f0 keeps its [self] (it has two children); f1's lone [self] folds into f1.selfTime.
    assert_eq!(show(&t), vec!["root 4", "  f0 4", "    self 3 s=3", "    f1 1 s=1"]);
    // After §5 drops f1, f0's [self] is alone and folds.
    c.threshold = 0.3;
    assert_eq!(show(&c.run()), vec!["root 4", "  f0 4 s=3"]);
}

#[test]
fn ties_keep_creation_order() {
    let mut c = case(4);
    c.paths = vec![vec![3], vec![1], vec![2], vec![1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 2.0, ST_JS), (2, 4.0, ST_JS), (3, 5.0, ST_JS), (0, 6.0, ST_JS)];
    c.duration = 8.0;
    // f3 4, f1 3, f2 1... make a tie: f3 4 vs f1 3; add a tie between f2 and a later node.
    assert_eq!(show(&c.run()), vec!["root 8", "  f3 4 s=4", "  f1 3 s=3", "  f2 1 s=1"]);
    c.samples = vec![(0, 0.0, ST_JS), (1, 2.0, ST_JS), (2, 4.0, ST_JS)];
    c.duration = 6.0;
    assert_eq!(show(&c.run()), vec!["root 6", "  f3 2 s=2", "  f1 2 s=2", "  f2 2 s=2"]);
}

// ---- §8 grouping and visibility ----

#[test]
fn library_frames_are_grouped() {
    // app0 -> lib1 -> lib2 -> lib3 -> app4 ; lib libraries 7, 8, 7.
    let mut c = case(5);
    c.flags = vec![0, FLAG_LIBRARY, FLAG_LIBRARY, FLAG_LIBRARY, 0];
    c.libs = vec![NO_LIBRARY, 7, 8, 7, NO_LIBRARY];
    c.paths = vec![vec![0, 1, 2, 3, 4]];
    c.samples = vec![(0, 0.0, ST_JS)];
    c.duration = 10.0;
    let t = c.run();
    assert_eq!(
        show(&t),
        vec!["root 10", "  f0 10", "    f1 10 g=0", "      f2 10 g=0 hidden", "        f3 10 g=0", "          f4 10 s=10"]
    );
    assert_eq!(t.flags[2], NODE_VISIBLE | NODE_GROUP_ROOT);
    assert_eq!(t.group_root, vec![2]);
    assert_eq!(t.group_hidden, vec![1]);
    assert_eq!(t.group_lib_offsets, vec![0, 2]);
    assert_eq!(t.group_libs, vec![7, 8]);
    // showAll: no groups, everything visible.
    c.show_all = true;
    let t = c.run();
    assert!(t.group.iter().all(|&g| g == -1) && t.flags.iter().all(|&f| f == NODE_VISIBLE));
    assert!(t.group_root.is_empty());
}

#[test]
fn group_self_nodes_visibility_and_ids() {
    // root -> lib1 -> {lib2 (self 6), lib3 (self 1)}, root -> app0 -> lib1 -> lib2
    let mut c = case(4);
    c.flags = vec![0, FLAG_LIBRARY, FLAG_LIBRARY, FLAG_LIBRARY];
    c.paths = vec![vec![1, 2], vec![1, 3], vec![1], vec![0, 1, 2]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 6.0, ST_JS), (2, 7.0, ST_JS), (3, 8.0, ST_JS)];
    c.duration = 10.0;
    let t = c.run();
    assert_eq!(
        show(&t),
        vec![
            "root 10",
            "  f1 8 g=0",
            "    f2 6 s=6 g=0",
            "    f3 1 s=1 g=0 hidden",
            "    self 1 s=1 g=0 hidden",
            "  f0 2",
            "    f1 2 g=1",
            "      f2 2 s=2 g=1 hidden",
        ]
    );
    // f2 (self 6 > 0.2 * 10) stays visible; f3 and the [self] are hidden (tie: f3 was created first).
    assert_eq!(t.group_hidden, vec![1, 1]);
    assert_eq!(t.group_root, vec![1, 6]);
}

#[test]
fn a_non_hidden_child_stops_the_group_and_keeps_its_parent_visible() {
    // lib1 -> lib2 -> {app0 -> lib1 -> lib3, await}
    let mut c = case(4);
    c.flags = vec![0, FLAG_LIBRARY, FLAG_LIBRARY, FLAG_LIBRARY];
    c.paths = vec![vec![1, 2, 0, 1, 3], vec![1, 2]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 5.0, ST_AWAIT)];
    c.duration = 6.0;
    let t = c.run();
    assert_eq!(
        show(&t),
        vec![
            "root 6 a=1",
            "  f1 6 a=1 g=0",
            "    f2 6 a=1 g=0",
            "      f0 5",
            "        f1 5 g=1",
            "          f3 5 s=5 g=1",
            "      await 1 s=1 a=1",
        ]
    );
    // f2 has children outside its group: visible.
    assert!(t.flags.iter().all(|&f| f & NODE_VISIBLE != 0));
    // Sibling groups get ids in pre-order of their roots, not breadth-first.
}

#[test]
fn group_ids_follow_preorder_of_roots() {
    // root -> {lib1 -> lib2 -> (app0 -> lib1 -> lib2), lib3 -> lib2}
    let mut c = case(4);
    c.flags = vec![0, FLAG_LIBRARY, FLAG_LIBRARY, FLAG_LIBRARY];
    c.paths = vec![vec![1, 2, 0, 1, 2], vec![3, 2]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 6.0, ST_JS)];
    c.duration = 10.0;
    let t = c.run();
    assert_eq!(t.frame, vec![SYNTH_ROOT, 1, 2, 0, 1, 2, 3, 2]);
    assert_eq!(t.group, vec![-1, 0, 0, -1, 1, 1, 2, 2]);
    assert_eq!(t.group_root, vec![1, 4, 6]);
}

// ---- §9 flat view ----

#[test]
fn flat_view_counts_recursion_once_and_orders() {
    let mut c = case(3);
    // recursion f0 -> f1 -> f0 -> f2
    c.paths = vec![vec![0, 1, 0, 2], vec![0, 1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 6.0, ST_JS), (-1, 8.0, ST_IDLE)];
    c.duration = 10.0;
    let t = c.run();
    // first appearance: f0, f1, f2, idle
    assert_eq!(t.flat_frame, vec![2, 1, SYNTH_IDLE, 0]);
    assert_eq!(t.flat_self, vec![6.0, 2.0, 2.0, 0.0]);
    assert_eq!(t.flat_total, vec![6.0, 8.0, 2.0, 8.0]);
    c.flat_time = FlatTime::Total;
    let t = c.run();
    assert_eq!(t.flat_frame, vec![0, 1, 2, SYNTH_IDLE]);
    // threshold on the chosen time (2 < 0.25 * 10 drops idle; f2 stays at 6).
    c.threshold = 0.25;
    c.flat_time = FlatTime::SelfTime;
    assert_eq!(c.run().flat_frame, vec![2]);
    c.show_all = true;
    assert_eq!(c.run().flat_frame.len(), 4);
}

#[test]
fn flat_view_uses_filtered_paths_and_skips_empty_ones() {
    let mut c = case(3);
    c.flags = vec![0, FLAG_INTERNAL, 0];
    c.paths = vec![vec![0, 1], vec![1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 1.0, ST_JS), (-1, 3.0, ST_JS)];
    c.duration = 6.0;
    let t = c.run();
    assert_eq!(t.flat_frame, vec![0]);
    assert_eq!(t.flat_self, vec![1.0]);
    assert_eq!(t.time[0], 6.0);
}

// ---- depth, streaming, errors ----

#[test]
fn ten_thousand_deep_stack() {
    let depth = 10_000u32;
    let mut c = case(depth as usize + 1);
    let deep: Vec<u32> = (0..depth).collect();
    c.flags[5000] = FLAG_LIBRARY;
    c.flags[5001] = FLAG_LIBRARY;
    c.paths = vec![deep.clone(), deep[..9_000].to_vec()];
    c.samples = vec![(0, 0.0, ST_JS), (1, 3.0, ST_JS), (0, 4.0, ST_AWAIT)];
    c.duration = 6.0;
    for timeline in [false, true] {
        c.timeline = timeline;
        let t = c.run();
        check_shape(&t);
        assert!(t.depth.iter().max().copied().unwrap() >= depth);
        assert_eq!(t.time[0], 6.0);
        assert_eq!(t.flat_frame.len(), depth as usize + 1);
        assert_eq!(t.group_root.len(), 1);
    }
    c.start = (0..9000).map(f64::from).collect();
    c.timeline = false;
    assert_eq!(c.run().frame[1], 8999);
}

#[test]
fn streaming_chunks_equal_one_chunk() {
    let mut c = case(5);
    c.flags = vec![0, FLAG_LIBRARY, FLAG_LIBRARY, FLAG_INTERNAL, 0];
    c.paths = vec![vec![0, 1, 2], vec![0, 3, 4], vec![0, 1, 2, 4], vec![4]];
    let mut t = 0.0;
    c.samples = (0..200)
        .map(|i: i32| {
            t += f64::from((i * 7919) % 13) + 0.3;
            (i % 5 - 1, t, (i % 6) as u8)
        })
        .collect();
    c.duration = t + 50.0;
    c.gap_cap = 9.0;
    c.start = vec![0.0];
    for timeline in [false, true] {
        c.timeline = timeline;
        let whole = c.run();
        let refs: Vec<&[u32]> = c.paths.iter().map(|p| p.as_slice()).collect();
        let (parent, frame, ids) = stacks(&refs);
        let mut s = Session::new();
        // Stacks in two chunks (ids continue), samples in uneven chunks including empty ones.
        s.add_stacks(&parent[..3], &frame[..3]).unwrap();
        s.add_stacks(&parent[3..], &frame[3..]).unwrap();
        let mut i = 0;
        for len in [0usize, 1, 17, 0, 50, 200] {
            let end = (i + len).min(c.samples.len());
            let part = &c.samples[i..end];
            let st: Vec<i32> = part.iter().map(|x| if x.0 < 0 { -1 } else { ids[x.0 as usize] }).collect();
            let tm: Vec<f64> = part.iter().map(|x| x.1).collect();
            let sta: Vec<u8> = part.iter().map(|x| x.2).collect();
            s.add_samples(&st, &tm, &sta).unwrap();
            i = end;
        }
        assert_eq!(s.process(&c.opts()).unwrap(), whole);
    }
}

#[test]
fn malformed_input_is_an_error() {
    let mut s = Session::new();
    assert!(s.add_stacks(&[0], &[0]).is_err(), "parent == own id");
    assert!(s.add_stacks(&[-2], &[0]).is_err(), "parent < -1");
    assert!(s.add_stacks(&[-1, 5], &[0, 0]).is_err(), "parent > own id");
    assert!(s.add_stacks(&[-1], &[0, 1]).is_err(), "column lengths");
    assert_eq!(s.stack_count(), 0, "a failed chunk adds nothing");
    s.add_stacks(&[-1, 0], &[0, 1]).unwrap();
    // Chunked parent ids are global.
    assert!(s.add_stacks(&[2], &[0]).is_err());
    s.add_stacks(&[1], &[0]).unwrap();
    let ok = |s: &mut Session, st: i32, t: f64, state: u8| s.add_samples(&[st], &[t], &[state]);
    assert!(ok(&mut s, 3, 0.0, 0).is_err(), "stack id out of range");
    assert!(ok(&mut s, -2, 0.0, 0).is_err(), "stack id < -1");
    assert!(ok(&mut s, 0, f64::NAN, 0).is_err(), "NaN time");
    assert!(ok(&mut s, 0, f64::INFINITY, 0).is_err(), "infinite time");
    assert!(ok(&mut s, 0, -1.0, 0).is_err(), "negative time");
    assert!(ok(&mut s, 0, 0.0, 6).is_err(), "state > 5");
    assert!(s.add_samples(&[0, 0], &[5.0, 4.0], &[0, 0]).is_err(), "time going back");
    assert!(s.add_samples(&[0], &[1.0, 2.0], &[0]).is_err(), "column lengths");
    assert_eq!(s.sample_count(), 0);
    ok(&mut s, 0, 5.0, 0).unwrap();
    assert!(ok(&mut s, 0, 4.9, 0).is_err(), "time going back across chunks");
    ok(&mut s, 2, 5.0, 0).unwrap();
    let flags = [0u8; 2];
    let libs = [NO_LIBRARY; 2];
    let base = Options {
        duration: 10.0,
        gap_cap: 1.0,
        timeline: false,
        show_all: false,
        filter_threshold: 0.01,
        flat_time: FlatTime::SelfTime,
        start_stack: &[],
        frame_flags: &flags,
        frame_library: &libs,
    };
    assert!(s.process(&base).is_ok());
    assert!(s.process(&Options { frame_flags: &flags[..1], frame_library: &libs[..1], ..base }).is_err(), "frame id >= frame count");
    assert!(s.process(&Options { frame_library: &libs[..1], ..base }).is_err(), "frameLibrary length");
    assert!(s.process(&Options { start_stack: &[2.0], ..base }).is_err(), "startStack entry >= frame count");
    assert!(s.process(&Options { start_stack: &[-1.0], ..base }).is_err(), "startStack entry < 0");
    assert!(s.process(&Options { start_stack: &[0.5], ..base }).is_err(), "startStack entry not an integer");
    assert!(s.process(&Options { duration: f64::NAN, ..base }).is_err(), "NaN duration");
    assert!(s.process(&Options { duration: f64::INFINITY, ..base }).is_err(), "infinite duration");
    assert!(s.process(&Options { gap_cap: -1.0, ..base }).is_err(), "negative gapCap");
    assert!(s.process(&Options { gap_cap: f64::NAN, ..base }).is_err(), "NaN gapCap");
    assert!(s.process(&Options { gap_cap: f64::INFINITY, ..base }).is_ok(), "no cap");
    let e = s.process(&Options { start_stack: &[9.0], ..base }).unwrap_err();
    assert!(!e.0.contains('\n') && e.0.contains("startStack"));
}

#[test]
fn ffi_round_trip_and_errors() {
    use crate::ffi::*;
    unsafe fn put<T: Copy>(v: &[T]) -> *mut T {
        let p = tsp_alloc(core::mem::size_of_val(v) as u32) as *mut T;
        core::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len());
        p
    }
    unsafe fn error() -> String {
        let s = core::slice::from_raw_parts(tsp_error_ptr(), tsp_error_len() as usize);
        String::from_utf8(s.to_vec()).unwrap()
    }
    unsafe {
        let h = tsp_new();
        let (p, f) = (put(&[-1i32, 0]), put(&[0u32, 1]));
        assert_eq!(tsp_add_stacks(h, p, f, 2), 0);
        assert_eq!(tsp_add_stacks(h, p.add(1), f, 1), 0, "parent 0 for stack 2");
        let bad = put(&[7i32]);
        assert_eq!(tsp_add_stacks(h, bad, f, 1), 1);
        assert!(error().contains("stack 3"), "{}", error());
        assert_eq!(tsp_add_stacks(h + 100, p, f, 1), 1, "unknown handle");
        assert_eq!(tsp_add_stacks(h, (p as *mut u8).add(1) as *const i32, f, 1), 1, "misaligned");
        let (st, tm, sa) = (put(&[1i32, -1]), put(&[0.0f64, 4.0]), put(&[0u8, 1]));
        assert_eq!(tsp_add_samples(h, st, tm, sa, 2), 0);
        let (fl, lib) = (put(&[0u8, 0]), put(&[NO_LIBRARY, NO_LIBRARY]));
        let start = put(&[0.0f64]);
        assert_eq!(tsp_process(h, 6.0, 1e9, 0, 0, 0.0, 0, start, 1, fl, 2, lib, 2), 0);
        assert_eq!(tsp_result_len(h, 0), 4);
        let frames = core::slice::from_raw_parts(tsp_result_ptr(h, 0) as *const u32, 4);
        assert_eq!(frames, &[SYNTH_ROOT, 0, 1, SYNTH_IDLE]);
        let times = core::slice::from_raw_parts(tsp_result_ptr(h, 3) as *const f64, 4);
        assert_eq!(times, &[6.0, 4.0, 4.0, 2.0]);
        assert_eq!(tsp_result_len(h, 99), 0);
        assert_eq!(tsp_process(h, f64::NAN, 1e9, 0, 0, 0.0, 0, start, 1, fl, 2, lib, 2), 1);
        assert!(error().contains("duration"));
        assert_eq!(tsp_result_len(h, 0), 0, "a failed process leaves no result");
        tsp_drop(h);
        assert_eq!(tsp_add_samples(h, st, tm, sa, 2), 1, "dropped handle");
        for (ptr, n) in [(p as *mut u8, 8), (f as *mut u8, 8), (bad as *mut u8, 4), (st as *mut u8, 8), (tm as *mut u8, 16), (sa as *mut u8, 2), (fl as *mut u8, 2), (lib as *mut u8, 8), (start as *mut u8, 8)] {
            tsp_free(ptr, n);
        }
    }
}
