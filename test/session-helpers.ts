// Random but realistic sessions for the session, format and fuzz tests: a seeded generator, a few hundred
// frames (app, node_modules, node: internals), a prefix tree of stacks about `depth` deep, samples 1 ms apart
// with jitter, runs on the same stack, some idle, await and gc.
import type { FrameInfo, Session } from "../session/types.ts";
import { mulberry32 as rng } from "./prng.ts";

// rng: the shared seeded PRNG (test/prng.ts), under the name the session and fuzz tests use.
export { rng };

export function randomSession(samples: number, seed = 1, depth = 40, stackCount = 5000): Session {
  const rnd = rng(seed);
  const frames: FrameInfo[] = [];
  for (let i = 0; i < 400; i++) {
    const where = i % 10;
    const file = where < 6
      ? `/app/src/mod${i % 37}.ts`
      : where < 9
      ? `/app/node_modules/lib${i % 13}/index.js`
      : `node:internal/x${i % 7}`;
    frames.push({
      name: `fn${i}`,
      file,
      line: 1 + ((i * 7) % 900),
      col: 1 + (i % 30),
      kind: where === 9 ? "runtime" : "js",
    });
  }
  const parent: number[] = [];
  const frame: number[] = [];
  const depthOf: number[] = [];
  for (let i = 0; i < stackCount; i++) {
    // Mostly extend a recent stack so depths reach `depth`.
    let p = i === 0 ? -1 : i - 1 - Math.floor(rnd() * Math.min(i, 50));
    if (p >= 0 && depthOf[p] >= depth) p = parent[p];
    parent.push(p);
    frame.push(Math.floor(rnd() * frames.length));
    depthOf.push(p < 0 ? 1 : depthOf[p] + 1);
  }
  const stack = new Int32Array(samples);
  const time = new Float64Array(samples);
  const state = new Uint8Array(samples);
  let t = 0;
  let s = stackCount - 1;
  for (let i = 0; i < samples; i++) {
    t += 1000 + Math.floor(rnd() * 120) - 20 + (rnd() < 0.001 ? 50_000 : 0);
    time[i] = t;
    if (rnd() < 0.3) s = Math.floor(rnd() * stackCount);
    const r = rnd();
    if (r < 0.03) {
      stack[i] = -1;
      state[i] = 1; // idle
    } else {
      stack[i] = s;
      state[i] = r < 0.08 ? 4 : r < 0.09 ? 2 : 0; // await, gc, js
    }
  }
  return {
    version: 1,
    meta: {
      startTime: Date.UTC(2024, 0, 2, 3, 4, 5),
      duration: t + 1000,
      cpuTime: Math.round(t * 0.8),
      interval: 1000,
      gapCap: 20_000,
      idleSampled: true,
      program: "node app.ts",
      cwd: "/app",
      runtime: "node 20.20.2",
      startStack: [],
    },
    frames,
    stacks: { parent: Int32Array.from(parent), frame: Uint32Array.from(frame) },
    samples: { stack, time, state },
  };
}

/**
 * The session with a samples.cpu column as the native Node sampler records it: whole microseconds, non-decreasing,
 * each step at most the wall step before it (a busy or an idle thread).
 */
export function withCpu(s: Session, seed = 1): Session {
  const rnd = rng(seed);
  const { time } = s.samples;
  const cpu = new Float64Array(time.length);
  let c = 0;
  for (let i = 0; i < time.length; i++) {
    c += Math.floor(rnd() * ((i > 0 ? time[i] - time[i - 1] : time[i]) + 1));
    cpu[i] = c;
  }
  return { ...s, samples: { ...s.samples, cpu } };
}
