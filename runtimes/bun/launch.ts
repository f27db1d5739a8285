import type { ChildLaunch, LaunchRequest } from "../launch.ts";

export function launchBun({ preload, script, code, args, interval }: LaunchRequest): ChildLaunch {
  // JSC reads its sampling interval at startup; the sampler also passes it to startSamplingProfiler, so this
  // only makes the first samples of the process use it too.
  return {
    command: process.execPath,
    args: ["--preload", preload, ...(code === undefined ? [script] : ["--eval", code]), ...args],
    env: { BUN_JSC_sampleInterval: String(Math.round(interval)) },
  };
}
