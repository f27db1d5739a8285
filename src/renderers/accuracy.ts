// How far a profile can be trusted, in numbers every report states (issue 18): the samples asked for and missed,
// stacks the engine cut short, and below what share the sample count cannot tell a function from noise.
import { isTruncatedFrame } from "../../session/frames.ts";
import type { Session } from "../../session/types.ts";

export interface Accuracy {
  /** Samples asked for and taken (interval and achieved spacing, us). */
  interval: number;
  achieved: number | null;
  /**
   * The share of the samples asked for that did not come (a busy machine or a slow sampler), where the sampler
   * records idle too (meta.idleSampled: Node, Deno); null elsewhere (Bun samples only while JavaScript runs).
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
}

/**
 * A missing third of the samples is what a report mentions: V8 asked for 1 ms delivers 1.1-1.25 ms on a quiet
 * machine, which a line on every report would only teach users to skip.
 */
const MISSED_SAID = 1 / 3;
/** A noise floor from half a percent up is what a report mentions (the default threshold is 1%). */
const NOISE_SAID = 0.005;

export function accuracyOf(session: Session): Accuracy {
  const { meta, samples, stacks, frames } = session;
  const n = samples.stack.length;
  const achieved = n > 0 ? meta.duration / n : null;
  const missed = meta.idleSampled && achieved !== null && meta.interval > 0
    ? Math.max(0, 1 - meta.interval / achieved)
    : null;
  // Per stack, whether it starts at [truncated] (parents come before children).
  const cut = new Uint8Array(stacks.parent.length);
  for (let s = 0; s < stacks.parent.length; s++) {
    const p = stacks.parent[s];
    cut[s] = p < 0 ? (isTruncatedFrame(frames[stacks.frame[s]]) ? 1 : 0) : cut[p];
  }
  let truncated = 0;
  for (let i = 0; i < n; i++) if (samples.stack[i] >= 0 && cut[samples.stack[i]]) truncated++;
  return { interval: meta.interval, achieved, missed, truncated, noise: n > 0 ? Math.min(1, 3.84 / n) : null };
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
