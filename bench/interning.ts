// The interning hot paths (session/frames.ts) on bench/synthetic-session.ts's session of one million samples:
// - combine: combineSessions of two such sessions (different seeds: most stacks differ);
// - chunker: the session cut into 1000 rotated pieces of 1000 samples (each with its own frame and stack ids, as
//   a rotated V8 profile or a Bun drain has them), added to one SessionChunker and taken as 1000 chunks;
// - cpuprofile: the session as a .cpuprofile (one node per stack), through convertProfile (identity mapper);
// - bun drain: the samples as bun:jsc traces (full-depth frames, leaf first) into the Bun sampler's Recorder, then
//   its session (raw frames to functions, stacks mapped);
// - waits: 50k waits on 2000 distinct logical stacks resolved into the session (resolveWaits, source positions).
// Rounds run the paths in a rotating order; median and min per path, in ms. Prints, never asserts.
//
//   node --import ./runtimes/loader/register.mjs bench/interning.ts [--samples 1000000] [--rounds 7]
//        [--only combine,chunker,cpuprofile,"bun drain",waits]
//   bun bench/interning.ts          deno run -A bench/interning.ts
import { combineSessions } from "../session/combine.ts";
import type { Session } from "../session/types.ts";
import { SessionChunker } from "../runtimes/shared/chunker.ts";
import { convertProfile, type CpuProfile } from "../runtimes/shared/cpuprofile.ts";
import { Recorder } from "../runtimes/bun/sampler.ts";
import { type RecordedWaits, resolveWaits } from "../runtimes/awaits/tracker.ts";
import type { RawSite } from "../runtimes/awaits/wait-stacks.ts";
import { syntheticSession } from "./synthetic-session.ts";

const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const argv = g.Deno ? g.Deno.args : (g.process?.argv.slice(2) ?? []);
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SAMPLES = arg("samples", 1_000_000);
const ROUNDS = Math.max(1, arg("rounds", 7));
const PIECE = 1000;

const a = syntheticSession(SAMPLES, 1);
const b = syntheticSession(SAMPLES, 2);

/** A stack's frames, root first. */
function path(s: Session, stack: number): number[] {
  const out: number[] = [];
  for (let x = stack; x >= 0; x = s.stacks.parent[x]) out.push(s.stacks.frame[x]);
  return out.reverse();
}

/** The session cut into pieces of PIECE samples, each on its own frame and stack ids (first use order). */
function pieces(s: Session): Session[] {
  const out: Session[] = [];
  const n = s.samples.stack.length;
  for (let from = 0; from < n; from += PIECE) {
    const to = Math.min(n, from + PIECE);
    const frameId = new Map<number, number>();
    const stackId = new Map<number, number>();
    const frames: Session["frames"] = [];
    const parent: number[] = [];
    const frame: number[] = [];
    const local = (x: number): number => {
      if (x < 0) return -1;
      let id = stackId.get(x);
      if (id !== undefined) return id;
      const p = local(s.stacks.parent[x]);
      const gf = s.stacks.frame[x];
      let f = frameId.get(gf);
      if (f === undefined) frameId.set(gf, f = frames.push(s.frames[gf]) - 1);
      stackId.set(x, id = parent.push(p) - 1);
      frame.push(f);
      return id;
    };
    const stack = Int32Array.from(s.samples.stack.subarray(from, to), local);
    out.push({
      ...s,
      meta: { ...s.meta, startStack: [] },
      frames,
      stacks: { parent: Int32Array.from(parent), frame: Uint32Array.from(frame) },
      samples: { stack, time: s.samples.time.slice(from, to), state: s.samples.state.slice(from, to) },
    });
  }
  return out;
}
const cut = pieces(a);

/** The session as a .cpuprofile: node 1 (root), 2 (idle), stack x is node x + 3. */
function cpuprofile(s: Session): CpuProfile {
  const special = (functionName: string) => ({ functionName, scriptId: 0, url: "", lineNumber: -1, columnNumber: -1 });
  const nodes: CpuProfile["nodes"] = [
    { id: 1, callFrame: special("(root)"), children: [2] },
    { id: 2, callFrame: special("(idle)"), children: [] },
  ];
  for (let x = 0; x < s.stacks.parent.length; x++) {
    const f = s.frames[s.stacks.frame[x]];
    const [lineNumber, columnNumber] = [f.line - 1, f.col - 1];
    const callFrame = { functionName: f.name, scriptId: 1, url: f.file, lineNumber, columnNumber };
    nodes.push({ id: x + 3, callFrame, children: [] });
    const p = s.stacks.parent[x];
    nodes[p < 0 ? 0 : p + 2].children!.push(x + 3);
  }
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let last = 0;
  for (let i = 0; i < s.samples.stack.length; i++) {
    samples.push(s.samples.stack[i] < 0 ? 2 : s.samples.stack[i] + 3);
    timeDeltas.push(s.samples.time[i] - last);
    last = s.samples.time[i];
  }
  return { nodes, startTime: 0, endTime: last, samples, timeDeltas };
}
const profile = cpuprofile(a);
const identity = { map: (file: string, line: number, col: number) => ({ file, line, col }) };

/** The samples as bun:jsc traces; one frames array per stack (JSC makes new ones each drain: not what is timed). */
function traces(s: Session): { timestamp: number; frames: unknown[] }[] {
  const files = new Map<string, number>();
  const byStack: unknown[][] = [];
  for (let x = 0; x < s.stacks.parent.length; x++) {
    byStack.push(
      path(s, x).reverse().map((fi) => {
        const f = s.frames[fi];
        if (!files.has(f.file)) files.set(f.file, files.size + 1);
        const sourceID = files.get(f.file);
        const [name, sourceURL, line, column] = [f.name, f.file, f.line, f.col];
        return { sourceID, name, location: "", sourceURL, line, column, category: "JIT", flags: 0 };
      }),
    );
  }
  const time = s.samples.time;
  return Array.from(s.samples.stack, (x, i) => ({ timestamp: time[i] / 1e6, frames: x < 0 ? [] : byStack[x] }));
}
const jsc = traces(a);

/** 50k waits on 2000 logical stacks (leaf -> root sites), the session's own functions at their positions. */
function waits(s: Session): RecordedWaits {
  const leaves = [...new Set(s.samples.stack)].filter((x) => x >= 0).slice(0, 2000);
  const stacks: RawSite[][] = leaves.map((x) =>
    path(s, x).reverse().map((fi) => {
      const f = s.frames[fi];
      return { name: f.name, file: f.file, line: f.line, col: f.col, async: false };
    })
  );
  const n = 50_000;
  const start: number[] = [];
  const end: number[] = [];
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    start.push((i * s.meta.duration) / n / 1000);
    end.push(start[i] + 5);
    stack.push(i % stacks.length);
  }
  return { start, end, stack, stacks };
}
const recorded = waits(a);

const PATHS: Record<string, () => unknown> = {
  combine: () => combineSessions(a, b),
  chunker: () => {
    const c = new SessionChunker();
    let kept = 0;
    for (const p of cut) {
      c.add(p, 0);
      kept += c.take().samples.stack.length;
    }
    return kept;
  },
  cpuprofile: () =>
    convertProfile(profile, { startTime: 0, cpuTime: -1, interval: 1000, program: "", mapper: identity }),
  "bun drain": () => {
    const rec = new Recorder();
    rec.startPerf = 0;
    rec.setOffset(0, 0, true);
    for (let i = 0; i < jsc.length; i += PIECE) rec.add(jsc.slice(i, i + PIECE) as never, 0, 0);
    const stopPerf = a.meta.duration / 1000 + 1;
    return rec.session({ stopPerf, startTime: 0, cpuTime: -1, interval: 1000, program: "", callers: [] });
  },
  waits: () => {
    const s: Session = { ...a, frames: a.frames.slice(), stacks: { ...a.stacks } };
    return resolveWaits(s, recorded, { toSession: (t) => t * 1000, positions: "source", locate: "js-only" });
  },
};

const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1].split(",") : null;
const names = Object.keys(PATHS).filter((n) => !only || only.includes(n));
const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (const n of names) PATHS[n](); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < names.length; k++) {
    const n = names[(k + r) % names.length];
    const t0 = performance.now();
    PATHS[n]();
    times[n].push(performance.now() - t0);
  }
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const runtime = (globalThis as { Bun?: unknown }).Bun ? "bun" : g.Deno ? "deno" : "node";
const version = (globalThis as { process?: { versions: Record<string, string> } }).process?.versions[runtime] ?? "";
const stacks = `${a.stacks.parent.length} + ${b.stacks.parent.length} stacks`;
console.log(`${runtime} ${version}, ${SAMPLES} samples, ${stacks}, ${ROUNDS} rounds`);
const ms = (x: number) => `${x.toFixed(1).padStart(8)} ms`;
for (const n of names) console.log(`${n.padEnd(12)} median ${ms(median(times[n]))}   min ${ms(Math.min(...times[n]))}`);
