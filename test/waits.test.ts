// The wait tracker (runtimes/awaits/tracker.ts, wrappers.ts): its wrappers pass everything through, the waits it
// records have sane times and stacks in the session's own frames (async callers included), and "disabled" records
// nothing.
import childProcess, { spawnSync } from "node:child_process";
import events, { once } from "node:events";
import { Readable, Writable } from "node:stream";
import streamPromises from "node:stream/promises";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSampler } from "../runtimes/index.ts";
import { parseStackString, type StackMode, WaitStacks } from "../runtimes/awaits/wait-stacks.ts";
import { startWaitTracker } from "../runtimes/awaits/tracker.ts";
import { decodeSession, encodeSession } from "../session/session.ts";
import type { Session } from "../session/types.ts";
import { runOnThisRuntime, runtime } from "./runtime-helpers.ts";

const file = join(tmpdir(), `tsprofile-waits-${process.pid}.txt`);
fs.writeFileSync(file, "hello waits\n");

function pathOf(s: Session, stack: number): string[] {
  const out: string[] = [];
  for (let i = stack; i >= 0; i = s.stacks.parent[i]) out.push(s.frames[s.stacks.frame[i]].name);
  return out.reverse();
}

let lateBody: http.ServerResponse | undefined;

async function withServer<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const server = http.createServer((req, res) => {
    if (req.url === "/slow") setTimeout(() => res.end("slow"), 30);
    else if (req.url === "/late-body") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("head ");
      lateBody = res; // ended by the test once the body is being read
    } else res.end("ok");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    return await fn((server.address() as { port: number }).port);
  } finally {
    server.close();
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  }
}

test("wrappers pass timers through: the same Timeout, its methods, arguments, this, promisify, clear", async () => {
  const tracker = startWaitTracker(() => performance.now());
  try {
    const got: unknown[] = [];
    const t = setTimeout((a: number, b: string) => got.push(a, b), 1, 7, "x");
    if (typeof t === "object") {
      assert.type((t as NodeJS.Timeout).ref, "function");
      assert.is((t as NodeJS.Timeout).hasRef(), true);
      (t as NodeJS.Timeout).unref();
      (t as NodeJS.Timeout).ref();
      assert.type(+t, "number");
    }
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(got, [7, "x"]);
    const cleared: number[] = [];
    const c = setTimeout(() => cleared.push(1), 1);
    clearTimeout(c);
    await promisify(setTimeout)(5);
    assert.is(await promisify(setTimeout)(1, "value"), "value");
    assert.throws(() => setTimeout(null as never, 1));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(cleared, []);
    assert.is(setTimeout.name, "setTimeout");
  } finally {
    tracker.stop();
  }
});

test("wrappers pass fs callbacks, fs promises and their errors through", async () => {
  const tracker = startWaitTracker(() => performance.now());
  try {
    const data = await new Promise<string>((res, rej) => fs.readFile(file, "utf8", (e, d) => (e ? rej(e) : res(d))));
    assert.is(data, "hello waits\n");
    const st = await promisify(fs.stat)(file);
    assert.is(st.size, 12);
    assert.is(await fsp.readFile(file, "utf8"), "hello waits\n");
    assert.is((await fs.promises.stat(file)).size, 12);
    const err = await new Promise<NodeJS.ErrnoException | null>((res) => fs.stat(file + ".missing", (e) => res(e)));
    assert.is(err?.code, "ENOENT");
    await fsp.readFile(file + ".missing").then(
      () => assert.unreachable("no such file"),
      (e) => assert.is(e.code, "ENOENT"),
    );
    assert.throws(() => fs.readFile(123 as never, "nope" as never, undefined as never));
    const fd = await promisify(fs.open)(file, "r");
    const buf = Buffer.alloc(5);
    const { bytesRead } = await promisify(fs.read)(fd, buf, 0, 5, 0);
    assert.is(bytesRead, 5);
    assert.is(buf.toString(), "hello");
    await promisify(fs.close)(fd);
  } finally {
    tracker.stop();
  }
  const rec = tracker.stop();
  assert.ok(rec.start.length >= 8, `waits: ${rec.start.length}`);
  for (let i = 0; i < rec.start.length; i++) assert.ok(rec.end[i] >= rec.start[i]);
});

test("wrappers pass fetch and http.request/get through, errors included", async () => {
  const tracker = startWaitTracker(() => performance.now());
  try {
    await withServer(async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.is(await res.text(), "ok");
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: "/slow" }, (r) => {
          let s = "";
          r.on("data", (d) => (s += d));
          r.on("end", () => resolve(s));
        });
        req.on("error", reject);
        req.end();
      });
      assert.is(body, "slow");
      const status = await new Promise<number>((resolve) =>
        http.get(`http://127.0.0.1:${port}/`, (r) => (r.resume(), resolve(r.statusCode!)))
      );
      assert.is(status, 200);
      const e = await new Promise<Error>((resolve) => {
        http.get("http://127.0.0.1:1/", () => {}).on("error", resolve);
      });
      assert.match(String((e as NodeJS.ErrnoException).code ?? e.message), /ECONNREFUSED|ConnectionRefused|connect/i);
      await fetch("http://127.0.0.1:1/").then(
        () => assert.unreachable("refused"),
        (err) => assert.ok(err instanceof Error),
      );
    });
  } finally {
    tracker.stop();
  }
  assert.ok(tracker.stop().start.length >= 4);
});

test("timers: a cleared one (by handle or by its number) and an unref'd one pending at stop are no waits", async () => {
  const clock = () => performance.now();
  const tracker = startWaitTracker(clock);
  let ran = 0;
  try {
    const fired = setTimeout(() => ran++, 1);
    const byHandle = setTimeout(() => ran++, 1);
    clearTimeout(byHandle);
    const byNumber = setTimeout(() => ran++, 1);
    clearTimeout(typeof byNumber === "object" ? (+byNumber as never) : byNumber);
    const unrefd = setTimeout(() => ran++, 60_000);
    if (typeof unrefd === "object") (unrefd as NodeJS.Timeout).unref();
    const refd = setTimeout(() => ran++, 60_000);
    await new Promise((r) => setTimeout(r, 20));
    const rec = tracker.stop();
    clearTimeout(refd);
    clearTimeout(unrefd);
    assert.is(ran, 1);
    void fired;
    // Recorded: the 1 ms timer that ran, the 20 ms sleep, and the ref'd 60 s timer still pending at stop.
    const ended = rec.start.map((s, i) => rec.end[i] - s);
    assert.is(rec.start.length, typeof unrefd === "object" ? 3 : 4, `durations ${ended.join(", ")}`);
    assert.ok(ended.filter((d) => d >= 15).length >= 2, `durations ${ended.join(", ")}`);
  } finally {
    tracker.stop();
  }
});

// Three call sites, two async callers deep; captured with each reading mode on this runtime.
function requestFrom(stacks: WaitStacks): number {
  return stacks.capture(requestFrom);
}
async function innerAwaiter(stacks: WaitStacks, refs: number[]): Promise<void> {
  await null;
  refs.push(requestFrom(stacks));
  refs.push(requestFrom(stacks));
}
async function outerAwaiter(stacks: WaitStacks, refs: number[]): Promise<void> {
  await innerAwaiter(stacks, refs);
  refs.push(requestFrom(stacks));
}

test("every stack mode (Node's sites, Deno's deferred, Bun's text) reads the same logical stacks", async () => {
  const got: Record<string, string[][]> = {};
  for (const mode of ["sites", "deferred", "text"] as StackMode[]) {
    const stacks = new WaitStacks(mode);
    const refs: number[] = [];
    for (let i = 0; i < 3; i++) await outerAwaiter(stacks, refs);
    const ids = refs.map((r) => stacks.resolve(r));
    assert.ok(ids.every((id) => id >= 0), `${mode}: ${ids}`);
    // Repeats intern to the same stack: the two calls on one line of innerAwaiter differ only by column.
    assert.is(new Set(ids).size, 3, `${mode}: ${ids}`);
    assert.is(ids[0], ids[3]);
    const names = (id: number) => stacks.stacks[id].map((s) => `${s.async ? "async " : ""}${s.name}`);
    got[mode] = ids.slice(0, 3).map((id) => names(id).filter((n) => /Awaiter/.test(n)));
    for (const s of stacks.stacks.flat()) assert.not.match(s.file, /runtimes[\\/]awaits[\\/]/);
  }
  assert.equal(got.sites[0], ["innerAwaiter", "async outerAwaiter"], JSON.stringify(got));
  if (runtime !== "bun") assert.equal(got.sites[2], ["outerAwaiter"], JSON.stringify(got));
  assert.equal(got.deferred, got.sites);
  assert.equal(got.text, got.sites);
});

test("stop restores every wrapped function", () => {
  const g = globalThis;
  const wrapped = () => [
    g.setTimeout,
    g.clearTimeout,
    g.fetch,
    fs.readFile,
    fsp.readFile,
    http.request,
    childProcess.execFile,
    events.once,
    streamPromises.pipeline,
  ];
  const before = wrapped();
  const tracker = startWaitTracker(() => performance.now());
  assert.is.not(fs.readFile, before[3]);
  tracker.stop();
  assert.equal(wrapped(), before);
});

async function sleepFor(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
async function readTwice(): Promise<void> {
  await sleepFor(1);
  await fsp.readFile(file);
}
async function awaitingCaller(): Promise<void> {
  await sleepFor(25);
  await readTwice();
}

test("recorded waits: session times, stacks in the session's frames with async callers, encoded, decoded", async () => {
  const sampler = startSampler({ interval: 1000 });
  const t0 = Date.now();
  await awaitingCaller();
  const spinEnd = Date.now() + 5;
  while (Date.now() < spinEnd);
  const session = sampler.stop();
  const elapsed = (Date.now() - t0) * 1000;
  const w = session.waits!;
  assert.ok(w, "session.waits");
  assert.ok(w.start.length >= 3, `waits: ${w.start.length}`);
  for (let i = 0; i < w.start.length; i++) {
    assert.ok(w.start[i] >= 0 && w.end[i] >= w.start[i], `wait ${i}: ${w.start[i]}..${w.end[i]}`);
    assert.ok(i === 0 || w.start[i] >= w.start[i - 1]);
    const after = `wait ${i} starts after the session (${w.start[i]} > ${session.meta.duration})`;
    assert.ok(w.start[i] <= session.meta.duration + 5000, after);
  }
  const long = [...w.start]
    .map((s, i) => ({ d: w.end[i] - s, path: pathOf(session, w.stack[i]) }))
    .find((x) => x.d >= 20_000);
  assert.ok(long, "the 25 ms timer is a wait of at least 20 ms");
  assert.ok(long!.d <= elapsed, `${long!.d} <= ${elapsed}`);
  assert.ok(long!.path.includes("awaitingCaller") && long!.path.includes("sleepFor"), long!.path.join(" > "));
  assert.ok(long!.path.indexOf("awaitingCaller") < long!.path.indexOf("sleepFor"));
  // The file read after a resumption: its async caller (awaitingCaller) is in the path, above readTwice.
  const read = [...w.stack]
    .map((s) => pathOf(session, s))
    .find((p) => p.at(-1) === "readTwice" || (p.includes("readTwice") && !p.includes("sleepFor")));
  assert.ok(read, "a wait requested by readTwice");
  const caller = read!.indexOf("awaitingCaller");
  if (runtime !== "bun") assert.ok(caller >= 0 && caller < read!.indexOf("readTwice"), read!.join(" > "));
  // Every frame of every wait stack is a real frame of the session; nothing of tsprofile's own.
  for (const s of w.stack) {
    for (let i = s; i >= 0; i = session.stacks.parent[i]) {
      const f = session.frames[session.stacks.frame[i]];
      assert.ok(f, "frame exists");
      assert.not.match(f.file, /runtimes\/waits\.ts/);
    }
  }
  const back = decodeSession(encodeSession(session));
  assert.equal(Array.from(back.waits!.start), Array.from(w.start));
  assert.equal(Array.from(back.waits!.end), Array.from(w.end));
  assert.equal(Array.from(back.waits!.stack), Array.from(w.stack));
});

async function runCommand(): Promise<void> {
  await promisify(childProcess.execFile)("sleep", ["0.03"]);
  await new Promise((resolve) => childProcess.execFile("sleep", ["0.03"], resolve));
}
async function awaitEvent(): Promise<void> {
  const emitter = new events.EventEmitter();
  setTimeout(() => emitter.emit("reply", 1), 30);
  await events.once(emitter, "reply");
}
async function streamToEnd(): Promise<void> {
  const slow = new Writable({ write: (_chunk, _enc, done) => void setTimeout(done, 10) });
  await streamPromises.pipeline(Readable.from(["a", "b", "c"]), slow);
}

test("a command run to its end, an awaited event and a stream pipeline are waits of the code that awaited", async () => {
  const sampler = startSampler({ interval: 1000 });
  await runCommand();
  await awaitEvent();
  await streamToEnd();
  const session = sampler.stop();
  const w = session.waits!;
  const waitsOf = (name: string) =>
    [...w.start].filter((s, i) => w.end[i] - s >= 20_000 && pathOf(session, w.stack[i]).includes(name)).length;
  assert.ok(waitsOf("runCommand") >= 2, "execFile promisified and with a callback");
  assert.ok(waitsOf("awaitEvent") >= 1, "events.once");
  assert.ok(waitsOf("streamToEnd") >= 1, "stream/promises pipeline");
});

test("a costly builtin loaded only after the start is wrapped all the same", () => {
  // In a process of its own: here https is loaded already.
  const fixture = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "fixtures", "late-builtin.ts");
  const r = spawnSync(...runOnThisRuntime(fixture), { encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.split("\n").some((path) => path.includes("refused")), r.stdout);
});

async function askWorker(worker: import("node:worker_threads").Worker): Promise<void> {
  worker.postMessage(30);
  await new Promise((resolve) => worker.once("message", resolve));
}

// Node's worker_threads (Deno's and Bun's Web Workers: test/workers.test.ts, through the CLI).
if (runtime === "node") {
  test("a message posted to a worker waits for its reply; terminate ends a wait no reply will end", async () => {
    const { Worker } = await import("node:worker_threads");
    const code = "const { parentPort } = require('node:worker_threads');" +
      "parentPort.on('message', (ms) => setTimeout(() => parentPort.postMessage(ms), ms));";
    const sampler = startSampler({ interval: 1000 });
    const worker = new Worker(code, { eval: true });
    await askWorker(worker);
    await askWorker(worker); // the same worker again: a wait per round trip
    worker.postMessage(10_000); // no reply before terminate()
    await worker.terminate();
    const session = sampler.stop();
    const w = session.waits!;
    const asked = [...w.stack.keys()].filter((i) => pathOf(session, w.stack[i]).includes("askWorker"));
    assert.is(asked.length, 2, "a wait of each askWorker");
    for (const i of asked) assert.ok(w.end[i] - w.start[i] >= 25_000, `${w.end[i] - w.start[i]} us`);
    for (let i = 0; i < w.start.length; i++) assert.ok(w.end[i] < session.meta.duration, `wait ${i} ended`);
  });

  test("an unref'd worker is no wait: the program does not wait for it", async () => {
    const threads = await import("node:worker_threads");
    const startSilentWorker = () => {
      const worker = new threads.Worker("setTimeout(() => {}, 60_000)", { eval: true }); // as wrapped now
      worker.unref();
      return worker;
    };
    const sampler = startSampler({ interval: 1000 });
    const worker = startSilentWorker();
    await new Promise((r) => setTimeout(r, 30));
    const session = sampler.stop();
    await worker.terminate();
    const waits = [...session.waits!.stack].map((s) => pathOf(session, s));
    assert.not.ok(waits.some((p) => p.includes("startSilentWorker")), waits.map((p) => p.join(" > ")).join("\n"));
  });
}

async function readBody(response: Response): Promise<string> {
  return await response.text();
}

test("a fetch response's body is a wait of the code that reads it (not on Bun)", async () => {
  const sampler = startSampler({ interval: 1000 });
  const body = await withServer(async (port) => {
    const reading = readBody(await fetch(`http://127.0.0.1:${port}/late-body`));
    // The tail 30 ms after the reading began (a timer set with the head would have fired already on a busy machine).
    setTimeout(() => lateBody!.end("tail"), 30);
    return await reading;
  });
  const session = sampler.stop();
  assert.is(body, "head tail");
  const w = session.waits!;
  const waits = [...w.start].filter((s, i) =>
    w.end[i] - s >= 20_000 && pathOf(session, w.stack[i]).includes("readBody")
  );
  // Bun's Response methods cannot be wrapped (non-configurable): there the body's wait is idle.
  if (runtime !== "bun") assert.ok(waits.length >= 1, "readBody");
});

test("asyncMode disabled records nothing and wraps nothing", async () => {
  const before = fs.readFile;
  const sampler = startSampler({ interval: 1000, asyncMode: "disabled" });
  assert.is(fs.readFile, before);
  await sleepFor(2);
  const session = sampler.stop();
  assert.is(session.waits, undefined);
  assert.is(decodeSession(encodeSession(session)).waits, undefined);
});

test("JSC stack strings parse into sites, async callers marked, own frames dropped", () => {
  const sites = parseStackString(
    "Error\n    at unknown\n    at <anonymous> (/a/b.ts:2:90)\n    at new Promise (native:1:11)\n" +
      "    at async outer (/a/b.ts:2:48)\n    at /a/b.ts:5:1",
  );
  assert.equal(sites, [
    { name: "", file: "/a/b.ts", line: 2, col: 90, async: false },
    { name: "outer", file: "/a/b.ts", line: 2, col: 48, async: true },
    { name: "", file: "/a/b.ts", line: 5, col: 1, async: false },
  ]);
});

test.after(() => fs.rmSync(file, { force: true }));
test.run();
