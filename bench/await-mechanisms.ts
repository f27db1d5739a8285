// "Await truth for every await": what each candidate mechanism costs, and what it can tell, before one is chosen.
// Measurements only; nothing here changes the profiler.
//   node --import ./runtimes/loader/register.mjs bench/await-mechanisms.ts [--rounds 5]
//        [--runtimes node20,node24,deno,bun] [--workloads promise,cpu,http] [--mechs plain,sampler,today,...]
//        [--transform-only]
// Workloads (bench/async.ts's own, run from it; the CPU loop is bench/workload.mjs, which has no awaits):
//   promise  bench/async.ts --work promise: 300k awaits, 1% of them on a timer or a file read
//   http     bench/async.ts --work http: a loopback HTTP server under load (ms: the load generator's time)
//   cpu      bench/workload.mjs: acorn, JSON, sorting, regexes, Map churn, no await at all
// Mechanisms, each in a child process of its own, interleaved round by round (the order rotating), medians:
//   plain           no profiler at all (bench/async.ts with startSampler replaced by a stub; workload.mjs alone)
//   sampler         the 1 ms sampler, asyncMode "disabled": what every candidate below runs on top of
//   today           the 1 ms sampler, asyncMode "enabled": today's wrappers + a stack per started operation
//   awaits          candidate 1: the program's own file pre-transformed by bench/await-instrument.ts, each await
//                   recording site + two performance.now() into typed arrays (bench/await-mechanisms-preload.ts)
//   awaits-noclock  the same without reading the clock: how much of it is the clock
//   awaits-state    the same transform keeping only the current state (each activation's pending site and parent
//                   in typed arrays, nothing recorded per await): what a native sampler thread could read
//   ph-trivial      candidate 2: v8.promiseHooks with four empty callbacks (Node, Deno; Bun has none)
//   ph-record       candidate 2: the hooks recording (event, promise id, parent id, time) into typed arrays
//   als             candidate 3: AsyncLocalStorage.enterWith on the program's first line (every promise carries it)
// Every candidate runs with the sampler on, so "x sampler" is what the mechanism itself adds.
// Child processes get the preload by --import (Node) or --preload (Deno, Bun). The transformed files are written
// next to bench/async.ts (bench/.awm-*-<pid>.mjs, so its relative imports resolve) and removed at the end.
// As a child for the cpu workload: bench/await-mechanisms.ts --child-cpu <file> --sampler none|disabled|enabled
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "acorn";
import { instrumentAwaits } from "./await-instrument.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string" },
    runtimes: { type: "string" },
    workloads: { type: "string" },
    mechs: { type: "string" },
    "child-cpu": { type: "string" },
    sampler: { type: "string" },
    "transform-only": { type: "boolean" },
  },
});

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

if (values["child-cpu"]) {
  // The CPU loop under the sampler as asked; workload.mjs prints its own work_ms= and cpu_ms=.
  const mode = values.sampler ?? "none";
  let sampler: { stop(): unknown } | undefined;
  if (mode !== "none") {
    const { startSampler } = await import("../runtimes/index.ts");
    sampler = startSampler({ interval: 1000, asyncMode: mode === "enabled" ? "enabled" : "disabled" });
  }
  process.argv[2] = "1"; // workload.mjs reads its scale there
  await import(resolve(values["child-cpu"]));
  sampler?.stop();
} else {
  await main();
}

interface Run {
  ms: number;
  cpuMs: number;
}

async function main(): Promise<void> {
  const { transpile } = await import("../session/source/transpile.mjs");
  const lines = (s: string) => s.split("\n").length;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(`await mechanisms, ${new Date().toISOString().slice(0, 16)}, 2 cores, loadavg ${load()} at start\n`);

  // Candidate 1's load-time price: the transform alone (acorn parse + walk + rewrite) on files of several sizes,
  // first call (what a loader pays for the first file, the transform's own code cold) and the fastest warm call
  // (pure CPU work: on a shared machine the minimum, not the median, is its cost; the others waited for a core).
  const asyncJs = transpile(readFileSync(join(root, "bench", "async.ts"), "utf8"), "async.ts", "esm").code;
  const corpus: [string, string][] = [
    ["bench/async.ts (esbuild output)", asyncJs],
    ["bench/workload.mjs", readFileSync(join(root, "bench", "workload.mjs"), "utf8")],
    ["acorn/dist/acorn.js", readFileSync(join(root, "node_modules", "acorn", "dist", "acorn.js"), "utf8")],
  ];
  const ts = join(root, "node_modules", "typescript", "lib", "typescript.js");
  if (existsSync(ts)) corpus.push(["typescript/lib/typescript.js", readFileSync(ts, "utf8")]);
  console.log("transform (candidate 1 at load time), ms; per 1000 lines; acorn parse alone for comparison");
  console.log(
    "file                              lines  awaits  first ms  warm ms  ms/1000 lines  parse alone ms (warm: min)",
  );
  for (const [name, src] of corpus) {
    const t0 = performance.now();
    const r = instrumentAwaits(src, name);
    const first = performance.now() - t0;
    const reps = src.length > 1e6 ? 5 : 25;
    const warm: number[] = [];
    const parseOnly: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      instrumentAwaits(src, name);
      warm.push(performance.now() - t);
      const t2 = performance.now();
      parse(src, { ecmaVersion: "latest", sourceType: "module", preserveParens: true, allowHashBang: true });
      parseOnly.push(performance.now() - t2);
    }
    const n = lines(src);
    console.log(
      `${name.padEnd(33)} ${String(n).padStart(6)} ${String(r.awaits).padStart(7)} ${first.toFixed(1).padStart(9)} ` +
        `${Math.min(...warm).toFixed(1).padStart(8)} ${((Math.min(...warm) * 1000) / n).toFixed(2).padStart(14)} ` +
        `${Math.min(...parseOnly).toFixed(1).padStart(15)}`,
    );
  }
  if (values["transform-only"]) return;

  // The program variants, next to bench/async.ts so its relative imports and its root resolve as they do there.
  const benchDir = join(root, "bench");
  const files = {
    async: join(benchDir, `.awm-async-${process.pid}.mjs`),
    asyncPlain: join(benchDir, `.awm-async-plain-${process.pid}.mjs`),
    asyncAwaits: join(benchDir, `.awm-async-awaits-${process.pid}.mjs`),
    workloadAwaits: join(benchDir, `.awm-workload-awaits-${process.pid}.mjs`),
    asyncAls: join(benchDir, `.awm-async-als-${process.pid}.mjs`),
    workloadAls: join(benchDir, `.awm-workload-als-${process.pid}.mjs`),
  };
  const cleanup = () => {
    for (const f of Object.values(files)) rmSync(f, { force: true });
  };
  process.on("exit", cleanup);
  writeFileSync(files.async, asyncJs);
  const samplerImport = /import \{ startSampler \} from "\.\.\/runtimes\/index\.ts";/;
  if (!samplerImport.test(asyncJs)) throw new Error("bench/async.ts no longer imports startSampler as expected");
  writeFileSync(
    files.asyncPlain,
    asyncJs.replace(
      samplerImport,
      "const startSampler = () => ({ stop: () => ({ samples: { time: [] }, meta: { duration: 1 } }) });",
    ),
  );
  const inst = instrumentAwaits(asyncJs, "bench/async.ts");
  writeFileSync(files.asyncAwaits, inst.code);
  writeFileSync(
    files.workloadAwaits,
    instrumentAwaits(readFileSync(join(benchDir, "workload.mjs"), "utf8"), "bench/workload.mjs").code,
  );
  // For als: the program's first line enters the context (see the preload: on Bun nothing outside the module can).
  const enter = "globalThis.__tspAlsEnter();";
  writeFileSync(files.asyncAls, enter + asyncJs);
  writeFileSync(files.workloadAls, enter + readFileSync(join(benchDir, "workload.mjs"), "utf8"));
  console.log(`\nbench/async.ts instrumented: ${inst.awaits} await points, ${inst.sites.length} sites\n`);

  const bin = (n: string) => join(root, "test", "runtimes", "node_modules", ".bin", n);
  const register = join(root, "runtimes", "loader", "register.mjs");
  const preload = join(benchDir, "await-mechanisms-preload.ts");
  const runtimes: [string, string, (file: string) => string[]][] = [
    ["node20", process.env.TSPROFILE_NODE20 ?? "/usr/bin/node", (f) => ["--import", register, "--import", preload, f]],
    ["node24", bin("node"), (f) => ["--import", register, "--import", preload, f]],
    ["deno", bin("deno"), (f) => ["run", "-A", "--no-lock", "--preload", preload, f]],
    ["bun", bin("bun"), (f) => ["--preload", preload, f]],
  ];
  const allMechs = [
    "plain",
    "sampler",
    "today",
    "awaits",
    "awaits-noclock",
    "awaits-state",
    "ph-trivial",
    "ph-record",
    "als",
  ];
  const mechs = values.mechs?.split(",") ?? allMechs;
  const wantedRt = values.runtimes?.split(",");
  const works = values.workloads?.split(",") ?? ["promise", "cpu", "http"];
  const rounds = Number(values.rounds ?? 5);
  const self = join(benchDir, "await-mechanisms.ts");
  const infoFile = join(tmpdir(), `tsprofile-awm-info-${process.pid}.json`);

  /** The command line of one run: [file, args] for the runtime's wrapper, and the preload's mechanism. */
  const command = (work: string, mech: string): [string, string[], string] => {
    const preloadMech = ["plain", "sampler", "today"].includes(mech) ? "" : mech;
    const awaits = mech.startsWith("awaits");
    if (work === "cpu") {
      const sampler = mech === "plain" ? "none" : mech === "today" ? "enabled" : "disabled";
      const file = awaits ? files.workloadAwaits : mech === "als" ? files.workloadAls : join(benchDir, "workload.mjs");
      return [self, ["--child-cpu", file, "--sampler", sampler], preloadMech];
    }
    const file = mech === "plain"
      ? files.asyncPlain
      : awaits
      ? files.asyncAwaits
      : mech === "als"
      ? files.asyncAls
      : files.async;
    return [file, ["--work", work, "--mode", mech === "today" ? "enabled" : "disabled"], preloadMech];
  };
  const supported = (rt: string, mech: string) => !(mech.startsWith("ph-") && rt === "bun");

  const table: string[] = [];
  const infos: string[] = [];
  const header =
    "runtime  workload  mechanism        wall ms  x plain  x sampler (paired q1..q3) |  cpu ms  x sampler | loadavg";
  console.log(header);
  for (const [rt, cmd, args] of runtimes) {
    if (wantedRt && !wantedRt.includes(rt)) continue;
    if (!existsSync(cmd)) {
      console.log(`${rt}: not installed (${cmd})`);
      continue;
    }
    for (const work of works) {
      const ms = mechs.filter((m) => supported(rt, m));
      const got: Record<string, Run[]> = Object.fromEntries(ms.map((m) => [m, []]));
      for (let r = 0; r < rounds; r++) {
        const order = ms.map((_, i) => ms[(i + r) % ms.length]);
        for (const mech of order) {
          const [file, extra, preloadMech] = command(work, mech);
          rmSync(infoFile, { force: true });
          const out = spawnSync(cmd, [...args(file), ...extra], {
            encoding: "utf8",
            cwd: root,
            timeout: 300_000,
            env: {
              ...process.env,
              TSPROFILE_AWM_MECH: preloadMech,
              TSPROFILE_AWM_INFO: infoFile,
              TSPROFILE_BENCH_LOADGEN: process.execPath,
            },
          });
          const last = (out.stdout ?? "").trim().split("\n").at(-1) ?? "";
          let run: Run;
          if (work === "cpu") {
            const m = /work_ms=([\d.]+) cpu_ms=([\d.]+)/.exec(out.stdout ?? "");
            if (!m) throw new Error(`${rt} ${work} ${mech}: ${out.stdout} ${out.stderr}`);
            run = { ms: Number(m[1]), cpuMs: Number(m[2]) };
          } else {
            try {
              run = JSON.parse(last);
            } catch {
              throw new Error(`${rt} ${work} ${mech}: ${out.stdout} ${out.stderr}`);
            }
          }
          got[mech].push(run);
          if (r === rounds - 1 && work === "promise" && preloadMech && existsSync(infoFile)) {
            infos.push(`${rt.padEnd(7)} ${mech.padEnd(15)} ${readFileSync(infoFile, "utf8")}`);
          }
        }
      }
      const med = (m: string, f: (x: Run) => number) => median(got[m].map(f));
      const base = (f: (x: Run) => number) => (got.plain ? med("plain", f) : NaN);
      for (const mech of ms) {
        const wall = med(mech, (x) => x.ms);
        const cpu = med(mech, (x) => x.cpuMs);
        let paired = "";
        let cpuX = "";
        if (got.sampler && mech !== "plain" && mech !== "sampler") {
          const rs = got[mech].map((x, i) => x.ms / got.sampler[i].ms - 1).sort((a, b) => a - b);
          const q = (p: number) => (rs[Math.round(p * (rs.length - 1))] * 100).toFixed(0);
          paired = `${q(0.5)}% (${q(0.25)}..${q(0.75)})`;
          cpuX = (cpu / med("sampler", (x) => x.cpuMs)).toFixed(3);
        }
        const line = [
          rt.padEnd(8),
          work.padEnd(9),
          mech.padEnd(15),
          wall.toFixed(1).padStart(9),
          (wall / base((x) => x.ms)).toFixed(3).padStart(8),
          paired.padStart(26),
          "|",
          cpu.toFixed(1).padStart(7),
          cpuX.padStart(10),
          "|",
          load(),
        ].join(" ");
        console.log(line);
        table.push(line);
      }
    }
  }
  rmSync(infoFile, { force: true });
  if (infos.length) {
    console.log("\nwhat each mechanism learned (promise workload, last round):");
    for (const i of infos) console.log(i);
  }
  console.log(`\nloadavg ${load()} at the end`);
}
