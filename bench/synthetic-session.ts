// The benchmarks' synthetic session (bench/core.ts, bench/html.ts): ~600 functions (app code, node_modules
// libraries, runtime internals) on a random call graph; a few thousand unique stacks, each a random walk of depth
// ~40 from the same entry frames; samples every 1 ms (+-50 us jitter) with an occasional gap of 5-50 ms, mostly
// on-CPU, some idle, await, gc and native. With waitCount > 0, waits too: started at random times over the session
// by a random stack (5% unknown), mostly 1-60 ms long, 2% of them 1-20 s. The same (samples, seed) give the same
// samples with or without waits: the waits are drawn last.
import { SampleState } from "../session/types.ts";
import type { FrameInfo, Session } from "../session/types.ts";
import { mulberry32 } from "../test/prng.ts";

export function syntheticSession(samples: number, seed: number, waitCount = 0): Session {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));

  // Frames: runtime internals (the entry), app functions, library functions.
  const frames: FrameInfo[] = [];
  const internal: number[] = [];
  const app: number[] = [];
  const lib: number[] = [];
  for (const name of ["runMain", "executeUserEntryPoint", "Module._load", "ModuleJob.run"]) {
    internal.push(frames.length);
    frames.push({ name, file: `node:internal/modules/${name}`, line: 1, col: 1, kind: "js" });
  }
  for (let i = 0; i < 400; i++) {
    app.push(frames.length);
    frames.push({ name: `app${i}`, file: `/app/src/module${i % 40}.ts`, line: 10 + i, col: 3, kind: "js" });
  }
  for (let i = 0; i < 200; i++) {
    lib.push(frames.length);
    const pkg = `pkg${i % 12}`;
    frames.push({
      name: `lib${i}`,
      file: `/app/node_modules/${pkg}/lib/file${i % 7}.js`,
      line: 5 + i,
      col: 1,
      kind: "js",
    });
  }
  const main = app[0];

  // Call graph: app calls app and libraries; libraries call libraries and sometimes back into app (callbacks).
  const callees: number[][] = frames.map((_, f) => {
    const isLib = lib.includes(f);
    return Array.from({ length: int(2, 5) }, () => {
      const r = rnd();
      if (isLib) return r < 0.8 ? lib[int(0, lib.length - 1)] : app[int(1, app.length - 1)];
      return r < 0.65 ? app[int(1, app.length - 1)] : lib[int(0, lib.length - 1)];
    });
  });

  // Unique stacks: random walks of depth ~40 under the entry stem, interned into a prefix tree.
  const parent: number[] = [];
  const frame: number[] = [];
  const childOf = new Map<string, number>();
  const intern = (p: number, f: number): number => {
    const key = `${p}:${f}`;
    let id = childOf.get(key);
    if (id === undefined) {
      id = parent.length;
      parent.push(p);
      frame.push(f);
      childOf.set(key, id);
    }
    return id;
  };
  let stem = -1;
  for (const f of internal) stem = intern(stem, f);
  stem = intern(stem, main);
  const leaves: number[] = [];
  // Walks share prefixes: each starts from a random earlier walk's node half the time.
  const walkNodes: number[][] = [];
  while (leaves.length < 3000) {
    let node = stem;
    let f = main;
    let depth = internal.length + 1;
    const nodes: number[] = [];
    if (walkNodes.length > 0 && rnd() < 0.5) {
      const base = walkNodes[int(0, walkNodes.length - 1)];
      const k = int(0, base.length - 1);
      node = base[k];
      f = frame[node];
      depth += k + 1;
      nodes.push(...base.slice(0, k + 1));
    }
    const target = int(30, 50);
    while (depth < target) {
      f = callees[f][int(0, callees[f].length - 1)];
      node = intern(node, f);
      nodes.push(node);
      depth++;
    }
    walkNodes.push(nodes);
    leaves.push(node);
  }

  // Samples: hot leaves (a skewed choice), some interior stacks, some idle/await/gc/native.
  const stack = new Int32Array(samples);
  const time = new Float64Array(samples);
  const state = new Uint8Array(samples);
  let t = 500;
  for (let i = 0; i < samples; i++) {
    const r = rnd();
    const leaf = leaves[Math.floor(leaves.length * rnd() ** 3)];
    if (r < 0.05) {
      stack[i] = -1;
      state[i] = SampleState.idle;
    } else if (r < 0.08) {
      stack[i] = leaf;
      state[i] = SampleState.await;
    } else if (r < 0.09) {
      stack[i] = leaf;
      state[i] = SampleState.gc;
    } else if (r < 0.11) {
      stack[i] = leaf;
      state[i] = SampleState.native;
    } else {
      // A leaf, or one of its callers.
      let s = leaf;
      for (let up = rnd() < 0.3 ? int(1, 10) : 0; up > 0 && parent[s] !== -1; up--) s = parent[s];
      stack[i] = s;
      state[i] = SampleState.js;
    }
    time[i] = t;
    t += rnd() < 0.001 ? int(5_000, 50_000) : 1000 + int(-50, 50);
  }

  // Waits, in order of start (drawn after the samples, so the samples are the same as without waits).
  const waitStart = new Float64Array(waitCount);
  const waitEnd = new Float64Array(waitCount);
  const waitStack = new Int32Array(waitCount);
  for (let i = 0; i < waitCount; i++) waitStart[i] = int(0, t);
  waitStart.sort();
  for (let i = 0; i < waitCount; i++) {
    waitEnd[i] = waitStart[i] + (rnd() < 0.02 ? int(1_000_000, 20_000_000) : int(1_000, 60_000));
    waitStack[i] = rnd() < 0.05 ? -1 : leaves[Math.floor(leaves.length * rnd() ** 2)];
  }

  return {
    version: 1,
    meta: {
      startTime: Date.now(),
      duration: t,
      cpuTime: -1,
      interval: 1000,
      gapCap: 2000,
      idleSampled: true, // V8-like: idle is sampled
      program: "bench/core.ts (synthetic)",
      cwd: "/app",
      runtime: "synthetic",
      startStack: [...internal, main],
    },
    frames,
    stacks: { parent: Int32Array.from(parent), frame: Uint32Array.from(frame) },
    samples: { stack, time, state },
    ...(waitCount > 0 ? { waits: { start: waitStart, end: waitEnd, stack: waitStack } } : {}),
  };
}
