// Where the Bun sampler puts idle samples (runtimes/bun/runnable.ts, IdleTimeline): pure logic, on every runtime,
// from idle spans given by hand. The helper thread itself runs on Bun only (test/sampler-bun.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type IdleNews, IdleTimeline, type RunnableWatch, type SampleRows } from "../runtimes/bun/runnable.ts";
import { SampleState } from "../session/types.ts";

const IDLE = SampleState.idle;
const JS = SampleState.js;
const GAP_CAP = 22_000;

/** A timeline fed `news` (ms, as the helper gives them); session us = ms * 1000. */
function timeline(news: IdleNews): IdleTimeline {
  const watch: RunnableWatch = { take: () => news, stop: () => {} };
  const t = new IdleTimeline(watch, (ms) => Math.round(ms * 1000));
  t.update();
  return t;
}

const next = (stack = 7) => ({ stack, state: JS });

/** The rows for the silence from a sample (stack 5) at t0 to t1 (the next sample's, unless it is null: the end). */
function rows(t: IdleTimeline, t0: number, t1: number, after: { stack: number; state: number } | null) {
  const out: SampleRows = { stack: [], time: [], state: [] };
  t.fill(out, { stack: 5, time: t0, state: JS }, after && { ...after, time: t1 }, t1, GAP_CAP, IDLE);
  return out;
}

test("a span inside a silence: an idle sample where it starts, the next sample's copy where the thread woke", () => {
  const t = timeline({ from: 0, to: 100, closed: [10, 30], open: NaN });
  const got = rows(t, 5_000, 40_000, next());
  assert.equal(got, { stack: [-1, 7], time: [10_000, 30_000], state: [IDLE, JS] });
});

test("a silence with no span is left to the samples around it (a running gap)", () => {
  const t = timeline({ from: 0, to: 100, closed: [10, 30], open: NaN });
  const got = rows(t, 31_000, 90_000, next());
  assert.equal(got, { stack: [], time: [], state: [] });
});

test("a span up to the next sample needs no copy; a span shorter than 0.5 ms is left alone", () => {
  const t = timeline({ from: 0, to: 100, closed: [10, 10.3, 20, 39.8], open: NaN });
  const got = rows(t, 5_000, 40_000, next());
  assert.equal(got, { stack: [-1], time: [20_000], state: [IDLE] });
});

test("a thread that ran longer than the cap before it went idle: the sample before runs on up to the span", () => {
  const t = timeline({ from: 0, to: 100, closed: [60, 70, 75, 99.8], open: NaN });
  // Sample 5 ran from 5 ms to 60 ms (past the 22 ms cap), the next sample's code from 70 to 75, idle to the end.
  assert.equal(rows(t, 5_000, 100_000, next()), {
    stack: [5, -1, 7, -1],
    time: [59_999, 60_000, 70_000, 75_000],
    state: [JS, IDLE, JS, IDLE],
  });
});

test("spans are clipped to the silence: the thread ran at both samples", () => {
  const t = timeline({ from: 0, to: 100, closed: [2, 50], open: NaN });
  const got = rows(t, 5_000, 40_000, next());
  assert.equal(got, { stack: [-1], time: [5_000], state: [IDLE] });
});

test("the span still open counts up to the latest reading; after the last sample, only idle", () => {
  const t = timeline({ from: 0, to: 100, closed: [], open: 60 });
  assert.equal(rows(t, 50_000, 100_000, null), { stack: [-1], time: [60_000], state: [IDLE] });
});

test("a silence that starts before the helper's first reading keeps the gap rule; past its latest, the thread ran", () => {
  const t = timeline({ from: 20, to: 100, closed: [30, 40], open: NaN });
  // Before the first reading: idle past the cap.
  assert.equal(rows(t, 0, 50_000, next()), {
    stack: [-1],
    time: [GAP_CAP],
    state: [IDLE],
  });
  // Shorter than the cap: all the sample's.
  assert.equal(rows(t, 0, 10_000, next()), { stack: [], time: [], state: [] });
  // Past the latest reading (a helper late, starved by running threads): running, no idle.
  assert.equal(rows(t, 90_000, 200_000, null).time, []);
});

test("several spans in one silence, in time order; silences judged one after another", () => {
  const t = timeline({ from: 0, to: 200, closed: [10, 20, 30, 40, 110, 120], open: NaN });
  assert.equal(rows(t, 0, 50_000, next(3)), {
    stack: [-1, 3, -1, 3],
    time: [10_000, 20_000, 30_000, 40_000],
    state: [IDLE, JS, IDLE, JS],
  });
  assert.equal(rows(t, 50_000, 100_000, next()).time, []);
  assert.equal(rows(t, 100_000, 130_000, next()).time, [110_000, 120_000]);
});

test.run();
