import type { ChildLaunch, LaunchRequest } from "../launch.ts";

export function launchBun({ preload, script, args }: LaunchRequest): ChildLaunch {
  return { command: process.execPath, args: ["--preload", preload, script, ...args], env: {} };
}
