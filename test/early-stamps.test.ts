// Bun's early-stamped samples (runtimes/bun/early-stamps.ts): a pure function of a session, so run everywhere.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { restampEarlySamples } from "../runtimes/bun/early-stamps.ts";
import type { FrameInfo, Session } from "../session/types.ts";

const frame = (name: string): FrameInfo => ({ name, file: "/app/main.ts", line: 1, col: 1, kind: "js" });

/** Frames A, B, C; stacks 0: A, 1: A > B, 2: C. One wait of A's from 1000 to 8000 us. */
function session(times: number[], stacks: number[], states: number[]): Session {
  return {
    version: 1,
    meta: {
      startTime: 0,
      duration: 20_000,
      cpuTime: -1,
      interval: 1000,
      gapCap: 22_000,
      idleSampled: true,
      program: "main.ts",
      cwd: "/app",
      runtime: "bun 1.4.5",
      startStack: [],
    },
    frames: [frame("A"), frame("B"), frame("C")],
    stacks: { parent: Int32Array.from([-1, 0, -1]), frame: Uint32Array.from([0, 1, 2]) },
    samples: { stack: Int32Array.from(stacks), time: Float64Array.from(times), state: Uint8Array.from(states) },
    waits: { start: Float64Array.from([1000]), end: Float64Array.from([8000]), stack: Int32Array.from([0]) },
  };
}

test("a sample of the resumed code stamped within an interval before the wait's end moves to the end", () => {
  const s = restampEarlySamples(session([0, 1000, 7500, 9000], [1, -1, 1, 1], [0, 1, 0, 0]), 1000);
  assert.equal([...s.samples.time], [0, 1000, 8000, 9000]);
  // Of two, the last one before the end (samples keep their order).
  const two = restampEarlySamples(session([0, 7500, 7900, 9000], [1, 1, 1, 1], [0, 0, 0, 0]), 1000);
  assert.equal([...two.samples.time], [0, 7500, 8000, 9000]);
});

test("other samples keep their stamps", () => {
  // Code the wait did not resume (C); stamped more than an interval before the end; an idle sample.
  for (
    const [times, stacks, states] of [
      [[0, 7500, 9000], [1, 2, 1], [0, 0, 0]],
      [[0, 6500, 9000], [1, 1, 1], [0, 0, 0]],
      [[0, 7500, 9000], [1, -1, 1], [0, 1, 0]],
    ]
  ) {
    const s = restampEarlySamples(session(times, stacks, states), 1000);
    assert.equal([...s.samples.time], times, JSON.stringify({ times, stacks, states }));
  }
});

test.run();
