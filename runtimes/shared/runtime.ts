// Which runtime this code runs on: every runtime-specific choice (sampler, launch, loader) starts here.

export type RuntimeName = "node" | "deno" | "bun";

export function detectRuntime(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  // Deno and Bun both provide `process` for Node compatibility, so look for their own globals first.
  if (typeof g.Deno !== "undefined") return "deno";
  if (typeof g.Bun !== "undefined") return "bun";
  return "node";
}
