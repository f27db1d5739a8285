// Picks the sampler for the runtime we run on. Every sampler emits the same normalised Session.
import type { Session } from "../src/types.ts";
import { startNodeSampler } from "./node/sampler.ts";

export type RuntimeName = "node" | "deno" | "bun";

export interface Sampler {
  readonly isRunning: boolean;
  /** Stops sampling and returns the session (synchronous). */
  stop(meta?: { program?: string }): Session;
}

export interface SamplerOptions {
  /** Sampling interval in microseconds (at least 100). */
  interval: number;
}

export function detectRuntime(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  // Deno and Bun both provide `process` for Node compatibility, so look for their own globals first.
  if (typeof g.Deno !== "undefined") return "deno";
  if (typeof g.Bun !== "undefined") return "bun";
  return "node";
}

export function startSampler(options: SamplerOptions): Sampler {
  const runtime = detectRuntime();
  if (runtime !== "node") throw new Error(`tsprofile: sampling is not yet supported on ${runtime}`);
  return startNodeSampler(options);
}
