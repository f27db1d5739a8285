// The overhead benchmark's harness, shared by bench/overhead.ts (Node), overhead-deno.ts and overhead-bun.ts:
// bench/workload.mjs run plain, under tsprofile and under the runtime's own --cpu-prof, at 1 ms and 100 us,
// interleaved round by round (the order rotates each round) so drift on a shared machine hits every mode alike.
// Prints medians: the process's wall time, the workload's own work time and CPU time (measured inside it), their
// ratios to plain, the fixed costs around the work (spawn to the workload's first line, its last line to exit),
// and the sampling rate achieved (tsprofile: JSON sample_count/duration; --cpu-prof: the
// .cpuprofile's samples over endTime - startTime). Each script says how its runtime runs the modes; options:
// [--runs 7] [--scale 1] (--scale 0: a trivial script, for the start-up and exit costs alone).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
export const workload = join(root, "bench", "workload.mjs");
/** The bundled CLI, as users run it from npm. */
export const bundledCli = join(root, "dist", "cli.js");

export interface Mode {
  name: string;
  /** Interval in microseconds; 0 for the plain run. */
  interval: number;
  command(dir: string): string[];
  /** Samples per second achieved, read from what the run left in dir. */
  rate?(dir: string): number;
}

export interface OverheadSetup {
  /** The runtime's executable: every mode is spawned with it. */
  runtime: string;
  /** Arguments that come first in every mode's command (Deno: run -A). */
  runtimeArgs?: string[];
  /** The tsprofile CLI's entry file, run as `runtime ...runtimeArgs cli -i ... workload`. */
  cli: string;
  /** Build dist/ first when the CLI is the bundle and it is missing. */
  bundle?: boolean;
  /** What the first line says the runtime is (path, version). */
  describe(): string;
  /** The modes run once before the rounds to warm caches; not counted. */
  warm(modes: Mode[]): Mode[];
  tmpPrefix?: string;
  /** The text under the table; the default explains the columns and the target. */
  footer?: string;
}

const FOOTER =
  "\nwall: the whole process, spawn to exit (tsprofile includes its CLI start and the report); work: the workload's\n" +
  "own timer around its work; work cpu: the workload process's CPU time over that span (all its threads, the\n" +
  "sampler's included; steadier than wall on a busy machine); start: spawn to the workload's first line; exit: its\n" +
  "last line to the process's exit. Medians. Target: tsprofile within 5% of plain at 1 ms.";

interface Measure {
  wall: number[];
  work: number[];
  cpu: number[];
  start: number[];
  exit: number[];
  rate: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function runOverhead(setup: OverheadSetup): void {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "7" }, scale: { type: "string", default: "1" } },
  });
  const runs = Math.max(1, Number(values.runs));
  const scale = String(Number.isFinite(Number(values.scale)) ? Number(values.scale) : 1);

  if (setup.bundle && !existsSync(setup.cli)) {
    const r = spawnSync(process.execPath, [join(root, "scripts", "bundle.mjs")], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) throw new Error("scripts/bundle.mjs failed");
  }

  const pre = setup.runtimeArgs ?? [];
  const modes: Mode[] = [{ name: "plain", interval: 0, command: () => [...pre, workload, scale] }];
  for (const interval of [1000, 100]) {
    modes.push({
      name: "tsprofile",
      interval,
      command: (
        dir,
      ) => [
        ...pre,
        setup.cli,
        "-i",
        String(interval / 1e6),
        "-r",
        "json",
        "-o",
        join(dir, "report.json"),
        workload,
        scale,
      ],
      rate: (dir) => {
        const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
        return report.sample_count / report.duration;
      },
    });
    modes.push({
      name: "--cpu-prof",
      interval,
      command: (
        dir,
      ) => [...pre, "--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", String(interval), workload, scale],
      rate: (dir) => {
        const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
        if (!file) throw new Error("--cpu-prof wrote no profile");
        const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
        return profile.samples.length / ((profile.endTime - profile.startTime) / 1e6);
      },
    });
  }

  const results = new Map<Mode, Measure>(
    modes.map((m) => [m, { wall: [], work: [], cpu: [], start: [], exit: [], rate: [] }]),
  );

  function runOnce(mode: Mode, count = true): void {
    const dir = mkdtempSync(join(tmpdir(), setup.tmpPrefix ?? "tsprofile-bench-"));
    try {
      const now = () => performance.timeOrigin + performance.now(); // epoch ms, as the workload prints them
      const started = now();
      const r = spawnSync(setup.runtime, mode.command(dir), { cwd: root, encoding: "utf8", timeout: 300_000 });
      const ended = now();
      if (r.status !== 0) {
        throw new Error(`${mode.name} (${mode.interval} us) failed: ${r.status ?? r.signal}\n${r.stderr}`);
      }
      const work = /work_ms=([\d.]+) cpu_ms=([\d.]+) .* begin_at=([\d.]+) end_at=([\d.]+)/.exec(r.stdout);
      if (!work) throw new Error(`${mode.name}: no work_ms in ${JSON.stringify(r.stdout)}`);
      if (!count) return;
      const m = results.get(mode)!;
      m.wall.push(ended - started);
      m.work.push(Number(work[1]));
      m.cpu.push(Number(work[2]));
      m.start.push(Number(work[3]) - started);
      m.exit.push(ended - Number(work[4]));
      if (mode.rate) m.rate.push(mode.rate(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  console.log(`${setup.describe()}, ${runs} runs per mode, interleaved; workload scale ${scale}`);
  for (const mode of setup.warm(modes)) runOnce(mode, false);
  for (let round = 0; round < runs; round++) {
    // Rotate the order each round so no mode always runs right after another.
    for (let k = 0; k < modes.length; k++) runOnce(modes[(k + round) % modes.length]);
    process.stderr.write(`\rround ${round + 1}/${runs}`);
  }
  process.stderr.write("\n");

  const plain = results.get(modes[0])!;
  const plainWall = median(plain.wall);
  const plainWork = median(plain.work);
  const plainCpu = median(plain.cpu);
  const rows = [[
    "mode",
    "interval",
    "wall (s)",
    "x plain",
    "work (s)",
    "x plain",
    "work cpu (s)",
    "x plain",
    "start (ms)",
    "exit (ms)",
    "samples/s",
    "achieved",
  ]];
  for (const mode of modes) {
    const m = results.get(mode)!;
    const wall = median(m.wall);
    const work = median(m.work);
    const cpu = median(m.cpu);
    const rate = m.rate.length ? median(m.rate) : 0;
    rows.push([
      mode.name,
      mode.interval ? (mode.interval >= 1000 ? `${mode.interval / 1000} ms` : `${mode.interval} us`) : "-",
      (wall / 1000).toFixed(3),
      (wall / plainWall).toFixed(3),
      (work / 1000).toFixed(3),
      (work / plainWork).toFixed(3),
      (cpu / 1000).toFixed(3),
      (cpu / plainCpu).toFixed(3),
      median(m.start).toFixed(0),
      median(m.exit).toFixed(0),
      rate ? rate.toFixed(0) : "-",
      rate ? (rate > 1000 ? `${(1e6 / rate).toFixed(0)} us` : `${(1000 / rate).toFixed(2)} ms`) : "-",
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
  console.log(setup.footer ?? FOOTER);
}
