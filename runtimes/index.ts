// Picks the sampler for the runtime we run on. Every sampler emits the same normalised Session.
import { detectRuntime } from "./shared/runtime.ts";
import type { Sampler, SamplerOptions } from "./shared/sampler.ts";
import type { SamplerName } from "../session/types.ts";
import { startBunSampler } from "./bun/sampler.ts";
import { startDenoSampler } from "./deno/sampler.ts";
import { startNodeSampler } from "./node/sampler.ts";
import { loadAddon, startAddonSampler } from "./node/addon-sampler.ts";

export { detectRuntime } from "./shared/runtime.ts";
export type { RuntimeName } from "./shared/runtime.ts";
export type { Sampler, SamplerOptions } from "./shared/sampler.ts";

export function startSampler(options: SamplerOptions): Sampler {
  switch (detectRuntime()) {
    case "deno":
      return named(startDenoSampler(options), "inspector");
    case "bun":
      return named(startBunSampler(options), "jsc");
    default:
      return startNodeDefault(options);
  }
}

/** The sampler's sessions and stream headers say what recorded them (SessionMeta.sampler: reports show it). */
export function named(sampler: Sampler, name: SamplerName): Sampler {
  const { stop, meta } = sampler;
  sampler.stop = (m) => {
    const session = stop.call(sampler, m);
    session.meta.sampler = name;
    return session;
  };
  if (meta) sampler.meta = (m) => ({ ...meta.call(sampler, m), sampler: name });
  return sampler;
}

let addonWarned = false;
/**
 * Node: the native addon when it is built for this Node (runtimes/node/addon-sampler.ts), else the inspector.
 * One line on stderr, once, when an addon was expected but cannot be used; none when it was simply never built
 * (the install said so) or TSPROFILE_NO_ADDON=1.
 */
function startNodeDefault(options: SamplerOptions): Sampler {
  const { binding, warning } = loadAddon();
  let why = warning;
  if (binding) {
    try {
      return named(startAddonSampler(binding, options), "addon");
    } catch (err) {
      if (err instanceof RangeError) throw err; // the caller's mistake, not the addon's
      why = `native sampler failed to start (${String((err as Error)?.message ?? err).split("\n")[0]})`;
    }
  }
  if (why && !addonWarned) {
    addonWarned = true;
    process.stderr.write(`tsprofile: ${why}; using the inspector sampler\n`);
  }
  return named(startNodeSampler(options), "inspector");
}
