// Unit tests of the oracle (test/oracle.ts) against small hand-computed expectations, one group per step of
// core-rs/SPEC.md. The oracle is what the wasm core is checked against, so these pin down the reading of SPEC.md.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { oracleProcess } from "./oracle.ts";
import { FrameFlag, NO_LIBRARY, NodeFlag, SampleState, SYNTHETIC_NAMES, SyntheticFrame } from "../session/types.ts";
import type { CoreProcessOptions, ProcessedTree, SampleTable, StackTable, WaitTable } from "../session/types.ts";

// ---- helpers ---------------------------------------------------------------------------------------------------

// Real frames 0..11 are named by letters; L1..L4 are library frames in the tests that set their flags.
const [A, B, C, D, E, F, G, H, L1, L2, L3, L4] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const NAMES = ["A", "B", "C", "D", "E", "F", "G", "H", "L1", "L2", "L3", "L4"];
const FRAME_COUNT = NAMES.length;
const { js, idle, gc, native, await: awaiting, outOfContext } = SampleState;

type Sample = [path: number[] | null, time: number, state?: number];

interface Built {
  stacks: StackTable;
  samples: SampleTable;
  waits: WaitTable;
}

/** [start, end, path of the stack that awaited (null = unknown, stack -1)] */
type WaitSpec = [start: number, end: number, path: number[] | null];

/** A stack table interning the given paths (null = stack -1), and the samples and waits pointing into it. */
function build(samples: Sample[], waitSpecs: WaitSpec[] = []): Built {
  const parent: number[] = [];
  const frame: number[] = [];
  const ids = new Map<string, number>();
  const stackOf = (path: number[]): number => {
    let id = -1;
    for (let i = 0; i < path.length; i++) {
      const key = path.slice(0, i + 1).join(",");
      let next = ids.get(key);
      if (next === undefined) {
        next = parent.length;
        parent.push(id);
        frame.push(path[i]);
        ids.set(key, next);
      }
      id = next;
    }
    return id;
  };
  const stack = samples.map(([path]) => (path === null || path.length === 0 ? -1 : stackOf(path)));
  const waitStack = waitSpecs.map(([, , path]) => (path === null || path.length === 0 ? -1 : stackOf(path)));
  return {
    waits: {
      start: Float64Array.from(waitSpecs, ([a]) => a),
      end: Float64Array.from(waitSpecs, ([, b]) => b),
      stack: Int32Array.from(waitStack),
    },
    stacks: { parent: Int32Array.from(parent), frame: Uint32Array.from(frame) },
    samples: {
      stack: Int32Array.from(stack),
      time: Float64Array.from(samples.map(([, t]) => t)),
      state: Uint8Array.from(samples.map(([, , s]) => s ?? js)),
    },
  };
}

interface Opts extends Partial<Omit<CoreProcessOptions, "frameFlags" | "frameLibrary">> {
  /** frame -> flags */
  flags?: Record<number, number>;
  /** frame -> library id */
  libs?: Record<number, number>;
}

function options(opts: Opts = {}): CoreProcessOptions {
  const frameFlags = new Uint8Array(FRAME_COUNT);
  const frameLibrary = new Uint32Array(FRAME_COUNT).fill(NO_LIBRARY);
  for (const [f, v] of Object.entries(opts.flags ?? {})) frameFlags[Number(f)] = v;
  for (const [f, v] of Object.entries(opts.libs ?? {})) frameLibrary[Number(f)] = v;
  return {
    duration: opts.duration ?? 0,
    gapCap: opts.gapCap ?? 1_000_000,
    ...(opts.interval === undefined ? {} : { interval: opts.interval }),
    ...(opts.idleSampled === undefined ? {} : { idleSampled: opts.idleSampled }),
    ...(opts.asyncMode === undefined ? {} : { asyncMode: opts.asyncMode }),
    timeline: opts.timeline ?? false,
    showAll: opts.showAll ?? false,
    filterThreshold: opts.filterThreshold ?? 0,
    flatTime: opts.flatTime ?? "self",
    startStack: opts.startStack ?? [],
    frameFlags,
    frameLibrary,
  };
}

function run(samples: Sample[], opts: Opts = {}, waits?: WaitSpec[], cpu?: number[]): ProcessedTree {
  const { stacks, samples: table, waits: waitTable } = build(samples, waits);
  if (cpu !== undefined) table.cpu = Float64Array.from(cpu);
  return oracleProcess(stacks, table, options(opts), waits === undefined ? undefined : waitTable);
}

const name = (frame: number): string => SYNTHETIC_NAMES[frame] ?? NAMES[frame] ?? `#${frame}`;

/**
 * One line per node, indented by depth: "name time", then "s=selfTime" and "a=awaitTime" when non-zero,
 * "g<group>" (+ "*" for a group root) when grouped, and "hidden" when the node is not visible.
 */
function show(tree: ProcessedTree): string {
  const lines: string[] = [];
  for (let i = 0; i < tree.frame.length; i++) {
    let line = `${"  ".repeat(tree.depth[i])}${name(tree.frame[i])} ${tree.time[i]}`;
    if (tree.selfTime[i] !== 0) line += ` s=${tree.selfTime[i]}`;
    if (tree.awaitTime[i] !== 0) line += ` a=${tree.awaitTime[i]}`;
    if (tree.group[i] !== -1) line += ` g${tree.group[i]}${tree.flags[i] & NodeFlag.groupRoot ? "*" : ""}`;
    if (!(tree.flags[i] & NodeFlag.visible)) line += " hidden";
    lines.push(line);
  }
  return lines.join("\n");
}

/** show(), with " c=<cpuTime>" after each line whose CPU time is not zero. */
function showCpu(tree: ProcessedTree): string {
  const cpu = tree.cpuTime;
  assert.ok(cpu !== undefined, "cpuTime is known");
  return show(tree)
    .split("\n")
    .map((line, i) => (cpu![i] !== 0 ? `${line} c=${cpu![i]}` : line))
    .join("\n");
}

/** "name self/total" per flat row, in order. */
function flat(tree: ProcessedTree): string[] {
  return Array.from(tree.flatFrame, (f, i) => `${name(f)} ${tree.flatSelf[i]}/${tree.flatTotal[i]}`);
}

/** Per group: "root=<name> hidden=<n> libs=<ids>". */
function groups(tree: ProcessedTree): string[] {
  return Array.from(tree.groupRoot, (root, g) => {
    const libs = tree.groupLibs.subarray(tree.groupLibOffsets[g], tree.groupLibOffsets[g + 1]);
    return `root=${name(tree.frame[root])} hidden=${tree.groupHidden[g]} libs=${Array.from(libs).join(",")}`;
  });
}

const tree = (...lines: string[]): string => lines.join("\n");

/** Structural invariants every ProcessedTree must satisfy. */
function checkShape(t: ProcessedTree): void {
  const n = t.frame.length;
  for (const key of ["parent", "depth", "time", "selfTime", "awaitTime", "group", "flags"] as const) {
    assert.is(t[key].length, n, key);
  }
  assert.is(t.frame[0], SyntheticFrame.root);
  assert.is(t.parent[0], -1);
  assert.is(t.depth[0], 0);
  for (let i = 1; i < n; i++) {
    assert.ok(t.parent[i] >= 0 && t.parent[i] < i, `parent of ${i}`);
    assert.is(t.depth[i], t.depth[t.parent[i]] + 1, `depth of ${i}`);
  }
  assert.is(t.groupLibOffsets.length, t.groupRoot.length + 1);
  assert.is(t.groupLibOffsets[t.groupRoot.length], t.groupLibs.length);
}

// ---- 1. entries: weights and the gap rule ------------------------------------------------------------------------

test("gap rule: a gap beyond gapCap becomes idle, never credited to the next sample", () => {
  // A@0: dt 10 -> A 10. B@10: dt 30 -> B 10 + idle 20. C@40: dt 5 (end 45) -> C 5.
  const t = run([[[A], 0], [[B], 10], [[C], 40]], { gapCap: 10, duration: 45 });
  checkShape(t);
  assert.is(
    show(t),
    tree(
      "[root] 45",
      "  [idle] 20 s=20",
      "  A 10 s=10",
      "  B 10 s=10",
      "  C 5 s=5",
    ),
  );
  // Timeline: the idle part of B's gap comes right after B, before C.
  assert.is(
    show(run([[[A], 0], [[B], 10], [[C], 40]], { gapCap: 10, duration: 45, timeline: true })),
    tree(
      "[root] 45",
      "  A 10 s=10",
      "  B 10 s=10",
      "  [idle] 20 s=20",
      "  C 5 s=5",
    ),
  );
});

test("running gap (idleSampled): a gap between running samples is running time, its late part the next sample's", () => {
  // Interval 2, gapCap 10: A@0 -> B@10 keeps 2 intervals (4), B gets 6; B@10 -> C@41 keeps 4, C gets the late 27
  // and its own 4 (end 45). Nothing is idle.
  const samples: Sample[] = [[[A], 0], [[B], 10], [[C], 41]];
  const opts = { gapCap: 10, duration: 45, interval: 2, idleSampled: true };
  assert.is(
    show(run(samples, opts)),
    tree(
      "[root] 45",
      "  C 31 s=31",
      "  B 10 s=10",
      "  A 4 s=4",
    ),
  );
  // Timeline: the late part comes just before the next sample's own entry, so the two are one run.
  assert.is(
    show(run(samples, { ...opts, timeline: true })),
    tree(
      "[root] 45",
      "  A 4 s=4",
      "  B 10 s=10",
      "  C 31 s=31",
    ),
  );
  // Without an interval sample i keeps min(dt, gapCap): A 10, B 10, C 21 + 4.
  assert.is(
    show(run(samples, { ...opts, interval: 0 })),
    tree("[root] 45", "  C 25 s=25", "  A 10 s=10", "  B 10 s=10"),
  );
  // Without the flag (Bun, older files): B 10, then 21 idle.
  assert.match(show(run(samples, { gapCap: 10, duration: 45 })), "  [idle] 21 s=21");
  // A state other than idle ([gc], [native], an empty stack) is running too.
  assert.is(
    show(run([[[A], 0, gc], [null, 100]], { gapCap: 10, duration: 110, idleSampled: true })),
    tree(
      "[root] 110",
      "  [self] 100 s=100",
      "  A 10",
      "    [gc] 10 s=10",
    ),
  );
});

test("garbage collection inside running code: a bare [gc] run takes the frames around it", () => {
  // A > B, two bare GC samples, A > C: [A, gc]. Then GC between A > C and D (nothing in common), before an idle
  // sample (V8 collecting as the program goes idle) and after the last one: [gc] at the root, as sampled.
  const samples: Sample[] = [
    [[A, B], 0],
    [null, 10, gc],
    [null, 20, gc],
    [[A, C], 30],
    [null, 40, gc],
    [[D], 50],
    [null, 60, gc],
    [[D], 70, idle],
    [null, 80, gc],
  ];
  assert.is(
    show(run(samples, { gapCap: 10, duration: 90 })),
    tree(
      "[root] 90",
      "  A 40",
      "    [gc] 20 s=20",
      "    B 10 s=10",
      "    C 10 s=10",
      "  [gc] 30 s=30",
      "  D 20",
      "    [self] 10 s=10",
      "    [idle] 10 s=10",
    ),
  );
});

test("running gap: gaps at an idle sample, the last sample and the leading span keep the rule", () => {
  // A@5 -> [A idle]@30 (ends at an idle sample): A 10 + 15 idle; [A idle]@30 -> B@60 (starts at one): 10 on A's
  // [idle] + 20 idle; B@60 -> end 100 (the last sample): B 10 + 30 idle; the leading 5 is idle.
  const samples: Sample[] = [[[A], 5], [[A], 30, idle], [[B], 60]];
  const flagged = show(run(samples, { gapCap: 10, duration: 100, idleSampled: true }));
  assert.is(flagged, show(run(samples, { gapCap: 10, duration: 100 })));
  assert.is(
    flagged,
    tree(
      "[root] 100",
      "  [idle] 70 s=70",
      "  A 20",
      "    [self] 10 s=10",
      "    [idle] 10 s=10",
      "  B 10 s=10",
    ),
  );
  // The leading span's CPU stays on it.
  assert.is(
    showCpu(run([[[A], 5], [[B], 10]], { duration: 20, idleSampled: true }, undefined, [2, 4])),
    tree(
      "[root] 20 c=4",
      "  B 10 s=10",
      "  [idle] 5 s=5 c=2",
      "  A 5 s=5 c=2",
    ),
  );
});

test("running gap: only where rule 1 sees no wait; none is charged in it, and its CPU stays before it", () => {
  // A@0, B@100, end 110, gapCap 50, interval 10. C waited over [5, 95): started within A's credit, so rule 1 (a)
  // says the program went idle there: no running gap, the same tree as without the flag (A 5, [await] 90, B 15).
  const samples: Sample[] = [[[A], 0], [[B], 100]];
  const opts = { gapCap: 50, duration: 110, interval: 10 };
  const awaited = tree("[root] 110 a=90", "  C 90 a=90", "    [await] 90 s=90 a=90", "  B 15 s=15", "  A 5 s=5");
  assert.is(show(run(samples, opts, [[5, 95, [C]]])), awaited);
  assert.is(show(run(samples, { ...opts, idleSampled: true }, [[5, 95, [C]]])), awaited);
  // C waited over [60, 90), past A's credit: rule 1 sees nothing, a running gap, the wait charged nothing. A keeps
  // 2 intervals (and all of the span's CPU), B gets the late 80 and its own 10.
  assert.is(
    showCpu(run(samples, { ...opts, idleSampled: true }, [[60, 90, [C]]], [0, 70])),
    tree(
      "[root] 110 c=70",
      "  B 90 s=90",
      "  A 20 s=20 c=70",
    ),
  );
});

test("running gap: the late part takes the next sample's async stack", () => {
  // The wait (main A > handler B, ended at 2) re-roots the continuation [C internal, B, E] at 100 under A; the late
  // part of the running gap before it is that path too. D@0 keeps 10 (gapCap; no interval), A > B > E 90 + 10.
  const flags = { flags: { [C]: FrameFlag.internal } };
  const samples: Sample[] = [[[D], 0], [[C, B, E], 100]];
  const waits: WaitSpec[] = [[1, 2, [A, B]]];
  assert.is(
    show(run(samples, { gapCap: 10, duration: 110, idleSampled: true, ...flags }, waits)),
    tree(
      "[root] 110",
      "  A 100",
      "    B 100",
      "      E 100 s=100",
      "  D 10 s=10",
    ),
  );
});

test("async stacks: a sample stamped up to an interval before the resume it shows takes that wait's callers", () => {
  // [C internal, B, E]@50 before the wait main A > handler B ends at 55 (within the interval, 10): under A. A
  // wait ending at 65 is past the interval: the sample keeps its own path (B at the top level).
  const flags = { flags: { [C]: FrameFlag.internal } };
  const samples: Sample[] = [[[D], 0], [[C, B, E], 50]];
  const opts = { gapCap: 10, duration: 60, interval: 10, ...flags };
  assert.is(
    show(run(samples, opts, [[1, 55, [A, B]]])),
    tree(
      "[root] 60 a=40",
      "  A 50 a=40",
      "    B 50 a=40",
      "      [await] 40 s=40 a=40",
      "      E 10 s=10",
      "  D 10 s=10",
    ),
  );
  assert.is(
    show(run(samples, { ...opts, duration: 70 }, [[1, 65, [A, B]]])),
    tree(
      "[root] 70 a=45",
      "  A 45 a=45",
      "    B 45 a=45",
      "      [await] 45 s=45 a=45",
      "  D 10 s=10",
      "  B 10",
      "    E 10 s=10",
      "  [idle] 5 s=5",
    ),
  );
});

test("gap rule: gapCap 0 makes every sample's time idle", () => {
  assert.is(
    show(run([[[A], 0], [[B], 10]], { gapCap: 0, duration: 15 })),
    tree(
      "[root] 15",
      "  [idle] 15 s=15",
    ),
  );
});

test("leading idle: a first sample after 0 is preceded by idle", () => {
  assert.is(
    show(run([[[A], 5]], { duration: 8, timeline: true })),
    tree(
      "[root] 8",
      "  [idle] 5 s=5",
      "  A 3 s=3",
    ),
  );
});

test("end = max(duration, last time); zero-weight entries are dropped", () => {
  // duration 5 < last time 10: end 10, so B has weight 0 and vanishes.
  assert.is(
    show(run([[[A], 0], [[B], 10]], { duration: 5 })),
    tree(
      "[root] 10",
      "  A 10 s=10",
    ),
  );
  // Equal times: A@0 and B@0 -> A has weight 0.
  assert.is(
    show(run([[[A], 0], [[B], 0], [[C], 4]], { duration: 6 })),
    tree(
      "[root] 6",
      "  B 4 s=4",
      "  C 2 s=2",
    ),
  );
});

test("no samples: an empty tree (the root alone, visible)", () => {
  const t = run([], { duration: 100 });
  checkShape(t);
  assert.is(show(t), "[root] 0");
  assert.equal(flat(t), []);
  assert.equal(groups(t), []);
  assert.equal(Array.from(t.groupLibOffsets), [0]);
});

test("times are rounded half away from zero", () => {
  // 0.4 -> 0, 1.5 -> 2, 2.5 -> 3, duration 4.5 -> 5.
  assert.is(
    show(run([[[A], 0.4], [[B], 1.5], [[C], 2.5]], { duration: 4.5, timeline: true })),
    tree(
      "[root] 5",
      "  A 2 s=2",
      "  B 1 s=1",
      "  C 2 s=2",
    ),
  );
  // 0.5 rounds up: a leading idle of 1.
  assert.is(
    show(run([[[A], 0.5]], { duration: 3, timeline: true })),
    tree(
      "[root] 3",
      "  [idle] 1 s=1",
      "  A 2 s=2",
    ),
  );
});

test("states add their synthetic frame; an empty js stack goes to the root's [self]", () => {
  const t = run(
    [[[A], 0, awaiting], [[A], 10, gc], [null, 20, idle], [null, 30, js], [[B], 40, native], [[B], 45, outOfContext]],
    { duration: 50 },
  );
  checkShape(t);
  assert.is(
    show(t),
    tree(
      "[root] 50 a=10",
      "  A 20 a=10",
      "    [await] 10 s=10 a=10",
      "    [gc] 10 s=10",
      "  [idle] 10 s=10",
      "  [self] 10 s=10",
      "  B 10",
      "    [native] 5 s=5",
      "    [out-of-context] 5 s=5",
    ),
  );
});

test("duplicate paths under different stack ids are the same stack", () => {
  // Stacks 0:A 1:A>B 2:A 3:A>B (V8 gives one node per call site).
  const stacks = { parent: Int32Array.from([-1, 0, -1, 2]), frame: Uint32Array.from([A, B, A, B]) };
  const samples = {
    stack: Int32Array.from([1, 3, 2, 0]),
    time: Float64Array.from([0, 1, 2, 3]),
    state: Uint8Array.from([js, js, js, js]),
  };
  for (const timeline of [false, true]) {
    const t = oracleProcess(stacks, samples, options({ duration: 4, timeline }));
    assert.is(
      show(t),
      tree(
        "[root] 4",
        "  A 4",
        "    B 2 s=2",
        "    [self] 2 s=2",
      ),
      `timeline ${timeline}`,
    );
  }
});

// ---- 2. path filtering -------------------------------------------------------------------------------------------

test("filtering removes internal and hidden frames unless showAll", () => {
  const samples: Sample[] = [[[A, B, D], 0], [[A, C], 10], [[B], 20]];
  const flags = { [B]: FrameFlag.internal, [C]: FrameFlag.hidden };
  assert.is(
    show(run(samples, { duration: 30, flags })),
    tree(
      "[root] 30",
      "  A 20",
      "    D 10 s=10",
      "    [self] 10 s=10",
      "  [self] 10 s=10",
    ),
  );
  assert.equal(flat(run(samples, { duration: 30, flags })), ["A 10/20", "D 10/10"]);
  assert.is(
    show(run(samples, { duration: 30, flags, showAll: true })),
    tree(
      "[root] 30",
      "  A 20",
      "    B 10",
      "      D 10 s=10",
      "    C 10 s=10",
      "  B 10 s=10",
    ),
  );
});

test("filtering merges paths that become equal; library frames are not filtered", () => {
  const t = run([[[A, B, C], 0], [[A, C], 10]], {
    duration: 20,
    flags: { [B]: FrameFlag.internal | FrameFlag.library },
  });
  assert.is(
    show(t),
    tree(
      "[root] 20",
      "  A 20",
      "    C 20 s=20",
    ),
  );
  const lib = run([[[A, B, C], 0]], { duration: 10, flags: { [B]: FrameFlag.library } });
  assert.is(show(lib), tree("[root] 10", "  A 10", "    B 10", "      C 10 s=10"));
});

// ---- 3. trim stem -------------------------------------------------------------------------------------------------

test("trim stem: frames above start()'s caller are removed; S[j] stays on top", () => {
  const t = run([[[F, G, H, A], 0], [[F, G, H, B], 10], [null, 20, idle]], { duration: 30, startStack: [F, G, H] });
  assert.is(
    show(t),
    tree(
      "[root] 30",
      "  H 20",
      "    A 10 s=10",
      "    B 10 s=10",
      "  [idle] 10 s=10",
    ),
  );
  // The flat view is built after trimming: F and G are gone.
  assert.equal(flat(run([[[F, G, H, A], 0]], { duration: 10, startStack: [F, G, H], flatTime: "total" })), [
    "H 0/10",
    "A 10/10",
  ]);
});

test("trim stem: stops where a candidate diverges or ends", () => {
  // Diverges at depth 1: j = 0, nothing trimmed.
  assert.is(
    show(run([[[F, G, A], 0], [[F, A], 10]], { duration: 20, startStack: [F, G] })),
    tree(
      "[root] 20",
      "  F 20",
      "    G 10",
      "      A 10 s=10",
      "    A 10 s=10",
    ),
  );
  // A candidate [F, G] has no frame after G: j stops at 1, keeping G on top.
  assert.is(
    show(run([[[F, G, H, A], 0], [[F, G], 10]], { duration: 20, startStack: [F, G, H] })),
    tree(
      "[root] 20",
      "  G 20",
      "    H 10",
      "      A 10 s=10",
      "    [self] 10 s=10",
    ),
  );
  // A state frame is not a real frame: [F, G, await] stops the descent at G.
  assert.is(
    show(run([[[F, G, H], 0], [[F, G], 10, awaiting]], { duration: 20, startStack: [F, G, H] })),
    tree(
      "[root] 20 a=10",
      "  G 20 a=10",
      "    H 10 s=10",
      "    [await] 10 s=10 a=10",
    ),
  );
});

test("trim stem: no trim when a candidate starts elsewhere, or S or candidates are empty", () => {
  const expected = tree("[root] 20", "  F 10", "    G 10 s=10", "  A 10 s=10");
  assert.is(show(run([[[F, G], 0], [[A], 10]], { duration: 20, startStack: [F, G] })), expected);
  assert.is(show(run([[[F, G], 0]], { duration: 10, startStack: [] })), tree("[root] 10", "  F 10", "    G 10 s=10"));
  // Only idle and empty entries: no candidates.
  assert.is(
    show(run([[null, 0, idle], [null, 10]], { duration: 20, startStack: [F] })),
    tree(
      "[root] 20",
      "  [idle] 10 s=10",
      "  [self] 10 s=10",
    ),
  );
});

test("trim stem: idle, empty and zero-weight entries are not candidates", () => {
  // [A] at 10 has weight 0 (next sample at the same time), so it does not stop the trim.
  const t = run(
    [[null, 0, idle], [[F, G, B], 5], [[A], 10], [[F, G, C], 10], [null, 15]],
    { duration: 20, startStack: [F, G] },
  );
  assert.is(
    show(t),
    tree(
      "[root] 20",
      "  G 10",
      "    B 5 s=5",
      "    C 5 s=5",
      "  [idle] 5 s=5",
      "  [self] 5 s=5",
    ),
  );
});

test("trim stem: startStack and paths are filtered first", () => {
  // E is internal: startStack [F, E, G] is [F, G]; paths [F, E, G, A] are [F, G, A].
  const t = run([[[F, E, G, A], 0], [[F, G, B], 10]], {
    duration: 20,
    startStack: [F, E, G],
    flags: { [E]: FrameFlag.internal },
  });
  assert.is(show(t), tree("[root] 20", "  G 20", "    A 10 s=10", "    B 10 s=10"));
  // showAll keeps E, so S = [F, E, G] and the second path diverges at depth 1.
  const all = run([[[F, E, G, A], 0], [[F, G, B], 10]], {
    duration: 20,
    startStack: [F, E, G],
    flags: { [E]: FrameFlag.internal },
    showAll: true,
  });
  assert.is(
    show(all),
    tree(
      "[root] 20",
      "  F 20",
      "    E 10",
      "      G 10",
      "        A 10 s=10",
      "    G 10",
      "      B 10 s=10",
    ),
  );
});

// ---- 4. aggregated vs timeline ------------------------------------------------------------------------------------

test("aggregated merges repeated calls; timeline merges only consecutive ones", () => {
  const samples: Sample[] = [[[A, B], 0], [[A, C], 1], [[A, B], 2], [[D], 3], [[A, B], 4]];
  assert.is(
    show(run(samples, { duration: 5 })),
    tree(
      "[root] 5",
      "  A 4",
      "    B 3 s=3",
      "    C 1 s=1",
      "  D 1 s=1",
    ),
  );
  assert.is(
    show(run(samples, { duration: 5, timeline: true })),
    tree(
      "[root] 5",
      "  A 3",
      "    B 1 s=1",
      "    C 1 s=1",
      "    B 1 s=1",
      "  D 1 s=1",
      "  A 1",
      "    B 1 s=1",
    ),
  );
});

test("[self] nodes: one per frame in aggregated mode, one per run in timeline mode", () => {
  const samples: Sample[] = [[[A], 0], [[A, B], 1], [[A], 2], [[A], 3]];
  assert.is(show(run(samples, { duration: 4 })), tree("[root] 4", "  A 4", "    [self] 3 s=3", "    B 1 s=1"));
  assert.is(
    show(run(samples, { duration: 4, timeline: true })),
    tree(
      "[root] 4",
      "  A 4",
      "    [self] 1 s=1",
      "    B 1 s=1",
      "    [self] 2 s=2",
    ),
  );
});

test("await time is counted on every node of an await entry's walk", () => {
  const t = run([[[A, B], 0, awaiting], [[A, B], 10, js], [[A], 30, awaiting]], { duration: 35 });
  assert.is(
    show(t),
    tree(
      "[root] 35 a=15",
      "  A 35 a=15",
      "    B 30 a=10",
      "      [self] 20 s=20",
      "      [await] 10 s=10 a=10",
      "    [await] 5 s=5 a=5",
    ),
  );
});

// ---- 5. remove irrelevant nodes -----------------------------------------------------------------------------------

test("irrelevant nodes are dropped with their subtree; the parent's time stays", () => {
  const samples: Sample[] = [[[A], 0], [[A, B], 50], [[A, C], 70], [[D, E], 80]];
  // total 100, threshold 25: B 20, C 10, D 20 dropped. A keeps 80; its lone [self] is then folded.
  assert.is(show(run(samples, { duration: 100, filterThreshold: 0.25 })), tree("[root] 100", "  A 80 s=50"));
  // threshold 20: equal times stay.
  assert.is(
    show(run(samples, { duration: 100, filterThreshold: 0.2 })),
    tree(
      "[root] 100",
      "  A 80",
      "    [self] 50 s=50",
      "    B 20 s=20",
      "  D 20",
      "    E 20 s=20",
    ),
  );
  // showAll ignores the threshold.
  assert.is(show(run(samples, { duration: 100, filterThreshold: 0.5, showAll: true })).split("\n").length, 7);
});

test("irrelevant nodes: the threshold is filterThreshold * total in f64 (0.07 * 100 > 7, 0.29 * 100 < 29)", () => {
  const samples: Sample[] = [[[A], 0], [[B], 93]];
  assert.is(0.07 * 100 > 7, true);
  assert.is(show(run(samples, { duration: 100, filterThreshold: 0.07 })), tree("[root] 100", "  A 93 s=93"));
  assert.equal(flat(run(samples, { duration: 100, filterThreshold: 0.07 })), ["A 93/93"]);
  const kept = [[[A], 0], [[B], 71]] as Sample[];
  assert.is(0.29 * 100 < 29, true);
  assert.is(
    show(run(kept, { duration: 100, filterThreshold: 0.29 })),
    tree("[root] 100", "  A 71 s=71", "  B 29 s=29"),
  );
});

// ---- 6. remove unnecessary [self] nodes -----------------------------------------------------------------------------

test("a lone [self] child is folded into its parent's selfTime, the root's too", () => {
  assert.is(show(run([[null, 0], [null, 10]], { duration: 20 })), "[root] 20 s=20");
  assert.is(show(run([[[A], 0]], { duration: 10 })), tree("[root] 10", "  A 10 s=10"));
  // Not lone: kept.
  assert.is(
    show(run([[[A], 0], [[A, B], 10]], { duration: 20 })),
    tree(
      "[root] 20",
      "  A 20",
      "    [self] 10 s=10",
      "    B 10 s=10",
    ),
  );
});

// ---- 7. order ----------------------------------------------------------------------------------------------------------

test("aggregated order: time descending, ties by creation order; timeline keeps creation order", () => {
  const samples: Sample[] = [[[C], 0], [[B], 1], [[A], 2], [[B], 3]];
  assert.is(show(run(samples, { duration: 4 })), tree("[root] 4", "  B 2 s=2", "  C 1 s=1", "  A 1 s=1"));
  assert.is(
    show(run(samples, { duration: 4, timeline: true })),
    tree(
      "[root] 4",
      "  C 1 s=1",
      "  B 1 s=1",
      "  A 1 s=1",
      "  B 1 s=1",
    ),
  );
});

// ---- 8. group library frames ------------------------------------------------------------------------------------------

const LIB = FrameFlag.library;
const libFlags = { [L1]: LIB, [L2]: LIB, [L3]: LIB, [L4]: LIB };
const libIds = { [L1]: 0, [L2]: 1, [L3]: 0, [L4]: NO_LIBRARY };

test("grouping: a library chain is grouped; the frame leading out of it stays visible", () => {
  const t = run([[[A, L1, L2, L3, B], 0]], { duration: 10, flags: libFlags, libs: libIds });
  checkShape(t);
  assert.is(
    show(t),
    tree(
      "[root] 10",
      "  A 10",
      "    L1 10 g0*",
      "      L2 10 g0 hidden",
      "        L3 10 g0",
      "          B 10 s=10",
    ),
  );
  assert.equal(groups(t), ["root=L1 hidden=1 libs=0,1"]);
  // showAll: no groups, all visible.
  const all = run([[[A, L1, L2, L3, B], 0]], { duration: 10, flags: libFlags, libs: libIds, showAll: true });
  assert.equal(groups(all), []);
  assert.ok(Array.from(all.flags).every((f) => f === NodeFlag.visible));
});

test("grouping: a non-library child outside the group makes a member visible (exit frames)", () => {
  const t = run([[[A, L1, L2, L3, L4], 0], [[A, L1, L2, C], 60]], { duration: 100, flags: libFlags, libs: libIds });
  assert.is(
    show(t),
    tree(
      "[root] 100",
      "  A 100",
      "    L1 100 g0*",
      "      L2 100 g0",
      "        L3 60 g0 hidden",
      "          L4 60 s=60 g0",
      "        C 40 s=40",
    ),
  );
  // L4 is visible by its self time (60 > 0.2 * 100); its library is NO_LIBRARY, so not listed.
  assert.equal(groups(t), ["root=L1 hidden=1 libs=0,1"]);
});

test("grouping: the 0.2 self-time rule, with [self] children of hidden frames joining the group", () => {
  // L2's [self] is 30 > 20: L2 visible, and that [self] too.
  const above = run([[[A, L1, L2], 0], [[A, L1, L2, L3], 30]], { duration: 100, flags: libFlags, libs: libIds });
  assert.is(
    show(above),
    tree(
      "[root] 100",
      "  A 100",
      "    L1 100 g0*",
      "      L2 100 g0",
      "        L3 70 s=70 g0",
      "        [self] 30 s=30 g0",
    ),
  );
  assert.equal(groups(above), ["root=L1 hidden=0 libs=0,1"]);
  // Exactly 0.2 * total is not more than it: L2 and its [self] are hidden.
  const at = run([[[A, L1, L2], 0], [[A, L1, L2, L3], 20]], { duration: 100, flags: libFlags, libs: libIds });
  assert.is(
    show(at),
    tree(
      "[root] 100",
      "  A 100",
      "    L1 100 g0*",
      "      L2 100 g0 hidden",
      "        L3 80 s=80 g0",
      "        [self] 20 s=20 g0 hidden",
    ),
  );
  assert.equal(groups(at), ["root=L1 hidden=1 libs=0,1"]);
});

test("grouping: the self time of a folded lone [self] counts (selfTime)", () => {
  // L3 is a leaf: 10 of 100 -> hidden; L2 has synthetic [native] child outside the group -> visible.
  const t = run(
    [[[A, L1, L2, L3], 0], [[A, L1, L2], 10, native], [[A], 20]],
    { duration: 100, flags: libFlags, libs: libIds },
  );
  assert.is(
    show(t),
    tree(
      "[root] 100",
      "  A 100",
      "    [self] 80 s=80",
      "    L1 20 g0*",
      "      L2 20 g0",
      "        L3 10 s=10 g0 hidden",
      "        [native] 10 s=10",
    ),
  );
  assert.equal(groups(t), ["root=L1 hidden=1 libs=0,1"]);
});

test("grouping: a [gc] under a hidden frame is folded with it, as its [self] is", () => {
  // The library's allocations' collections are the library's time: L2 stays hidden, its [gc] in the group.
  const t = run(
    [[[A, L1, L2, L3], 0], [[A, L1, L2], 10, gc], [[A], 20]],
    { duration: 100, flags: libFlags, libs: libIds },
  );
  assert.is(
    show(t),
    tree(
      "[root] 100",
      "  A 100",
      "    [self] 80 s=80",
      "    L1 20 g0*",
      "      L2 20 g0 hidden",
      "        L3 10 s=10 g0 hidden",
      "        [gc] 10 s=10 g0 hidden",
    ),
  );
  assert.equal(groups(t), ["root=L1 hidden=2 libs=0,1"]);
});

test("grouping: no group for a single library frame, or one whose only library child is [self]", () => {
  const t = run([[[A, L1, B], 0], [[C, L2], 10], [[C, L2, D], 20]], { duration: 30, flags: libFlags, libs: libIds });
  assert.equal(groups(t), []);
  assert.ok(Array.from(t.flags).every((f) => f === NodeFlag.visible));
  assert.ok(Array.from(t.group).every((g) => g === -1));
});

test("grouping: group ids follow pre-order of the group roots; a non-library frame splits groups", () => {
  // A (60) comes before L3 (40) at the root. Under A: L1 > L2 > B > L3 > L4.
  const t = run(
    [[[A, L1, L2, B, L3, L4], 0], [[L3, L4], 60]],
    { duration: 100, flags: libFlags, libs: libIds },
  );
  assert.is(
    show(t),
    tree(
      "[root] 100",
      "  A 60",
      "    L1 60 g0*",
      "      L2 60 g0",
      "        B 60",
      "          L3 60 g1*",
      "            L4 60 s=60 g1",
      "  L3 40 g2*",
      "    L4 40 s=40 g2",
    ),
  );
  assert.equal(groups(t), ["root=L1 hidden=0 libs=0,1", "root=L3 hidden=0 libs=0", "root=L3 hidden=0 libs=0"]);
  const nodeFlags = Array.from(t.flags);
  assert.equal(nodeFlags, [1, 1, 3, 1, 1, 3, 1, 3, 1]);
  assert.equal(Array.from(t.groupRoot), [2, 5, 7]);
});

test("grouping: libraries are distinct, in pre-order of first appearance, NO_LIBRARY excluded", () => {
  const t = run([[[L4, L3, L2, L1], 0]], { duration: 10, flags: libFlags, libs: { [L1]: 7, [L2]: 3, [L3]: 7 } });
  assert.equal(groups(t), ["root=L4 hidden=2 libs=7,3"]);
  assert.equal(Array.from(t.groupLibOffsets), [0, 2]);
  assert.equal(Array.from(t.groupLibs), [7, 3]);
});

// ---- 9. flat view ------------------------------------------------------------------------------------------------------

test("flat: recursion counts once in total; self goes to the last frame", () => {
  const samples: Sample[] = [[[A, B, A, B], 0], [[A], 10]];
  assert.equal(flat(run(samples, { duration: 15 })), ["B 10/10", "A 5/15"]);
  assert.equal(flat(run(samples, { duration: 15, flatTime: "total" })), ["A 5/15", "B 10/10"]);
});

test("flat: state frames and idle are rows; ties by first appearance; empty stacks have no row", () => {
  const samples: Sample[] = [[[A], 0, awaiting], [[A], 10, gc], [null, 20, idle], [null, 30, js]];
  assert.equal(flat(run(samples, { duration: 40 })), ["[await] 10/10", "[gc] 10/10", "[idle] 10/10", "A 0/20"]);
  assert.equal(flat(run(samples, { duration: 40, flatTime: "total" })), [
    "A 0/20",
    "[await] 10/10",
    "[gc] 10/10",
    "[idle] 10/10",
  ]);
});

test("flat: rows under filterThreshold * root.time are dropped unless showAll", () => {
  const samples: Sample[] = [[[A, B], 0], [[C], 95]];
  // root 100, threshold 10: A self 0 and C 5 dropped; B kept.
  assert.equal(flat(run(samples, { duration: 100, filterThreshold: 0.1 })), ["B 95/95"]);
  assert.equal(flat(run(samples, { duration: 100, filterThreshold: 0.1, flatTime: "total" })), ["A 0/95", "B 95/95"]);
  assert.equal(flat(run(samples, { duration: 100, filterThreshold: 0.1, showAll: true })), [
    "B 95/95",
    "C 5/5",
    "A 0/95",
  ]);
});

// ---- deep stacks ---------------------------------------------------------------------------------------------------------

test("a 10,000-deep stack works in both modes, grouped into one group", () => {
  const depth = 10_000;
  const parent = Int32Array.from({ length: depth }, (_, i) => i - 1);
  const frame = Uint32Array.from({ length: depth }, (_, i) => (i === 0 ? A : i % 2 ? L1 : L2));
  const samples = {
    stack: Int32Array.from([depth - 1, depth - 2]),
    time: Float64Array.from([0, 10]),
    state: Uint8Array.from([js, js]),
  };
  for (const timeline of [false, true]) {
    const t = oracleProcess({ parent, frame }, samples, options({ duration: 20, timeline, flags: libFlags }));
    checkShape(t);
    // depth nodes + root + the [self] of the second-to-last frame (the last frame's [self] is lone).
    assert.is(t.frame.length, depth + 2);
    assert.is(Math.max(...t.depth), depth);
    // Frames 1..depth-1 form the group; visible among them: its root, and the last two (their self time,
    // 10 each, is over 0.2 * 20).
    assert.equal(groups(t), [`root=L1 hidden=${depth - 1 - 3} libs=`]);
  }
});

// ---- validation --------------------------------------------------------------------------------------------------------

test("validation: malformed input throws an Error", () => {
  const good = build([[[A, B], 0], [[A], 10]]);
  const opts = options({ duration: 20 });
  oracleProcess(good.stacks, good.samples, opts); // the baseline does not throw

  const cases: Array<[string, () => unknown]> = [
    ["parent >= own id", () => oracleProcess({ ...good.stacks, parent: Int32Array.from([-1, 1]) }, good.samples, opts)],
    ["parent < -1", () => oracleProcess({ ...good.stacks, parent: Int32Array.from([-2, 0]) }, good.samples, opts)],
    [
      "frame id >= frame count",
      () => oracleProcess({ ...good.stacks, frame: Uint32Array.from([A, FRAME_COUNT]) }, good.samples, opts),
    ],
    [
      "synthetic frame id in a stack",
      () => oracleProcess({ ...good.stacks, frame: Uint32Array.from([A, SyntheticFrame.idle]) }, good.samples, opts),
    ],
    [
      "sample stack >= stack count",
      () => oracleProcess(good.stacks, { ...good.samples, stack: Int32Array.from([2, 0]) }, opts),
    ],
    ["sample stack < -1", () => oracleProcess(good.stacks, { ...good.samples, stack: Int32Array.from([-2, 0]) }, opts)],
    ["time NaN", () => oracleProcess(good.stacks, { ...good.samples, time: Float64Array.from([NaN, 10]) }, opts)],
    [
      "time Infinity",
      () => oracleProcess(good.stacks, { ...good.samples, time: Float64Array.from([0, Infinity]) }, opts),
    ],
    ["time < 0", () => oracleProcess(good.stacks, { ...good.samples, time: Float64Array.from([-1, 10]) }, opts)],
    ["time going back", () => oracleProcess(good.stacks, { ...good.samples, time: Float64Array.from([10, 9]) }, opts)],
    ["state > 5", () => oracleProcess(good.stacks, { ...good.samples, state: Uint8Array.from([0, 6]) }, opts)],
    [
      "startStack entry >= frame count",
      () => oracleProcess(good.stacks, good.samples, { ...opts, startStack: [A, FRAME_COUNT] }),
    ],
    ["startStack entry negative", () => oracleProcess(good.stacks, good.samples, { ...opts, startStack: [-1] })],
  ];
  for (const [what, f] of cases) assert.throws(f, (e: unknown) => e instanceof Error, what);
});

test("validation: a duration before the last sample, equal times and fractional times are not errors", () => {
  assert.not.throws(() => run([[[A], 0], [[A], 0], [[B], 7.5]], { duration: 1 }));
});

// ---- await attribution (SPEC, last section) --------------------------------------------------------------------------

test("await rule 1 (b): the gap rule trusts a pending wait at t + interval (min(dt, gapCap, 2 * interval))", () => {
  // A@0, B@100 (idle, so rule 2's wake-up piece stays out of it), end 110, gapCap 50, interval 10; a wait by B
  // over [0, 60): pending at 0, so rule 1 (a) does not apply.
  const samples: Sample[] = [[[A], 0], [[B], 100, idle]];
  const waits: WaitSpec[] = [[0, 60, [B]]];
  // Pending at 10: A gets 20; [20, 60) is B's await, [60, 100) idle; B's own idle 10.
  assert.is(
    show(run(samples, { gapCap: 50, duration: 110, interval: 10 }, waits)),
    tree(
      "[root] 110 a=40",
      "  B 50 a=40",
      "    [await] 40 s=40 a=40",
      "    [idle] 10 s=10",
      "  [idle] 40 s=40",
      "  A 20 s=20",
    ),
  );
  // No interval (absent or 0): rule 1 does not apply; the cap gives A 50, and [50, 60) of the gap is awaited.
  for (const interval of [undefined, 0, 0.4]) {
    assert.match(
      show(run(samples, { gapCap: 50, duration: 110, interval }, waits)),
      "\n  A 50 s=50",
      `interval ${interval}`,
    );
  }
  // start <= p < end: a wait starting at p counts, one ending at p does not (A idle: rule 1 (a) is for running samples).
  const idleA: Sample[] = [[[A], 0, idle], [[B], 100, idle]];
  const a = (ws: WaitSpec[]): string[] =>
    show(run(idleA, { gapCap: 50, duration: 110, interval: 10 }, ws)).split("\n").slice(1, 3);
  assert.equal(a([[10, 11, [B]]]), ["  [idle] 80 s=80", "  A 19"]);
  assert.equal(a([[0, 10, [B]]]), ["  [idle] 50 s=50", "  A 40"]);
  // Disabled: the waits change nothing.
  assert.is(
    show(run(samples, { gapCap: 50, duration: 110, interval: 10, asyncMode: "disabled" }, waits)),
    show(run(samples, { gapCap: 50, duration: 110, interval: 10 })),
  );
});

test("await rule 1 (a): a running sample that went idle is credited up to the last wait it started", () => {
  const samples: Sample[] = [[[A], 0], [[B], 100, idle]];
  const opts = { gapCap: 50, duration: 110, interval: 10 };
  // The run of starts in (0, 50): 5 and 8; 30 comes after the run's first end (12). A gets 8.
  assert.is(
    show(run(samples, opts, [[5, 12, [A]], [8, 40, [B]], [30, 45, [A]]])),
    tree(
      "[root] 110 a=37",
      "  [idle] 55 s=55",
      "  B 35 a=25",
      "    [await] 25 s=25 a=25",
      "    [idle] 10 s=10",
      "  A 20 a=12",
      "    [await] 12 s=12 a=12",
      "    [self] 8 s=8",
    ),
  );
  // Starts at or after t + w (50) are outside the run.
  assert.match(show(run(samples, opts, [[50, 60, [B]]])), "\n  A 50 s=50");
  assert.match(show(run(samples, opts, [[49, 60, [B]]])), "  A 49 s=49");
  // "Went idle" needs the next sample idle or a credit over 2 * interval.
  const busy: Sample[] = [[[A], 0], [[B], 20]];
  assert.match(show(run(busy, { ...opts, duration: 30 }, [[5, 25, [B]]])), "  A 20 s=20");
  const quiet: Sample[] = [[[A], 0], [[B], 20, idle]];
  assert.match(show(run(quiet, { ...opts, duration: 30 }, [[5, 25, [B]]])), "  A 5 s=5");
  // Not when a wait is pending at t.
  assert.match(show(run(quiet, { ...opts, duration: 30 }, [[0, 25, [B]]])), "  A 20 s=20");
});

test("await rule 2: the piece from the latest wake-up to the next running sample is that sample's", () => {
  const opts = { gapCap: 1000, duration: 110, interval: 10 };
  const samples: Sample[] = [[[A], 0, idle], [[C], 100]];
  // The wait ends at 70, 30 <= 4 * 10 before C: [70, 100) is C's.
  assert.is(
    show(run(samples, opts, [[10, 70, [B]]])),
    tree(
      "[root] 110 a=60",
      "  B 60 a=60",
      "    [await] 60 s=60 a=60",
      "  C 40 s=40",
      "  A 10",
      "    [idle] 10 s=10",
    ),
  );
  // Over 4 intervals away, or another wait pending at the wake-up: no such piece.
  assert.not.match(show(run(samples, opts, [[10, 59, [B]]])), "  C 51");
  assert.not.match(show(run(samples, opts, [[10, 70, [B]], [20, 105, [A]]])), "  C 40");
  // The latest end counts; an idle next sample wakes nothing; the leading idle wakes into the first sample.
  assert.match(show(run(samples, opts, [[10, 65, [A]], [10, 80, [B]]])), "  C 30 s=30");
  assert.not.match(show(run([[[A], 0, idle], [[C], 100, idle]], opts, [[10, 80, [B]]])), "  C 30");
  assert.is(
    show(run([[[C], 100]], opts, [[0, 80, [B]]])),
    tree("[root] 110 a=80", "  B 80 a=80", "    [await] 80 s=80 a=80", "  C 30 s=30"),
  );
});

test("async stacks: code after an await is shown under the callers the wait recorded", () => {
  // Frames A main, B handler, C the event loop (internal), D read; the wait's logical stack is main > handler > read.
  const flags = { flags: { [C]: FrameFlag.internal } };
  const samples: Sample[] = [[[A, B, D], 0], [[C, B], 20], [[C, E], 30], [[B], 40]];
  const waits: WaitSpec[] = [[5, 20, [A, B, D]]];
  assert.is(
    show(run(samples, { duration: 50, ...flags }, waits)),
    tree(
      "[root] 50",
      "  A 40",
      "    B 40",
      "      D 20 s=20",
      "      [self] 20 s=20",
      "  E 10 s=10",
    ),
  );
  // Disabled: the continuation stays a top-level tree.
  assert.match(show(run(samples, { duration: 50, asyncMode: "disabled", ...flags }, waits)), "\n  B 20 s=20");
});

test("await rule 2: idle time is split among 0, 1, 2 and 3 pending waits, the first taking the remainder", () => {
  // One idle sample over [0, 20). Waits A [0,16), B [2,12), C [5,9):
  // [0,2) A2 | [2,5) L=3 k=2: A2 B1 | [5,9) L=4 k=3: A2 B1 C1 | [9,12) A2 B1 | [12,16) A4 | [16,20) idle 4.
  const samples: Sample[] = [[null, 0, idle]];
  const waits: WaitSpec[] = [[0, 16, [A]], [2, 12, [B]], [5, 9, [C]]];
  assert.is(
    show(run(samples, { duration: 20 }, waits)),
    tree(
      "[root] 20 a=16",
      "  A 12 a=12",
      "    [await] 12 s=12 a=12",
      "  [idle] 4 s=4",
      "  B 3 a=3",
      "    [await] 3 s=3 a=3",
      "  C 1 a=1",
      "    [await] 1 s=1 a=1",
    ),
  );
  // Timeline: each piece's entries in order of the waits' start.
  const top = show(run(samples, { duration: 20, timeline: true }, waits)).split("\n").filter((l) => /^ {2}\S/.test(l));
  assert.equal(top, [
    "  A 4 a=4",
    "  B 1 a=1",
    "  A 2 a=2",
    "  B 1 a=1",
    "  C 1 a=1",
    "  A 2 a=2",
    "  B 1 a=1",
    "  A 4 a=4",
    "  [idle] 4 s=4",
  ]);
  // floor(L / k) = 0: [5,7) L=2 k=3 gives A 2 and B, C 0 (dropped: C has no node). Strict is enabled for now.
  for (const asyncMode of ["enabled", "strict"] as const) {
    assert.is(
      show(run(samples, { duration: 20, asyncMode }, [[0, 20, [A]], [2, 12, [B]], [5, 7, [C]]])),
      tree(
        "[root] 20 a=20",
        "  A 17 a=17",
        "    [await] 17 s=17 a=17",
        "  B 3 a=3",
        "    [await] 3 s=3 a=3",
      ),
    );
  }
});

test("await rule 2: a zero-length wait still cuts the piece; equal starts keep input order", () => {
  // Uncut, A and B would get 5 each; cut at 3: [0,3) A2 B1, [3,10) A4 B3.
  const samples: Sample[] = [[null, 0, idle]];
  assert.is(
    show(run(samples, { duration: 10 }, [[0, 10, [A]], [0, 10, [B]], [3, 3, [C]]])),
    tree(
      "[root] 10 a=10",
      "  A 6 a=6",
      "    [await] 6 s=6 a=6",
      "  B 4 a=4",
      "    [await] 4 s=4 a=4",
    ),
  );
  assert.match(show(run(samples, { duration: 10 }, [[0, 10, [B]], [0, 10, [A]], [3, 3, [C]]])), /\n {2}B 6 a=6\n/);
});

test("await rule 2: waits cross sample entries (kept) and idle samples, gap remainders and the end (split)", () => {
  // A@0, idle@10, A@20, end 30, gapCap 4; a wait by B over [2, 25): A keeps [0,4) and [20,24); the wait takes
  // [4,10), [10,14) (the idle sample), [14,20) and [24,25); [25,30) stays idle.
  const samples: Sample[] = [[[A], 0], [null, 10, idle], [[A], 20]];
  const waits: WaitSpec[] = [[2, 25, [B]]];
  assert.is(
    show(run(samples, { duration: 30, gapCap: 4 }, waits)),
    tree(
      "[root] 30 a=17",
      "  B 17 a=17",
      "    [await] 17 s=17 a=17",
      "  A 8 s=8",
      "  [idle] 5 s=5",
    ),
  );
  assert.is(
    show(run(samples, { duration: 30, gapCap: 4, timeline: true }, waits)),
    tree(
      "[root] 30 a=17",
      "  A 4 s=4",
      "  B 16 a=16",
      "    [await] 16 s=16 a=16",
      "  A 4 s=4",
      "  B 1 a=1",
      "    [await] 1 s=1 a=1",
      "  [idle] 5 s=5",
    ),
  );
});

test("await rule 2: leading idle, unknown stacks, an idle sample's own path, ends clipped to the session", () => {
  // Leading [0,10): [0,5) an unknown stack's wait ([await] at the root), [5,10) idle. A waits past the end.
  assert.is(
    show(run([[[A], 10]], { duration: 20, gapCap: 2 }, [[0, 5, null], [15, 1e9, [B]], [25, 30, [C]]])),
    tree(
      "[root] 20 a=10",
      "  [idle] 8 s=8",
      "  [await] 5 s=5 a=5",
      "  B 5 a=5",
      "    [await] 5 s=5 a=5",
      "  A 2 s=2",
    ),
  );
  // An idle sample with a stack: where nothing is pending it keeps its path [A, idle].
  assert.is(
    show(run([[[A], 0, idle]], { duration: 10 }, [[4, 6, [B]]])),
    tree(
      "[root] 10 a=2",
      "  A 8",
      "    [idle] 8 s=8",
      "  B 2 a=2",
      "    [await] 2 s=2 a=2",
    ),
  );
  // Await samples (state await) are not idle: a wait does not take their time.
  assert.is(
    show(run([[[A], 0, awaiting]], { duration: 10 }, [[0, 10, [B]]])),
    tree(
      "[root] 10 a=10",
      "  A 10 a=10",
      "    [await] 10 s=10 a=10",
    ),
  );
});

test("await entries are filtered (§2), take part in trim stem (§3) and show in the flat view (§9)", () => {
  // startStack [A, B]; the wait's stack [A, B, D(internal), E] -> [A, B, E, await] -> trimmed [B, E, await].
  const t = run([[[A, B, C], 0], [null, 5, idle]], {
    duration: 10,
    startStack: [A, B],
    flags: { [D]: FrameFlag.internal },
  }, [
    [5, 8, [A, B, D, E]],
  ]);
  assert.is(
    show(t),
    tree(
      "[root] 10 a=3",
      "  B 8 a=3",
      "    C 5 s=5",
      "    E 3 a=3",
      "      [await] 3 s=3 a=3",
      "  [idle] 2 s=2",
    ),
  );
  assert.equal(flat(t), ["C 5/5", "[await] 3/3", "[idle] 2/2", "B 0/8", "E 0/3"]);
  // An unknown stack's [await] starts with a synthetic frame: not a candidate, so the trim stays.
  const u = run([[[A, B, C], 0], [null, 5, idle]], { duration: 10, startStack: [A, B] }, [[5, 8, null]]);
  assert.is(show(u).split("\n")[1], "  B 5");
});

// ---- CPU time (SPEC, last section) ---------------------------------------------------------------------------------

test("cpu time: each span's CPU goes to its sample's node, the leading span's to [idle], the last sample's is 0", () => {
  // cpu[0] = 2 before the first sample; A>C gets 6 - 2, A>B 20 - 6, the last sample (A>B) nothing.
  const samples: Sample[] = [[[A, B], 5], [[A, C], 10], [[A, B], 30]];
  const t = run(samples, { duration: 40 }, undefined, [2, 6, 20]);
  checkShape(t);
  assert.is(
    showCpu(t),
    tree(
      "[root] 40 c=20",
      "  A 35 c=18",
      "    C 20 s=20 c=14",
      "    B 15 s=15 c=4",
      "  [idle] 5 s=5 c=2",
    ),
  );
  // No column: unknown (absent), never zeros; the wall tree is the same.
  const u = run(samples, { duration: 40 });
  assert.is(u.cpuTime, undefined);
  assert.is(show(u), show(t));
});

test("cpu time: a gap's CPU stays with the sample before it; rounded like times; CPU without wall time makes no node", () => {
  // A@0 gets 10 of wall (gapCap) and all 30 of CPU; the leading span has no wall time but 3 of CPU (2.5 rounds up),
  // which goes to the [idle] node the gaps made.
  assert.is(
    showCpu(run([[[A], 0], [null, 100, idle]], { duration: 101, gapCap: 10 }, undefined, [2.5, 32.5])),
    tree(
      "[root] 101 c=33",
      "  [idle] 91 s=91 c=3",
      "  A 10 s=10 c=30",
    ),
  );
  // B's sample has dt 0 and 7 of CPU: no node of its own (nor a split of A's run in the timeline); its walk
  // reaches only the root.
  const samples: Sample[] = [[[A], 0], [[B], 4], [[A], 4]];
  for (const timeline of [false, true]) {
    assert.is(
      showCpu(run(samples, { duration: 6, timeline }, undefined, [0, 3, 10])),
      tree("[root] 6 c=10", "  A 6 s=6 c=3"),
    );
  }
  // Its walk goes as deep as existing nodes go: A>C's CPU to A (aggregated: A's node; timeline: A on the walk of
  // the entry before it), and the wall tree is the one without CPU time.
  const deeper: Sample[] = [[[A, B], 0], [[A, C], 4], [[A, B], 4], [[D], 6]];
  for (const timeline of [false, true]) {
    const t = run(deeper, { duration: 8, timeline }, undefined, [0, 3, 10, 10]);
    assert.is(showCpu(t), tree("[root] 8 c=10", "  A 6 c=10", "    B 6 s=6 c=3", "  D 2 s=2"));
    assert.is(show(t), show(run(deeper, { duration: 8, timeline })));
  }
});

test("cpu time: await attribution moves wall time, never CPU time", () => {
  // A runs until it starts the wait at 4 (rule 1 (a)); the wait takes [4, 30) of A's remainder and of the idle
  // sample; A keeps its 9 of CPU on its own [self], the idle sample its 1 on [idle]; [await] has none.
  const t = run([[[A], 0], [null, 10, idle], [[B], 40]], { duration: 50, interval: 1 }, [[4, 30, [A]]], [0, 9, 10]);
  assert.is(
    showCpu(t),
    tree(
      "[root] 50 a=26 c=10",
      "  A 30 a=26 c=9",
      "    [await] 26 s=26 a=26",
      "    [self] 4 s=4 c=9",
      "  [idle] 10 s=10 c=1",
      "  B 10 s=10",
    ),
  );
  // An idle sample whose whole wall time goes to a wait: its CPU stays on its own walk, [A, idle], as far as that
  // has nodes (here none: the root). Not on the wait's.
  assert.is(
    showCpu(run([[[A], 0, idle], [[B], 10]], { duration: 12 }, [[0, 10, [C]]], [0, 4])),
    tree(
      "[root] 12 a=10 c=4",
      "  C 10 a=10",
      "    [await] 10 s=10 a=10",
      "  B 2 s=2",
    ),
  );
});

test("cpu time: filtering, trim stem, [self] folding, groups and the threshold carry it", () => {
  // B hidden (A>B>L1>L2>E and A>L1>L2>E merge), L1>L2 grouped, E's lone [self] folded, the empty stack's 9 (the
  // last sample: no CPU) at the root's [self].
  const opts: Opts = {
    duration: 40,
    flags: { [B]: FrameFlag.hidden, [L1]: FrameFlag.library, [L2]: FrameFlag.library },
    libs: { [L1]: 0, [L2]: 1 },
  };
  const samples: Sample[] = [[[A, B, L1, L2, E], 0], [[A, L1, L2, E], 10], [[A, L1, L2], 20], [[A, E], 30, gc], [
    null,
    31,
  ]];
  const cpu = [0, 8, 16, 22, 23];
  assert.is(
    showCpu(run(samples, opts, undefined, cpu)),
    tree(
      "[root] 40 c=23",
      "  A 31 c=23",
      "    L1 30 g0* c=22",
      "      L2 30 g0 c=22",
      "        E 20 s=20 c=16",
      "        [self] 10 s=10 g0 c=6",
      "    E 1 c=1",
      "      [gc] 1 s=1 c=1",
      "  [self] 9 s=9",
    ),
  );
  // Threshold 0.3 (12 of 40): what is dropped takes its CPU with it; parents keep theirs.
  assert.is(
    showCpu(run(samples, { ...opts, filterThreshold: 0.3 }, undefined, cpu)),
    tree(
      "[root] 40 c=23",
      "  A 31 c=23",
      "    L1 30 g0* c=22",
      "      L2 30 g0 c=22",
      "        E 20 s=20 c=16",
    ),
  );
  // Trim stem: startStack [A, B] removes A from both paths, CPU and all.
  assert.is(
    showCpu(run([[[A, B, C], 0], [[A, B, D], 10]], { duration: 20, startStack: [A, B] }, undefined, [0, 6])),
    tree(
      "[root] 20 c=6",
      "  B 20 c=6",
      "    C 10 s=10 c=6",
      "    D 10 s=10",
    ),
  );
});

test("cpu validation: a cpu value that is not a time >= 0, going back, or a column of another length throws", () => {
  const good = build([[[A], 0], [[A], 5]]);
  const opts = options({ duration: 10 });
  const withCpu = (cpu: number[]) => ({ ...good.samples, cpu: Float64Array.from(cpu) });
  oracleProcess(good.stacks, withCpu([0, 0]), opts);
  for (
    const [what, cpu] of [["NaN", [NaN, 1]], ["Infinity", [0, Infinity]], ["< 0", [-1, 1]], ["going back", [5, 4.9]], [
      "too short",
      [1],
    ], ["too long", [1, 2, 3]]] as const
  ) {
    assert.throws(() => oracleProcess(good.stacks, withCpu([...cpu]), opts), (e: unknown) => e instanceof Error, what);
  }
});

test("await validation: malformed waits, interval and asyncMode throw an Error, whatever the mode", () => {
  const good = build([[[A], 0]], [[1, 2, [A]]]);
  const opts = options({ duration: 10, interval: 1 });
  oracleProcess(good.stacks, good.samples, opts, good.waits);
  const w = (start: number[], end: number[], stack: number[]): WaitTable => ({
    start: Float64Array.from(start),
    end: Float64Array.from(end),
    stack: Int32Array.from(stack),
  });
  const bad: Array<[string, WaitTable, Partial<CoreProcessOptions>?]> = [
    ["start NaN", w([NaN], [1], [0])],
    ["start Infinity", w([Infinity], [Infinity], [0])],
    ["start < 0", w([-1], [1], [0])],
    ["end NaN", w([0], [NaN], [0])],
    ["end < start", w([5], [4.9], [0])],
    ["starts going back", w([2, 1], [3, 3], [0, 0])],
    ["stack >= stack count", w([0], [1], [1])],
    ["stack < -1", w([0], [1], [-2])],
    ["columns differ", w([0, 1], [1], [0])],
    ["interval NaN", good.waits, { interval: NaN }],
    ["interval < 0", good.waits, { interval: -1 }],
    ["interval Infinity", good.waits, { interval: Infinity }],
    ["asyncMode unknown", good.waits, { asyncMode: "on" as "enabled" }],
    ["disabled still validates", w([0], [1], [7]), { asyncMode: "disabled" }],
  ];
  for (const [what, waits, patch] of bad) {
    assert.throws(
      () => oracleProcess(good.stacks, good.samples, { ...opts, ...patch }, waits),
      (e: unknown) => e instanceof Error,
      what,
    );
  }
  // Equal starts, zero-length waits, ends out of order and unknown stacks are fine; so are waits without samples.
  assert.not.throws(() => oracleProcess(good.stacks, good.samples, opts, w([1, 1, 2], [9, 1, 3], [-1, 0, 0])));
  assert.is(
    show(
      oracleProcess(
        good.stacks,
        { stack: new Int32Array(0), time: new Float64Array(0), state: new Uint8Array(0) },
        opts,
        good.waits,
      ),
    ),
    "[root] 0",
  );
});

test.run();
