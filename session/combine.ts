// Two sessions as one, for aggregate views (Session.combine).
import { FrameInterner, StackInterner } from "./frames.ts";
import type { Session, WaitTable } from "./types.ts";

/**
 * b after a, as one session for aggregate views (the tree, flat, the sample formats): b's times are shifted to
 * start where a ends (max of a's duration and its last sample), frames and stacks are interned by identity,
 * durations and CPU times add (unknown if either is unknown). The gap between the two runs is not in it, so its
 * timeline is the two runs back to back. The start stack is kept only when both sessions agree on it. The
 * samples' CPU column is kept when both have one (b's continuing from a's last reading), dropped otherwise.
 * Worker threads (Session.threads) are not merged: the result has both runs' threads.
 */
export function combineSessions(a: Session, b: Session): Session {
  const frames = new FrameInterner([...a.frames]);
  const frameMap = b.frames.map((f) => frames.frame(f));
  const stacks = StackInterner.of(a.stacks);
  const nb = b.stacks.parent.length;
  const stackMap = new Int32Array(nb);
  for (let i = 0; i < nb; i++) {
    const p = b.stacks.parent[i] < 0 ? -1 : stackMap[b.stacks.parent[i]];
    stackMap[i] = stacks.stack(p, frameMap[b.stacks.frame[i]]);
  }
  const sa = a.samples.stack.length;
  const sb = b.samples.stack.length;
  const aEnd = Math.max(a.meta.duration, sa > 0 ? a.samples.time[sa - 1] : 0);
  const bEnd = Math.max(b.meta.duration, sb > 0 ? b.samples.time[sb - 1] : 0);
  const stack = new Int32Array(sa + sb);
  const time = new Float64Array(sa + sb);
  const state = new Uint8Array(sa + sb);
  stack.set(a.samples.stack);
  time.set(a.samples.time);
  state.set(a.samples.state);
  for (let i = 0; i < sb; i++) {
    const s = b.samples.stack[i];
    stack[sa + i] = s < 0 ? -1 : stackMap[s];
    time[sa + i] = b.samples.time[i] + aEnd;
    state[sa + i] = b.samples.state[i];
  }
  let cpu: Float64Array | undefined;
  if (a.samples.cpu && b.samples.cpu) {
    cpu = new Float64Array(sa + sb);
    cpu.set(a.samples.cpu);
    const aCpu = sa > 0 ? a.samples.cpu[sa - 1] : 0;
    for (let i = 0; i < sb; i++) cpu[sa + i] = b.samples.cpu[i] + aCpu;
  }
  let waits: WaitTable | undefined;
  if (a.waits || b.waits) {
    const wa = a.waits ?? { start: new Float64Array(0), end: new Float64Array(0), stack: new Int32Array(0) };
    const wb = b.waits ?? { start: new Float64Array(0), end: new Float64Array(0), stack: new Int32Array(0) };
    const na = wa.start.length;
    const nw = na + wb.start.length;
    waits = { start: new Float64Array(nw), end: new Float64Array(nw), stack: new Int32Array(nw) };
    waits.start.set(wa.start);
    waits.end.set(wa.end);
    waits.stack.set(wa.stack);
    for (let i = 0; i < wb.start.length; i++) {
      waits.start[na + i] = wb.start[i] + aEnd;
      waits.end[na + i] = wb.end[i] + aEnd;
      waits.stack[na + i] = wb.stack[i] < 0 ? -1 : stackMap[wb.stack[i]];
    }
  }
  const bStart = b.meta.startStack.map((f) => frameMap[f]);
  const sameStart = bStart.length === a.meta.startStack.length && bStart.every((f, i) => f === a.meta.startStack[i]);
  const joined = (x: string, y: string) => (x === y ? x : `${x} + ${y}`);
  return {
    version: 1,
    meta: {
      startTime: Math.min(a.meta.startTime, b.meta.startTime),
      duration: aEnd + bEnd,
      cpuTime: a.meta.cpuTime < 0 || b.meta.cpuTime < 0 ? -1 : a.meta.cpuTime + b.meta.cpuTime,
      interval: Math.min(a.meta.interval, b.meta.interval),
      gapCap: Math.max(a.meta.gapCap, b.meta.gapCap),
      // One flag for the whole session: a running gap is running time only if both samplers record idle.
      idleSampled: a.meta.idleSampled && b.meta.idleSampled,
      // Bun's rule where both are Bun's; else V8's, the SPEC's default.
      ...(a.meta.runningGap === "previous" && b.meta.runningGap === "previous"
        ? { runningGap: "previous" as const }
        : {}),
      program: joined(a.meta.program, b.meta.program),
      cwd: a.meta.cwd,
      runtime: joined(a.meta.runtime, b.meta.runtime),
      startStack: sameStart ? [...a.meta.startStack] : [],
    },
    frames: frames.frames,
    stacks: stacks.tables(),
    samples: cpu ? { stack, time, state, cpu } : { stack, time, state },
    ...(waits ? { waits } : {}),
    // Each worker keeps its own session: threads of the two runs side by side.
    ...(a.threads?.length || b.threads?.length ? { threads: [...(a.threads ?? []), ...(b.threads ?? [])] } : {}),
  };
}
