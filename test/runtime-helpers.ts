// How tests start a script under the runtime they themselves run on, so one test file checks every runtime:
// Node through the TypeScript loader, Deno with all permissions, Bun as is.
import { readFileSync } from "node:fs";
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

/** Busy and total jiffies of all cores so far (/proc/stat), or null. */
function cpuJiffies(): { busy: number; total: number } | null {
  try {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const n = fields.map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    return { busy: total - n[3] - (n[4] ?? 0), total }; // idle and iowait are not busy
  } catch {
    return null;
  }
}

/** Runs fn; how busy the machine's cores were meanwhile (0-1; 0 where /proc/stat is not). */
export function coresBusyDuring<T>(fn: () => T): { result: T; busy: number } {
  const before = cpuJiffies();
  const result = fn();
  const after = cpuJiffies();
  return { result, busy: before && after ? (after.busy - before.busy) / Math.max(1, after.total - before.total) : 0 };
}

/**
 * A machine busier than 3/4 of its cores starves the samplers' threads: a program's short bursts (a 3 ms spin
 * after a wake-up) then go unsampled and show as idle. Tests of shares check there only what stays true.
 */
export const LOADED = 0.75;
