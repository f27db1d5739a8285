// How far a profile can be trusted, in numbers every report states (issue 18): the samples asked for and missed,
// stacks the engine cut short, and below what share the sample count cannot tell a function from noise.
import { isTruncatedFrame } from "../../session/frames.ts";
import { SampleState } from "../../session/types.ts";
import type { Session } from "../../session/types.ts";

export interface Accuracy {
  /** Samples asked for and taken (interval and achieved spacing, us). */
  interval: number;
  achieved: number | null;
  /** The run's length, us. */
  duration: number;
  /**
   * The share of the samples asked for while the program ran that did not come (a busy machine or a slow
   * sampler), where the sampler records idle (meta.idleSampled), so that its running time is known; null elsewhere.
   * (V8 samples idle every interval, Bun's placed idle is one sample a span: the time after idle samples is left
   * out on both.)
   */
  missed: number | null;
  /** Samples whose stack the engine cut at its depth limit (they start at [truncated]). */
  truncated: number;
  /**
   * The share of the samples under which a function is not told from noise: 3.84 / n, where a share p of n
   * samples has a 95% interval half-width of 1.96 sqrt(p (1 - p) / n) and a share under 3.84 / n cannot be
   * told from zero.
   */
  noise: number | null;
  /**
   * Time (us) in silences of the sampler over two intervals long that the gap rule had to share out with nothing
   * to tell it what happened (core-rs/SPEC.md §1): on samplers that record idle (Node, Deno), a silence between two
   * samples not both idle (running code whose samples did not come); elsewhere (Bun), one with no wait of the
   * program's pending at its middle (the program may have run or idled). The part past two intervals is counted.
   */
  guessed: number;
}

/**
 * A missing third of the samples is what a report mentions: V8 asked for 1 ms delivers 1.1-1.25 ms on a quiet
 * machine, which a line on every report would only teach users to skip.
 */
const MISSED_SAID = 1 / 3;
/** Guessed time from a twentieth of the run up is what a report mentions. */
const GUESSED_SAID = 0.05;
/** A noise floor from half a percent up is what a report mentions (the default threshold is 1%). */
const NOISE_SAID = 0.005;

export function accuracyOf(session: Session): Accuracy {
  const { meta, samples, stacks, frames } = session;
  const n = samples.stack.length;
  const achieved = n > 0 ? meta.duration / n : null;
  const running = meta.idleSampled && meta.interval > 0 ? runningSpacing(session) : null;
  const missed = running !== null ? Math.max(0, 1 - meta.interval / running) : null;
  // Per stack, whether it starts at [truncated] (parents come before children).
  const cut = new Uint8Array(stacks.parent.length);
  for (let s = 0; s < stacks.parent.length; s++) {
    const p = stacks.parent[s];
    cut[s] = p < 0 ? (isTruncatedFrame(frames[stacks.frame[s]]) ? 1 : 0) : cut[p];
  }
  let truncated = 0;
  for (let i = 0; i < n; i++) if (samples.stack[i] >= 0 && cut[samples.stack[i]]) truncated++;
  return {
    interval: meta.interval,
    achieved,
    duration: meta.duration,
    missed,
    truncated,
    noise: n > 0 ? Math.min(1, 3.84 / n) : null,
    guessed: guessedTime(session),
  };
}

/** Time not after an idle sample, per sample not idle (us); null without such samples. */
function runningSpacing({ meta, samples }: Session): number | null {
  const { time, state } = samples;
  let samplesRunning = 0;
  let idle = time.length > 0 ? time[0] : 0; // before the first sample: the profiler's start
  for (let i = 0; i < time.length; i++) {
    if (state[i] !== SampleState.idle) samplesRunning++;
    else idle += (i + 1 < time.length ? time[i + 1] : Math.max(meta.duration, time[i])) - time[i];
  }
  return samplesRunning > 0 ? Math.max(1, (meta.duration - idle) / samplesRunning) : null;
}

function guessedTime({ meta, samples, waits }: Session): number {
  const { time, state } = samples;
  const bound = 2 * Math.max(meta.interval, 1);
  // Waits by start (they are recorded so); `open` holds the ends of those started so far, for "pending at x".
  const starts = waits?.start ?? [];
  const ends = waits?.end ?? [];
  let next = 0;
  let open: number[] = [];
  const pendingAt = (x: number): boolean => {
    while (next < starts.length && starts[next] <= x) open.push(ends[next++]);
    open = open.filter((end) => end > x);
    return open.length > 0;
  };
  let guessed = 0;
  for (let i = 0; i + 1 < time.length; i++) {
    const dt = time[i + 1] - time[i];
    if (dt <= bound) continue;
    // Bun's idle is one sample per span the kernel saw, its end placed where the thread woke (runtimes/bun/
    // runnable.ts): a gap after one is known idle time. V8 samples idle every interval: a gap is a starved sampler.
    const spans = meta.runningGap === "previous";
    const unexplained = meta.idleSampled
      ? !(state[i] === SampleState.idle && (spans || state[i + 1] === SampleState.idle))
      : !pendingAt(time[i] + dt / 2);
    if (unexplained) guessed += dt - bound;
  }
  return guessed;
}

/** The lines a text report adds under its header: only what matters for this profile. */
export function accuracyLines(a: Accuracy): string[] {
  const out: string[] = [];
  if (a.missed !== null && a.missed >= MISSED_SAID) {
    out.push(
      `Missed: ${pct(a.missed)} of the samples asked for (${ms(a.achieved!)} apart, not ${ms(a.interval)}): ` +
        "a busy machine or a slow sampler; the time between is shared out by the gap rule",
    );
  }
  if (a.guessed > 0 && a.guessed >= GUESSED_SAID * a.duration) {
    out.push(
      `Guessed: ${(a.guessed / 1e6).toFixed(3)} s lay in silences of the sampler (over ${ms(2 * a.interval)}) ` +
        "with nothing to tell what ran; the gap rule shared it out",
    );
  }
  if (a.truncated > 0) {
    out.push(`Truncated: ${a.truncated} samples' stacks were cut at the engine's depth limit ([truncated])`);
  }
  if (a.noise !== null && a.noise >= NOISE_SAID) {
    out.push(`Few samples: shares under ${pct(a.noise)} cannot be told from noise (95%)`);
  }
  return out;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(3)} ms`;
}
