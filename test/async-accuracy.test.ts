// Await attribution end to end through the CLI (-r json) on the runtime under test: A awaits ~7 ms (a timer, a
// slow HTTP server in another process, an fs.read of a FIFO answered 7 ms later), B spins 3 ms, 300 times. A's and B's shares
// of the profile are compared with what the fixture measured itself with performance.now().
// TSPROFILE_ACCURACY_TABLE=1 also prints the shares of `node --cpu-prof` (raw .cpuprofile) for comparison.
//
// The 3-point bound is checked with TSPROFILE_ACCURACY_STRICT=1 and is not met everywhere yet, for reasons
// outside the waits: V8 and JSC take the first sample after a wake-up 1.5-3.5 ms late, so in 7-10% of rounds (V8)
// and a third or more (Bun: JSC takes ~0.8 samples per 3 ms burst at 1 ms) the 3 ms spin gets no sample at all and
// its time is unknown (idle); the HTTP response's parsing runs in the event loop, outside A's stack. By default the
// test checks A within 8 points (14 for HTTP: Node 20 with the native sampler measures 11-12 under, ~3 of them module
// loading shown before the fixture's own clock starts) and B within 8 (Bun 14) on every runtime: wide enough for a machine
// shared with other work, narrow enough to fail without await attribution (A ~0%) or the wake-up rule (V8: B -12).
// When the cores were over 3/4 busy during the run (/proc/stat), B is checked for what stays true under load: never
// over the truth, and what it lacks shown as idle.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { coresBusyDuring, LOADED, root, runOnThisRuntime, runtime } from "./runtime-helpers.ts";

const cli = join(root, "src", "cli", "main.ts");
const fixture = join(root, "test", "fixtures", "async-accuracy.ts");
const TOLERANCE = 3;

interface Node {
  function: string;
  time: number;
  children: Node[];
}

/** Inclusive time of every node named `name` that has no ancestor of that name. */
function timeOf(n: Node, name: string): number {
  if (n.function === name) return n.time;
  let t = 0;
  for (const c of n.children) t += timeOf(c, name);
  return t;
}

function nodeBin(): string {
  return runtime === "node" ? process.execPath : join(root, "test", "runtimes", "node_modules", ".bin", "node");
}

async function startServer(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(nodeBin(), [join(root, "test", "fixtures", "async-server.mjs")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("error", reject);
  });
  return { port, stop: () => child.stdin!.end() };
}

/** Two FIFOs and the feeder process that answers each request on them 7 ms later. */
function startFeeder(): { base: string; stop: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-fifo-"));
  const base = join(dir, "fifo");
  execFileSync("mkfifo", [`${base}.req`, `${base}.resp`]);
  const child = spawn(nodeBin(), [join(root, "test", "fixtures", "async-feeder.mjs"), base], { stdio: "ignore" });
  return {
    base,
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Shares {
  truthA: number;
  truthB: number;
  a: number;
  b: number;
  /** The [idle] share. */
  idle: number;
  /** How busy the machine's cores were over the run (0-1; 0 where /proc/stat is not). */
  busy: number;
}

function profile(args: string[]): Shares {
  const { result: r, busy } = coresBusyDuring(() =>
    spawnSync(...runOnThisRuntime(cli, ["-r", "json", fixture, ...args]), {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000,
    })
  );
  assert.is(r.status, 0, r.stderr);
  const truth = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  const report = JSON.parse(r.stderr);
  const total = report.root_frame.time;
  return {
    truthA: (100 * truth.a) / truth.total,
    truthB: (100 * truth.b) / truth.total,
    a: (100 * timeOf(report.root_frame, "awaitSomething")) / total,
    b: (100 * timeOf(report.root_frame, "spinThree")) / total,
    idle: (100 * timeOf(report.root_frame, "[idle]")) / total,
    busy,
  };
}

/** node --cpu-prof on the same fixture: share of samples in A's and B's subtrees (the raw .cpuprofile). */
function cpuProf(args: string[]): { a: number; b: number } {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-cpuprof-"));
  try {
    spawnSync(nodeBin(), [
      "--cpu-prof",
      "--cpu-prof-dir",
      dir,
      "--import",
      join(root, "runtimes", "loader", "register.mjs"),
      fixture,
      ...args,
    ], {
      encoding: "utf8",
      timeout: 120_000,
    });
    const p = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), "utf8"));
    const parent = new Map<number, number>();
    const byId = new Map<number, { callFrame: { functionName: string } }>();
    for (const n of p.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    const under = (id: number, name: string): boolean => {
      for (let i: number | undefined = id; i !== undefined; i = parent.get(i)) {
        if (byId.get(i)!.callFrame.functionName === name) return true;
      }
      return false;
    };
    let a = 0;
    let b = 0;
    for (const s of p.samples) {
      if (under(s, "awaitSomething")) a++;
      else if (under(s, "spinThree")) b++;
    }
    return { a: (100 * a) / p.samples.length, b: (100 * b) / p.samples.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** fresh(): the fixture's arguments for one run, and how to clean up after it (a feeder serves one run). */
function check(label: string, args: string[], fresh?: () => { args: string[]; stop: () => void }): void {
  const run = <T>(fn: (a: string[]) => T): T => {
    if (!fresh) return fn(args);
    const f = fresh();
    try {
      return fn(f.args);
    } finally {
      f.stop();
    }
  };
  // A shared machine preempts the fixture's spins and the samplers alike: up to 3 tries, the first within bounds wins.
  let failure = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    const s = run(profile);
    let row = `${runtime.padEnd(5)} ${label.padEnd(6)} truth A ${s.truthA.toFixed(1)} B ${
      s.truthB.toFixed(1)
    } | ours A ${s.a.toFixed(1)} B ${s.b.toFixed(1)} idle ${s.idle.toFixed(1)} | cores ${
      (100 * s.busy).toFixed(0)
    }% busy`;
    if (process.env.TSPROFILE_ACCURACY_TABLE) {
      const c = run(cpuProf);
      row += ` | node --cpu-prof A ${c.a.toFixed(1)} B ${c.b.toFixed(1)}`;
    }
    console.log(row);
    const boundA = process.env.TSPROFILE_ACCURACY_STRICT ? TOLERANCE : label === "http" ? 14 : 8;
    // Bun: JSC samples a 3 ms burst after a wake-up ~0.8 times at 1 ms (measured on bun:jsc alone, quiet machine).
    const boundB = process.env.TSPROFILE_ACCURACY_STRICT ? TOLERANCE : runtime === "bun" ? 14 : 8;
    failure = "";
    if (Math.abs(s.a - s.truthA) > boundA) failure += `A: ours ${s.a.toFixed(1)} vs truth ${s.truthA.toFixed(1)}. `;
    // On a machine busier than its cores, V8's sampling thread waits for a core while the program's thread runs,
    // and misses whole 3 ms spins: no sample says what ran (Node 20 under two CPU hogs: B 11-22 against 34). The
    // program alone keeps the cores under half busy. What stays true under load is where the unseen time goes: to
    // idle, never to A or other code; B is never over-counted.
    const loaded = s.busy > LOADED;
    const bOk = loaded
      ? s.b <= s.truthB + boundB && s.b + s.idle >= s.truthB - boundB
      : Math.abs(s.b - s.truthB) <= boundB;
    if (!bOk) {
      failure += `B: ours ${s.b.toFixed(1)} (idle ${s.idle.toFixed(1)}, cores ${
        (100 * s.busy).toFixed(0)
      }% busy) vs truth ${s.truthB.toFixed(1)}.`;
    }
    if (!failure) return;
  }
  assert.unreachable(failure);
}

test("A awaits a 7 ms timer, B spins 3 ms: shares close to the truth", () => {
  check("timer", ["timer"]);
});

test("A awaits an HTTP request to a slow server on 127.0.0.1", async () => {
  const server = await startServer();
  try {
    check("http", ["http", String(server.port)]);
  } finally {
    server.stop();
  }
});

test("A awaits an fs.read of a FIFO answered 7 ms later", () => {
  check("fs", [], () => {
    const feeder = startFeeder();
    return { args: ["fs", feeder.base], stop: feeder.stop };
  });
});

test.run();
