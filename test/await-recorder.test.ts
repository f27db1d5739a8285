// The await recorder (runtimes/awaits/await-recorder.mjs) driven as instrumented code drives it (the transform's
// shape, written out by hand): short awaits cost no clock reading, long ones are logged with a start no earlier
// than their suspend and an exact end, and awaits pending at stop are stamped.
import { setImmediate } from "node:timers";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AwaitRecorder } from "../runtimes/awaits/await-recorder.mjs";

type Helpers = {
  e(k: number): number;
  x(a: number): void;
  a<T>(a: number, v: T): T;
  b<T>(a: number, k: number, v: T): T;
};

/** A recorder recording on performance.now(), counting its own readings. */
function recording(): { rec: AwaitRecorder; h: Helpers; reads: () => number } {
  const rec = new AwaitRecorder();
  rec.start(() => performance.now(), null);
  let reads = 0;
  rec.clock = () => {
    reads++;
    return performance.now();
  };
  const h = rec.register("/test/await-recorder.mjs", [[1, "f", 1, 1], [0, "f", 2, 1]]) as unknown as Helpers;
  return { rec, h, reads: () => reads };
}

/** `async function f(p) { return await p; }` as instrumented. */
async function awaitOnce<T>(h: Helpers, p: T): Promise<Awaited<T>> {
  const act = h.e(0);
  try {
    return h.a(act, await h.b(act, 1, p));
  } finally {
    h.x(act);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a chain of awaits that never leave the microtask queue reads the clock a few times, not two an await", async () => {
  const { rec, h, reads } = recording();
  const before = reads();
  for (let i = 0; i < 1000; i++) await awaitOnce(h, i % 2 ? Promise.resolve(i) : i);
  await Promise.all(Array.from({ length: 20 }, async () => {
    for (let i = 0; i < 50; i++) await awaitOnce(h, Promise.resolve(i));
  }));
  assert.ok(reads() - before < 50, `${reads() - before} readings for 2000 awaits`);
  rec.stop();
  assert.is(rec.n, 0, "none of them is logged");
});

test("an await that outlasts its checkpoint is logged: start at or after its suspend, its end exact", async () => {
  const { rec, h } = recording();
  await sleep(1);
  const suspended = performance.now();
  await awaitOnce(h, sleep(60));
  const resumed = performance.now();
  rec.stop();
  assert.is(rec.n, 1);
  const start = rec.wStart[0];
  const end = rec.wEnd[0];
  // The stamp comes after the suspend by what the thread ran meanwhile (more on a loaded machine).
  assert.ok(start >= suspended && end <= resumed, `${start - suspended} ms after the suspend`);
  assert.ok(end - start >= 30, `a wait of ${end - start} ms`);
});

test("back-to-back awaits too short to log alone are one wait that covers them all", async () => {
  const { rec, h } = recording();
  // A clock of our own, so that the machine's load cannot make a turn long: each await lasts 0.02 ms (under the
  // 0.05 ms logged alone) and the code between two of them 0.005 ms.
  let t = performance.now() + 1;
  rec.clock = () => t;
  const act = h.e(0);
  const first = t;
  for (let i = 0; i < 200; i++) {
    h.a(act, await h.b(act, 1, new Promise((r) => setImmediate(() => r(t += 0.02)))));
    t += 0.005;
  }
  h.x(act);
  rec.stop();
  assert.is(rec.n, 1, "one wait");
  assert.ok(rec.wStart[0] - first < 0.1 && t - rec.wEnd[0] < 0.1, `${rec.wStart[0] - first}, ${t - rec.wEnd[0]}`);
});

test("an await pending at stop has its start stamped", async () => {
  const { rec, h } = recording();
  let release = () => {};
  const pending = awaitOnce(h, new Promise<void>((r) => (release = r)));
  rec.stop();
  assert.ok(rec.actPending.some((p, a) => p === 1 && Number.isFinite(rec.pendStart[a])), "stamped");
  release();
  await pending;
});

test.run();
