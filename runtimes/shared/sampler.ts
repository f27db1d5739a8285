// What every sampler (runtimes/node, runtimes/deno, runtimes/bun) is to the rest of tsprofile.
import type { AsyncMode, Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import type { ContextLog } from "../awaits/contexts.ts";
import type { StreamSink } from "../../session/stream.ts";

export interface Sampler {
  readonly isRunning: boolean;
  /**
   * Stops sampling and returns the session (synchronous). After drain() has been called, it returns the rest:
   * its meta is the whole session's (duration from start to stop), its frames and stacks are the whole tables
   * (every chunk's, in id order, then any new ones), and its samples and waits are only those not drained yet.
   */
  stop(meta?: { program?: string }): Session;
  /**
   * Streaming samplers only (absent elsewhere: Node < 24.12 and Deno, whose inspector loses samples in a
   * stop/start cycle): hands over what was recorded since the previous drain, and forgets it, so memory
   * stays flat for repeated stacks. Synchronous; call it from a timer, not from inside a sample-heavy loop.
   */
  drain?(): SessionChunk;
  /** The session's meta as it stands (duration so far); for the header of a stream. Streaming samplers only. */
  meta?(meta?: { program?: string }): SessionMeta;
  /**
   * Samplers with a writer thread of their own (Node's native addon): streams the session to `path` from that
   * thread, even while the program never yields, and never pauses the program to convert. The start record is
   * written at once (a write error throws). After stop(), hand its rest to the sink's end(). drain() is the
   * writer's then.
   */
  streamTo?(path: string, startMeta: SessionMeta): StreamSink;
}

export interface SamplerOptions {
  /** Sampling interval in microseconds (at least MIN_INTERVAL_US, 100). */
  interval: number;
  /** Record the caller's stack as meta.startStack (default true); the CLI's preload has no caller of interest. */
  startStack?: boolean;
  /** Node and Deno: deoptimize before a mid-run start so optimized functions keep their frames (default true). */
  deoptimize?: boolean;
  /** Await attribution: unless "disabled", record the waits of the program (runtimes/awaits/tracker.ts)
   * as session.waits. Default "enabled". */
  asyncMode?: AsyncMode;
  /** Several async contexts profiled side by side (web requests): waits and switches of every context go to this
   * log, unseparated (runtimes/awaits/contexts.ts). Needs asyncMode "enabled". */
  contexts?: ContextLog;
  /**
   * Ask for a sampler with drain() where the runtime can stream (Bun; Node >= 24.12 through rotated
   * v8.startCpuProfile handles). Node 20-24.11 and Deno keep the inspector and have no drain().
   */
  stream?: boolean;
}
