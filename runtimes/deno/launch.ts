import type { ChildLaunch, LaunchRequest } from "../launch.ts";

export function launchDeno({ preload, script, args }: LaunchRequest): ChildLaunch {
  return { command: process.execPath, args: ["run", "-A", "--preload", preload, script, ...args], env: {} };
}
