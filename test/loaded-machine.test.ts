// The gap rule on a loaded machine (core-rs/SPEC.md §1, running gap), through the CLI on the runtime under test:
// two CPU hogs (bounded loops in child processes, killed in a finally) keep both cores busy beside the program.
// V8 (Node, Deno) samples idle as (idle), and on Linux the Bun sampler places idle samples where the kernel says its
// thread waited in the event loop (runtimes/bun/runnable.ts), so a silence of a starved sampler between two running
// samples is running time: a program that never waits shows no [idle] while it runs (before: 2-24% of it).
// The split of cli-split.ts (A spins 7 ms, B 3 ms) is compared with the program's own measurement, within 2 points.
// Under two hogs most of the run lies in silences of tens of milliseconds, each judged by the samples around it,
// so a 3 s run scatters by 2-3 points whatever the rule: the run is 10 s, and 1 in 10 of those still misses by a
// little more (2.1 at most in 12 runs), so a second run decides. Elsewhere Bun's silences stay idle (a wait it
// cannot see would otherwise be shown as running code): its [idle] is printed, not asserted, and its split (its
// silences idle, whoever ran) is held to 6 points.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderSession } from "../src/report.ts";
import { SampleState } from "../session/types.ts";
import type { Session } from "../session/types.ts";
import { root, runOnThisRuntime, runtime } from "./runtime-helpers.ts";

const cli = join(root, "src", "cli", "main.ts");
const fixture = (name: string) => join("test", "fixtures", name);
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined };
/** Idle is sampled (meta.idleSampled): V8 does; the Bun sampler places it on Linux. */
const idleSampled = runtime !== "bun" || process.platform === "linux";

interface Frame {
  function: string;
  time: number;
  children: Frame[];
}

/** Two busy loops on a Node binary, each bounded to 3 minutes should a kill be missed. */
async function startHogs(): Promise<ChildProcess[]> {
  const node = runtime === "node" ? process.execPath : join(root, "test", "runtimes", "node_modules", ".bin", "node");
  const hogs = [0, 1].map(() =>
    spawn(node, ["-e", "const end = Date.now() + 180000; while (Date.now() < end);"], { stdio: "ignore" })
  );
  await new Promise((r) => setTimeout(r, 300)); // both spinning before the program starts
  return hogs;
}

function stopHogs(hogs: ChildProcess[]): void {
  for (const h of hogs) h.kill("SIGKILL");
}

/** The CLI's JSON report of `args`, nothing filtered away; and the program's stdout. */
function profile(args: string[]): { root: Frame; stdout: string } {
  const r = spawnSync(...runOnThisRuntime(cli, ["-r", "json", "-p", "filter_threshold=0", ...args]), {
    cwd: root,
    env: ENV,
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.is(r.status, 0, r.stderr);
  return { root: JSON.parse(r.stderr.slice(r.stderr.indexOf("{"))).root_frame, stdout: r.stdout };
}

/** Sum of the time of the nodes named `name` that have no ancestor of that name. */
function timeOf(frame: Frame, name: string): number {
  if (frame.function === name) return frame.time;
  return frame.children.reduce((t, c) => t + timeOf(c, name), 0);
}

const pct = (x: number) => `${x.toFixed(2)}%`;

test("a program that never waits, beside two CPU hogs: no [idle] while it runs, under 1% in all", async () => {
  const hogs = await startHogs();
  try {
    // Timeline mode: the root's children in time order, so the span of the program's own spin can be told apart
    // from the start-up and the exit around it (Node 20's loader hooks answer asynchronously: while its hooks
    // thread is starved the main thread really idles, and V8 samples that as idle).
    const { root: tree } = profile(["-t", fixture("loaded-spin.mjs")]);
    const top = tree.children;
    const spinning = top.map((c) => timeOf(c, "spinFor") > 0);
    const first = spinning.indexOf(true);
    const last = spinning.lastIndexOf(true);
    assert.ok(first >= 0, "spinFor is in the profile");
    let during = 0;
    let idleDuring = 0;
    for (let i = first; i <= last; i++) {
      during += top[i].time;
      idleDuring += timeOf(top[i], "[idle]");
    }
    const all = (100 * timeOf(tree, "[idle]")) / tree.time;
    const inside = (100 * idleDuring) / during;
    console.log(`    ${runtime}: [idle] ${pct(inside)} of the spin (${during.toFixed(3)} s), ${pct(all)} of the run`);
    assert.ok(during > 1.2, `the spin took ${during} s`);
    if (!idleSampled) return console.log("    (not asserted: no idle samples, the silences stay idle)");
    assert.ok(inside < 1, `[idle] ${pct(inside)} of the spin`);
    // Around the program, two spans stay idle whatever the load: on Node 20 its loader's waits for the hooks
    // thread (V8 samples them as idle), on Deno the span before the first sample, V8's profiler starting up (tens
    // of ms under load; SPEC.md §1 keeps it idle rather than give it to the program's first function).
    const node24 = runtime === "node" && Number(process.versions.node.split(".")[0]) >= 24;
    if (node24) assert.ok(all < 1, `[idle] ${pct(all)} of the run`);
    else console.log("    (the whole run asserted on Node 24 only: Node 20's loader waits, Deno's and Bun's start)");
  } finally {
    stopHogs(hogs);
  }
});

test("a 70/30 split beside two CPU hogs stays within 2 points of the program's own measurement", async () => {
  const hogs = await startHogs();
  try {
    const bound = idleSampled ? 2 : 6;
    if (!idleSampled) console.log("    (held to 6 points: no idle samples, so the silences stay idle)");
    let share = 0;
    let measured = 0;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { root: tree, stdout } = profile([fixture("cli-split.ts"), "1000"]);
      const truth = JSON.parse(stdout.trim().split("\n").pop()!);
      const a = timeOf(tree, "A");
      const b = timeOf(tree, "B");
      share = (100 * a) / (a + b);
      measured = (100 * truth.A) / (truth.A + truth.B);
      const idle = (100 * timeOf(tree, "[idle]")) / tree.time;
      const figures = `A ${pct(share)} of A + B, measured ${pct(measured)}; [idle] ${pct(idle)}`;
      console.log(`    ${runtime} (run ${attempt}): ${figures}`);
      if (Math.abs(share - measured) <= bound) break;
    }
    assert.ok(Math.abs(share - measured) <= bound, `A's share ${pct(share)} vs measured ${pct(measured)}`);
  } finally {
    stopHogs(hogs);
  }
});

test("a V8-like session with a 100 ms silence between two running samples: no [idle] with idleSampled", () => {
  // main > work sampled every 1 ms, but for a 100 ms silence after 49 ms (a starved sampler).
  const time: number[] = [];
  for (let t = 0; t < 50_000; t += 1000) time.push(t);
  for (let t = 149_000; t < 200_000; t += 1000) time.push(t);
  const session = (idleSampled: boolean): Session => ({
    version: 1,
    meta: {
      startTime: 0,
      duration: 200_000,
      cpuTime: -1,
      interval: 1000,
      gapCap: 20_000,
      idleSampled,
      program: "x",
      cwd: "/app",
      runtime: "test",
      startStack: [],
    },
    frames: [
      { name: "main", file: "/app/main.js", line: 1, col: 1, kind: "js" },
      { name: "work", file: "/app/main.js", line: 2, col: 1, kind: "js" },
    ],
    stacks: { parent: Int32Array.of(-1, 0), frame: Uint32Array.of(0, 1) },
    samples: {
      stack: new Int32Array(time.length).fill(1),
      time: Float64Array.from(time),
      state: new Uint8Array(time.length).fill(SampleState.js),
    },
  });
  const report = (s: Session): Frame => JSON.parse(renderSession(s, { renderer: "json" }) as string).root_frame;
  const withFlag = report(session(true));
  assert.is(timeOf(withFlag, "[idle]"), 0);
  assert.is(timeOf(withFlag, "work"), 0.2);
  // Without it (Bun off Linux): the 80 ms past the 20 ms cap are idle.
  const without = report(session(false));
  assert.ok(Math.abs(timeOf(without, "[idle]") - 0.08) < 1e-9, `${timeOf(without, "[idle]")}`);
  assert.ok(Math.abs(timeOf(without, "work") - 0.12) < 1e-9);
});

test.run();
