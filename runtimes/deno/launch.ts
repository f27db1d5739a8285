import { pathToFileURL } from "node:url";
import type { ChildLaunch, LaunchRequest } from "../launch.ts";

// -A: the sampler needs --allow-sys (node:inspector) and the preload reads its config and writes the session;
// the program keeps its own deno.json, lockfile and import map (Deno finds them from the script). The preload
// goes as a file URL so a Windows drive letter is not read as a URL scheme.
export function launchDeno({ preload, script, code, args }: LaunchRequest): ChildLaunch {
  const url = pathToFileURL(preload).href;
  // deno eval runs with every permission, like run -A.
  if (code !== undefined) return { command: process.execPath, args: ["eval", "--preload", url, code, ...args], env: {} };
  return { command: process.execPath, args: ["run", "-A", "--preload", url, script, ...args], env: {} };
}
