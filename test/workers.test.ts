// Worker threads (runtimes/workers): a session carries each worker's own session (Session.threads, .tsprof format
// 4), the renderers show one section / profile per thread, and the CLI profiles every worker the program starts:
// Node's worker_threads, Deno's and Bun's Web Workers (test/fixtures/worker-spin.ts picks the kind).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { gunzipSync } from "node:zlib";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderSession, renderSessionOutput } from "../src/report.ts";
import { writeAllWhole } from "../src/cli/writable.ts";
import { combineSessions, decodeSession, encodeSession, SessionError } from "../session/session.ts";
import type { Session } from "../session/types.ts";
import { frame, makeSession, spread } from "./report-helpers.ts";
import { root, runOnThisRuntime, runtime } from "./runtime-helpers.ts";

const { Profile } = createRequire(import.meta.url)("pprof-format") as typeof import("pprof-format");
const TIMEOUT = 120_000;
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, LANG: "C.UTF-8", LC_ALL: undefined };

function withWorker(): Session {
  const main = makeSession([frame("main", "/app/main.ts", 1)], spread([[[0], 50]]), { program: "app.ts" });
  const worker = makeSession(
    [frame("<module>", "/app/worker.ts", 1), frame("crunch", "/app/worker.ts", 5)],
    spread([[[0, 1], 80], [[0], 20]]),
    { program: "worker.ts", thread: { id: 7, name: "worker 7" } },
  );
  return { ...main, threads: [worker] };
}

test("a session with threads saves as format 4 and loads back whole; one without stays format 2", () => {
  const s = withWorker();
  const bytes = encodeSession(s);
  assert.is(bytes[7], 4);
  const back = decodeSession(bytes, "t.tsprof");
  assert.is(back.threads?.length, 1);
  assert.equal(back.threads![0].meta.thread, { id: 7, name: "worker 7" });
  assert.equal(Array.from(back.threads![0].samples.stack), Array.from(s.threads![0].samples.stack));
  assert.equal(back.threads![0].frames, s.threads![0].frames);
  assert.equal(Array.from(back.samples.time), Array.from(s.samples.time));
  assert.is(back.meta.thread, undefined);
  const { threads: _, ...plain } = s;
  assert.is(encodeSession(plain)[7], 2);
  assert.is(encodeSession({ ...plain, threads: [] })[7], 2);
});

test("a damaged format 4 file fails with one line naming the file", () => {
  const bytes = encodeSession(withWorker());
  const refuses = (b: Uint8Array): string => {
    try {
      decodeSession(b, "w.tsprof");
    } catch (err) {
      assert.instance(err, SessionError);
      return (err as Error).message;
    }
    throw new Error("accepted a damaged file");
  };
  assert.match(refuses(bytes.subarray(0, bytes.length - 3)), /^w\.tsprof: /);
  assert.match(refuses(bytes.subarray(0, 12)), /^w\.tsprof: truncated/);
  const extra = new Uint8Array(bytes.length + 1);
  extra.set(bytes);
  assert.match(refuses(extra), /left over/);
  const zero = bytes.slice();
  zero[9] = 0; // no sessions at all
  assert.match(refuses(zero), /thread count/);
});

test("combine keeps both runs' threads, each its own", () => {
  const a = withWorker();
  const both = combineSessions(a, withWorker());
  assert.is(both.threads?.length, 2);
  assert.is(both.samples.stack.length, 2 * a.samples.stack.length);
  const { threads: _, ...plain } = a;
  assert.is(combineSessions(plain, plain).threads, undefined);
});

test("text: the main thread's report, then one section per worker under its own header line", () => {
  const out = renderSession(withWorker(), { unicode: false });
  const main = out.indexOf("Thread: main");
  const worker = out.indexOf("Thread: worker 7  worker.ts  Duration: 0.100  Samples: 100");
  assert.ok(main > out.indexOf("Program: app.ts") && worker > main, out);
  assert.ok(out.indexOf("main  main.ts:1") > main && out.indexOf("main  main.ts:1") < worker, out);
  assert.ok(out.indexOf("crunch") > worker, out);
  const { threads: _, ...plain } = withWorker();
  assert.not.match(renderSession(plain), /Thread:/);
});

test("json: a threads array of reports of the same shape, with thread_id and thread_name", () => {
  const data = JSON.parse(renderSession(withWorker(), { renderer: "json" }));
  assert.is(data.program, "app.ts");
  assert.is(data.threads.length, 1);
  const t = data.threads[0];
  assert.is(t.thread_id, 7);
  assert.is(t.thread_name, "worker 7");
  assert.is(t.program, "worker.ts");
  assert.is(t.sample_count, 100);
  assert.is(t.root_frame.children[0].children[0].function, "crunch");
  const { threads: _, ...plain } = withWorker();
  assert.is(JSON.parse(renderSession(plain, { renderer: "json" })).threads, undefined);
});

test("speedscope: one profile per thread over shared frames; tsprof keeps the threads", () => {
  const data = JSON.parse(renderSession(withWorker(), { renderer: "speedscope" }));
  assert.is(data.profiles.length, 2);
  assert.is(data.profiles[1].name, "worker 7 (worker.ts)");
  const names = data.shared.frames.map((f: { name: string }) => f.name);
  for (const p of data.profiles) for (const s of p.samples) for (const i of s) assert.ok(i < names.length);
  assert.ok(data.profiles[1].samples.some((s: number[]) => names[s[s.length - 1]] === "crunch"));
  const bytes = renderSessionOutput(withWorker(), { renderer: "tsprof" }) as Uint8Array;
  assert.is(decodeSession(bytes).threads?.length, 1);
});

test("pprof: every thread's samples in one profile, each labelled with its thread", () => {
  const p = Profile.decode(gunzipSync(renderSessionOutput(withWorker(), { renderer: "pprof" }) as Uint8Array));
  const str = (i: unknown) => p.stringTable.strings[Number(i)];
  const wall = new Map<string, number>();
  for (const s of p.sample) {
    assert.is(s.label.length, 1);
    assert.is(str(s.label[0].key), "thread");
    const name = str(s.label[0].str);
    wall.set(name, (wall.get(name) ?? 0) + Number(s.value[1]));
  }
  assert.equal([...wall.keys()].sort(), ["main", "worker 7"]);
  assert.ok(wall.get("worker 7")! > wall.get("main")!, "the worker ran 100 ms, the main thread 50");
  const { threads: _, ...plain } = withWorker();
  const single = Profile.decode(gunzipSync(renderSessionOutput(plain, { renderer: "pprof" }) as Uint8Array));
  assert.ok(single.sample.every((s) => s.label.length === 0), "no label without workers");
});

test("collapsed: each thread's stacks under its thread's name; no prefix without workers", () => {
  const lines = renderSession(withWorker(), { renderer: "collapsed" }).trim().split("\n");
  assert.ok(lines.every((l) => l.startsWith("main;") || l.startsWith("worker 7;")), lines.join("\n"));
  assert.ok(
    lines.some((l) => /^worker 7;<module> \(worker\.ts:1\);crunch \(worker\.ts:5\) 80000$/.test(l)),
    lines.join("\n"),
  );
  const { threads: _, ...plain } = withWorker();
  assert.ok(renderSession(plain, { renderer: "collapsed" }).startsWith("main (main.ts:1) "));
});

/** The CLI on this runtime in `cwd`, its cache there too (runs are kept). */
function cli(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(...runOnThisRuntime(join(root, "src", "cli", "main.ts"), args), {
    cwd,
    env: { ...ENV, XDG_CACHE_HOME: cwd },
    timeout: TIMEOUT,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The function names of a .cpuprofile's nodes. */
function cpuprofileNames(text: string): string[] {
  return JSON.parse(text).nodes.map((n: { callFrame: { functionName: string } }) => n.callFrame.functionName);
}

test("cpuprofile: -o writes each worker's profile beside the main one; to a stream, the main thread's and a note", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-workers-"));
  try {
    // A combined session repeats the workers' ids: each file still has a name of its own.
    writeFileSync(join(dir, "w.tsprof"), encodeSession(combineSessions(withWorker(), withWorker())));
    mkdirSync(join(dir, "out"));
    const r = cli(["--load", "w.tsprof", "-o", "out/y.cpuprofile"], dir);
    assert.is(r.status, 0, r.stderr);
    assert.is(
      r.stderr,
      "tsprofile: report written to out/y.cpuprofile, its worker threads' to out/y.worker-7.cpuprofile, " +
        "out/y.worker-7-2.cpuprofile\n",
    );
    assert.equal(readdirSync(join(dir, "out")).sort(), [
      "y.cpuprofile",
      "y.worker-7-2.cpuprofile",
      "y.worker-7.cpuprofile",
    ]);
    const main = cpuprofileNames(readFileSync(join(dir, "out", "y.cpuprofile"), "utf8"));
    assert.ok(main.includes("main") && !main.includes("crunch"), main.join());
    for (const name of ["y.worker-7.cpuprofile", "y.worker-7-2.cpuprofile"]) {
      const names = cpuprofileNames(readFileSync(join(dir, "out", name), "utf8"));
      assert.ok(names.includes("crunch") && !names.includes("main"), names.join());
    }

    // No file to put them beside: the main thread's profile, and one line on how to get the workers'.
    const stream = cli(["--load", "w.tsprof", "-r", "cpuprofile"], dir);
    assert.is(stream.status, 0, stream.stderr);
    assert.ok(cpuprofileNames(stream.stdout).includes("main"));
    assert.is(
      stream.stderr,
      "tsprofile: the .cpuprofile holds the main thread only: -o FILE.cpuprofile writes its 2 worker threads' " +
        "profiles beside it\n",
    );

    // A worker's file that cannot be written: one line, exit 2, and none of the files.
    mkdirSync(join(dir, "z.worker-7-2.cpuprofile"));
    const failed = cli(["--load", "w.tsprof", "-o", "z.cpuprofile"], dir);
    assert.is(failed.status, 2);
    assert.match(
      failed.stderr,
      /^tsprofile: cannot write the workers' profiles: .* is a directory; nothing written\n$/,
    );
    assert.equal(readdirSync(dir).filter((f) => f.startsWith("z.")), ["z.worker-7-2.cpuprofile"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeAllWhole: a write that fails leaves every old file as it was and no temporary one", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-workers-"));
  try {
    writeFileSync(join(dir, "a.cpuprofile"), "old");
    assert.throws(() => writeAllWhole([[join(dir, "a.cpuprofile"), "new"], [join(dir, "no-dir", "b"), "new"]]));
    assert.equal(readdirSync(dir), ["a.cpuprofile"]);
    assert.is(readFileSync(join(dir, "a.cpuprofile"), "utf8"), "old");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Node {
  function: string;
  time: number;
  children: Node[];
}
interface Report {
  duration: number;
  root_frame: Node | null;
  threads?: Array<{ thread_name: string; duration: number; root_frame: Node | null }>;
}

/** Total time of the nodes named `name` that are not under another one of them. */
function timeOf(node: Node | null, name: string): number {
  if (!node) return 0;
  if (node.function === name) return node.time;
  return node.children.reduce((sum, c) => sum + timeOf(c, name), 0);
}

/** The main thread's [await] under the fixture's top level: its wait for the worker's message. */
function awaitedAtTop(report: Report): number {
  const top = report.root_frame?.children.find((c) => c.function === "<module>") ?? null;
  return timeOf(top, "[await]");
}

/** The CLI on the fixture; the JSON report from stderr, the fixture's own line from stdout. */
function profileFixture(mode: string): { status: number | null; report: Report; measured: { spun: number } } {
  const { status, report, stdout, stderr } = runFixture(mode);
  const line = stdout.split("\n").find((l) => l.startsWith('{"spun"'));
  assert.ok(line, `no line from the worker (stdout: ${stdout}, stderr: ${stderr})`);
  return { status, report, measured: JSON.parse(line!) };
}

function runFixture(
  mode: string,
  env: Record<string, string | undefined> = ENV,
): { status: number | null; report: Report; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-workers-"));
  try {
    const cli = join(root, "src", "cli", "main.ts");
    const fixture = join(root, "test", "fixtures", "worker-spin.ts");
    const r = spawnSync(...runOnThisRuntime(cli, ["-r", "json", fixture, mode, "3"]), {
      cwd: dir,
      env,
      timeout: TIMEOUT,
      maxBuffer: 64 << 20,
    });
    if (r.error) throw r.error;
    const stderr = r.stderr.toString();
    const at = stderr.indexOf('{"start_time"');
    assert.ok(at >= 0, `no report (stderr: ${stderr})`);
    return { status: r.status, report: JSON.parse(stderr.slice(at)), stdout: r.stdout.toString(), stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// TSPROFILE_DENO_WORKERS=0 leaves Deno's Web Workers unprofiled (runtimes/workers/main.ts says why): there the
// worker is not a thread of the report, and the program and its main thread's report are as without workers.
const denoWorkers = runtime !== "deno" || process.env.TSPROFILE_DENO_WORKERS !== "0";
for (const mode of runtime === "deno" ? ["end", "throw"] : []) {
  test(`CLI on Deno, TSPROFILE_DENO_WORKERS=0: a worker that ${mode}s is not profiled, the rest intact`, () => {
    const { status, report } = runFixture(mode, { ...ENV, TSPROFILE_DENO_WORKERS: "0" });
    assert.is(status, 3);
    assert.ok(report.root_frame, "the main thread's report is there");
    assert.is(report.threads, undefined);
    assert.ok(awaitedAtTop(report) > 0.2, "the main thread waits for the worker: [await] under its top level");
  });
}

test("CLI: a worker terminated as it ends by itself (jest-worker's end()) gives its profile, and no false line", () => {
  // The worker, on its way out, writes its profile instead of answering the stop request: the wait ends when the
  // profile is written or the worker exits (before, it ran out its 1 s and said the profile was lost).
  const { status, report, stderr } = runFixture("exiting");
  assert.is(status, 3);
  assert.not.match(stderr, /did not answer/);
  assert.is(report.threads?.length ?? 0, denoWorkers ? 1 : 0, "the worker's own section");
});

for (const mode of denoWorkers ? ["end", "terminate", "throw"] : []) {
  test(`CLI: a worker that ${mode === "end" ? "ends" : mode + "s"} is its own thread, its spin within a few points`, () => {
    // A burst of load on a shared 2-core machine can starve one run's sampler (on Bun a starved sampler's gap is
    // idle time): up to three tries for the share; the rest must hold on every try.
    let failure = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const { status, report, measured } = profileFixture(mode);
      // The program's exit code passes through, whichever way its worker ended.
      assert.is(status, 3);
      assert.ok(report.root_frame, "the main thread's report is there");
      assert.is(timeOf(report.root_frame, "spinInWorker"), 0, "the worker's time is not the main thread's");
      // The main thread waits for the worker's report from the worker's start: [await] under the code that started it.
      const awaited = awaitedAtTop(report);
      assert.ok(awaited >= measured.spun / 2000, `main [await] ${awaited} s for a ${measured.spun} ms spin`);
      assert.is(report.threads?.length, 1, JSON.stringify(report.threads?.map((t) => t.thread_name)));
      const thread = report.threads![0];
      const spin = timeOf(thread.root_frame, "spinInWorker");
      // Its share of the worker's wall time against the share the worker measured: wide enough for a busy
      // machine, far narrower than the whole spin.
      const share = spin / thread.duration;
      const expected = measured.spun / 1000 / thread.duration;
      if (Math.abs(share - expected) < 0.15) return;
      failure = `spinInWorker ${spin.toFixed(3)} s against ${measured.spun} ms in ${thread.duration} s`;
    }
    assert.unreachable(`three tries off by more than 15 points; the last: ${failure}`);
  });
}

if (denoWorkers) {
  test("CLI: -o x.cpuprofile writes the main thread there and the worker beside it, each loading back", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsprofile-workers-"));
    try {
      const fixture = join(root, "test", "fixtures", "worker-spin.ts");
      const r = cli(["-o", "x.cpuprofile", fixture, "end", "3"], dir);
      assert.is(r.status, 3, r.stderr);
      const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort();
      assert.is(files.length, 2, files.join());
      assert.is(files[0], "x.cpuprofile");
      assert.match(files[1], /^x\.worker-\d+\.cpuprofile$/);
      assert.ok(
        r.stderr.includes(`tsprofile: report written to x.cpuprofile, its worker threads' to ${files[1]}\n`),
        r.stderr,
      );
      // Read back as --load reads them: the spin is the worker's alone, and each thread's awaits are [await].
      const load = (file: string): Report => {
        const loaded = cli(["--load", file, "-r", "json"], dir);
        assert.is(loaded.status, 0, loaded.stderr);
        return JSON.parse(loaded.stdout);
      };
      const main = load("x.cpuprofile");
      assert.is(timeOf(main.root_frame, "spinInWorker"), 0, "the worker's time is not the main thread's");
      assert.ok(awaitedAtTop(main) > 0, "the main thread waits for the worker: [await] under its top level");
      const worker = load(files[1]);
      assert.ok(timeOf(worker.root_frame, "spinInWorker") > 0, "the worker's spin is in its own file");
      assert.ok(timeOf(worker.root_frame, "[await]") > 0, "the worker's await of its timer is [await]");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// Deno 2.9 itself never ends a program whose busy Web Worker it was asked to terminate() (with or without
// tsprofile), so this case cannot run there.
if (runtime !== "deno") {
  test("CLI: a worker terminated while it spins for good loses its own profile, never the main thread's", () => {
    const { status, report, stderr } = runFixture("busy");
    assert.is(status, 3);
    assert.ok(report.root_frame, "the main thread's report is there");
    assert.is(report.threads, undefined);
    // Said when the worker was ready to answer before terminate() (it almost always is: it is 300 ms old).
    if (stderr.includes("did not answer")) {
      assert.match(stderr, /tsprofile: worker \d+ did not answer within 1000 ms of terminate\(\): its profile is lost/);
    }
  });
}

test.run();
