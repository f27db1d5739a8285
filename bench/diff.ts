// tsprofile diff of two 1,000,000-sample sessions, end to end (target: under 1 s): the CLI process from spawn to
// exit, `tsprofile diff A B`, beside `tsprofile --load B` (one of the two sessions rendered alone: the floor a diff
// of two sessions stands on) in the same run, interleaved, medians. Also the API's parts in process: loading both
// files, diffSessions (shared frames, both processed, the core's alignment), rendering the text report.
// The sessions are bench/core.ts's synthetic ones (bench/synthetic-session.ts) with two seeds: the same ~600
// functions, different hot stacks.
//
//   npm run build && node --import ./runtimes/loader/register.mjs bench/diff.ts [--samples 1000000] [--runs 5]
import { spawnSync } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { diffSessions, renderDiff } from "../src/diff.ts";
import { loadSession, saveSession } from "../session/session.ts";
import { syntheticSession } from "./synthetic-session.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SAMPLES = arg("samples", 1_000_000);
const RUNS = Math.max(1, arg("runs", 5));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number): string => `${x.toFixed(0)} ms`.padStart(8);

const dir = mkdtempSync(join(tmpdir(), "tsprofile-bench-diff-"));
const files = [1, 2].map((seed) => {
  const file = join(dir, `run${seed}.tsprof`);
  saveSession(syntheticSession(SAMPLES, seed), file);
  return file;
});
const load = loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(
  `tsprofile diff benchmark: two sessions of ${SAMPLES.toLocaleString("en")} samples (${
    (statSync(files[0]).size / 1e6).toFixed(1)
  } MB each), ${RUNS} runs; load average ${load}`,
);

const cli = join(import.meta.dirname ?? ".", "..", "dist", "cli.js");
const commands: Record<string, string[]> = {
  "tsprofile diff A B": [cli, "diff", files[0], files[1]],
  "tsprofile --load B": [cli, "--load", files[1]],
};
const wall: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++) {
  const order = Object.keys(commands);
  if (r % 2) order.reverse();
  for (const name of order) {
    const t0 = performance.now();
    const p = spawnSync(process.execPath, commands[name], { encoding: "utf8", maxBuffer: 64 << 20 });
    wall[name].push(performance.now() - t0);
    if (p.status !== 0) throw new Error(`${name}: exit ${p.status}: ${p.stderr}`);
  }
}
console.log("\nend to end (Node " + process.versions.node + ", medians):");
for (const [name, xs] of Object.entries(wall)) console.log(`  ${name.padEnd(22)} ${ms(median(xs))}`);

const parts = { load: [] as number[], diff: [] as number[], render: [] as number[] };
for (let r = 0; r < RUNS; r++) {
  let t = performance.now();
  const [a, b] = files.map((f) => loadSession(f));
  parts.load.push(performance.now() - t);
  t = performance.now();
  const d = diffSessions(a, b);
  parts.diff.push(performance.now() - t);
  t = performance.now();
  renderDiff(d);
  parts.render.push(performance.now() - t);
}
console.log("\nin process (medians):");
console.log(`  load both files      ${ms(median(parts.load))}`);
console.log(`  diffSessions         ${ms(median(parts.diff))}`);
console.log(`  render the text      ${ms(median(parts.render))}`);
