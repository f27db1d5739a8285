import type { ChildLaunch, LaunchRequest } from "../launch.ts";

export function launchBun({ preload, script, args, interval }: LaunchRequest): ChildLaunch {
  // JSC reads its sampling interval at startup; the sampler also passes it to startSamplingProfiler, so this
  // only makes the first samples of the process use it too.
  return {
    command: process.execPath,
    args: ["--preload", preload, script, ...args],
    env: { BUN_JSC_sampleInterval: String(Math.round(interval)) },
  };
}
