// The writer of `--stream-to` on the native addon, on a worker thread of tsprofile's own: it takes the pieces the
// addon rotates out of V8 (runtimes/node/addon/src/sampler.cc, take(), which blocks this thread, never the
// program's), converts them (runtimes/node/raw-piece.ts) and appends each as a chunk to the stream file the
// program's thread opened. So a program that never yields still streams, and the conversion (source maps, the
// chunker, deflate) costs the program's thread nothing. When the sampler stops, the last pieces are converted
// but not written: the whole tables, the samples not written and where the file's chunks end go back to the
// sampler's stop() (runtimes/node/addon-sampler.ts), which adds the waits and hands the rest to the stream.
import { createRequire } from "node:module";
import { type MessagePort, workerData } from "node:worker_threads";
import { createSourceMapper } from "../../session/source/sourcemaps.ts";
import { EMPTY_BASE } from "../../session/codec.ts";
import { StreamFile } from "../../session/stream.ts";
import type { FrameInfo, SampleTable, StackTable } from "../../session/types.ts";
import type { TableBase } from "../../session/codec.ts";
import { type ConverterOptions, RawConverter, type RawPiece } from "./raw-piece.ts";

export interface StreamWorkerData {
  addonPath: string;
  /** The sampler's id (take()). */
  id: number;
  path: string;
  /** The stream file's descriptor, its start record written. */
  fd: number;
  converter: Omit<ConverterOptions, "mapper" | "callers">;
  /** The program thread's TypeScript loader state (session/source/sourcemaps.ts), null without our loader. */
  loaderCjs: string[] | null;
  /**
   * [0]: 0 while running, then 1 (the reply is posted) or 2 (failed, the reply says why). [1]: a heartbeat, counted
   * up as the writer goes, so a stop() waiting for the reply can tell a busy writer from a dead one.
   */
  control: SharedArrayBuffer;
  port: MessagePort;
}

export type StreamWorkerReply =
  | {
    ok: true;
    base: TableBase;
    /** The session's end so far (us), and its last sample's time. */
    end: number;
    lastTime: number;
    frames: FrameInfo[];
    stacks: StackTable;
    samples: SampleTable;
    startStack: number[];
    /** Set when writing failed midway: the file keeps the chunks before. */
    writeError?: string;
  }
  | { ok: false; error: string };

interface Take {
  closed: boolean;
  piece: RawPiece | null;
}

/** How long one take() blocks: bounds how long this thread delays the process's exit if stop() never comes. */
const WAIT_MS = 250;

const data = workerData as StreamWorkerData;
const control = new Int32Array(data.control);
const beat = (): void => void Atomics.add(control, 1, 1);
beat();
const done = (reply: StreamWorkerReply): void => {
  data.port.postMessage(reply);
  Atomics.store(control, 0, reply.ok ? 1 : 2);
  Atomics.notify(control, 0);
  data.port.close();
};

try {
  const loaderSlot = Symbol.for("tsprofile.loader");
  const g = globalThis as Record<symbol, unknown>;
  if (data.loaderCjs && g[loaderSlot] === undefined) g[loaderSlot] = { cjs: new Set(data.loaderCjs) };
  const take = (createRequire(import.meta.url)(data.addonPath) as {
    Sampler: { take(id: number, timeoutMs: number): Take | null };
  }).Sampler.take;
  const converter = new RawConverter({ ...data.converter, callers: [], mapper: createSourceMapper() });
  const file = new StreamFile(data.path, { fd: data.fd, base: EMPTY_BASE });
  let end = 0;
  let writeError: string | undefined;
  for (;;) {
    beat();
    const r = take(data.id, WAIT_MS);
    if (!r) throw new Error("the sampler is gone");
    if (r.piece && !writeError) end = Math.max(end, converter.add(r.piece));
    if (r.closed) break;
    if (!r.piece || writeError) continue; // after a failed write: keep taking, so pieces do not pile up
    try {
      file.chunk(converter.take());
    } catch (err) {
      writeError = (err as { code?: string }).code ?? (err as Error).message;
    }
  }
  beat();
  const lastTime = converter.chunker.lastTime;
  const rest = converter.rest({
    ...data.converter,
    duration: end,
    cpuTime: -1,
    gapCap: 0,
    idleSampled: true,
    cwd: "",
    startStack: [],
  });
  done({
    ok: true,
    base: file.tableBase,
    end,
    lastTime,
    frames: rest.frames,
    stacks: rest.stacks,
    samples: rest.samples,
    startStack: rest.meta.startStack,
    ...(writeError ? { writeError } : {}),
  });
} catch (err) {
  done({ ok: false, error: String((err as Error)?.message ?? err).split("\n")[0] });
}
