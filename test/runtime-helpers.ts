// How tests start a script under the runtime they themselves run on, so one test file checks every runtime:
// Node through the TypeScript loader, Deno with all permissions, Bun as is.
import { join, resolve } from "node:path";
import { detectRuntime } from "../runtimes/index.ts";

export const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const register = join(root, "runtimes", "loader", "register.mjs");

export const runtime = detectRuntime();

/** [command, args] that run `file args...` on this runtime. */
export function runOnThisRuntime(file: string, args: string[] = []): [string, string[]] {
  switch (runtime) {
    case "deno":
      return [process.execPath, ["run", "-A", "--no-lock", file, ...args]];
    case "bun":
      return [process.execPath, [file, ...args]];
    default:
      return [process.execPath, ["--import", register, file, ...args]];
  }
}
