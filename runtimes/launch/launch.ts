// How the CLI starts the profiled program on the runtime it runs on: that runtime's own executable, with the
// child preload (runtimes/preload/preload.mjs, or dist/preload.mjs once bundled) loaded before the program.
import { existsSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { detectRuntime } from "../shared/runtime.ts";

export interface LaunchRequest {
  /** Absolute path of the preload module. */
  preload: string;
  script: string;
  /** -c: run this code instead of script (JavaScript on Node; Deno and Bun also take TypeScript). */
  code?: string;
  args: string[];
  /** Sampling interval, us. */
  interval: number;
  /** The runtime's own options (--runtime-arg), before the preload and the program. */
  runtimeArgs?: string[];
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

export function launchNode({ preload, script, code, args, runtimeArgs = [] }: LaunchRequest): ChildLaunch {
  const program = code !== undefined
    ? ["--input-type=module", "--eval", code]
    : esmLoaderRuns(script)
    ? [script]
    : [commonJsRunner(), script];
  return { command: process.execPath, args: [...runtimeArgs, "--import", preload, ...program, ...args], env: {} };
}

/**
 * Whether Node's ES module loader (which runs the main script whenever --import is given) takes this file: the
 * extensions it knows, our loader's TypeScript ones, and none at all. `node t.exe` runs any other as CommonJS,
 * but `node --import preload t.exe` fails with ERR_UNKNOWN_FILE_EXTENSION: run-commonjs.cjs runs it instead.
 */
function esmLoaderRuns(script: string): boolean {
  return extname(script) === "" || /\.(js|mjs|cjs|json|wasm|ts|mts|cts|tsx)$/.test(script);
}

/** run-commonjs.cjs: next to the bundle (dist/), or beside this file in the source tree. */
function commonJsRunner(): string {
  for (const candidate of ["./run-commonjs.cjs", "../../runtimes/launch/run-commonjs.cjs"]) {
    const url = new URL(candidate, import.meta.url);
    if (url.protocol === "file:" && existsSync(fileURLToPath(url))) return fileURLToPath(url);
  }
  throw new Error("cannot find run-commonjs.cjs next to the CLI (is the package built? run `npm run build`)");
}

// -A: the sampler needs --allow-sys (node:inspector) and the preload reads its config and writes the session;
// the program keeps its own deno.json, lockfile and import map (Deno finds them from the script). The preload
// goes as a file URL so a Windows drive letter is not read as a URL scheme.
export function launchDeno({ preload, script, code, args, runtimeArgs = [] }: LaunchRequest): ChildLaunch {
  const url = pathToFileURL(preload).href;
  // deno eval runs with every permission, like run -A.
  if (code !== undefined) {
    return { command: process.execPath, args: ["eval", ...runtimeArgs, "--preload", url, code, ...args], env: {} };
  }
  return {
    command: process.execPath,
    args: ["run", "-A", ...runtimeArgs, "--preload", url, script, ...args],
    env: {},
  };
}

export function launchBun({ preload, script, code, args, interval, runtimeArgs = [] }: LaunchRequest): ChildLaunch {
  // JSC reads its options at startup. The sampling interval: the sampler also passes it to startSamplingProfiler,
  // so this only makes the first samples of the process use it too. Tail calls off: in strict code (every ES
  // module) JSC makes `return f(x)` a proper tail call, and the caller's frame is gone from every sample taken
  // in f; without them the stacks are Node's and Deno's.
  return {
    command: process.execPath,
    args: [...runtimeArgs, "--preload", preload, ...(code === undefined ? [script] : ["--eval", code]), ...args],
    env: withRestore({ BUN_JSC_sampleInterval: String(Math.round(interval)), BUN_JSC_useTailCalls: "0" }),
  };
}

/** The variable the preload restores the program's environment from (runtimes/preload/preload.ts). */
export const RESTORE_ENV = "TSPROFILE_RESTORE_ENV";

/**
 * `env` plus what the preload needs to put the program's environment back as it was before these settings (a
 * variable's own value, or null when it was unset), so the program's own child processes do not inherit them.
 */
function withRestore(env: Record<string, string>): Record<string, string> {
  const before: Record<string, string | null> = {};
  for (const name of Object.keys(env)) before[name] = process.env[name] ?? null;
  return { ...env, [RESTORE_ENV]: JSON.stringify(before) };
}
