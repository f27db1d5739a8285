// The Bun sampler (issue 3). Must not import runtime-only modules statically: every runtime imports this file.
import type { Sampler, SamplerOptions } from "../index.ts";

export function startBunSampler(_options: SamplerOptions): Sampler {
  throw new Error("tsprofile: sampling is not yet supported on bun");
}
