// The native Node sampler (runtimes/node/addon) against the inspector sampler on a long run at 100 us: what it
// costs the program, how fast it stops and rotates, how much memory the process peaks at, and how many samples a
// second it achieves. Each mode runs in its own child process, the modes interleaved round by round (the order
// rotates), medians printed side by side with os.loadavg().
//
//   node --import ./runtimes/loader/register.mjs bench/addon.ts [--seconds 15] [--rounds 3] [--interval 100] [--modes "plain;inspector;addon"]
//   test/runtimes/node_modules/.bin/node --import ./runtimes/loader/register.mjs bench/addon.ts   # Node 24
//
// The work: bench/workload.mjs (acorn, JSON, sorting, regexes, Map churn) evaluated again and again (a fresh
// module URL each time) for --seconds; between two evaluations the event loop turns, as in a server.
// Modes: plain; inspector (startNodeSampler); addon (the sampler startSampler picks, its own 1 s rotation, all
// samples kept to stop); addon+drain (drain() after each evaluation, chunks dropped as a stream consumer
// would: the memory a streaming run needs); addon, no cpu (samples.cpu off: the cost of the CPU-clock thread).
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { loadAddon, startAddonSampler } from "../runtimes/node/addon-sampler.ts";
import { startNodeSampler } from "../runtimes/node/sampler.ts";
import type { Session } from "../session/types.ts";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const MODES = ["plain", "inspector", "addon", "addon+drain", "addon, no cpu"] as const;
type ModeName = (typeof MODES)[number];

interface Result {
  /** Evaluations of the workload done (the same work each). */
  evals: number;
  workMs: number;
  cpuMs: number;
  startMs: number;
  stopMs: number;
  drainMs: number[];
  samples: number;
  durationUs: number;
  rssMB: number;
}

const { values } = parseArgs({
  options: {
    child: { type: "string" },
    seconds: { type: "string", default: "15" },
    rounds: { type: "string", default: "3" },
    interval: { type: "string", default: "100" },
    modes: { type: "string", default: MODES.join(";") },
  },
});
const seconds = Number(values.seconds);
const interval = Number(values.interval);
// --modes "plain;inspector;addon" runs a subset (a 10-minute round of all five takes 50 minutes).
const modes = values.modes.split(";").map((m) => m.trim()) as ModeName[];
for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m}: one of ${MODES.join("; ")}`);

if (values.child !== undefined) await child(values.child as ModeName);
else parent();

async function child(mode: ModeName): Promise<void> {
  const binding = loadAddon().binding;
  if (mode.startsWith("addon") && !binding) {
    throw new Error("the addon is not built for this Node: node scripts/build-addon.mjs");
  }
  const t0 = performance.now();
  const sampler = mode === "plain"
    ? null
    : mode === "inspector"
    ? startNodeSampler({ interval, startStack: false, deoptimize: false })
    : startAddonSampler(binding!, {
      interval,
      startStack: false,
      deoptimize: false,
      ...(mode === "addon, no cpu" ? { cpuInterval: 0 } : {}),
    });
  const startMs = performance.now() - t0;
  const drainMs: number[] = [];
  let drained = 0;
  let workMs = 0;
  let evals = 0;
  const cpu0 = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  process.argv.splice(2, Infinity, "1"); // the workload's scale argument
  const silence = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write; // the workload's own line
  for (let k = 0; performance.now() < end; k++) {
    const w = performance.now();
    await import(`${pathToFileURL(join(root, "bench", "workload.mjs")).href}?run=${k}`);
    workMs += performance.now() - w;
    evals++;
    if (mode === "addon+drain") {
      const d = performance.now();
      drained += (sampler as ReturnType<typeof startAddonSampler>).drain().samples.time.length;
      drainMs.push(performance.now() - d);
    }
  }
  process.stdout.write = silence;
  const cpu = process.cpuUsage(cpu0);
  const s0 = performance.now();
  const session: Session | null = sampler ? sampler.stop() : null;
  const stopMs = performance.now() - s0;
  const result: Result = {
    evals,
    workMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    startMs,
    stopMs,
    drainMs,
    samples: drained + (session?.samples.time.length ?? 0),
    durationUs: session?.meta.duration ?? 0,
    rssMB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(result));
}

function parent(): void {
  const rounds = Math.max(1, Number(values.rounds));
  const results = new Map<ModeName, Result[]>(modes.map((m) => [m, []]));
  const loads: number[][] = [];
  console.log(
    `node ${process.version}, ${seconds} s of work per run at ${interval} us, ${rounds} rounds, modes interleaved; load before: ${fmtLoad()}`,
  );
  for (let r = 0; r < rounds; r++) {
    const order = modes.map((_, i) => modes[(i + r) % modes.length]);
    for (const mode of order) {
      const args = [
        "--import",
        join(root, "runtimes", "loader", "register.mjs"),
        join(root, "bench", "addon.ts"),
        "--child",
        mode,
      ];
      args.push("--seconds", String(seconds), "--interval", String(interval));
      const p = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26 });
      const line = p.stdout.trim().split("\n").pop() ?? "";
      if (p.status !== 0 || !line.startsWith("{")) {
        console.error(`${mode}: failed (${p.status})\n${p.stderr}`);
        process.exit(1);
      }
      results.get(mode)!.push(JSON.parse(line));
    }
    loads.push(loadavg());
    console.log(`round ${r + 1}/${rounds} done; load ${fmtLoad()}`);
  }

  const med = (xs: number[]) => {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const plain = results.get("plain") ?? []; // without plain in --modes, the ratios are NaN
  // Runs do as many evaluations as fit in --seconds: compare per evaluation (the same work each time).
  const perEval = (rs: Result[], f: (r: Result) => number) => med(rs.map((r) => f(r) / Math.max(1, r.evals)));
  const plainWall = perEval(plain, (r) => r.workMs);
  const plainCpu = perEval(plain, (r) => r.cpuMs);
  const rows: string[][] = [
    [
      "mode",
      "samples",
      "achieved us",
      "samples/s",
      "wall x plain",
      "cpu x plain",
      "start ms",
      "stop ms",
      "drain ms med/max",
      "peak RSS MB",
    ],
  ];
  for (const mode of modes) {
    const rs = results.get(mode)!;
    const sampled = mode !== "plain";
    const drains = rs.flatMap((r) => r.drainMs);
    rows.push([
      mode,
      sampled ? med(rs.map((r) => r.samples)).toFixed(0) : "-",
      sampled ? med(rs.map((r) => r.durationUs / Math.max(1, r.samples))).toFixed(0) : "-",
      sampled ? med(rs.map((r) => r.samples / (r.durationUs / 1e6))).toFixed(0) : "-",
      (perEval(rs, (r) => r.workMs) / plainWall).toFixed(3),
      (perEval(rs, (r) => r.cpuMs) / plainCpu).toFixed(3),
      sampled ? med(rs.map((r) => r.startMs)).toFixed(1) : "-",
      sampled ? med(rs.map((r) => r.stopMs)).toFixed(1) : "-",
      drains.length ? `${med(drains).toFixed(2)}/${Math.max(...drains).toFixed(2)}` : "-",
      med(rs.map((r) => r.rssMB)).toFixed(0),
    ]);
  }
  const width = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(width[c]) : v.padStart(width[c]))).join("  "));
  console.log(
    `\nplain: ${(plainWall / 1000).toFixed(2)} s wall, ${
      (plainCpu / 1000).toFixed(2)
    } s CPU per evaluation of the workload. wall/cpu x plain: per\n` +
      "evaluation, over plain's (cpu: the process's, all threads, the samplers' included; steadier on a shared machine).\n" +
      "achieved us: session duration / samples. stop ms: sampler.stop() to the normalised Session (conversion, source\n" +
      "maps, waits). drain ms: one rotation handing a chunk over while the program runs. peak RSS: the child's maxRSS.\n" +
      `Medians over ${rounds} rounds. Load (1/5/15 min) after each round: ${
        loads.map((l) => l.map((x) => x.toFixed(2)).join("/")).join(", ")
      }`,
  );
}

function fmtLoad(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join("/");
}
