// The wasm core through wasm/core.ts, on every runtime: a few hand-checked trees, errors and limits.
// The exhaustive comparison with the SPEC oracle is in core-property.test.ts; Rust unit tests cover each step.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCoreSession, processSession } from "../wasm/core.ts";
import { NO_LIBRARY, SampleState, SyntheticFrame } from "../session/types.ts";
import type { CoreProcessOptions, ProcessedTree, Session } from "../session/types.ts";

function options(frames: number, patch: Partial<CoreProcessOptions> = {}): CoreProcessOptions {
  return {
    duration: 0,
    gapCap: 1e9,
    timeline: false,
    showAll: false,
    filterThreshold: 0,
    flatTime: "self",
    startStack: [],
    frameFlags: new Uint8Array(frames),
    frameLibrary: new Uint32Array(frames).fill(NO_LIBRARY),
    ...patch,
  };
}

/** "name time" per node, indented by depth. */
function show(t: ProcessedTree): string[] {
  const name = (f: number): string =>
    f === SyntheticFrame.root
      ? "root"
      : f === SyntheticFrame.self
      ? "self"
      : f === SyntheticFrame.idle
      ? "idle"
      : `f${f}`;
  return Array.from(t.frame, (f, i) => `${"  ".repeat(t.depth[i])}${name(f)} ${t.time[i]}`);
}

function run(
  parent: number[],
  frame: number[],
  samples: Array<[number, number, number]>,
  opts: CoreProcessOptions,
): ProcessedTree {
  const s = createCoreSession();
  try {
    s.addStacks(Int32Array.from(parent), Uint32Array.from(frame));
    s.addSamples(
      Int32Array.from(samples, (x) => x[0]),
      Float64Array.from(samples, (x) => x[1]),
      Uint8Array.from(samples, (x) => x[2]),
    );
    return s.process(opts);
  } finally {
    s.dispose();
  }
}

test("a simple tree", () => {
  // stacks: 0 = [f0], 1 = [f0 f1], 2 = [f0 f2], 3 = [f0 f1] again (a different call site, same path)
  const t = run([-1, 0, 0, 0], [0, 1, 2, 1], [[1, 0, 0], [2, 10, 0], [3, 30, 0]], options(3, { duration: 35 }));
  assert.equal(show(t), ["root 35", "  f0 35", "    f2 20", "    f1 15"]);
  assert.equal(Array.from(t.selfTime), [0, 0, 20, 15]);
  assert.equal(Array.from(t.parent), [-1, 0, 1, 1]);
  assert.equal(Array.from(t.flatFrame), [2, 1, 0]); // f0 has no self time but passes a 0 threshold
  assert.equal(Array.from(t.flatTotal), [20, 15, 35]);
  assert.ok(t.time instanceof Float64Array && t.frame instanceof Uint32Array && t.flags instanceof Uint8Array);
});

test("the gap rule: a long gap is idle, never credited to the next sample", () => {
  const t = run([-1], [0], [[0, 5, 0], [0, 105, 0]], options(1, { duration: 108, gapCap: 10 }));
  assert.equal(show(t), ["root 108", "  idle 95", "  f0 13"]);
});

test("a running gap (idleSampled): a 100 ms gap between two running samples is theirs, not idle", () => {
  // A V8-like session at 1 ms (gapCap 20 ms): work@0..2 ms, then the sampler starved for 100 ms, work@102..104 ms.
  // Without the flag 80 ms of the gap is idle; with it none is: main keeps 2 intervals, work the late 98 ms (and
  // the change from work to main lies in the middle of their 1 ms gap).
  const session: Session = {
    version: 1,
    meta: {
      startTime: 0,
      duration: 105_000,
      cpuTime: -1,
      interval: 1000,
      gapCap: 20_000,
      idleSampled: true,
      program: "x",
      cwd: "/",
      runtime: "node 24 (synthetic)",
      startStack: [],
    },
    frames: [
      { name: "main", file: "/a.js", line: 1, col: 1, kind: "js" },
      { name: "work", file: "/a.js", line: 2, col: 1, kind: "js" },
    ],
    stacks: { parent: Int32Array.of(-1, 0), frame: Uint32Array.of(0, 1) },
    samples: {
      stack: Int32Array.of(1, 1, 0, 1, 1),
      time: Float64Array.of(0, 1000, 2000, 102_000, 103_000),
      state: Uint8Array.of(0, 0, 0, 0, 0),
    },
  };
  const { duration: _d, gapCap: _g, startStack: _s, ...rest } = options(2);
  const t = processSession(session, rest);
  assert.equal(show(t), ["root 105000", "  f0 105000", "    f1 102500", "    self 2500"]);
  assert.not.ok(Array.from(t.frame).includes(SyntheticFrame.idle), "no idle");
  const without = processSession({ ...session, meta: { ...session.meta, idleSampled: false } }, rest);
  assert.equal(show(without), ["root 105000", "  idle 80000", "  f0 25000", "    self 20000", "    f1 5000"]);
  // The same through a CoreSession's options.
  const s = createCoreSession();
  try {
    s.addStacks(session.stacks.parent, session.stacks.frame);
    s.addSamples(session.samples.stack, session.samples.time, session.samples.state);
    const o = options(2, { duration: 105_000, gapCap: 20_000, interval: 1000 });
    assert.equal(s.process({ ...o, idleSampled: true }), t);
    assert.equal(s.process(o), without, "absent: false");
  } finally {
    s.dispose();
  }
});

test("malformed input throws a clean Error", () => {
  const s = createCoreSession();
  try {
    assert.throws(
      () => s.addStacks(Int32Array.of(0), Uint32Array.of(0)),
      (e: Error) => e instanceof Error && /^tsprofile core: stack 0: parent 0/.test(e.message),
    );
    s.addStacks(Int32Array.of(-1), Uint32Array.of(0));
    const bad: Array<[number, number, number]> = [[1, 0, 0], [0, NaN, 0], [0, -1, 0], [0, 0, 9]];
    for (const [stack, time, state] of bad) {
      assert.throws(
        () => s.addSamples(Int32Array.of(stack), Float64Array.of(time), Uint8Array.of(state)),
        (e: unknown) => e instanceof Error && e.message.startsWith("tsprofile core: ") && !e.message.includes("\n"),
      );
    }
    assert.throws(
      () => s.addSamples(Int32Array.of(0, 0), Float64Array.of(5, 4), Uint8Array.of(0, 0)),
      /smaller than the one before/,
    );
    s.addSamples(Int32Array.of(0), Float64Array.of(1), Uint8Array.of(0));
    assert.throws(() => s.process(options(0)), /frame id 0 out of range/);
    assert.throws(() => s.process(options(1, { startStack: [3] })), /startStack/);
    assert.throws(() => s.process(options(1, { duration: Infinity })), /duration/);
    // The session is still usable after errors.
    assert.equal(show(s.process(options(1, { duration: 2 }))), ["root 2", "  idle 1", "  f0 1"]);
  } finally {
    s.dispose();
  }
  assert.throws(() => s.process(options(1)), /after dispose/);
});

test("a 10,000-deep stack works (aggregated and timeline)", () => {
  const depth = 10_000;
  const parent = Array.from({ length: depth }, (_, i) => i - 1);
  const frame = Array.from({ length: depth }, (_, i) => i);
  for (const timeline of [false, true]) {
    const t = run(
      parent,
      frame,
      [[depth - 1, 0, 0], [depth / 2, 1, SampleState.await]],
      options(depth, { duration: 3, timeline }),
    );
    assert.equal(t.time[0], 3);
    assert.ok(Math.max(...t.depth) >= depth);
    assert.equal(t.awaitTime[0], 2);
    assert.equal(t.flatFrame.length, depth + 1);
  }
});

test("streaming in chunks equals one chunk", () => {
  const parent = [-1, 0, 1, 0, -1];
  const frame = [0, 1, 2, 3, 4];
  const n = 500;
  const stack = Int32Array.from({ length: n }, (_, i) => (i * 7) % 6 - 1);
  let t = 0;
  const time = Float64Array.from({ length: n }, (_, i) => (t += ((i * 31) % 17) + 0.4));
  const state = Uint8Array.from({ length: n }, (_, i) => (i * 5) % 6);
  for (const timeline of [false, true]) {
    const opts = options(5, { duration: t + 20, gapCap: 12, timeline, startStack: [0, 1] });
    const whole = createCoreSession();
    whole.addStacks(Int32Array.from(parent), Uint32Array.from(frame));
    whole.addSamples(stack, time, state);
    const expected = whole.process(opts);
    whole.dispose();
    const chunked = createCoreSession();
    chunked.addStacks(Int32Array.from(parent.slice(0, 2)), Uint32Array.from(frame.slice(0, 2)));
    chunked.addStacks(Int32Array.from(parent.slice(2)), Uint32Array.from(frame.slice(2)));
    for (const [a, b] of [[0, 0], [0, 1], [1, 120], [120, 120], [120, 377], [377, n]]) {
      chunked.addSamples(stack.slice(a, b), time.slice(a, b), state.slice(a, b));
    }
    assert.equal(chunked.process(opts), expected);
    chunked.dispose();
  }
});

test("processSession takes duration, gapCap and startStack from the session", () => {
  const session: Session = {
    version: 1,
    meta: {
      startTime: 0,
      duration: 10,
      cpuTime: -1,
      interval: 1000,
      gapCap: 2,
      idleSampled: false,
      program: "x",
      cwd: "/",
      runtime: "test",
      startStack: [0],
    },
    frames: [
      { name: "main", file: "/a.js", line: 1, col: 1, kind: "js" },
      { name: "work", file: "/a.js", line: 2, col: 1, kind: "js" },
    ],
    stacks: { parent: Int32Array.of(-1, 0), frame: Uint32Array.of(0, 1) },
    samples: { stack: Int32Array.of(1, 1), time: Float64Array.of(0, 1), state: Uint8Array.of(0, 0) },
  };
  const { duration: _d, gapCap: _g, startStack: _s, ...rest } = options(2);
  const t = processSession(session, rest);
  assert.equal(show(t), ["root 10", "  idle 7", "  f0 3", "    f1 3"]);
});

test("cpu: processSession takes samples.cpu; a chunk without it makes CPU time unknown; bad columns are one-line errors", () => {
  const session: Session = {
    version: 1,
    meta: {
      startTime: 0,
      duration: 30,
      cpuTime: -1,
      interval: 1000,
      gapCap: 1e9,
      idleSampled: false,
      program: "x",
      cwd: "/",
      runtime: "test",
      startStack: [],
    },
    frames: [{ name: "main", file: "/a.js", line: 1, col: 1, kind: "js" }],
    stacks: { parent: Int32Array.of(-1), frame: Uint32Array.of(0) },
    samples: {
      stack: Int32Array.of(0, -1, 0),
      time: Float64Array.of(0, 10, 20),
      state: Uint8Array.of(0, 1, 0),
      cpu: Float64Array.of(0, 8, 9),
    },
  };
  const { duration: _d, gapCap: _g, startStack: _s, ...rest } = options(1);
  const t = processSession(session, rest);
  assert.equal(show(t), ["root 30", "  f0 20", "  idle 10"]);
  assert.ok(t.cpuTime instanceof Float64Array);
  assert.equal(Array.from(t.cpuTime!), [9, 8, 1]);
  const { cpu: _c, ...noCpu } = session.samples;
  assert.is(processSession({ ...session, samples: noCpu }, rest).cpuTime, undefined);

  const s = createCoreSession();
  s.addStacks(Int32Array.of(-1), Uint32Array.of(0));
  assert.throws(
    () => s.addSamples(Int32Array.of(0), Float64Array.of(0), Uint8Array.of(0), Float64Array.of(1, 2)),
    /differ in length/,
  );
  assert.throws(
    () => s.addSamples(Int32Array.of(0, 0), Float64Array.of(0, 1), Uint8Array.of(0, 0), Float64Array.of(3, 2)),
    /^tsprofile core: sample 1: cpu 2 is smaller than the one before it \(3\)$/,
  );
  s.addSamples(Int32Array.of(0), Float64Array.of(0), Uint8Array.of(0), Float64Array.of(1));
  // The 1 us before the first sample has no wall time and no [idle] node to go to: the root keeps it.
  assert.equal(show(s.process(options(1, { duration: 5 }))), ["root 5", "  f0 5"]);
  assert.equal(Array.from(s.process(options(1, { duration: 5 })).cpuTime ?? []), [1, 0]);
  s.addSamples(Int32Array.of(0), Float64Array.of(1), Uint8Array.of(0));
  assert.is(s.process(options(1, { duration: 5 })).cpuTime, undefined);
  s.dispose();
});

test("waits: addWaits in chunks, idle time charged as [await], processSession takes session.waits and asyncMode", () => {
  // stacks: 0 = [f0], 1 = [f0 f1]; an idle sample over [0, 10); f1 waited over [2, 6).
  const s = createCoreSession();
  try {
    s.addStacks(Int32Array.of(-1), Uint32Array.of(0));
    s.addSamples(Int32Array.of(-1), Float64Array.of(0), Uint8Array.of(SampleState.idle));
    // The wait names stack 1 before it exists: fine until process.
    s.addWaits(Float64Array.of(2), Float64Array.of(6), Int32Array.of(1));
    s.addWaits(new Float64Array(0), new Float64Array(0), new Int32Array(0));
    assert.throws(() => s.process(options(2, { duration: 10 })), /tsprofile core: wait stack id 1/);
    s.addStacks(Int32Array.of(0), Uint32Array.of(1));
    const t = s.process(options(2, { duration: 10 }));
    assert.equal(show(t), ["root 10", "  idle 6", "  f0 4", "    f1 4", `      f${SyntheticFrame.await} 4`]);
    assert.equal(Array.from(t.awaitTime), [4, 0, 4, 4, 4]);
    assert.equal(show(s.process(options(2, { duration: 10, asyncMode: "disabled" }))), ["root 10", "  idle 10"]);
    assert.equal(s.process(options(2, { duration: 10, asyncMode: "strict" })), t);
    assert.throws(() => s.process(options(2, { duration: 10, asyncMode: "on" as "enabled" })), /asyncMode/);
    assert.throws(() => s.process(options(2, { duration: 10, interval: NaN })), /interval/);
    assert.throws(
      () => s.addWaits(Float64Array.of(1), Float64Array.of(2), Int32Array.of(0)),
      /smaller than the one before/,
    );
    assert.throws(() => s.addWaits(Float64Array.of(7), Float64Array.of(6), Int32Array.of(0)), /before its start/);
    assert.throws(
      () => s.addWaits(Float64Array.of(7), Float64Array.of(8, 9), Int32Array.of(0)),
      /wait table columns differ/,
    );
    assert.equal(s.process(options(2, { duration: 10 })), t, "failed chunks add nothing");
  } finally {
    s.dispose();
  }

  const session: Session = {
    version: 1,
    meta: {
      startTime: 0,
      duration: 100,
      cpuTime: -1,
      interval: 10,
      gapCap: 50,
      idleSampled: false,
      program: "x",
      cwd: "/",
      runtime: "test",
      startStack: [],
    },
    frames: [
      { name: "main", file: "/a.js", line: 1, col: 1, kind: "js" },
      { name: "read", file: "/a.js", line: 2, col: 1, kind: "js" },
    ],
    stacks: { parent: Int32Array.of(-1, 0), frame: Uint32Array.of(0, 1) },
    samples: { stack: Int32Array.of(0), time: Float64Array.of(0), state: Uint8Array.of(0) },
    waits: { start: Float64Array.of(5), end: Float64Array.of(70), stack: Int32Array.of(1) },
  };
  const { duration: _d, gapCap: _g, startStack: _s, ...rest } = options(2);
  // meta.interval 10: main went idle (its credit, 50, is over 2 intervals) at the wait it started at 5, so main
  // gets 5; [5, 70) is read's await, [70, 100) idle.
  assert.equal(show(processSession(session, rest)), [
    "root 100",
    "  f0 70",
    "    f1 65",
    `      f${SyntheticFrame.await} 65`,
    "    self 5",
    "  idle 30",
  ]);
  assert.equal(show(processSession(session, { ...rest, asyncMode: "disabled" })), ["root 100", "  f0 50", "  idle 50"]);
  // Without waits, asyncMode changes nothing.
  const { waits: _w, ...noWaits } = session;
  assert.equal(processSession(noWaits, rest), processSession(noWaits, { ...rest, asyncMode: "disabled" }));
});

test("running out of wasm memory is a clean Error, and the next session works", () => {
  // A 100,000-deep chain whose leaf alternates every sample, timeline + showAll: ~100M nodes, past 4 GiB.
  const depth = 100_000;
  const parent = new Int32Array(depth);
  for (let i = 0; i < depth; i++) parent[i] = i - 1;
  const n = 1000;
  const stack = new Int32Array(n);
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    stack[i] = depth - 1 - (i % 2);
    time[i] = i * 10;
  }
  const options = {
    duration: n * 10,
    gapCap: 5,
    timeline: true,
    showAll: true,
    filterThreshold: 0,
    flatTime: "self" as const,
    startStack: [],
    frameFlags: new Uint8Array(1),
    frameLibrary: new Uint32Array([0xffffffff]),
  };
  const big = createCoreSession();
  big.addStacks(parent, new Uint32Array(depth));
  big.addSamples(stack, time, new Uint8Array(n));
  assert.throws(() => big.process(options), /tsprofile core: out of memory/);
  big.dispose();
  const small = createCoreSession();
  small.addStacks(new Int32Array([-1]), new Uint32Array([0]));
  small.addSamples(new Int32Array([0]), new Float64Array([0]), new Uint8Array([0]));
  assert.equal(Array.from(small.process({ ...options, duration: 10, timeline: false }).time), [10, 5, 5]);
  small.dispose();
});

test.run();
