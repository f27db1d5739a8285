// tsprofile's own pauses of the program's thread, and what it costs a program at rest, side by side with
// `node --cpu-prof` in the same run: each mode runs bench/pauses-program.mjs in its own process, modes
// interleaved round by round (the order rotates), medians printed with os.loadavg() before and after each round.
//
//   npm run build                                   # dist/ (the CLI as users run it)
//   node --import ./runtimes/loader/register.mjs bench/pauses.ts [--rounds 5] [--seconds 5] [--cli NAME=PATH]...
//   test/runtimes/node_modules/.bin/node --import ./runtimes/loader/register.mjs bench/pauses.ts    # Node 24
//
// Two programs (bench/pauses-program.mjs): a server under a steady in-process load (event-loop delay, max and
// p99: a pause of the thread shows as a late response) and the same server idle (CPU-s per second, all threads).
// Event-loop delay also counts the machine's other work; tsprofile's runs also report its own JavaScript on the
// program's thread, from their sessions (ms per second, longest stretch; see ownTime): that part is tsprofile's.
// Modes: plain; --cpu-prof (1 ms); tsprofile (dist/cli.js at 1 ms, the sampler it picks: the native addon where
// built); tsprofile --stream-to; tsprofile, inspector (TSPROFILE_NO_ADDON=1). --cli NAME=PATH adds another build's
// CLI (an older dist/cli.js, to compare before and after a change).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { decodeSession } from "../session/session.ts";
import { SampleState } from "../session/types.ts";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const program = join(root, "bench", "pauses-program.mjs");
const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    cli: { type: "string", multiple: true, default: [] },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const tmp = mkdtempSync(join(tmpdir(), "tsprofile-pauses-"));

interface Mode {
  name: string;
  args: (out: string) => string[];
  env?: Record<string, string>;
}
const cli = (path: string, extra: string[] = []) => (out: string) => [
  path,
  "-i",
  "0.001",
  "-o",
  join(out, "run.tsprof"),
  ...extra.map((a) => a.replace("$OUT", out)),
  program,
];
const modes: Mode[] = [
  { name: "plain", args: () => [program] },
  { name: "--cpu-prof", args: (out) => ["--cpu-prof", "--cpu-prof-interval", "1000", "--cpu-prof-dir", out, program] },
  { name: "tsprofile", args: cli(join(root, "dist", "cli.js")) },
  { name: "tsprofile --stream-to", args: cli(join(root, "dist", "cli.js"), ["--stream-to=$OUT/s.tsprof"]) },
  { name: "tsprofile, inspector", args: cli(join(root, "dist", "cli.js")), env: { TSPROFILE_NO_ADDON: "1" } },
  ...values.cli.map((spec) => {
    const [name, path] = spec.split("=");
    return { name, args: cli(resolve(path)) };
  }),
];

interface Result {
  maxMs: number;
  p99Ms: number;
  cpuPerSec: number;
  served: number;
  /** tsprofile's runs: its own JavaScript on the program's thread, ms per second, and its longest stretch (ms)
   * (ownTime). */
  ownMsPerSec?: number;
  ownMaxMs?: number;
}

/**
 * tsprofile's own JavaScript on the program's thread, from its session: what the event-loop delay cannot separate
 * from the machine's load. Samples inside tsprofile keep its caller's stack (runtimes/shared/cpuprofile.ts), so
 * a drain timer of ours shows as self time of Node's timer dispatch (processTimers > listOnTimeout); this program
 * has no timer of its own while it is measured. A run of consecutive such samples is one pause. Not seen: C++
 * that runs without JavaScript of ours (the addon's rotation, ~0.1-0.5 ms).
 */
function ownTime(file: string, wallS: number): { ownMsPerSec: number; ownMaxMs: number } {
  const s = decodeSession(readFileSync(file), file);
  const timerFrame = s.frames.map((f) =>
    (f.name === "listOnTimeout" || f.name === "processTimers") && f.file.includes("timers")
  );
  let total = 0;
  let longest = 0;
  let runStart = -1;
  const { stack, time, state } = s.samples;
  for (let i = 0; i < stack.length; i++) {
    const own = stack[i] >= 0 && state[i] !== SampleState.idle && timerFrame[s.stacks.frame[stack[i]]];
    const next = i + 1 < stack.length ? time[i + 1] : time[i];
    if (own) {
      total += next - time[i];
      if (runStart < 0) runStart = time[i];
      longest = Math.max(longest, next - runStart);
    } else runStart = -1;
  }
  return { ownMsPerSec: total / 1000 / wallS, ownMaxMs: longest / 1000 };
}

const results = new Map<string, { server: Result[]; idle: Result[] }>();
for (const m of modes) results.set(m.name, { server: [], idle: [] });

function run(mode: Mode, kind: "server" | "idle"): Result {
  const out = mkdtempSync(join(tmp, "run-"));
  try {
    const p = spawnSync(process.execPath, mode.args(out), {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, ...mode.env, PAUSES_KIND: kind, PAUSES_SECONDS: String(seconds) },
      timeout: (seconds + 120) * 1000,
    });
    const line = p.stdout.trim().split("\n").find((l) => l.startsWith("{"));
    if (p.status !== 0 || !line) throw new Error(`${mode.name} ${kind} failed: ${p.stderr.slice(-500)}`);
    const result = JSON.parse(line) as Result;
    const session = [join(out, "run.tsprof"), join(out, "s.tsprof")].find((f) => existsSync(f));
    return session ? { ...result, ...ownTime(session, seconds) } : result;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
try {
  for (let r = 0; r < rounds; r++) {
    const order = modes.map((_, i) => modes[(i + r) % modes.length]);
    const before = load();
    for (const m of order) {
      results.get(m.name)!.server.push(run(m, "server"));
      results.get(m.name)!.idle.push(run(m, "idle"));
    }
    console.error(`round ${r + 1}/${rounds}: load ${before} -> ${load()}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [[
  "mode",
  "delay max ms",
  "delay p99 ms",
  "req/s",
  "own ms/s",
  "own max ms",
  "server CPU-s/s",
  "idle CPU-s/s",
  "idle own ms/s",
]];
const own = (xs: Result[], key: "ownMsPerSec" | "ownMaxMs", digits: number) =>
  xs.every((x) => x[key] !== undefined) ? median(xs.map((x) => x[key]!)).toFixed(digits) : "-";
for (const m of modes) {
  const { server, idle } = results.get(m.name)!;
  rows.push([
    m.name,
    median(server.map((x) => x.maxMs)).toFixed(1),
    median(server.map((x) => x.p99Ms)).toFixed(1),
    median(server.map((x) => x.served / seconds)).toFixed(0),
    own(server, "ownMsPerSec", 2),
    own(server, "ownMaxMs", 1),
    median(server.map((x) => x.cpuPerSec)).toFixed(3),
    median(idle.map((x) => x.cpuPerSec)).toFixed(4),
    own(idle, "ownMsPerSec", 2),
  ]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`Node ${process.version}, ${rounds} rounds of ${seconds} s, medians`);
for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  "));
