// runtimes: node20 node24 -- CPU time per sample comes from the native Node sampler only
// CPU time beside wall time, end to end: the CLI on Node with the addon profiles a function that spins
// and one that awaits a timer, saves the session, and the reports loaded from it give the spinning function about
// the CPU time it measured itself and the awaiting one's [await] next to none.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { addonPath, loadAddon } from "../runtimes/node/addon-sampler.ts";
import { root, runOnThisRuntime } from "./runtime-helpers.ts";

const cliSource = join(root, "src", "cli", "main.ts");
const fixture = join(root, "test", "fixtures", "cpu-split.ts");
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, TSPROFILE_NO_ADDON: undefined };
const dir = mkdtempSync(join(tmpdir(), "tsprofile-cpu-"));

interface Frame {
  function: string;
  time: number;
  cpu_time?: number;
  children: Frame[];
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(...runOnThisRuntime(cliSource, args), { cwd: root, env: ENV, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function nodes(root: Frame): Frame[] {
  const out: Frame[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    stack.push(...n.children);
  }
  return out;
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test("the addon's CPU time reaches the reports: a spinning function's, and next to none for an await", () => {
  const { binding, warning } = loadAddon();
  if (!binding) {
    assert.unreachable(
      `the addon is not usable on Node ${process.version}: ${warning ?? `${addonPath()} is not built`}`,
    );
  }
  const saved = join(dir, "run.tsprof");
  const run = cli(["-o", saved, fixture]);
  assert.is(run.status, 0, run.stderr);
  const truth = JSON.parse(run.stdout.trim().split("\n").pop()!) as { busyCpu: number; busyWall: number };

  const json = cli(["--load", saved, "-r", "json"]);
  assert.is(json.status, 0, json.stderr);
  const all = nodes(JSON.parse(json.stdout).root_frame as Frame);
  for (const n of all) assert.type(n.cpu_time, "number", `${n.function} has cpu_time`);
  const sum = (name: string, key: "time" | "cpu_time") =>
    all.filter((n) => n.function === name).reduce((a, n) => a + (n[key] ?? 0), 0);

  // busy: the CPU time the program measured around its loops (in ms) is on busy, and it is most of busy's wall
  // time unless the machine took the CPU away from the program as often (the program's own ratio says how much).
  const busyWall = sum("busy", "time") * 1000;
  const busyCpu = sum("busy", "cpu_time") * 1000;
  assert.ok(busyWall > 150, `busy shows ${busyWall} ms of 300`);
  const detail = `busy: ${busyCpu.toFixed(1)} ms CPU of ${busyWall.toFixed(1)} ms wall; measured ${
    truth.busyCpu.toFixed(1)
  } of ${truth.busyWall.toFixed(1)}`;
  assert.ok(busyCpu >= 0.6 * truth.busyCpu && busyCpu <= 1.25 * truth.busyCpu + 5, detail);
  assert.ok(busyCpu / busyWall >= 0.6 * Math.min(1, truth.busyCpu / truth.busyWall), detail);

  // waiting: 300 ms awaited, as [await] under it (under the promise's executor), with next to no CPU time.
  const waiting = all.filter((n) => n.function === "waiting");
  const awaits = waiting.flatMap((n) => nodes(n).filter((c) => c.function === "[await]"));
  const awaitWall = awaits.reduce((a, n) => a + n.time, 0) * 1000;
  const awaitCpu = awaits.reduce((a, n) => a + (n.cpu_time ?? 0), 0) * 1000;
  assert.ok(awaitWall > 200, `[await] under waiting: ${awaitWall} ms of 300`);
  assert.ok(awaitCpu <= 0.05 * awaitWall, `[await] under waiting: ${awaitCpu} ms of CPU in ${awaitWall} ms`);

  // The text report shows it when asked, and only then.
  const text = cli(["--load", saved, "-p", "show_cpu=true", "--no-color"]);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stderr + text.stdout, /\d\.\d{3} busy {2}test\/fixtures\/cpu-split\.ts:\d+ \(cpu \d\.\d{3}\)/);
  const plain = cli(["--load", saved, "--no-color"]);
  assert.not.match(plain.stderr + plain.stdout, /\(cpu /);
});

test.run();
