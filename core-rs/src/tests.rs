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
    idle_sampled: bool,
    gap_to_previous: bool,
    timeline: bool,
    show_all: bool,
    threshold: f64,
    flat_time: FlatTime,
    start: Vec<f64>,
    /// (start, end, path index or -1)
    waits: Vec<(f64, f64, i32)>,
    interval: f64,
    mode: AsyncMode,
    /// SampleTable.cpu, one per sample; None: no CPU column.
    cpu: Option<Vec<f64>>,
}

fn case(frames: usize) -> Case {
    Case {
        paths: vec![],
        samples: vec![],
        flags: vec![0; frames],
        libs: vec![NO_LIBRARY; frames],
        duration: 0.0,
        gap_cap: 1e9,
        idle_sampled: false,
        gap_to_previous: false,
        timeline: false,
        show_all: false,
        threshold: 0.0,
        flat_time: FlatTime::SelfTime,
        start: vec![],
        waits: vec![],
        interval: 0.0,
        mode: AsyncMode::Enabled,
        cpu: None,
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
        s.add_samples(&st, &t, &state, self.cpu.as_deref()).unwrap();
        let ws: Vec<i32> = self.waits.iter().map(|x| if x.2 < 0 { -1 } else { ids[x.2 as usize] }).collect();
        let wa: Vec<f64> = self.waits.iter().map(|x| x.0).collect();
        let wb: Vec<f64> = self.waits.iter().map(|x| x.1).collect();
        s.add_waits(&wa, &wb, &ws).unwrap();
        s
    }
    fn opts(&self) -> Options<'_> {
        Options {
            duration: self.duration,
            gap_cap: self.gap_cap,
            idle_sampled: self.idle_sampled,
            gap_to_previous: self.gap_to_previous,
            interval: self.interval,
            async_mode: self.mode,
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
            if let Some(c) = t.cpu_time.as_ref().filter(|c| c[i] != 0.0) {
                s += &format!(" c={}", c[i]);
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
    for v in [
        t.parent.len(),
        t.depth.len(),
        t.time.len(),
        t.self_time.len(),
        t.await_time.len(),
        t.group.len(),
        t.flags.len(),
    ] {
        assert_eq!(v, n);
    }
    if let Some(c) = &t.cpu_time {
        assert_eq!(c.len(), n);
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
fn running_gap_is_running_time_its_late_part_the_next_samples() {
    let mut c = case(2);
    c.paths = vec![vec![0], vec![1]];
    // f0@0, f1@101 (both running), end 111, cap 10. Without the flag: f0 10, 91 idle, f1 10. With it nothing is
    // idle: f0 keeps min(dt, cap, 2 intervals), the late part is f1's.
    c.samples = vec![(0, 0.0, ST_JS), (1, 101.0, ST_JS)];
    c.duration = 111.0;
    c.gap_cap = 10.0;
    assert_eq!(show(&c.run()), vec!["root 111", "  idle 91 s=91", "  f0 10 s=10", "  f1 10 s=10"]);
    c.idle_sampled = true;
    // No interval: f0 keeps the cap's 10.
    let t = c.run();
    check_shape(&t);
    assert_eq!(show(&t), vec!["root 111", "  f1 101 s=101", "  f0 10 s=10"]);
    // Interval 2: f0 keeps 4, f1 gets 97 + its own 10.
    c.interval = 2.0;
    assert_eq!(show(&c.run()), vec!["root 111", "  f1 107 s=107", "  f0 4 s=4"]);
    // A gap up to 4 intervals is split at its middle (the change lies anywhere in it), rounded down for f0.
    c.samples = vec![(0, 0.0, ST_JS), (1, 4.0, ST_JS)];
    c.duration = 14.0;
    assert_eq!(show(&c.run()), vec!["root 14", "  f1 12 s=12", "  f0 2 s=2"]);
    c.samples = vec![(0, 0.0, ST_JS), (1, 7.0, ST_JS)];
    c.duration = 17.0;
    assert_eq!(show(&c.run()), vec!["root 17", "  f1 14 s=14", "  f0 3 s=3"]);
    c.samples = vec![(0, 0.0, ST_JS), (1, 9.0, ST_JS)];
    c.duration = 19.0;
    assert_eq!(show(&c.run()), vec!["root 19", "  f1 15 s=15", "  f0 4 s=4"]);
    // States other than idle are running: [gc] and an empty stack too.
    c.interval = 0.0;
    c.samples = vec![(0, 0.0, ST_GC), (-1, 100.0, ST_JS)];
    c.duration = 110.0;
    assert_eq!(show(&c.run()), vec!["root 110", "  self 100 s=100", "  f0 10", "    gc 10 s=10"]);
}

#[test]
fn leading_span_stays_idle_with_idle_sampled() {
    let mut c = case(2);
    c.paths = vec![vec![0], vec![1]];
    // f0@5, f1@10, end 20: the leading 5 (and its 2 of CPU) are idle with the flag too (V8's profiler start-up).
    c.samples = vec![(0, 5.0, ST_JS), (1, 10.0, ST_JS)];
    c.cpu = Some(vec![2.0, 4.0]);
    c.duration = 20.0;
    let want = vec!["root 20 c=4", "  f1 10 s=10", "  idle 5 s=5 c=2", "  f0 5 s=5 c=2"];
    assert_eq!(show(&c.run()), want);
    c.idle_sampled = true;
    assert_eq!(show(&c.run()), want);
}

#[test]
fn running_gap_to_previous_is_wholly_the_sample_before_it() {
    let mut c = case(2);
    c.paths = vec![vec![0], vec![1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 101.0, ST_JS)];
    c.duration = 111.0;
    c.gap_cap = 10.0;
    c.idle_sampled = true;
    c.gap_to_previous = true;
    c.interval = 2.0;
    // f0 keeps the whole gap (past the cap too), f1 its own 10; nothing is idle.
    assert_eq!(show(&c.run()), vec!["root 111", "  f0 101 s=101", "  f1 10 s=10"]);
    // Not a running gap (the next sample idle): the cap and idle as without it.
    c.samples = vec![(0, 0.0, ST_JS), (1, 101.0, ST_IDLE)];
    assert_eq!(show(&c.run()), vec!["root 111", "  idle 91 s=91", "  f0 10 s=10", "  f1 10", "    idle 10 s=10"]);
    // Without idleSampled the flag changes nothing.
    c.idle_sampled = false;
    c.samples = vec![(0, 0.0, ST_JS), (1, 101.0, ST_JS)];
    assert_eq!(show(&c.run()), vec!["root 111", "  idle 91 s=91", "  f0 10 s=10", "  f1 10 s=10"]);
}

#[test]
fn running_gap_only_between_two_samples_not_idle_and_not_after_the_last() {
    let mut c = case(2);
    c.paths = vec![vec![0], vec![1]];
    // f0@0 -> idle@100: ends at an idle sample (10 + 90 idle); idle@100 -> f0@200: starts at one (all idle);
    // f0@200 -> f1@300: running (10 | 90); f1@300 -> end 400: the last sample (10 + 90 idle).
    c.samples = vec![(0, 0.0, ST_JS), (-1, 100.0, ST_IDLE), (0, 200.0, ST_JS), (1, 300.0, ST_JS)];
    c.duration = 400.0;
    c.gap_cap = 10.0;
    c.idle_sampled = true;
    assert_eq!(show(&c.run()), vec!["root 400", "  idle 280 s=280", "  f1 100 s=100", "  f0 20 s=20"]);
    // Timeline: the late part is f1's, just before f1's own entry, so the two are one run.
    c.timeline = true;
    assert_eq!(
        show(&c.run()),
        vec!["root 400", "  f0 10 s=10", "  idle 190 s=190", "  f0 10 s=10", "  f1 100 s=100", "  idle 90 s=90"]
    );
}

#[test]
fn running_gap_only_where_await_rule_1_sees_no_wait_and_its_cpu_stays_before_it() {
    let mut c = abc();
    // f0@0, f1@100, end 110, cap 10, interval 1. A wait by f2 over [5, 95), started within f0's credit: rule 1 (a)
    // says the program went idle at it, so the gap is not a running gap: the same tree as without the flag.
    c.samples = vec![(0, 0.0, ST_JS), (1, 100.0, ST_JS)];
    c.duration = 110.0;
    c.gap_cap = 10.0;
    c.interval = 1.0;
    c.waits = vec![(5.0, 95.0, W_C)];
    c.cpu = Some(vec![0.0, 70.0]);
    let awaited = vec![
        "root 110 a=90 c=70",
        "  f2 90 a=90",
        "    await 90 s=90 a=90",
        "  f1 10 s=10",
        "  f0 5 s=5 c=70",
        "  idle 5 s=5",
    ];
    assert_eq!(show(&c.run()), awaited);
    // With the flag, the same but for the wake-up at 95: f1 from there on (rule 2 with no bound).
    c.idle_sampled = true;
    assert_eq!(
        show(&c.run()),
        vec!["root 110 a=90 c=70", "  f2 90 a=90", "    await 90 s=90 a=90", "  f1 15 s=15", "  f0 5 s=5 c=70"]
    );
    // A wait pending from before the gap to after it (rule 1 (b)): not a running gap either.
    c.waits = vec![(0.0, 200.0, W_C)];
    assert_eq!(
        show(&c.run()),
        vec!["root 110 a=106 c=70", "  f2 106 a=106", "    await 106 s=106 a=106", "  f0 2 s=2 c=70", "  f1 2 s=2"]
    );
    // A wait that starts past f0's credit (rule 1 looks no further): a running gap, the wait charged nothing; f0
    // keeps 2 intervals and all of the span's CPU, f1 gets the late 98 and its own 10.
    c.waits = vec![(50.0, 60.0, W_C)];
    assert_eq!(show(&c.run()), vec!["root 110 c=70", "  f1 108 s=108", "  f0 2 s=2 c=70"]);
    c.timeline = true;
    assert_eq!(show(&c.run()), vec!["root 110 c=70", "  f0 2 s=2 c=70", "  f1 108 s=108"]);
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
    assert_eq!(
        show(&t),
        vec!["root 12000000000003", "  f0 6000000000003 s=6000000000003", "  idle 6000000000000 s=6000000000000"]
    );
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
    s.add_samples(&st, &t, &state, None).unwrap();
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
        vec![
            "root 3",
            "  f0 2",
            "    f1 1",
            "      f3 1 s=1",
            "    f2 1",
            "      f3 1 s=1",
            "  f1 1",
            "    f2 1",
            "      gc 1 s=1"
        ]
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
        vec![
            "root 24 a=2",
            "  f0 5 s=5",
            "  idle 15 s=15",
            "  f0 4 a=2",
            "    self 1 s=1",
            "    await 2 s=2 a=2",
            "    self 1 s=1"
        ]
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
fn a_nan_threshold_drops_nothing() {
    // Nodes and flat rows are dropped when their time is < the limit; no time is < NaN.
    let mut c = case(4);
    c.paths = vec![vec![0, 1], vec![0, 2, 3], vec![0]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 95.0, ST_JS), (2, 99.0, ST_JS)];
    c.duration = 100.0;
    for (timeline, flat_time) in [(false, FlatTime::SelfTime), (true, FlatTime::Total)] {
        c.timeline = timeline;
        c.flat_time = flat_time;
        c.threshold = 0.0;
        let all = c.run();
        c.threshold = f64::NAN;
        assert_eq!(c.run(), all);
        assert_eq!(all.flat_frame.len(), 4);
    }
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
        vec![
            "root 10",
            "  f0 10",
            "    f1 10 g=0",
            "      f2 10 g=0 hidden",
            "        f3 10 g=0",
            "          f4 10 s=10"
        ]
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
    c.flags = vec![0, FLAG_INTERNAL, FLAG_BUILTIN];
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
            s.add_samples(&st, &tm, &sta, None).unwrap();
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
    let ok = |s: &mut Session, st: i32, t: f64, state: u8| s.add_samples(&[st], &[t], &[state], None);
    assert!(ok(&mut s, 3, 0.0, 0).is_err(), "stack id out of range");
    assert!(ok(&mut s, -2, 0.0, 0).is_err(), "stack id < -1");
    assert!(ok(&mut s, 0, f64::NAN, 0).is_err(), "NaN time");
    assert!(ok(&mut s, 0, f64::INFINITY, 0).is_err(), "infinite time");
    assert!(ok(&mut s, 0, -1.0, 0).is_err(), "negative time");
    assert!(ok(&mut s, 0, 0.0, 6).is_err(), "state > 5");
    assert!(s.add_samples(&[0, 0], &[5.0, 4.0], &[0, 0], None).is_err(), "time going back");
    assert!(s.add_samples(&[0], &[1.0, 2.0], &[0], None).is_err(), "column lengths");
    assert_eq!(s.sample_count(), 0);
    ok(&mut s, 0, 5.0, 0).unwrap();
    assert!(ok(&mut s, 0, 4.9, 0).is_err(), "time going back across chunks");
    ok(&mut s, 2, 5.0, 0).unwrap();
    let flags = [0u8; 2];
    let libs = [NO_LIBRARY; 2];
    let base = Options {
        duration: 10.0,
        gap_cap: 1.0,
        idle_sampled: false,
        gap_to_previous: false,
        interval: 0.0,
        async_mode: AsyncMode::Enabled,
        timeline: false,
        show_all: false,
        filter_threshold: 0.01,
        flat_time: FlatTime::SelfTime,
        start_stack: &[],
        frame_flags: &flags,
        frame_library: &libs,
    };
    assert!(s.process(&base).is_ok());
    assert!(
        s.process(&Options { frame_flags: &flags[..1], frame_library: &libs[..1], ..base }).is_err(),
        "frame id >= frame count"
    );
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
        assert_eq!(tsp_add_samples(h, st, tm, sa, core::ptr::null(), 2), 0);
        let (fl, lib) = (put(&[0u8, 0]), put(&[NO_LIBRARY, NO_LIBRARY]));
        let start = put(&[0.0f64]);
        assert_eq!(tsp_process(h, 6.0, 1e9, 0, 0.0, 1, 0, 0, 0.0, 0, start, 1, fl, 2, lib, 2), 0);
        assert_eq!(tsp_result_len(h, 0), 4);
        let frames = core::slice::from_raw_parts(tsp_result_ptr(h, 0) as *const u32, 4);
        assert_eq!(frames, &[SYNTH_ROOT, 0, 1, SYNTH_IDLE]);
        let times = core::slice::from_raw_parts(tsp_result_ptr(h, 3) as *const f64, 4);
        assert_eq!(times, &[6.0, 4.0, 4.0, 2.0]);
        assert_eq!(tsp_result_len(h, 99), 0);
        assert_eq!(tsp_process(h, f64::NAN, 1e9, 0, 0.0, 1, 0, 0, 0.0, 0, start, 1, fl, 2, lib, 2), 1);
        assert!(error().contains("duration"));
        assert_eq!(tsp_result_len(h, 0), 0, "a failed process leaves no result");
        tsp_drop(h);
        assert_eq!(tsp_add_samples(h, st, tm, sa, core::ptr::null(), 2), 1, "dropped handle");
        for (ptr, n) in [
            (p as *mut u8, 8),
            (f as *mut u8, 8),
            (bad as *mut u8, 4),
            (st as *mut u8, 8),
            (tm as *mut u8, 16),
            (sa, 2),
            (fl, 2),
            (lib as *mut u8, 8),
            (start as *mut u8, 8),
        ] {
            tsp_free(ptr, n);
        }
    }
}

#[test]
fn ffi_idle_sampled_flag() {
    use crate::ffi::*;
    unsafe fn put<T: Copy>(v: &[T]) -> *mut T {
        let p = tsp_alloc(core::mem::size_of_val(v) as u32) as *mut T;
        core::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len());
        p
    }
    unsafe {
        let h = tsp_new();
        let (p, f) = (put(&[-1i32]), put(&[0u32]));
        assert_eq!(tsp_add_stacks(h, p, f, 1), 0);
        let (st, tm, sa) = (put(&[0i32, 0]), put(&[0.0f64, 100.0]), put(&[0u8, 0]));
        assert_eq!(tsp_add_samples(h, st, tm, sa, core::ptr::null(), 2), 0);
        let (fl, lib) = (put(&[0u8]), put(&[NO_LIBRARY]));
        let frames = |h| core::slice::from_raw_parts(tsp_result_ptr(h, 0) as *const u32, tsp_result_len(h, 0) as usize);
        // Two running samples 100 apart, cap 10, end 110: idle 90 without the flag, none with it.
        assert_eq!(tsp_process(h, 110.0, 10.0, 0, 0.0, 1, 0, 0, 0.0, 0, core::ptr::null(), 0, fl, 1, lib, 1), 0);
        assert_eq!(frames(h), &[SYNTH_ROOT, SYNTH_IDLE, 0]);
        assert_eq!(tsp_process(h, 110.0, 10.0, 1, 0.0, 1, 0, 0, 0.0, 0, core::ptr::null(), 0, fl, 1, lib, 1), 0);
        assert_eq!(frames(h), &[SYNTH_ROOT, 0]);
        tsp_drop(h);
        for (ptr, n) in [
            (p as *mut u8, 4),
            (f as *mut u8, 4),
            (st as *mut u8, 8),
            (tm as *mut u8, 16),
            (sa, 2),
            (fl, 1),
            (lib as *mut u8, 4),
        ] {
            tsp_free(ptr, n);
        }
    }
}

// ---- await attribution (SPEC, last section) ----

const W_A: i32 = 0;
const W_B: i32 = 1;
const W_C: i32 = 2;

/// Three one-frame paths f0, f1, f2 (wait stacks A, B, C).
fn abc() -> Case {
    let mut c = case(3);
    c.paths = vec![vec![0], vec![1], vec![2]];
    c
}

#[test]
fn gap_rule_trusts_a_pending_wait_only_with_an_interval() {
    let mut c = abc();
    // f1 is idle, so no wake-up piece (rule 2) gets in the way of rule 1 (b).
    c.samples = vec![(0, 0.0, ST_JS), (1, 100.0, ST_IDLE)];
    c.duration = 110.0;
    c.gap_cap = 50.0;
    c.interval = 10.0;
    // Pending at 0 already, so rule 1 (a) does not apply; pending at 0 + 10: f0 gets min(100, 50, 20) = 20;
    // [20, 60) is the wait's, [60, 100) idle.
    c.waits = vec![(0.0, 60.0, W_B)];
    assert_eq!(
        show(&c.run()),
        vec![
            "root 110 a=40",
            "  f1 50 a=40",
            "    await 40 s=40 a=40",
            "    idle 10 s=10",
            "  idle 40 s=40",
            "  f0 20 s=20"
        ]
    );
    // No interval: rule 1 does not apply; the cap alone leaves [50, 100) idle, [50, 60) of it awaited.
    c.interval = 0.0;
    assert_eq!(show(&c.run())[1..3], ["  f0 50 s=50", "  idle 40 s=40"]);
    // A wait that is over by t + interval does not count: 0..9 is not pending at 10.
    c.interval = 10.0;
    c.waits = vec![(0.0, 9.0, W_B)];
    assert_eq!(show(&c.run())[1], "  f0 50 s=50");
    // Pending at exactly t + interval counts (start <= p); ending there does not (p < end).
    c.samples[0].2 = ST_IDLE; // rule 1 (a) is for running samples only
    c.waits = vec![(10.0, 11.0, W_B)];
    assert_eq!(show(&c.run())[1..3], ["  idle 80 s=80", "  f0 19"]);
    c.waits = vec![(0.0, 10.0, W_B)];
    assert_eq!(show(&c.run())[1..3], ["  idle 50 s=50", "  f0 40"]); // [0, 10) of it awaited

    // The cap still wins when it is smaller than 2 * interval; the interval is rounded (9.5 -> 10).
    c.samples[0].2 = ST_JS;
    c.waits = vec![(0.0, 60.0, W_B)];
    c.gap_cap = 15.0;
    c.interval = 9.5;
    assert_eq!(show(&c.run()).last().unwrap(), "  f0 15 s=15");
}

#[test]
fn a_running_sample_that_went_idle_is_credited_up_to_the_wait_it_started_last() {
    let mut c = abc();
    c.samples = vec![(0, 0.0, ST_JS), (1, 100.0, ST_IDLE)];
    c.duration = 110.0;
    c.gap_cap = 50.0;
    c.interval = 10.0;
    // Waits start at 5 and 8 (the run), the one at 30 comes after the run's first end (12): f0 gets 8; then
    // [8, 12) is shared by two waits, [12, 30) B's, [30, 40) shared, [40, 45) A's, [45, 100) idle.
    c.waits = vec![(5.0, 12.0, W_A), (8.0, 40.0, W_B), (30.0, 45.0, W_A)];
    assert_eq!(
        show(&c.run()),
        vec![
            "root 110 a=37",
            "  idle 55 s=55",
            "  f1 35 a=25",
            "    await 25 s=25 a=25",
            "    idle 10 s=10",
            "  f0 20 a=12",
            "    await 12 s=12 a=12",
            "    self 8 s=8"
        ]
    );
    // A start at or after t + w (the capped credit, 50) is outside the run: rule 1 (b) applies instead.
    c.waits = vec![(50.0, 60.0, W_B)];
    assert_eq!(show(&c.run())[1], "  f0 50 s=50");
    c.waits = vec![(49.0, 60.0, W_B)];
    assert!(show(&c.run()).contains(&"  f0 49 s=49".to_string()));
    // Went idle = the next sample is idle or the credit is over 2 * interval: here neither (next is js, dt 20),
    // so the credit stays 20 although a wait starts at 5.
    c.samples = vec![(0, 0.0, ST_JS), (1, 20.0, ST_JS)];
    c.duration = 30.0;
    c.waits = vec![(5.0, 25.0, W_B)];
    // (f1 runs over [20, 30): waits only take idle time.)
    assert_eq!(show(&c.run())[1..], ["  f0 20 s=20", "  f1 10 s=10"]);
    // ... but with the next sample idle it is 5: the wait covers [5, 20) of f0's 20 (idle), and f1's own entry.
    c.samples[1].2 = ST_IDLE;
    assert_eq!(show(&c.run())[1..], ["  f1 25 a=20", "    await 20 s=20 a=20", "    idle 5 s=5", "  f0 5 s=5"]);
    // A wait pending at t: rule 1 (a) does not apply.
    c.waits = vec![(0.0, 25.0, W_B)];
    assert_eq!(show(&c.run())[1], "  f0 20 s=20");
}

#[test]
fn the_piece_from_a_wake_up_to_the_next_running_sample_is_that_sample() {
    let mut c = abc();
    // f0 idle over [0, 100), then f2 runs; the wait ends at 70; 100 - 70 <= 4 * 10: [70, 100) is f2's.
    c.samples = vec![(0, 0.0, ST_IDLE), (2, 100.0, ST_JS)];
    c.duration = 110.0;
    c.gap_cap = 1000.0;
    c.interval = 10.0;
    c.waits = vec![(10.0, 70.0, W_B)];
    assert_eq!(
        show(&c.run()),
        vec!["root 110 a=60", "  f1 60 a=60", "    await 60 s=60 a=60", "  f2 40 s=40", "  f0 10", "    idle 10 s=10"]
    );
    // Over 4 intervals away: no wake-up piece (f0 is credited [0, 20) by rule 1 (b), the rest is idle).
    c.waits = vec![(10.0, 59.0, W_B)];
    assert_eq!(show(&c.run())[1..4], ["  f1 49 a=49", "    await 49 s=49 a=49", "  idle 41 s=41"]);
    // ... unless the sampler records idle: then the silence after the wake-up is running time, however long.
    c.idle_sampled = true;
    assert_eq!(show(&c.run())[1..4], ["  f2 51 s=51", "  f1 49 a=49", "    await 49 s=49 a=49"]);
    c.idle_sampled = false;
    // Another wait still pending at the end: no wake-up piece either.
    c.waits = vec![(10.0, 70.0, W_B), (20.0, 105.0, W_A)];
    assert!(!show(&c.run()).contains(&"  f2 40 s=40".to_string()));
    // The latest end counts; an idle next sample wakes nothing; the leading idle can wake into the first sample.
    c.waits = vec![(10.0, 65.0, W_A), (10.0, 80.0, W_B)];
    assert!(show(&c.run()).contains(&"  f2 30 s=30".to_string()));
    c.samples[1].2 = ST_IDLE;
    assert!(!show(&c.run()).contains(&"  f2 30 s=30".to_string()));
    c.samples = vec![(2, 100.0, ST_JS)];
    c.waits = vec![(0.0, 80.0, W_B)];
    assert_eq!(show(&c.run())[1..], ["  f1 80 a=80", "    await 80 s=80 a=80", "  f2 30 s=30"]);
}

#[test]
fn a_wake_up_inside_an_idle_samples_shortened_entry_wakes_into_the_next_sample() {
    let mut c = abc();
    // f0 idle at 0, f2 runs at 25 (a late sampler); the wait, pending at 10, ends at 12, inside the idle sample's
    // entry that rule 1 (b) shortened to [0, 20): [12, 25) is f2's, not [12, 20) idle and [20, 25) f2's.
    c.samples = vec![(0, 0.0, ST_IDLE), (2, 25.0, ST_JS)];
    c.duration = 30.0;
    c.gap_cap = 1000.0;
    c.interval = 10.0;
    c.waits = vec![(0.0, 12.0, W_B)];
    assert_eq!(show(&c.run()), vec!["root 30 a=12", "  f2 18 s=18", "  f1 12 a=12", "    await 12 s=12 a=12"]);
    // Another wait still pending at 12: no wake-up piece; the entry keeps [0, 20), the rest is idle.
    c.waits = vec![(0.0, 12.0, W_B), (5.0, 40.0, W_A)];
    assert!(!show(&c.run()).contains(&"  f2 18 s=18".to_string()));
}

#[test]
fn idle_is_split_among_zero_one_two_and_three_pending_waits() {
    let mut c = abc();
    // One idle sample (empty stack) over [0, 20).
    c.samples = vec![(-1, 0.0, ST_IDLE)];
    c.duration = 20.0;
    // [0,2) A | [2,5) A2 B1 | [5,9) k=3, L=4: A2 B1 C1 | [9,12) A2 B1 | [12,16) A4 | [16,20) idle.
    c.waits = vec![(0.0, 16.0, W_A), (2.0, 12.0, W_B), (5.0, 9.0, W_C)];
    assert_eq!(
        show(&c.run()),
        vec![
            "root 20 a=16",
            "  f0 12 a=12",
            "    await 12 s=12 a=12",
            "  idle 4 s=4",
            "  f1 3 a=3",
            "    await 3 s=3 a=3",
            "  f2 1 a=1",
            "    await 1 s=1 a=1",
        ]
    );
    // Timeline: the pieces' entries in order (A | A B | A B C | A B | A | idle), runs merged.
    c.timeline = true;
    let t = c.run();
    let top: Vec<String> = show(&t).into_iter().filter(|l| l.starts_with("  ") && !l.starts_with("    ")).collect();
    assert_eq!(
        top,
        vec![
            "  f0 4 a=4",
            "  f1 1 a=1",
            "  f0 2 a=2",
            "  f1 1 a=1",
            "  f2 1 a=1",
            "  f0 2 a=2",
            "  f1 1 a=1",
            "  f0 4 a=4",
            "  idle 4 s=4"
        ]
    );
    // q = 0: [5,7) k=3, L=2: the first takes the remainder 2, B and C get 0 (dropped: C has no node).
    c.timeline = false;
    c.waits = vec![(0.0, 20.0, W_A), (2.0, 12.0, W_B), (5.0, 7.0, W_C)];
    // A: 2 + 2 + 2 + 3 + 8 = 17; B: 1 + 0 + 2 = 3.
    assert_eq!(
        show(&c.run()),
        vec!["root 20 a=20", "  f0 17 a=17", "    await 17 s=17 a=17", "  f1 3 a=3", "    await 3 s=3 a=3"]
    );
}

#[test]
fn a_zero_length_wait_still_splits_the_piece() {
    let mut c = abc();
    c.samples = vec![(-1, 0.0, ST_IDLE)];
    c.duration = 10.0;
    // Unsplit, A and B would get 5 each; at 3: [0,3) A2 B1, [3,10) A4 B3.
    c.waits = vec![(0.0, 10.0, W_A), (0.0, 10.0, W_B), (3.0, 3.0, W_C)];
    assert_eq!(
        show(&c.run()),
        vec!["root 10 a=10", "  f0 6 a=6", "    await 6 s=6 a=6", "  f1 4 a=4", "    await 4 s=4 a=4"]
    );
    // Ties in start keep input order: B first gets the remainders.
    c.waits = vec![(0.0, 10.0, W_B), (0.0, 10.0, W_A), (3.0, 3.0, W_C)];
    assert_eq!(show(&c.run())[1], "  f1 6 a=6");
}

#[test]
fn waits_cross_sample_entries_and_gap_remainders() {
    let mut c = abc();
    c.samples = vec![(0, 0.0, ST_JS), (-1, 10.0, ST_IDLE), (0, 20.0, ST_JS)];
    c.duration = 30.0;
    c.gap_cap = 4.0;
    // f0 keeps [0,4) and [20,24) (not idle); the wait takes [4,10), the idle sample [10,14), the gap
    // [14,20) and [24,25); [25,30) stays idle.
    c.waits = vec![(2.0, 25.0, W_B)];
    assert_eq!(
        show(&c.run()),
        vec!["root 30 a=17", "  f1 17 a=17", "    await 17 s=17 a=17", "  f0 8 s=8", "  idle 5 s=5"]
    );
    c.timeline = true;
    assert_eq!(
        show(&c.run()),
        vec![
            "root 30 a=17",
            "  f0 4 s=4",
            "  f1 16 a=16",
            "    await 16 s=16 a=16",
            "  f0 4 s=4",
            "  f1 1 a=1",
            "    await 1 s=1 a=1",
            "  idle 5 s=5"
        ]
    );
}

#[test]
fn an_idle_sample_with_a_stack_keeps_its_path_where_nothing_is_pending() {
    let mut c = abc();
    c.samples = vec![(0, 0.0, ST_IDLE)];
    c.duration = 10.0;
    c.waits = vec![(4.0, 6.0, W_B)];
    assert_eq!(show(&c.run()), vec!["root 10 a=2", "  f0 8", "    idle 8 s=8", "  f1 2 a=2", "    await 2 s=2 a=2"]);
}

#[test]
fn unknown_stacks_leading_idle_and_clipped_ends() {
    let mut c = abc();
    c.samples = vec![(0, 10.0, ST_JS)];
    c.duration = 20.0;
    // The leading idle [0,10) is split too; an unknown stack is just [await]. The second wait ends past
    // the session (clipped), the third starts after it (never pending).
    c.waits = vec![(0.0, 5.0, -1), (15.0, 1e9, W_B), (25.0, 30.0, W_C)];
    let t = c.run();
    assert_eq!(show(&t), vec!["root 20 a=5", "  f0 10 s=10", "  await 5 s=5 a=5", "  idle 5 s=5"]);
    assert_eq!(t.flat_frame, vec![0, SYNTH_AWAIT, SYNTH_IDLE]);
    // Both f0 and the wait end at the session's end: an idle tail after f0 is shared.
    c.samples = vec![(0, 10.0, ST_JS)];
    c.gap_cap = 2.0;
    let t = c.run();
    assert_eq!(t.time[0], 20.0);
    // f0 [10,12); the gap [12,15) idle, [15,20) the clipped wait's. Ties keep creation order.
    assert_eq!(show(&t)[1..], ["  idle 8 s=8", "  await 5 s=5 a=5", "  f1 5 a=5", "    await 5 s=5 a=5", "  f0 2 s=2"]);
}

#[test]
fn await_entries_take_part_in_trim_stem_and_filtering() {
    let mut c = case(5);
    c.flags = vec![0, 0, 0, FLAG_INTERNAL, 0];
    c.paths = vec![vec![0, 1, 2], vec![0, 1, 3, 4]];
    c.samples = vec![(0, 0.0, ST_JS), (-1, 5.0, ST_IDLE)];
    c.duration = 10.0;
    c.start = vec![0.0, 1.0];
    c.waits = vec![(5.0, 8.0, 1)];
    // The await path [0,1,3,4,await] is filtered to [0,1,4,await] and trimmed to [1,4,await].
    assert_eq!(
        show(&c.run()),
        vec!["root 10 a=3", "  f1 8 a=3", "    f2 5 s=5", "    f4 3 a=3", "      await 3 s=3 a=3", "  idle 2 s=2"]
    );
    // An unknown-stack await entry starts with a synthetic frame: not a candidate, the trim stays.
    c.waits = vec![(5.0, 8.0, -1)];
    assert_eq!(show(&c.run())[1], "  f1 5");
}

#[test]
fn disabled_mode_and_no_waits_change_nothing() {
    let mut c = abc();
    c.samples = vec![(0, 0.0, ST_JS), (-1, 10.0, ST_IDLE), (1, 50.0, ST_AWAIT), (2, 52.0, ST_JS)];
    c.duration = 80.0;
    c.gap_cap = 6.0;
    c.interval = 2.0;
    let plain = c.run();
    c.waits = vec![(0.0, 70.0, W_A), (1.0, 2.0, -1), (30.0, 31.0, W_C)];
    for timeline in [false, true] {
        c.timeline = timeline;
        c.mode = AsyncMode::Disabled;
        let mut without = c.clone_without_waits();
        without.mode = AsyncMode::Enabled;
        assert_eq!(c.run(), without.run(), "timeline {timeline}");
        c.mode = AsyncMode::Enabled;
        assert_ne!(c.run(), without.run());
        // Strict behaves as enabled for now.
        let enabled = c.run();
        c.mode = AsyncMode::Strict;
        assert_eq!(c.run(), enabled);
        c.mode = AsyncMode::Enabled;
    }
    c.timeline = false;
    c.waits.clear();
    assert_eq!(c.run(), plain);
}

impl Case {
    fn clone_without_waits(&self) -> Case {
        Case {
            paths: self.paths.clone(),
            samples: self.samples.clone(),
            flags: self.flags.clone(),
            libs: self.libs.clone(),
            waits: vec![],
            start: self.start.clone(),
            cpu: self.cpu.clone(),
            ..*self
        }
    }
}

#[test]
fn lazy_totals_equal_the_exact_sequence() {
    // Many overlapping waits (up to ~40 pending), idle samples and gaps: the aggregated tree (lazy sweep)
    // must carry the same totals and flat view as the timeline (exact sweep).
    let mut c = case(8);
    c.paths = (0..8).map(|f| vec![f]).collect();
    let mut t = 0.0;
    c.samples = (0..400)
        .map(|i: i32| {
            t += f64::from((i * 7919) % 23) + 1.0;
            (i % 9 - 1, t, if i % 3 == 0 { ST_IDLE } else { ST_JS })
        })
        .collect();
    c.duration = t + 40.0;
    c.gap_cap = 5.0;
    c.interval = 3.0;
    let mut a = 0.0;
    c.waits = (0..300)
        .map(|i: i32| {
            a += f64::from((i * 31) % 17);
            (a, a + f64::from((i * 131) % 211), i % 9 - 1)
        })
        .collect();
    let agg = c.run();
    c.timeline = true;
    let tl = c.run();
    assert_eq!(agg.flat_frame, tl.flat_frame);
    assert_eq!(agg.flat_self, tl.flat_self);
    assert_eq!(agg.flat_total, tl.flat_total);
    assert_eq!(agg.time[0], c.duration);
    assert!(agg.await_time[0] > 0.0);
}

#[test]
fn waits_stream_in_chunks_and_may_name_later_stacks() {
    let mut c = abc();
    c.samples = vec![(0, 0.0, ST_JS), (-1, 3.0, ST_IDLE), (1, 40.0, ST_JS)];
    c.duration = 50.0;
    c.gap_cap = 10.0;
    c.interval = 1.0;
    c.waits = vec![(1.0, 20.0, W_B), (2.0, 2.0, -1), (2.5, 30.0, W_C), (10.0, 45.0, W_A)];
    let whole = c.run();
    let refs: Vec<&[u32]> = c.paths.iter().map(|p| p.as_slice()).collect();
    let (parent, frame, ids) = stacks(&refs);
    let mut s = Session::new();
    s.add_stacks(&parent[..1], &frame[..1]).unwrap();
    s.add_samples(&[ids[0]], &[0.0], &[ST_JS], None).unwrap();
    // A wait naming stack 1 before stack 1 exists is fine until process.
    s.add_waits(&[1.0], &[20.0], &[ids[1]]).unwrap();
    s.add_waits(&[], &[], &[]).unwrap();
    s.add_waits(&[2.0, 2.5], &[2.0, 30.0], &[-1, ids[2]]).unwrap();
    let mut o = c.opts();
    assert!(s.process(&o).unwrap_err().0.contains("wait stack id"));
    s.add_stacks(&parent[1..], &frame[1..]).unwrap();
    s.add_samples(&[-1, ids[1]], &[3.0, 40.0], &[ST_IDLE, ST_JS], None).unwrap();
    s.add_waits(&[10.0], &[45.0], &[ids[0]]).unwrap();
    assert_eq!(s.wait_count(), 4);
    assert_eq!(s.process(&o).unwrap(), whole);
    // Processing twice (paths interned by the first call) gives the same tree; so does another mode after.
    assert_eq!(s.process(&o).unwrap(), whole);
    o.async_mode = AsyncMode::Disabled;
    let disabled = s.process(&o).unwrap();
    o.async_mode = AsyncMode::Enabled;
    assert_ne!(disabled, whole);
    assert_eq!(s.process(&o).unwrap(), whole);
}

#[test]
fn malformed_waits_are_errors() {
    let mut s = Session::new();
    s.add_stacks(&[-1], &[0]).unwrap();
    let w = |s: &mut Session, a: f64, b: f64, st: i32| s.add_waits(&[a], &[b], &[st]);
    for (a, b, st, what) in [
        (f64::NAN, 1.0, 0, "NaN start"),
        (f64::INFINITY, f64::INFINITY, 0, "infinite start"),
        (-1.0, 1.0, 0, "negative start"),
        (0.0, f64::NAN, 0, "NaN end"),
        (0.0, f64::INFINITY, 0, "infinite end"),
        (0.0, -1.0, 0, "negative end"),
        (5.0, 4.9, 0, "end before start"),
        (0.0, 1.0, -2, "stack < -1"),
    ] {
        let e = w(&mut s, a, b, st).unwrap_err();
        assert!(!e.0.contains('\n') && e.0.starts_with("wait 0"), "{what}: {}", e.0);
    }
    assert!(s.add_waits(&[0.0, 1.0], &[1.0], &[0, 0]).is_err(), "column lengths");
    assert!(s.add_waits(&[2.0, 1.0], &[3.0, 3.0], &[0, 0]).is_err(), "start going back");
    assert_eq!(s.wait_count(), 0, "a failed chunk adds nothing");
    w(&mut s, 2.0, 3.0, 0).unwrap();
    assert!(w(&mut s, 1.9, 3.0, 0).unwrap_err().0.contains("smaller than the one before"), "across chunks");
    // Equal starts, and end == start, are fine; ends need not be in order.
    s.add_waits(&[2.0, 2.0], &[2.0, 2.5], &[-1, 0]).unwrap();
    s.add_samples(&[0], &[0.0], &[0], None).unwrap();
    let flags = [0u8; 1];
    let libs = [NO_LIBRARY; 1];
    let base = Options {
        duration: 10.0,
        gap_cap: 1.0,
        idle_sampled: false,
        gap_to_previous: false,
        interval: 1.0,
        async_mode: AsyncMode::Enabled,
        timeline: false,
        show_all: false,
        filter_threshold: 0.01,
        flat_time: FlatTime::SelfTime,
        start_stack: &[],
        frame_flags: &flags,
        frame_library: &libs,
    };
    assert!(s.process(&base).is_ok());
    for bad in [f64::NAN, -1.0, f64::INFINITY] {
        assert!(s.process(&Options { interval: bad, ..base }).unwrap_err().0.contains("interval"));
    }
    // A stack id that never arrives is an error at process time, whatever the mode.
    w(&mut s, 3.0, 4.0, 1).unwrap();
    assert!(s.process(&base).is_err());
    assert!(s.process(&Options { async_mode: AsyncMode::Disabled, ..base }).is_err());
    s.add_stacks(&[0], &[0]).unwrap();
    assert!(s.process(&base).is_ok());
}

#[test]
fn waits_take_sixteen_bytes_and_long_ones_are_exact() {
    let mut s = Session::new();
    let n = 4 << 16; // whole blocks
    let a: Vec<f64> = (0..n).map(|i| i as f64 * 10.0).collect();
    let b: Vec<f64> = (0..n).map(|i| i as f64 * 10.0 + 25.0).collect();
    let st = vec![-1i32; n];
    let before = s.memory_bytes();
    s.add_waits(&a, &b, &st).unwrap();
    let per = (s.memory_bytes() - before) as f64 / n as f64;
    assert!(per < 16.1, "{per} bytes per wait");
    // A wait longer than u32::MAX us keeps its exact end.
    let mut c = abc();
    c.samples = vec![(-1, 0.0, ST_IDLE)];
    c.duration = 6.0e12;
    c.waits = vec![(1.0, 5.0e12 + 1.0, W_A)];
    assert_eq!(
        show(&c.run()),
        vec![
            "root 6000000000000 a=5000000000000",
            "  f0 5000000000000 a=5000000000000",
            "    await 5000000000000 s=5000000000000 a=5000000000000",
            "  idle 1000000000000 s=1000000000000"
        ]
    );
}

#[test]
fn ffi_waits_and_async_mode() {
    use crate::ffi::*;
    unsafe fn put<T: Copy>(v: &[T]) -> *mut T {
        let p = tsp_alloc(core::mem::size_of_val(v) as u32) as *mut T;
        core::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len());
        p
    }
    unsafe {
        let h = tsp_new();
        let (p, f) = (put(&[-1i32]), put(&[0u32]));
        assert_eq!(tsp_add_stacks(h, p, f, 1), 0);
        let (st, tm, sa) = (put(&[-1i32]), put(&[0.0f64]), put(&[ST_IDLE]));
        assert_eq!(tsp_add_samples(h, st, tm, sa, core::ptr::null(), 1), 0);
        let (wa, wb, ws) = (put(&[2.0f64]), put(&[6.0f64]), put(&[0i32]));
        assert_eq!(tsp_add_waits(h, wa, wb, ws, 1), 0);
        assert_eq!(tsp_add_waits(h, wb, wa, ws, 1), 1, "end before start");
        let (fl, lib) = (put(&[0u8]), put(&[NO_LIBRARY]));
        assert_eq!(tsp_process(h, 10.0, 1e9, 0, 1000.0, 1, 0, 0, 0.0, 0, wa, 0, fl, 1, lib, 1), 0);
        let times = core::slice::from_raw_parts(tsp_result_ptr(h, 3) as *const f64, tsp_result_len(h, 3) as usize);
        assert_eq!(times, &[10.0, 6.0, 4.0, 4.0]);
        assert_eq!(tsp_process(h, 10.0, 1e9, 0, 1000.0, 0, 0, 0, 0.0, 0, wa, 0, fl, 1, lib, 1), 0);
        assert_eq!(tsp_result_len(h, 3), 2, "disabled: root and idle");
        assert_eq!(tsp_process(h, 10.0, 1e9, 0, 1000.0, 3, 0, 0, 0.0, 0, wa, 0, fl, 1, lib, 1), 1, "unknown mode");
        tsp_drop(h);
        for (ptr, n) in [
            (p as *mut u8, 4),
            (f as *mut u8, 4),
            (st as *mut u8, 4),
            (tm as *mut u8, 8),
            (sa, 1),
            (wa as *mut u8, 8),
            (wb as *mut u8, 8),
            (ws as *mut u8, 4),
            (fl, 1),
            (lib as *mut u8, 4),
        ] {
            tsp_free(ptr, n);
        }
    }
}

#[test]
fn code_after_an_await_is_shown_under_the_callers_the_wait_recorded() {
    // Frames: 0 main, 1 handler, 2 the event loop (internal), 3 read, 4 other.
    let mut c = case(5);
    c.flags[2] = FLAG_INTERNAL;
    // Paths: 0 [main, handler, read] (the wait's logical stack), 1 [loop, handler] (the continuation),
    // 2 [loop, other], 3 [handler] (the continuation without an internal frame under it).
    c.paths = vec![vec![0, 1, 3], vec![2, 1], vec![2, 4], vec![1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 20.0, ST_JS), (2, 30.0, ST_JS), (3, 40.0, ST_JS)];
    c.duration = 50.0;
    c.waits = vec![(5.0, 20.0, 0)];
    // At 20 the wait has reached JavaScript: [loop, handler] -> [main, handler]; [loop, other] has no frame of
    // the wait's stack and stays; [handler] -> [main, handler].
    assert_eq!(
        show(&c.run()),
        vec!["root 50", "  f0 40", "    f1 40", "      f3 20 s=20", "      self 20 s=20", "  f4 10 s=10"]
    );
    // Disabled: no re-rooting (and no await).
    c.mode = AsyncMode::Disabled;
    assert!(show(&c.run()).contains(&"  f1 20 s=20".to_string()));
    // A sample before any wait ended stays as it is; the first shown frame at the wait stack's root adds nothing.
    c.mode = AsyncMode::Enabled;
    c.samples = vec![(1, 0.0, ST_JS), (0, 10.0, ST_JS)];
    c.duration = 30.0;
    c.waits = vec![(12.0, 15.0, 0)];
    assert!(show(&c.run()).contains(&"  f1 10 s=10".to_string()));
}

// ---- CPU time (SPEC, CPU time) ----

#[test]
fn cpu_time_is_each_samples_own_span_summed_up_the_tree() {
    let mut c = case(3);
    c.paths = vec![vec![0, 1], vec![0, 2]];
    c.samples = vec![(0, 5.0, ST_JS), (1, 10.0, ST_JS), (0, 30.0, ST_JS)];
    // cpu[0] = 2 goes with the leading idle span; sample 0 gets 6 - 2, sample 1 20 - 6, the last none.
    c.cpu = Some(vec![2.0, 6.0, 20.0]);
    c.duration = 40.0;
    let t = c.run();
    check_shape(&t);
    assert_eq!(
        show(&t),
        vec!["root 40 c=20", "  f0 35 c=18", "    f2 20 s=20 c=14", "    f1 15 s=15 c=4", "  idle 5 s=5 c=2"]
    );
    // Without a CPU column the core says unknown, not zero.
    c.cpu = None;
    assert_eq!(c.run().cpu_time, None);
}

#[test]
fn cpu_of_a_gap_stays_with_the_sample_before_it_and_times_round() {
    let mut c = case(1);
    c.paths = vec![vec![0]];
    // dt 100 with cap 10: 10 wall to f0, 90 idle; the whole CPU delta (30) is f0's. 2.5 rounds to 3.
    c.samples = vec![(0, 0.0, ST_JS), (-1, 100.0, ST_IDLE)];
    c.cpu = Some(vec![2.5, 32.5]);
    c.duration = 101.0;
    c.gap_cap = 10.0;
    assert_eq!(show(&c.run()), vec!["root 101 c=33", "  idle 91 s=91 c=3", "  f0 10 s=10 c=30"]);
}

#[test]
fn cpu_without_wall_time_makes_no_node_and_goes_to_the_deepest_node_its_walk_reaches() {
    let mut c = case(4);
    c.paths = vec![vec![0, 1], vec![0, 2], vec![0, 1], vec![3]];
    // f0>f2's sample has dt 0 but 7 of CPU: no node of its own (f2 has none), so f0 gets it; in timeline mode
    // the run f0>f1 is not split by it.
    c.samples = vec![(0, 0.0, ST_JS), (1, 4.0, ST_JS), (2, 4.0, ST_JS), (3, 6.0, ST_JS)];
    c.cpu = Some(vec![0.0, 3.0, 10.0, 10.0]);
    c.duration = 8.0;
    for timeline in [false, true] {
        c.timeline = timeline;
        let t = c.run();
        check_shape(&t);
        assert_eq!(
            show(&t),
            vec!["root 8 c=10", "  f0 6 c=10", "    f1 6 s=6 c=3", "  f3 2 s=2"],
            "timeline {timeline}"
        );
    }
    // Where its path shares nothing with the walk (timeline: the previous entry's), the root gets it.
    c.samples = vec![(3, 0.0, ST_JS), (1, 4.0, ST_JS), (3, 4.0, ST_JS)];
    c.cpu = Some(vec![0.0, 3.0, 10.0]);
    c.duration = 6.0;
    for timeline in [false, true] {
        c.timeline = timeline;
        assert_eq!(show(&c.run()), vec!["root 6 c=10", "  f3 6 s=6 c=3"], "timeline {timeline}");
    }
}

#[test]
fn cpu_does_not_move_with_await_attribution() {
    let mut c = abc();
    // f0 runs 0..10 (rule 1 (a) ends its wall credit at the wait it starts at 4), then an idle sample
    // 10..40 whose wall time goes to the wait [4, 30) and idle.
    c.samples = vec![(0, 0.0, ST_JS), (-1, 10.0, ST_IDLE), (1, 40.0, ST_JS)];
    c.cpu = Some(vec![0.0, 9.0, 10.0]);
    c.duration = 50.0;
    c.interval = 1.0;
    c.waits = vec![(4.0, 30.0, W_A)];
    // f0's 9 of CPU stay on its own span (its [self]), the idle sample's 1 on [idle] (its own path), though the
    // wait took their wall time; the last sample (f1) has none.
    let with = c.run();
    assert_eq!(
        show(&with),
        vec![
            "root 50 a=26 c=10",
            "  f0 30 a=26 c=9",
            "    await 26 s=26 a=26",
            "    self 4 s=4 c=9",
            "  idle 10 s=10 c=1",
            "  f1 10 s=10"
        ]
    );
    // The same wall tree as without the CPU column.
    c.cpu = None;
    let without = c.run();
    assert_eq!(with.time, without.time);
    assert_eq!(with.frame, without.frame);
}

#[test]
fn cpu_goes_through_every_processor() {
    // Frames: 0 main, 1 hidden, 2 lib a, 3 lib b, 4 leaf; start() called from main.
    let mut c = case(5);
    c.flags = vec![0, FLAG_HIDDEN, FLAG_LIBRARY, FLAG_LIBRARY, 0];
    c.libs = vec![NO_LIBRARY, NO_LIBRARY, 0, 1, NO_LIBRARY];
    c.start = vec![0.0];
    c.paths = vec![vec![0, 1, 2, 3, 4], vec![0, 2, 3, 4], vec![0, 2, 3], vec![0, 4]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 10.0, ST_JS), (2, 20.0, ST_JS), (3, 30.0, ST_GC), (-1, 31.0, ST_JS)];
    c.cpu = Some(vec![0.0, 8.0, 16.0, 22.0, 23.0]);
    c.duration = 40.0;
    let total = 23.0;
    for timeline in [false, true] {
        for show_all in [false, true] {
            for threshold in [0.0, 0.2] {
                c.timeline = timeline;
                c.show_all = show_all;
                c.threshold = threshold;
                let t = c.run();
                check_shape(&t);
                let cpu = t.cpu_time.as_ref().unwrap();
                assert_eq!(cpu[0], total);
                // Inclusive: a node's cpu is at least its kept children's.
                let mut kids = vec![0.0; t.frame.len()];
                for i in 1..t.frame.len() {
                    kids[t.parent[i] as usize] += cpu[i];
                }
                for i in 0..t.frame.len() {
                    assert!(cpu[i] >= kids[i], "node {i}: {:?}", show(&t));
                }
            }
        }
    }
    c.timeline = false;
    c.show_all = false;
    c.threshold = 0.0;
    // Hidden frame 1 filtered (paths 0 and 1 merge), lib 2 > 3 grouped, f4's lone [self] folded, the empty
    // stack's 9 (the last sample: no CPU) at the root's [self].
    assert_eq!(
        show(&c.run()),
        vec![
            "root 40 c=23",
            "  f0 31 c=23",
            "    f2 30 c=22 g=0",
            "      f3 30 c=22 g=0",
            "        f4 20 s=20 c=16",
            "        self 10 s=10 c=6 g=0",
            "    f4 1 c=1",
            "      gc 1 s=1 c=1",
            "  self 9 s=9",
        ]
    );
}

#[test]
fn cpu_column_per_chunk_is_known_only_when_every_chunk_has_one() {
    let mut c = case(2);
    c.paths = vec![vec![0], vec![1]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 10.0, ST_JS), (0, 20.0, ST_JS), (1, 30.0, ST_JS)];
    c.cpu = Some(vec![0.0, 5.0, 12.0, 14.0]);
    c.duration = 40.0;
    let whole = c.run();
    let refs: Vec<&[u32]> = c.paths.iter().map(|p| p.as_slice()).collect();
    let (parent, frame, ids) = stacks(&refs);
    let flags = c.flags.clone();
    let libs = c.libs.clone();
    let opts = Options { frame_flags: &flags, frame_library: &libs, ..c.opts() };
    let st: Vec<i32> = c.samples.iter().map(|x| ids[x.0 as usize]).collect();
    let tm: Vec<f64> = c.samples.iter().map(|x| x.1).collect();
    let sa = [ST_JS; 4];
    let cpu = c.cpu.clone().unwrap();
    // Chunks, an empty one first: the same tree, CPU known.
    let mut s = Session::new();
    s.add_stacks(&parent, &frame).unwrap();
    s.add_samples(&[], &[], &[], Some(&[])).unwrap();
    s.add_samples(&st[..1], &tm[..1], &sa[..1], Some(&cpu[..1])).unwrap();
    s.add_samples(&[], &[], &[], None).unwrap();
    s.add_samples(&st[1..], &tm[1..], &sa[1..], Some(&cpu[1..])).unwrap();
    assert_eq!(s.process(&opts).unwrap(), whole);
    // A chunk of samples without the column: unknown from then on, whatever comes after.
    let mut s = Session::new();
    s.add_stacks(&parent, &frame).unwrap();
    s.add_samples(&st[..2], &tm[..2], &sa[..2], Some(&cpu[..2])).unwrap();
    s.add_samples(&st[2..3], &tm[2..3], &sa[2..3], None).unwrap();
    s.add_samples(&st[3..], &tm[3..], &sa[3..], Some(&cpu[3..])).unwrap();
    let t = s.process(&opts).unwrap();
    assert_eq!(t.cpu_time, None);
    assert_eq!(t.time, whole.time);
    // Samples without it first: unknown too.
    let mut s = Session::new();
    s.add_stacks(&parent, &frame).unwrap();
    s.add_samples(&st[..1], &tm[..1], &sa[..1], None).unwrap();
    s.add_samples(&st[1..], &tm[1..], &sa[1..], Some(&cpu[1..])).unwrap();
    assert_eq!(s.process(&opts).unwrap().cpu_time, None);
    // No samples, an (empty) column: known, zero.
    let mut s = Session::new();
    s.add_samples(&[], &[], &[], Some(&[])).unwrap();
    assert_eq!(s.process(&opts).unwrap().cpu_time, Some(vec![0.0]));
}

#[test]
fn malformed_cpu_is_an_error() {
    let mut s = Session::new();
    s.add_stacks(&[-1], &[0]).unwrap();
    let one = |s: &mut Session, t: f64, c: f64| s.add_samples(&[0], &[t], &[ST_JS], Some(&[c]));
    for (x, what) in [(f64::NAN, "NaN"), (f64::INFINITY, "infinite"), (-1.0, "negative")] {
        let e = one(&mut s, 0.0, x).unwrap_err();
        assert!(!e.0.contains('\n') && e.0.contains("cpu"), "{what}: {}", e.0);
    }
    assert!(s.add_samples(&[0, 0], &[1.0, 2.0], &[0, 0], Some(&[5.0, 4.0])).is_err(), "cpu going back");
    assert!(s.add_samples(&[0, 0], &[1.0, 2.0], &[0, 0], Some(&[5.0])).is_err(), "column lengths");
    assert_eq!(s.sample_count(), 0, "a failed chunk adds nothing");
    one(&mut s, 1.0, 5.0).unwrap();
    assert!(one(&mut s, 2.0, 4.9).unwrap_err().0.contains("smaller than the one before"), "across chunks");
    one(&mut s, 2.0, 5.0).unwrap();
}

#[test]
fn cpu_costs_two_bytes_a_sample_and_nothing_without_it_and_big_deltas_are_exact() {
    let (parent, frame, ids) = stacks(&[&[0, 1, 2], &[0, 1, 3]]);
    let n = 4 << 16; // whole blocks
    let st: Vec<i32> = (0..n).map(|i| ids[i % 2]).collect();
    let t: Vec<f64> = (0..n).map(|i| i as f64 * 1000.0).collect();
    let state = vec![ST_JS; n];
    let cpu: Vec<f64> = (0..n).map(|i| i as f64 * 900.0).collect();
    let mut plain = Session::new();
    plain.add_stacks(&parent, &frame).unwrap();
    plain.add_samples(&st, &t, &state, None).unwrap();
    let mut with = Session::new();
    with.add_stacks(&parent, &frame).unwrap();
    with.add_samples(&st, &t, &state, Some(&cpu)).unwrap();
    let per = (with.memory_bytes() - plain.memory_bytes()) as f64 / n as f64;
    assert!(per < 2.01, "{per} bytes a sample for the CPU column");
    // Deltas of u16::MAX and more, and beyond u32, stay exact.
    let mut c = case(1);
    c.paths = vec![vec![0]];
    c.samples = vec![(0, 0.0, ST_JS), (0, 1.0e6, ST_JS), (0, 2.0e6, ST_JS), (0, 7.0e12, ST_JS)];
    c.cpu = Some(vec![0.0, 65535.0, 65535.0 + 65534.0, 6.0e12]);
    c.duration = 7.0e12;
    let t = c.run();
    assert_eq!(t.cpu_time.as_ref().unwrap()[0], 6.0e12);
}

#[test]
fn ffi_cpu_column_in_and_out() {
    use crate::ffi::*;
    unsafe fn put<T: Copy>(v: &[T]) -> *mut T {
        let p = tsp_alloc(core::mem::size_of_val(v).max(1) as u32) as *mut T;
        core::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len());
        p
    }
    unsafe {
        let (p, f) = (put(&[-1i32]), put(&[0u32]));
        let (st, tm, sa, cpu) = (put(&[0i32, 0]), put(&[0.0f64, 4.0]), put(&[0u8, 0]), put(&[1.0f64, 3.0]));
        let (fl, lib) = (put(&[0u8]), put(&[NO_LIBRARY]));
        let h = tsp_new();
        assert_eq!(tsp_add_stacks(h, p, f, 1), 0);
        assert_eq!(tsp_add_samples(h, st, tm, sa, cpu, 2), 0);
        assert_eq!(tsp_process(h, 6.0, 1e9, 0, 0.0, 1, 0, 0, 0.0, 0, tm, 0, fl, 1, lib, 1), 0);
        let n = tsp_result_len(h, 0) as usize;
        assert_eq!(tsp_result_len(h, 15) as usize, n);
        let c = core::slice::from_raw_parts(tsp_result_ptr(h, 15) as *const f64, n);
        assert_eq!(c[0], 3.0);
        // A chunk without the column (null): CPU time unknown, field 15 empty.
        assert_eq!(tsp_add_samples(h, st, tm.add(1), sa, core::ptr::null(), 1), 0);
        assert_eq!(tsp_process(h, 6.0, 1e9, 0, 0.0, 1, 0, 0, 0.0, 0, tm, 0, fl, 1, lib, 1), 0);
        assert_eq!(tsp_result_len(h, 15), 0);
        tsp_drop(h);
        let h = tsp_new();
        assert_eq!(tsp_add_stacks(h, p, f, 1), 0);
        let bad = put(&[3.0f64, 1.0]);
        assert_eq!(tsp_add_samples(h, st, tm, sa, bad, 2), 1, "cpu going back");
        tsp_drop(h);
        for (ptr, n) in [
            (p as *mut u8, 4),
            (f as *mut u8, 4),
            (st as *mut u8, 8),
            (tm as *mut u8, 16),
            (sa, 2),
            (cpu as *mut u8, 16),
            (fl, 1),
            (lib as *mut u8, 4),
            (bad as *mut u8, 16),
        ] {
            tsp_free(ptr, n);
        }
    }
}

#[test]
fn a_sample_of_the_runtime_alone_is_shared_out_like_idle_while_a_wait_is_pending() {
    // f0 the program's, f1 a runtime internal, f2 tsprofile's own (hidden); paths [f1], [f1, f2], [f0], [f1, f0].
    let mut c = case(3);
    c.flags = vec![0, FLAG_INTERNAL, FLAG_HIDDEN];
    c.paths = vec![vec![1], vec![1, 2], vec![0], vec![1, 0]];
    c.samples = vec![(0, 0.0, ST_JS), (1, 10.0, ST_JS), (3, 20.0, ST_JS), (0, 30.0, ST_JS)];
    c.duration = 40.0;
    // The program's wait (stack [f0]) is pending over [5, 25): the runtime's samples in it are its await time;
    // [f1, f0] is the program's code called from the runtime, never shared out; [0, 5) and [30, 40) stay the
    // runtime's own, where nothing is pending.
    c.waits = vec![(5.0, 25.0, 2)];
    let shared = vec!["root 40 a=15", "  f0 25 a=15", "    await 15 s=15 a=15", "    self 10 s=10", "  self 15 s=15"];
    assert_eq!(show(&c.run()), shared);
    // On a sampler that records idle, no running gap begins or ends at such a sample.
    c.idle_sampled = true;
    c.interval = 10.0;
    assert_eq!(show(&c.run()), shared);
    // The same with showAll: decided on the flags, not on what the view filters.
    c.show_all = true;
    let t = show(&c.run());
    assert_eq!(t[0], "root 40 a=15");
    let at = t.iter().position(|l| l == "  f0 15 a=15").expect("f0's await");
    assert_eq!(t[at + 1], "    await 15 s=15 a=15");
    // asyncMode disabled: nothing is shared out.
    c.show_all = false;
    c.mode = AsyncMode::Disabled;
    assert_eq!(show(&c.run()), vec!["root 40", "  self 30 s=30", "  f0 10 s=10"]);
}

#[test]
fn builtins_called_by_the_runtime_and_garbage_collection_are_the_runtimes_work() {
    // f0 the program's, f1 internal, f2 a builtin; paths [f0], [f1, f2], [f0, f2], and the empty path in state gc.
    let mut c = case(3);
    c.flags = vec![0, FLAG_INTERNAL, FLAG_BUILTIN];
    c.paths = vec![vec![0], vec![1, 2], vec![0, 2]];
    // f0 runs until it starts its wait at 8 (the next sample is garbage collection: it went idle), then the
    // runtime's builtin and a collection run while the wait is pending, then the program's call of the builtin.
    c.samples = vec![(0, 0.0, ST_JS), (-1, 10.0, ST_GC), (1, 20.0, ST_JS), (2, 30.0, ST_JS)];
    c.duration = 40.0;
    c.interval = 10.0;
    c.waits = vec![(8.0, 30.0, 0)];
    assert_eq!(
        show(&c.run()),
        vec!["root 40 a=22", "  f0 40 a=22", "    await 22 s=22 a=22", "    f2 10 s=10", "    self 8 s=8"]
    );
}

// SPEC, diff of two trees.

fn diff_of(base: &Case, next: &Case, normalize: bool) -> DiffTree {
    let o = DiffOptions {
        show_all: next.show_all,
        filter_threshold: next.threshold,
        flat_time: next.flat_time,
        normalize,
        frame_flags: &next.flags,
        frame_library: &next.libs,
    };
    let zero = |c: &Case| {
        let mut c2 = case(c.flags.len());
        c2.paths = c.paths.clone();
        c2.samples = c.samples.clone();
        c2.duration = c.duration;
        c2.flags = c.flags.clone();
        c2.libs = c.libs.clone();
        c2.show_all = c.show_all;
        c2.run()
    };
    diff(&zero(base), &zero(next), &o).unwrap()
}

/// One line per node: indentation, name, NEW's time / BASE's time, sides, then s=selfs when set.
fn show_diff(d: &DiffTree) -> Vec<String> {
    (0..d.frame.len())
        .map(|i| {
            let mut s = format!(
                "{}{} {}/{} {}",
                "  ".repeat(d.depth[i] as usize),
                name(d.frame[i]),
                d.time[i],
                d.base_time[i],
                ["-", "b", "n", "bn"][d.side[i] as usize]
            );
            if d.self_time[i] != 0.0 || d.base_self_time[i] != 0.0 {
                s += &format!(" s={}/{}", d.self_time[i], d.base_self_time[i]);
            }
            s
        })
        .collect()
}

fn two_runs() -> (Case, Case) {
    // BASE: f0 -> f1 (10), f0 (5 own), f2 (5). NEW: f0 -> f1 (20), f0 (5 own), f3 (5).
    let mut b = case(4);
    b.paths = vec![vec![0, 1], vec![0], vec![2]];
    b.samples = vec![(0, 0.0, ST_JS), (1, 10.0, ST_JS), (2, 15.0, ST_JS)];
    b.duration = 20.0;
    let mut n = case(4);
    n.paths = vec![vec![0, 1], vec![0], vec![3]];
    n.samples = vec![(0, 0.0, ST_JS), (1, 20.0, ST_JS), (2, 25.0, ST_JS)];
    n.duration = 30.0;
    (b, n)
}

#[test]
fn diff_aligns_by_frame_path_and_marks_sides() {
    let (b, n) = two_runs();
    let d = diff_of(&b, &n, false);
    assert_eq!(
        show_diff(&d),
        vec![
            "root 30/20 bn",
            "  f0 25/15 bn",
            "    f1 20/10 bn s=20/10",
            "    self 5/5 bn s=5/5",
            "  f3 5/0 n s=5/0",
            "  f2 0/5 b s=0/5",
        ]
    );
    // Flat: by |change| (f1 +10, f3 +5, f2 -5, f0 0); f3 before f2 by first appearance (NEW's rows first).
    assert_eq!(d.flat_frame, vec![1, 3, 2, 0]);
    assert_eq!(d.flat_self, vec![20.0, 5.0, 0.0, 5.0]);
    assert_eq!(d.flat_base_self, vec![10.0, 0.0, 5.0, 5.0]);
}

#[test]
fn diff_normalize_orders_flat_rows_by_change_of_share() {
    // BASE shares: f1 .5, f0 .25, f2 .25 of 20. NEW (40): f1 12 (.3), f0 20 (.5), f2 8 (.2).
    let (b, mut n) = two_runs();
    n.paths = vec![vec![0, 1], vec![0], vec![2]];
    n.samples = vec![(0, 0.0, ST_JS), (1, 12.0, ST_JS), (2, 32.0, ST_JS)];
    n.duration = 40.0;
    // By time: f0 +15, f2 +3, f1 +2. By share: f0 +.25, f1 -.2, f2 -.05.
    assert_eq!(diff_of(&b, &n, false).flat_frame, vec![0, 2, 1]);
    assert_eq!(diff_of(&b, &n, true).flat_frame, vec![0, 1, 2]);
}

#[test]
fn diff_filter_keeps_a_node_that_matters_on_either_side() {
    // f2 is 25% of BASE and absent from NEW; f3 is 1/6 of NEW. At a 20% threshold f2 stays, f3 goes; f0's [self]
    // (1/6 of NEW, 1/4 of BASE) stays.
    let (mut b, mut n) = two_runs();
    b.threshold = 0.2;
    n.threshold = 0.2;
    let d = diff_of(&b, &n, false);
    assert_eq!(
        show_diff(&d),
        vec!["root 30/20 bn", "  f0 25/15 bn", "    f1 20/10 bn s=20/10", "    self 5/5 bn s=5/5", "  f2 0/5 b s=0/5",]
    );
    assert_eq!(d.flat_frame, vec![1, 2, 0]);
}

#[test]
fn diff_own_time_is_compared_whether_or_not_a_side_folded_its_self() {
    // BASE: f0 has only own time (its [self] folded, §6); NEW: f0 has a child too, so a [self] node. The two own
    // times meet in one [self] row.
    let mut b = case(2);
    b.paths = vec![vec![0]];
    b.samples = vec![(0, 0.0, ST_JS)];
    b.duration = 10.0;
    let mut n = case(2);
    n.paths = vec![vec![0], vec![0, 1]];
    n.samples = vec![(0, 0.0, ST_JS), (1, 6.0, ST_JS)];
    n.duration = 10.0;
    let d = diff_of(&b, &n, false);
    assert_eq!(show_diff(&d), vec!["root 10/10 bn", "  f0 10/10 bn", "    self 6/10 bn s=6/10", "    f1 4/0 n s=4/0"]);
}

#[test]
fn diff_groups_library_frames_with_new_times() {
    let (mut b, mut n) = two_runs();
    for c in [&mut b, &mut n] {
        c.flags[0] = FLAG_LIBRARY;
        c.flags[1] = FLAG_LIBRARY;
        c.libs[0] = 7;
        c.libs[1] = 7;
    }
    let d = diff_of(&b, &n, false);
    assert_eq!(d.group_root, vec![1]);
    assert_eq!(d.group_libs, vec![7]);
    assert_eq!(d.flags[1] & NODE_GROUP_ROOT, NODE_GROUP_ROOT);
}

#[test]
fn diff_rejects_frames_out_of_range_and_never_traps() {
    let (b, n) = two_runs();
    let (tb, tn) = (b.run(), n.run());
    let o = DiffOptions {
        show_all: false,
        filter_threshold: 0.0,
        flat_time: FlatTime::SelfTime,
        normalize: false,
        frame_flags: &[0, 0],
        frame_library: &[NO_LIBRARY, NO_LIBRARY],
    };
    assert!(diff(&tb, &tn, &o).unwrap_err().0.contains("out of range"));
    let empty = ProcessedTree::default();
    assert!(diff(&empty, &tn, &DiffOptions { frame_flags: &n.flags, frame_library: &n.libs, ..o }).is_err());
    // A tree that is not in pre-order.
    let mut bad = tn.clone();
    bad.parent[1] = 3;
    assert!(diff(&tb, &bad, &DiffOptions { frame_flags: &n.flags, frame_library: &n.libs, ..o }).is_err());
    // Diffing a run with itself: every node on both sides, every change 0.
    let same = diff(&tn, &tn, &DiffOptions { frame_flags: &n.flags, frame_library: &n.libs, ..o }).unwrap();
    assert!(same.side.iter().all(|&s| s == SIDE_BASE | SIDE_NEW));
    assert_eq!(same.time, same.base_time);
}

// SPEC, entries.

/// Each entry as "path weight", the path's frames joined by ">" (the empty path: "-").
fn show_entries(e: &Entries) -> Vec<String> {
    e.entry_path
        .iter()
        .zip(&e.entry_weight)
        .map(|(&p, w)| {
            let mut frames = Vec::new();
            let mut x = p;
            while x != 0 {
                frames.push(name(e.path_frame[x as usize]));
                x = e.path_parent[x as usize];
            }
            frames.reverse();
            let path = if frames.is_empty() { "-".to_string() } else { frames.join(">") };
            format!("{path} {w}")
        })
        .collect()
}

#[test]
fn entries_in_time_order_merged_filtered_and_awaited() {
    // f0>f1 at 0 and 5, f0 at 10, a 20 ms gap (capped at 5: the rest idle), f0>f2 (f2 internal) at 35.
    let mut c = case(3);
    c.paths = vec![vec![0, 1], vec![0], vec![0, 2]];
    c.samples = vec![(0, 0.0, ST_JS), (0, 5.0, ST_JS), (1, 10.0, ST_JS), (2, 30.0, ST_JS)];
    c.gap_cap = 5.0;
    c.duration = 35.0;
    c.flags[2] = FLAG_INTERNAL;
    let e = c.session().entries(&c.opts()).unwrap();
    assert_eq!(show_entries(&e), vec!["f0>f1 10", "f0 5", "idle 15", "f0 5"]);
    // A wait f0 started at 11 and awaited to 30: the idle rest is [await] under f0.
    c.waits = vec![(11.0, 30.0, 1)];
    c.interval = 1.0;
    let e = c.session().entries(&c.opts()).unwrap();
    assert_eq!(show_entries(&e), vec!["f0>f1 10", "f0 1", "f0>await 19", "f0 5"]);
    // showAll keeps the internal frame.
    c.show_all = true;
    let e = c.session().entries(&c.opts()).unwrap();
    assert_eq!(show_entries(&e).last().unwrap(), "f0>f2 5");
}
