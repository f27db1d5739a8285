// Long runs, in two parts.
//
// 1. A simulated hour at 1 ms: 3,600,000 samples over a few hundred distinct leaf stacks of depth 20-60 (a
//    prefix tree, Zipf-weighted, the program staying on a stack for a few samples at a time, ~5% idle, ~1% gc),
//    fed through the wasm core in one-second chunks as a streaming sampler hands them over (new stacks with the
//    chunk that first uses them). Nothing of the samples stays in JavaScript. Prints what is retained (growth of
//    the wasm memory + JS heap growth after GC), bytes per sample, and the time to process and render the text
//    report. For comparison, what the same hour costs as one Session in JS typed arrays (the non-streaming path).
//    --cpu adds a samples.cpu column (what the native Node sampler records) to the same samples.
// 2. A streamed real run: the CLI at -i 0.0001 on a program with repeated stacks, with and without --stream-to,
//    against the program alone, interleaved, medians: the child's peak RSS (VmHWM, read by the program at exit,
//    after tsprofile's stop), the program's own work time, the achieved interval.
// 3. (--flat SECONDS) Flat memory in this process: the sampler at 100 us drained every second, against the same
//    sampler kept whole until stop, with forced GCs: RSS and JS heap at a quarter, half and the end, stop cost.
//
//   node --expose-gc --import ./runtimes/loader/register.mjs bench/hour.ts [--seconds 3600] [--real 20] [--rounds 3] [--cpu]
//   test/runtimes/node_modules/.bin/node --expose-gc --import ./runtimes/loader/register.mjs bench/hour.ts
//   TSPROFILE_NO_ADDON=1 ... (Node: the inspector, or on Node >= 24.12 the rotating v8.startCpuProfile sampler)
//   bun bench/hour.ts          (--real 0 skips part 2; --seconds 0 skips part 1; --flat 60 adds part 3)
// Needs `npm run build` (part 2 runs dist/cli.js).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { classifyFrames } from "../src/processing/classify.ts";
import { renderText } from "../src/renderers/text.ts";
import type { FrameInfo, Session } from "../session/types.ts";
import { createCoreSession, wasmMemory } from "../wasm/core.ts";
import { mulberry32 } from "../test/prng.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SECONDS = arg("seconds", 3600);
const REAL = arg("real", 20);
const ROUNDS = Math.max(1, arg("rounds", 3));
const CPU = argv.includes("--cpu");
const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
const gc = () => (g.gc ? g.gc() : g.Bun?.gc(true));
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const runtimeName = (process.versions as { bun?: string }).bun
  ? `bun ${(process.versions as { bun?: string }).bun}`
  : `node ${process.versions.node}`;

// ---- 1. the simulated hour ----

function simulatedHour(seconds: number): void {
  if (!g.gc && !g.Bun) console.log("(no --expose-gc: the JS heap figure includes garbage)");
  const rnd = mulberry32(7);
  const frames: FrameInfo[] = [];
  for (let i = 0; i < 800; i++) {
    const w = i % 10;
    const file = w < 6
      ? `/srv/app/src/m${i % 41}.ts`
      : w < 9
      ? `/srv/app/node_modules/lib${i % 17}/index.js`
      : `node:internal/x${i % 9}`;
    frames.push({
      name: `fn${i}`,
      file,
      line: 1 + ((i * 13) % 700),
      col: 1 + (i % 40),
      kind: w === 9 ? "runtime" : "js",
    });
  }
  // A prefix tree: 40 request paths (depth 20-30) that a few hundred leaves (depth 20-60) grow out of.
  const parent: number[] = [];
  const frameOf: number[] = [];
  const depth: number[] = [];
  const add = (p: number): number => {
    parent.push(p);
    frameOf.push(Math.floor(rnd() * frames.length));
    depth.push(p < 0 ? 1 : depth[p] + 1);
    return parent.length - 1;
  };
  const trunks: number[] = [];
  for (let t = 0; t < 40; t++) {
    let s = add(-1);
    const d = 20 + Math.floor(rnd() * 10);
    while (depth[s] < d) s = add(s);
    trunks.push(s);
  }
  const leaves: number[] = [];
  for (let l = 0; l < 400; l++) {
    let s = trunks[Math.floor(rnd() * trunks.length)];
    // Share part of the trunk's tail with siblings: branch off a few frames up.
    for (let up = Math.floor(rnd() * 5); up > 0 && parent[s] >= 0; up--) s = parent[s];
    const d = Math.min(60, depth[s] + 1 + Math.floor(rnd() * 35));
    while (depth[s] < d) s = add(s);
    leaves.push(s);
  }
  // Zipf (s = 1.1) over the leaves: a few hot stacks, a long tail.
  const weights = leaves.map((_, k) => 1 / Math.pow(k + 1, 1.1));
  const cum: number[] = [];
  weights.reduce((a, w, k) => (cum[k] = a + w), 0);
  const pick = (): number => {
    const x = rnd() * cum[cum.length - 1];
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return leaves[lo];
  };
  // Which stacks the core has: a chunk carries the new ones its samples need (parents first).
  const known = new Uint8Array(parent.length);
  let sent = 0; // stacks are sent in id order: everything below `sent` is known
  const PER_CHUNK = 1000; // one second at 1 ms

  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const wasm0 = wasmMemory().buffer.byteLength;
  const core = createCoreSession();
  const t0 = performance.now();
  let time = 0;
  let current = pick();
  let total = 0;
  const stack = new Int32Array(PER_CHUNK);
  const times = new Float64Array(PER_CHUNK);
  const state = new Uint8Array(PER_CHUNK);
  // The CPU column draws from its own generator, so the samples are the same with and without it.
  const cpuRnd = mulberry32(11);
  const cpu = CPU ? new Float64Array(PER_CHUNK) : undefined;
  let cpuTotal = 0;
  for (let sec = 0; sec < seconds; sec++) {
    let need = sent;
    for (let i = 0; i < PER_CHUNK; i++) {
      time += 1000 + Math.floor(rnd() * 200) - 60;
      if (rnd() < 0.25) current = pick();
      const r = rnd();
      times[i] = time;
      if (cpu) cpu[i] = cpuTotal += r < 0.05 ? Math.floor(cpuRnd() * 20) : 900 + Math.floor(cpuRnd() * 200);
      if (r < 0.05) {
        stack[i] = -1;
        state[i] = 1; // idle
      } else {
        stack[i] = current;
        state[i] = r < 0.06 ? 2 : 0; // gc, js
        if (!known[current]) need = Math.max(need, current + 1);
      }
    }
    if (need > sent) {
      core.addStacks(Int32Array.from(parent.slice(sent, need)), Uint32Array.from(frameOf.slice(sent, need)));
      known.fill(1, sent, need);
      sent = need;
    }
    core.addSamples(stack, times, state, cpu);
    total += PER_CHUNK;
  }
  const ingestMs = performance.now() - t0;
  gc();
  const wasmGrowth = wasmMemory().buffer.byteLength - wasm0;
  const heapGrowth = Math.max(0, process.memoryUsage().heapUsed - heap0);
  const retained = wasmGrowth + heapGrowth;

  // Render: the renderer reads frames and meta from the session, and from its samples only their count.
  const session: Session = {
    version: 1,
    meta: {
      startTime: Date.now(),
      duration: time + 1000,
      cpuTime: -1,
      interval: 1000,
      gapCap: 20_000,
      idleSampled: true, // a Node session's
      program: "simulated hour",
      cwd: "/srv/app",
      runtime: runtimeName,
      startStack: [],
    },
    frames,
    stacks: { parent: Int32Array.from(parent.slice(0, sent)), frame: Uint32Array.from(frameOf.slice(0, sent)) },
    samples: { stack: { length: total } as Int32Array, time: new Float64Array(0), state: new Uint8Array(0) },
  };
  const t1 = performance.now();
  const classification = classifyFrames(frames, { cwd: "/srv/app" });
  const tree = core.process({
    duration: session.meta.duration,
    gapCap: 20_000,
    idleSampled: true,
    interval: 1000,
    timeline: false,
    showAll: false,
    filterThreshold: 0.01,
    flatTime: "self",
    startStack: [],
    frameFlags: classification.flags,
    frameLibrary: classification.library,
  });
  const text = renderText(session, tree, classification, { color: false, unicode: true, showCpu: CPU });
  const renderMs = performance.now() - t1;
  core.dispose();
  let maxDepth = 0;
  for (const l of leaves) maxDepth = Math.max(maxDepth, depth[l]);

  console.log(`== simulated hour (${runtimeName}; load ${load()})${CPU ? ", with samples.cpu" : ""}`);
  console.log(
    `${
      total.toLocaleString("en")
    } samples, ${leaves.length} leaf stacks (${sent} stack nodes, depth 20-${maxDepth}, Zipf 1.1), ` +
      `fed in ${seconds} chunks of ${PER_CHUNK}`,
  );
  console.log(`ingest: ${(ingestMs / 1000).toFixed(2)} s (${((ingestMs * 1000) / total).toFixed(3)} us a sample)`);
  console.log(
    `retained: ${mb(retained)} (wasm memory +${mb(wasmGrowth)}, JS heap +${mb(heapGrowth)}) = ` +
      `${(retained / total).toFixed(2)} bytes a sample   [targets: < 64 MB, <= 8 B a sample]`,
  );
  console.log(`process + text render: ${renderMs.toFixed(0)} ms (${text.split("\n").length} lines)`);
  console.log(
    `for comparison, the same hour as one Session in JS typed arrays: ${mb(total * 13)} before any core copy`,
  );
  if (g.Bun) {
    // Measured: growing a bare WebAssembly.Memory to 28 MB raises Bun's heapUsed by 56 MB, after Bun.gc(true).
    console.log(
      "(Bun: heapUsed counts the wasm memory's buffer, about twice over: its JS heap figure is not JS objects)",
    );
  }
}

// ---- 2. a streamed real run ----

/** The program: 60 functions calling one another ~20-40 deep along 300 paths (a few hundred distinct stacks), in
 * turns that yield to the event loop, for a fixed time; prints its turns, work time and peak RSS at exit. */
function programSource(): string {
  const fns: string[] = [];
  for (let i = 0; i < 60; i++) {
    fns.push(`function f${i}(d, path, n) {
  if (d <= 0) { let x = 0; for (let k = 0; k < n; k++) x = (x * 31 + k) % 1000003; return x; }
  return fns[(path * 7 + d * 13 + ${i}) % fns.length](d - 1, path, n) + ${i};
}`);
  }
  return `${fns.join("\n")}
const fns = [${fns.map((_, i) => `f${i}`).join(", ")}];
const fs = require("node:fs");
const seconds = Number(process.argv[2]);
const start = performance.now();
let turns = 0;
let sink = 0;
const status = (key) => new RegExp(key + ":\\\\s+(\\\\d+)").exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
let rssMid = 0;
function turn() {
  const path = turns++ % 300;
  sink += fns[path % fns.length](20 + (path % 20), path, 40000);
  const now = performance.now() - start;
  if (!rssMid && now >= seconds * 500) rssMid = Number(status("VmRSS"));
  if (now < seconds * 1000) setImmediate(turn);
  else {
    const rssEnd = Number(status("VmRSS"));
    // The peak is read at exit: after tsprofile's own stop, which runs first.
    process.on("exit", () =>
      process.stdout.write(\`turns=\${turns} work_ms=\${now.toFixed(0)} peak_rss_kb=\${status("VmHWM")} rss_growth_kb=\${rssEnd - rssMid} sink=\${sink % 10}\\n\`),
    );
  }
}
turn();
`;
}

interface RunResult {
  turns: number;
  workMs: number;
  /** VmRSS at the end of the work minus at its half: flat memory shows as ~0. */
  growthKb: number;
  peakKb: number;
  samples?: number;
  durationS?: number;
  streamBytes?: number;
}

function realRun(seconds: number, rounds: number): void {
  const cli = join(root, "dist", "cli.js");
  if (!existsSync(cli)) {
    console.log("part 2 skipped: dist/cli.js is missing (npm run build)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-hour-"));
  const program = join(dir, "program.cjs");
  writeFileSync(program, programSource());
  const modes: Record<string, (out: string, stream: string) => string[]> = {
    plain: () => [program, String(seconds)],
    "tsprofile -i 0.0001": (out) => [cli, "-i", "0.0001", "-r", "json", "-o", out, program, String(seconds)],
    "tsprofile -i 0.0001 --stream-to": (
      out,
      stream,
    ) => [cli, "-i", "0.0001", "--stream-to", stream, "-r", "json", "-o", out, program, String(seconds)],
  };
  const results: Record<string, RunResult[]> = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
  console.log(`== streamed real run (${runtimeName}; ${seconds} s a run, ${rounds} rounds, interleaved)`);
  for (let round = 0; round < rounds; round++) {
    const order = Object.keys(modes);
    for (let k = 0; k < round % order.length; k++) order.push(order.shift()!);
    console.log(`round ${round + 1}: load ${load()}`);
    for (const mode of order) {
      const out = join(dir, "report.json");
      const stream = join(dir, "stream.tsprof");
      rmSync(out, { force: true });
      rmSync(stream, { force: true });
      const r = spawnSync(process.execPath, modes[mode](out, stream), {
        cwd: dir,
        encoding: "utf8",
        timeout: (seconds + 120) * 1000,
      });
      const m = /turns=(\d+) work_ms=(\d+) peak_rss_kb=(\d+) rss_growth_kb=(-?\d+)/.exec(r.stdout ?? "");
      if (r.status !== 0 || !m) {
        console.log(`  ${mode}: failed (${r.status}) ${(r.stderr ?? "").split("\n").slice(0, 3).join(" | ")}`);
        continue;
      }
      const res: RunResult = {
        turns: Number(m[1]),
        workMs: Number(m[2]),
        peakKb: Number(m[3]),
        growthKb: Number(m[4]),
      };
      if (existsSync(out)) {
        const json = JSON.parse(readFileSync(out, "utf8"));
        res.samples = json.sample_count;
        res.durationS = json.duration;
      }
      if (existsSync(stream)) res.streamBytes = statSync(stream).size;
      results[mode].push(res);
    }
  }
  console.log(`after: load ${load()}`);
  const plainPeak = median(results.plain.map((r) => r.peakKb));
  const rate = (r: RunResult) => r.turns / r.workMs;
  const plainRate = median(results.plain.map(rate));
  console.log(
    [
      "mode",
      "peak RSS",
      "x plain",
      "RSS growth, 2nd half",
      "turns/s",
      "time a turn x plain",
      "samples",
      "achieved",
      "stream file",
    ].join(" | "),
  );
  for (const [mode, rs] of Object.entries(results)) {
    if (rs.length === 0) continue;
    const peak = median(rs.map((r) => r.peakKb));
    const samples = rs[0].samples !== undefined ? median(rs.map((r) => r.samples ?? 0)) : undefined;
    const achieved = rs[0].samples ? median(rs.map((r) => ((r.durationS ?? 0) * 1e6) / (r.samples || 1))) : undefined;
    const streamed = rs[0].streamBytes !== undefined ? median(rs.map((r) => r.streamBytes ?? 0)) : undefined;
    console.log(
      [
        mode,
        `${(peak / 1024).toFixed(1)} MB`,
        (peak / plainPeak).toFixed(2),
        `${(median(rs.map((r) => r.growthKb)) / 1024).toFixed(1)} MB`,
        (median(rs.map(rate)) * 1000).toFixed(0),
        (plainRate / median(rs.map(rate))).toFixed(3),
        samples ?? "-",
        achieved ? `${achieved.toFixed(0)} us` : "-",
        streamed !== undefined
          ? `${(streamed / 1024).toFixed(0)} KB (${samples ? (streamed / samples).toFixed(2) : "?"} B a sample)`
          : "-",
      ].join(" | "),
    );
  }
  console.log(
    "(the program runs for a fixed time: overhead shows as fewer turns, not a longer run; peak RSS is read at exit)",
  );
  rmSync(dir, { recursive: true, force: true });
}

// ---- 3. flat memory in process ----

/**
 * The sampler in this process at 100 us, drained every second as --stream-to does (chunks dropped), against the
 * same sampler kept whole until stop; forced GCs, so the JS heap figure is what is retained. The work: a
 * recursive function 30 deep every millisecond, one repeated stack.
 */
async function flatMemory(seconds: number): Promise<void> {
  const { startSampler } = await import("../runtimes/index.ts");
  const deep = (d: number): number => {
    if (d <= 0) {
      let x = 0;
      for (let k = 0; k < 20000; k++) x = (x * 31 + k) % 1000003;
      return x;
    }
    return deep(d - 1) + 1;
  };
  const mem = () => {
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed };
  };
  console.log(`== flat memory in process (${runtimeName}; ${seconds} s a mode at -i 0.0001; load ${load()})`);
  for (const stream of [true, false]) {
    const sampler = startSampler({ interval: 100, stream, asyncMode: "disabled" });
    const streaming = stream && typeof sampler.drain === "function";
    const marks: { at: number; rss: number; heap: number }[] = [];
    let drained = 0;
    const drainMs: number[] = [];
    const work = setInterval(() => deep(30), 1);
    const t0 = performance.now();
    for (let sec = 1; sec <= seconds; sec++) {
      await new Promise((r) => setTimeout(r, 1000));
      if (streaming) {
        const d0 = performance.now();
        drained += sampler.drain!().samples.stack.length;
        drainMs.push(performance.now() - d0);
      }
      if (sec === Math.ceil(seconds / 4) || sec === Math.ceil(seconds / 2) || sec === seconds) {
        marks.push({ at: sec, ...mem() });
      }
    }
    clearInterval(work);
    const s0 = performance.now();
    const rest = sampler.stop();
    const stopMs = performance.now() - s0;
    const after = mem();
    const total = drained + rest.samples.stack.length;
    const label = stream ? (streaming ? "drained every 1 s" : "stream asked, no drain() here") : "whole until stop";
    console.log(
      `${label}: ${total} samples (${((performance.now() - t0) * 1000 / Math.max(1, total)).toFixed(0)} us apart); ` +
        marks.map((m) => `at ${m.at} s rss ${mb(m.rss)} heap ${mb(m.heap)}`).join("; ") +
        `; stop ${stopMs.toFixed(0)} ms, then rss ${mb(after.rss)} heap ${mb(after.heap)}` +
        // The first drain sets up source mapping once (a stop without drains pays the same).
        (streaming ? `; drain median ${median(drainMs).toFixed(1)} ms, first ${drainMs[0].toFixed(0)} ms` : ""),
    );
  }
}

if (SECONDS > 0) simulatedHour(SECONDS);
const FLAT = arg("flat", 0);
if (FLAT > 0) await flatMemory(FLAT);
if (REAL > 0) realRun(REAL, ROUNDS);
