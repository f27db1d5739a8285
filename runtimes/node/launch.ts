import type { ChildLaunch, LaunchRequest } from "../launch.ts";

export function launchNode({ preload, script, code, args }: LaunchRequest): ChildLaunch {
  const program = code === undefined ? [script] : ["--input-type=module", "--eval", code];
  return { command: process.execPath, args: ["--import", preload, ...program, ...args], env: {} };
}
