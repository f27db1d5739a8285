import { pathToFileURL } from "node:url";
import type { ChildLaunch, LaunchRequest } from "../launch.ts";

// -A: the sampler needs --allow-sys (node:inspector) and the preload reads its config and writes the session;
// the program keeps its own deno.json, lockfile and import map (Deno finds them from the script). The preload
// goes as a file URL so a Windows drive letter is not read as a URL scheme.
export function launchDeno({ preload, script, args }: LaunchRequest): ChildLaunch {
  return { command: process.execPath, args: ["run", "-A", "--preload", pathToFileURL(preload).href, script, ...args], env: {} };
}
