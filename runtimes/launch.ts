// How the CLI starts the profiled program on the runtime it runs on: that runtime's own executable, with the
// child preload (runtimes/preload.mjs, or dist/preload.mjs once bundled) loaded before the program.
import { launchBun } from "./bun/launch.ts";
import { launchDeno } from "./deno/launch.ts";
import { detectRuntime } from "./index.ts";
import { launchNode } from "./node/launch.ts";

export interface LaunchRequest {
  /** Absolute path of the preload module. */
  preload: string;
  script: string;
  /** -c: run this code instead of script (JavaScript on Node; Deno and Bun also take TypeScript). */
  code?: string;
  args: string[];
  /** Sampling interval, us. */
  interval: number;
}

export interface ChildLaunch {
  command: string;
  args: string[];
  /** Added to the program's environment (besides TSPROFILE_CHILD, which the CLI sets). */
  env: Record<string, string>;
}

export function childLaunch(request: LaunchRequest): ChildLaunch {
  switch (detectRuntime()) {
    case "deno":
      return launchDeno(request);
    case "bun":
      return launchBun(request);
    default:
      return launchNode(request);
  }
}
