// The cost of wait tracking for await attribution (runtimes/awaits/tracker.ts): the same workloads profiled at 1 ms
// with asyncMode "enabled" and "disabled", per runtime (Node 20 = this machine's node, Node 24, Deno, Bun from
// test/runtimes), interleaved round by round, medians. Workloads:
//   promise  300k awaits, the realistic mix: 3000 tasks on 20 workers, each a handler > service > repo chain of
//            100 awaits on async functions, resolved promises and microtasks, and one real wait (a 1 ms timer,
//            an fs/promises read or an fs callback stat, in turn): 1% of the awaits start a tracked operation.
//   waits    the stress case: 20k timers (1000 at a time) and 5k fs/promises reads (100 at a time), nothing
//            else; its figure divided by the waits is the cost of one tracked operation.
//   http     a small HTTP server in the profiled process (each request: a few awaits and one fs/promises read
//            of a small file, a JSON reply) under load from another process (this machine's node, 16 keep-alive
//            connections, 1000 warm-up requests then 10000 timed): the figure is the load generator's time.
//   node --import ./runtimes/loader/register.mjs bench/async.ts [--rounds 7] [--runtimes node24,deno]
//        [--workloads http]
// "enabled" includes the load-time instrumentation of the program's awaits (runtimes/awaits/instrument.mjs: on Node
// the child's loader instruments bench/async.ts itself, as the CLI's child does the program; on Deno and Bun
// bench/async-hooks-preload.mjs installs runtimes/awaits/load-hooks.mjs); with
// TSPROFILE_BENCH_WRAPPERS_ONLY=1 it is the wrappers alone (the mechanism before it), for comparison.
// As a child: bench/async.ts --work promise|waits|http --mode enabled|disabled  (prints one JSON line)
// As the load generator: bench/async.ts --load <port>  (prints the timed part's ms)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startSampler } from "../runtimes/index.ts";
import { startWaitTracker } from "../runtimes/awaits/tracker.ts";

const { values } = parseArgs({
  options: {
    work: { type: "string" },
    mode: { type: "string" },
    rounds: { type: "string" },
    runtimes: { type: "string" },
    load: { type: "string" },
    workloads: { type: "string" },
  },
});

const WARMUP_REQUESTS = 1000;
const TIMED_REQUESTS = 10000;
const CONNECTIONS = 16;

function scratchFile(): string {
  const file = join(tmpdir(), `tsprofile-bench-${process.pid}`);
  writeFileSync(file, JSON.stringify({ name: "config", values: Array.from({ length: 64 }, (_, i) => i) }));
  return file;
}

/** 300k awaits, 3000 of them on a real operation (timer, fs/promises, fs callback). */
async function promiseWork(): Promise<number> {
  const file = scratchFile();
  const TASKS = 3000;
  // deno-lint-ignore require-await -- an async function that never suspends is part of the workload
  async function check(v: number): Promise<number> {
    return v + 1; // an async function that never suspends
  }
  async function repo(i: number): Promise<number> {
    let v = 0;
    for (let j = 0; j < 30; j++) v += await check(j); // 30
    for (let j = 0; j < 15; j++) v += await Promise.resolve(j); // 15
    for (let j = 0; j < 10; j++) await new Promise<void>((r) => queueMicrotask(r)); // 10
    // The one real wait of this task.
    if (i % 3 === 0) await new Promise((r) => setTimeout(r, 1));
    else if (i % 3 === 1) v += (await fsp.readFile(file)).length;
    else v += await new Promise<number>((r, j) => fs.stat(file, (e, s) => (e ? j(e) : r(s.size))));
    return v; // 56 awaits
  }
  async function service(i: number): Promise<number> {
    let v = await repo(i); // 1
    for (let j = 0; j < 20; j++) v += await check(v); // 20
    return v; // 21 + 56
  }
  async function handler(i: number): Promise<number> {
    let v = await service(i); // 1
    for (let j = 0; j < 22; j++) v = await check(v); // 22
    return v; // 23 + 77 = 100 awaits a task
  }
  let next = 0;
  let sum = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < TASKS) sum += await handler(next++);
    }),
  );
  rmSync(file, { force: true });
  return sum;
}

/** The stress case: nothing but tracked operations. */
async function waitsWork(): Promise<number> {
  const file = scratchFile();
  const timer = () => new Promise((r) => setTimeout(r, 0));
  for (let k = 0; k < 20; k++) await Promise.all(Array.from({ length: 1000 }, timer));
  let n = 0;
  for (let k = 0; k < 50; k++) {
    for (const b of await Promise.all(Array.from({ length: 100 }, () => fsp.readFile(file)))) n += b.length;
  }
  rmSync(file, { force: true });
  return n;
}

/** A small HTTP server under load from another process: the load generator's timed ms, and this process's CPU
 * time over the same part (from the generator's "go" line to its figure). */
async function httpWork(): Promise<{ ms: number; cpuMs: number }> {
  const file = scratchFile();
  // deno-lint-ignore require-await -- an async step that never suspends, as real handlers have
  async function authorize(url: string | undefined): Promise<string> {
    return url ?? "/";
  }
  async function loadConfig(): Promise<{ values: number[] }> {
    return JSON.parse(await fsp.readFile(file, "utf8"));
  }
  async function respond(url: string | undefined): Promise<string> {
    const path = await authorize(url);
    const config = await loadConfig();
    let total = 0;
    for (const v of config.values.slice(0, 8)) total += await Promise.resolve(v);
    return JSON.stringify({ path, total });
  }
  const server = http.createServer((req, res) => {
    respond(req.url).then(
      (body) => res.writeHead(200, { "content-type": "application/json" }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
  const node = process.env.TSPROFILE_BENCH_LOADGEN ?? "/usr/bin/node";
  const register = join(root, "runtimes", "loader", "register.mjs");
  const gen = spawn(node, ["--import", register, join(root, "bench", "async.ts"), "--load", String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  gen.stdout.on("data", (d) => {
    out += d;
    if (!cpu0 && out.startsWith("go\n")) cpu0 = process.cpuUsage();
    if (cpu0 && !cpu && /\n[\d.]+\n$/.test(out)) cpu = process.cpuUsage(cpu0);
  });
  const code = await new Promise<number | null>((r) => gen.on("close", r));
  server.close();
  server.closeAllConnections?.();
  rmSync(file, { force: true });
  const ms = Number(out.trim().split("\n").at(-1));
  if (code !== 0 || !Number.isFinite(ms) || !cpu) throw new Error(`load generator failed (exit ${code}): ${out}`);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The load generator: CONNECTIONS keep-alive connections, each sending its next request when a reply ends. */
async function loadGenerator(port: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const one = () =>
    new Promise<void>((res, rej) => {
      http
        .get({ host: "127.0.0.1", port, path: "/items", agent }, (r) => {
          if (r.statusCode !== 200) rej(new Error(`status ${r.statusCode}`));
          r.resume();
          r.on("end", res);
        })
        .on("error", rej);
    });
  const run = async (n: number) => {
    let left = n;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (left-- > 0) await one();
      }),
    );
  };
  await run(WARMUP_REQUESTS);
  process.stdout.write("go\n");
  const t = performance.now();
  await run(TIMED_REQUESTS);
  process.stdout.write(`${(performance.now() - t).toFixed(1)}\n`);
  agent.destroy();
}

interface ChildResult {
  ms: number;
  /** The profiled process's CPU time (user + system) over the same span: less disturbed by other load (http: the
   * server's over the timed requests). */
  cpuMs: number;
  waits: number;
  samplesPerSec: number;
  stopMs: number;
}

if (values.load) {
  await loadGenerator(Number(values.load));
} else if (values.work === "blocks") {
  // One process, sampling with asyncMode disabled, the promise workload in blocks alternately with and without
  // the wait tracker (started before and stopped after its block, stop included): other load drifts slowly, so
  // neighbouring blocks see the same machine, which separate processes do not.
  const sampler = startSampler({ interval: 1000, asyncMode: "disabled" });
  await promiseWork();
  const sum = { on: { ms: 0, cpuMs: 0 }, off: { ms: 0, cpuMs: 0 } };
  let waits = 0;
  for (let b = 0; b < 16; b++) {
    for (const on of b % 2 ? [true, false] : [false, true]) {
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      const tracker = on ? startWaitTracker(() => performance.now()) : null;
      await promiseWork();
      if (tracker) waits += tracker.stop().start.length;
      const cpu = process.cpuUsage(cpu0);
      const acc = on ? sum.on : sum.off;
      acc.ms += performance.now() - t;
      acc.cpuMs += (cpu.user + cpu.system) / 1000;
    }
  }
  sampler.stop();
  process.stdout.write(`${JSON.stringify({ ...sum, waits })}\n`);
} else if (values.work) {
  const sampler = startSampler({ interval: 1000, asyncMode: values.mode === "disabled" ? "disabled" : "enabled" });
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const work = values.work;
  const r = work === "http" ? await httpWork() : work === "waits" ? await waitsWork() : await promiseWork();
  let ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  let cpuMs = (cpu.user + cpu.system) / 1000;
  if (typeof r === "object") ({ ms, cpuMs } = r);
  const t1 = performance.now();
  const session = sampler.stop();
  const stopMs = performance.now() - t1;
  const result: ChildResult = {
    ms,
    cpuMs,
    waits: session.waits?.start.length ?? 0,
    samplesPerSec: session.samples.time.length / (session.meta.duration / 1e6),
    stopMs,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
  const bin = (n: string) => join(root, "test", "runtimes", "node_modules", ".bin", n);
  const register = join(root, "runtimes", "loader", "register.mjs");
  const self = join(root, "bench", "async.ts");
  const hooks = join(root, "bench", "async-hooks-preload.mjs");
  const all: [string, string, string[]][] = [
    ["node20", process.env.TSPROFILE_NODE20 ?? "/usr/bin/node", ["--import", register, self]],
    ["node24", bin("node"), ["--import", register, self]],
    ["deno", bin("deno"), ["run", "-A", "--no-lock", "--preload", hooks, self]],
    ["bun", bin("bun"), ["--preload", hooks, self]],
  ];
  const wanted = values.runtimes?.split(",");
  const works = values.workloads?.split(",") ?? ["promise", "waits", "http"];
  const rounds = Number(values.rounds ?? 7);
  /** Node's loader (runtimes/loader/register.mjs) instruments the child's awaits when its TSPROFILE_CHILD asks. */
  const childEnv = (mode: string): Record<string, string | undefined> => {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.TSPROFILE_CHILD;
    if (mode === "enabled" && process.env.TSPROFILE_BENCH_WRAPPERS_ONLY) return env;
    env.TSPROFILE_CHILD = JSON.stringify({ asyncMode: mode });
    return env;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`async tracking cost, ${rounds} rounds interleaved, medians; 2 cores; loadavg ${load()} at start`);
  console.log(
    "runtime  workload  disabled ms  enabled ms  overhead (paired q1..q3) | " +
      "cpu dis ms  cpu en ms  overhead (paired q1..q3) |  waits  us/wait  stop ms  samples/s dis/en  loadavg",
  );
  const blocks: string[] = [];
  for (const [name, cmd, args] of all) {
    if (wanted && !wanted.includes(name)) continue;
    if (!existsSync(cmd)) {
      console.log(`${name}: not installed (${cmd})`);
      continue;
    }
    if (works.includes("promise")) {
      const out = spawnSync(cmd, [...args, "--work", "blocks"], {
        encoding: "utf8",
        cwd: root,
        timeout: 300_000,
        env: childEnv("enabled"),
      });
      try {
        const b = JSON.parse((out.stdout ?? "").trim().split("\n").at(-1) ?? "");
        const per = (on: number, off: number) => (((on - off) * 1000) / b.waits).toFixed(2);
        const pctOf = (on: number, off: number) => ((on / off - 1) * 100).toFixed(1);
        blocks.push(
          `${name.padEnd(8)} wall ${pctOf(b.on.ms, b.off.ms)}% (${per(b.on.ms, b.off.ms)} us/wait)  ` +
            `cpu ${pctOf(b.on.cpuMs, b.off.cpuMs)}% (${per(b.on.cpuMs, b.off.cpuMs)} us/wait)  ` +
            `over ${b.waits} waits, 16 blocks each way; loadavg ${load()}`,
        );
      } catch {
        blocks.push(`${name}: blocks failed: ${out.stderr}`);
      }
    }
    for (const work of works) {
      const got: Record<string, ChildResult[]> = { enabled: [], disabled: [] };
      for (let r = 0; r < rounds; r++) {
        for (const mode of r % 2 === 0 ? ["disabled", "enabled"] : ["enabled", "disabled"]) {
          const out = spawnSync(cmd, [...args, "--work", work, "--mode", mode], {
            encoding: "utf8",
            cwd: root,
            timeout: 180_000,
            env: { ...childEnv(mode), TSPROFILE_BENCH_LOADGEN: process.execPath },
          });
          let res: ChildResult;
          try {
            res = JSON.parse((out.stdout ?? "").trim().split("\n").at(-1) ?? "");
          } catch {
            throw new Error(`${name} ${work} ${mode}: ${out.stdout} ${out.stderr}`);
          }
          got[mode].push(res);
        }
      }
      const med = (mode: string, f: (x: ChildResult) => number) => median(got[mode].map(f));
      const d = med("disabled", (x) => x.ms);
      const e = med("enabled", (x) => x.ms);
      const cd = med("disabled", (x) => x.cpuMs);
      const ce = med("enabled", (x) => x.cpuMs);
      const waits = med("enabled", (x) => x.waits);
      const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;
      // Each round's enabled/disabled pair ran back to back: their ratios cancel the slow drift of other load.
      const paired = (f: (x: ChildResult) => number) => {
        const r = got.enabled.map((x, i) => f(x) / f(got.disabled[i]) - 1).sort((a, b) => a - b);
        const q = (p: number) => `${(r[Math.round(p * (r.length - 1))] * 100).toFixed(0)}`;
        return `(${q(0.5)}% ${q(0.25)}..${q(0.75)})`.padStart(15);
      };
      console.log(
        [
          name.padEnd(8),
          work.padEnd(9),
          d.toFixed(1).padStart(11),
          e.toFixed(1).padStart(11),
          pct(d, e).padStart(9),
          paired((x) => x.ms),
          "|",
          cd.toFixed(1).padStart(10),
          ce.toFixed(1).padStart(10),
          pct(cd, ce).padStart(9),
          paired((x) => x.cpuMs),
          "|",
          String(waits).padStart(6),
          (waits > 0 ? ((e - d) * 1000) / waits : NaN).toFixed(2).padStart(8),
          med("enabled", (x) => x.stopMs).toFixed(1).padStart(8),
          [med("disabled", (x) => x.samplesPerSec), med("enabled", (x) => x.samplesPerSec)]
            .map((r) => r.toFixed(0))
            .join("/")
            .padStart(17),
          ` ${load()}`,
        ].join(" "),
      );
    }
  }
  if (blocks.length) {
    console.log(
      "\npromise workload in one process, wait tracker on/off in alternating blocks (sampler on, async disabled):",
    );
    for (const line of blocks) console.log(line);
  }
}
