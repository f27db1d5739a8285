// What the main thread and its workers agree on (runtimes/workers): the profiling settings a worker receives,
// where it writes its session, and the stop request a terminate() sends before the worker is gone.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { AsyncMode } from "../../session/types.ts";

/** What a worker needs to profile itself. */
export interface WorkerConfig {
  interval: number;
  asyncMode: AsyncMode;
  /** The main session's path: a worker writes `<sessionPath>.thread-<id>` (threadFile). */
  sessionPath: string;
  /** File URL of the module a worker loads first to start its sampler (Bun's Worker `preload`, Deno's wrapper). */
  preload: string;
  /** Set by the Deno wrapper: the id tsprofile gave the Web Worker (Deno has no thread ids on them). */
  id?: number;
}

/** node:worker_threads environment data key: Node and Bun hand it to every worker the program starts. */
export const ENV_KEY = "tsprofile:workers";
/** Symbol.for(CONFIG_KEY) on globalThis: where Deno's wrapper module leaves { settings, entry } for the preload. */
export const CONFIG_KEY = "tsprofile.worker";
/** The BroadcastChannel of stop requests and replies (Node, Bun), one per profiled run. */
export const channelName = (sessionPath: string): string => `tsprofile:${sessionPath}`;
/** A stop request's and its reply's shape, on the channel or (Deno) the worker's own message port. */
export interface StopMessage {
  /** Node, Bun: the worker (this id) listens for stop requests. */
  tsprofileReady?: number;
  tsprofileStop?: number;
  tsprofileStopped?: number;
}

/** Written whole by the worker (temporary name, then renamed) when it ends. */
export const threadFile = (sessionPath: string, id: number): string => `${sessionPath}.thread-${id}`;

/** The thread files written so far, in the order of their ids; each is removed as it is read. */
export function takeThreadFiles(sessionPath: string): Uint8Array[] {
  const prefix = `${basename(sessionPath)}.thread-`;
  let names: string[];
  try {
    names = readdirSync(dirname(sessionPath));
  } catch {
    return [];
  }
  const ids = names.filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
    .map((n) => Number(n.slice(prefix.length)))
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  for (const id of ids) {
    const path = join(dirname(sessionPath), `${prefix}${id}`);
    try {
      out.push(readFileSync(path));
      rmSync(path, { force: true });
    } catch {
      // removed or unreadable: that worker's profile is lost, the others are kept
    }
  }
  return out;
}
