import type { ChildLaunch, LaunchRequest } from "../launch.ts";

export function launchNode({ preload, script, args }: LaunchRequest): ChildLaunch {
  return { command: process.execPath, args: ["--import", preload, script, ...args], env: {} };
}
