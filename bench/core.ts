// The core benchmark: 1,000,000 synthetic samples of depth ~40 to a text report, wasm core vs the TypeScript
// oracle (test/oracle.ts), interleaved in one run. Prints a table of median and min per side, their ratio, and
// the memory the wasm core retains per ingested sample. The session carries waits (await attribution, SPEC.md's
// last section); the wasm core also runs with asyncMode "disabled" in the same rounds, so the table shows what
// attributing the waits costs.
//
//   node --expose-gc bench/core.ts [--samples 1000000] [--waits 50000] [--rounds 5] [--seed 1]
//   deno run -A --v8-flags=--expose-gc bench/core.ts      bun bench/core.ts
//
// The session: bench/synthetic-session.ts's, ~600 functions on a random call graph, a few thousand unique stacks
// of depth ~40, samples every 1 ms, mostly on-CPU, some idle, await, gc and native. Waits: started at random
// times over the session by a random stack (5% unknown), mostly 1-60 ms long, 2% of them 1-20 s, so
// ~11 waits are pending on average and idle time is shared among several.
// End to end means: classify the frames, ingest (wasm: chunks of 64k samples) + process, render the text report.
import { classifyFrames } from "../src/processing/classify.ts";
import type { Classification } from "../src/processing/classify.ts";
import { renderText } from "../src/renderers/text.ts";
import type { AsyncMode, CoreProcessOptions, ProcessedTree, Session } from "../session/types.ts";
import { oracleProcess } from "../test/oracle.ts";
import { syntheticSession } from "./synthetic-session.ts";

interface CoreSession {
  addStacks(parent: Int32Array, frame: Uint32Array): void;
  addSamples(stack: Int32Array, time: Float64Array, state: Uint8Array): void;
  addWaits?(start: Float64Array, end: Float64Array, stack: Int32Array): void;
  process(options: CoreProcessOptions): ProcessedTree;
  dispose(): void;
}
interface CoreModule {
  createCoreSession(): CoreSession;
  /** The wasm instance's memory, if the glue exposes it (for the retained-bytes figure). */
  memory?: WebAssembly.Memory;
  wasmMemory?: () => WebAssembly.Memory;
}

// ---- arguments ------------------------------------------------------------------------------------------------------

const g = globalThis as {
  Deno?: { args: string[] };
  process?: { argv: string[]; version: string; memoryUsage?: () => { rss: number; heapUsed: number } };
  gc?: () => void;
  Bun?: { gc(force: boolean): void };
};
const argv = g.Deno ? g.Deno.args : (g.process?.argv.slice(2) ?? []);
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SAMPLES = arg("samples", 1_000_000);
const WAITS = arg("waits", 50_000);
const ROUNDS = Math.max(1, arg("rounds", 5));
const SEED = arg("seed", 1);
const CHUNK = 65_536;

// ---- the two sides ----------------------------------------------------------------------------------------------------

function coreOptions(
  session: Session,
  classification: Classification,
  asyncMode: AsyncMode = "enabled",
): CoreProcessOptions {
  return {
    duration: session.meta.duration,
    gapCap: session.meta.gapCap,
    idleSampled: session.meta.idleSampled,
    interval: session.meta.interval,
    asyncMode,
    timeline: false,
    showAll: false,
    filterThreshold: 0.01,
    flatTime: "self",
    startStack: session.meta.startStack,
    frameFlags: classification.flags,
    frameLibrary: classification.library,
  };
}

const classify = (session: Session): Classification => classifyFrames(session.frames, { cwd: session.meta.cwd });

function ingest(core: CoreModule, session: Session): CoreSession {
  const s = core.createCoreSession();
  s.addStacks(session.stacks.parent, session.stacks.frame);
  const { stack, time, state } = session.samples;
  for (let i = 0; i < stack.length; i += CHUNK) {
    s.addSamples(stack.subarray(i, i + CHUNK), time.subarray(i, i + CHUNK), state.subarray(i, i + CHUNK));
  }
  const w = session.waits;
  if (w) {
    if (!s.addWaits) throw new Error("wasm/core.ts has no addWaits");
    for (let i = 0; i < w.start.length; i += CHUNK) {
      s.addWaits(w.start.subarray(i, i + CHUNK), w.end.subarray(i, i + CHUNK), w.stack.subarray(i, i + CHUNK));
    }
  }
  return s;
}

function runWasm(core: CoreModule, session: Session, asyncMode: AsyncMode = "enabled"): string {
  const classification = classify(session);
  const s = ingest(core, session);
  try {
    return renderText(session, s.process(coreOptions(session, classification, asyncMode)), classification);
  } finally {
    s.dispose();
  }
}

function runOracle(session: Session): string {
  const classification = classify(session);
  const tree = oracleProcess(session.stacks, session.samples, coreOptions(session, classification), session.waits);
  return renderText(session, tree, classification);
}

// ---- measuring ----------------------------------------------------------------------------------------------------------

function collectGarbage(): void {
  if (g.gc) g.gc();
  else if (g.Bun) g.Bun.gc(true);
}

function timed(f: () => string): { ms: number; out: string } {
  collectGarbage();
  const start = performance.now();
  const out = f();
  return { ms: performance.now() - start, out };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

function wasmMemory(core: CoreModule): WebAssembly.Memory | null {
  if (core.memory instanceof WebAssembly.Memory) return core.memory;
  if (typeof core.wasmMemory === "function") return core.wasmMemory();
  return capturedMemory;
}

// ---- main -------------------------------------------------------------------------------------------------------------------

const runtime = g.Deno ? "deno" : g.Bun ? "bun" : `node ${g.process ? g.process.version : ""}`;
console.log(
  `tsprofile core benchmark (${runtime}): ${SAMPLES.toLocaleString("en")} samples, ${
    WAITS.toLocaleString("en")
  } waits, ` +
    `${ROUNDS} rounds each`,
);

const t0 = performance.now();
const session = syntheticSession(SAMPLES, SEED, WAITS);
const depths = new Uint16Array(session.stacks.parent.length);
for (let i = 0; i < depths.length; i++) {
  depths[i] = session.stacks.parent[i] === -1 ? 1 : depths[session.stacks.parent[i]] + 1;
}
let depthSum = 0;
let counted = 0;
for (const s of session.samples.stack) if (s >= 0) (depthSum += depths[s]), counted++;
console.log(
  `session: ${session.frames.length} frames, ${session.stacks.parent.length.toLocaleString("en")} stack nodes, ` +
    `mean sample depth ${(depthSum / counted).toFixed(1)}, ${(session.meta.duration / 1e6).toFixed(1)} s ` +
    `(built in ${fmt(performance.now() - t0)})`,
);
if (session.waits) {
  // Mean number of pending waits over the session (sum of lengths / duration).
  let waited = 0;
  for (let i = 0; i < session.waits.start.length; i++) waited += session.waits.end[i] - session.waits.start[i];
  console.log(
    `waits: ${session.waits.start.length.toLocaleString("en")}, ${
      (waited / session.meta.duration).toFixed(2)
    } pending on average`,
  );
}

// wasm/core.ts keeps its instance to itself: note the memory of the instance it creates (lazily, on first use).
let capturedMemory: WebAssembly.Memory | null = null;
const OriginalInstance = WebAssembly.Instance;
try {
  const Capturing = function (module: WebAssembly.Module, imports?: WebAssembly.Imports): WebAssembly.Instance {
    const instance = new OriginalInstance(module, imports);
    const memory = (instance.exports as Record<string, unknown>).memory;
    if (memory instanceof WebAssembly.Memory) capturedMemory = memory;
    return instance;
  };
  (WebAssembly as unknown as Record<string, unknown>).Instance = Capturing;
} catch {
  // read-only on this runtime: fall back to RSS
}

let core: CoreModule | null = null;
try {
  core = (await import("../wasm/core.ts")) as unknown as CoreModule;
  core.createCoreSession().dispose(); // instantiate now, with the hook in place
  (WebAssembly as unknown as Record<string, unknown>).Instance = OriginalInstance;
} catch (e) {
  console.log(`wasm/core.ts not available (${String((e as Error)?.message ?? e).split("\n")[0]}): oracle only`);
  core = null;
} finally {
  (WebAssembly as unknown as Record<string, unknown>).Instance = OriginalInstance;
}

// Retained memory: wasm linear memory growth for one ingested session (before any other work grows it).
let retained = "n/a";
if (core) {
  const memory = wasmMemory(core);
  const rssBefore = g.process?.memoryUsage?.().rss ?? 0;
  const before = memory ? memory.buffer.byteLength : 0;
  // Samples only: waits take 16 bytes each by construction (cargo test waits_take_sixteen_bytes...), below
  // what page-granular memory growth can show here.
  const s = ingest(core, { ...session, waits: undefined });
  const after = memory ? memory.buffer.byteLength : 0;
  const rssAfter = g.process?.memoryUsage?.().rss ?? 0;
  s.dispose();
  retained = memory
    ? `${((after - before) / SAMPLES).toFixed(2)} B/sample (wasm memory ${(before / 2 ** 20).toFixed(1)} -> ${
      (after / 2 ** 20).toFixed(1)
    } MiB)`
    : `~${((rssAfter - rssBefore) / SAMPLES).toFixed(2)} B/sample (RSS delta; wasm memory not exposed)`;
}
const wasmTimes: number[] = [];
const wasmOffTimes: number[] = [];
const oracleTimes: number[] = [];
let wasmOut = "";
let oracleOut = "";
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which side goes first, so that neither always runs on a warmer (or more fragmented) heap.
  const order = round % 2 === 0 ? ["wasm", "wasm-off", "oracle"] : ["oracle", "wasm-off", "wasm"];
  for (const side of order) {
    if (side === "wasm" && core) {
      const r = timed(() => runWasm(core!, session));
      wasmTimes.push(r.ms);
      wasmOut = r.out;
    } else if (side === "wasm-off" && core) {
      wasmOffTimes.push(timed(() => runWasm(core!, session, "disabled")).ms);
    } else if (side === "oracle") {
      const r = timed(() => runOracle(session));
      oracleTimes.push(r.ms);
      oracleOut = r.out;
    }
  }
  console.log(
    `  round ${round + 1}: ` +
      (core ? `wasm ${fmt(wasmTimes[round])}  wasm (asyncMode disabled) ${fmt(wasmOffTimes[round])}  ` : "") +
      `oracle ${fmt(oracleTimes[round])}`,
  );
}

const rssNow = g.process?.memoryUsage?.().rss;
const rows: Array<[string, string, string, string]> = [["", "wasm core", "TS oracle", "oracle / wasm"]];
if (core) {
  rows.push([
    "median",
    fmt(median(wasmTimes)),
    fmt(median(oracleTimes)),
    `${(median(oracleTimes) / median(wasmTimes)).toFixed(2)}x`,
  ]);
  rows.push([
    "min",
    fmt(Math.min(...wasmTimes)),
    fmt(Math.min(...oracleTimes)),
    `${(Math.min(...oracleTimes) / Math.min(...wasmTimes)).toFixed(2)}x`,
  ]);
  rows.push(["retained/sample", retained, "(holds nothing)", ""]);
} else {
  rows.push(["median", "-", fmt(median(oracleTimes)), "-"]);
  rows.push(["min", "-", fmt(Math.min(...oracleTimes)), "-"]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log("");
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
console.log("");
console.log(
  `end to end = classify frames + ingest (wasm: ${CHUNK}-sample chunks) + process + renderText; ` +
    `report ${oracleOut.split("\n").length} lines${rssNow ? `; RSS now ${(rssNow / 2 ** 20).toFixed(0)} MiB` : ""}`,
);
if (core) {
  console.log(wasmOut === oracleOut ? "the two reports are identical" : "WARNING: the wasm and oracle reports differ");
  const on = median(wasmTimes);
  const off = median(wasmOffTimes);
  console.log(
    `await attribution (wasm, end to end, median): enabled ${fmt(on)}, disabled ${fmt(off)}: ` +
      `${on >= off ? "+" : ""}${((on - off) * 1000).toFixed(0)} us per run ` +
      `(${(((on - off) / off) * 100).toFixed(1)}%; ${
        (((on - off) * 1e6) / Math.max(1, WAITS) / 1000).toFixed(2)
      } us per wait incl. ingest)`,
  );
}
