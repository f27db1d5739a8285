// The appendable session file `--stream-to FILE` writes while the program runs (format 3), so a process killed
// mid-run (kill -9, OOM) leaves a file that loads with what was recorded up to its last complete record.
//
// Format 3: "TSPROF\0", a version byte (3), then records, each: a type byte, a little-endian u32 with the
// payload's length, the payload (zlib-deflated; zlib's checksum catches a damaged record):
//   1 start  JSON { meta } as it stood when the stream began (duration 0);
//   2 chunk  a body as in format 2 (session/codec.ts, encodeBody) with { end } in its header, whose ids and deltas
//            continue the chunks before it (a SessionChunk, session/types.ts); the session has samples.cpu when
//            every chunk with samples carries the column;
//   3 stop   JSON { meta } of the whole session, written last.
// A reader takes every complete record and stops cleanly at a cut-off tail; a file without its stop record is
// a run that did not finish: its duration is its last chunk's end, and its program line says it was cut off.
import { closeSync, openSync, writeSync } from "node:fs";
import { deflateSync, inflateSync } from "node:zlib";
import {
  decodeBody,
  EMPTY_BASE,
  encodeBody,
  type Fail,
  type JsonObject,
  MAGIC,
  metaRecord,
  STREAM_FORMAT_VERSION,
  type TableBase,
  validateMeta,
} from "./codec.ts";
import type { FrameInfo, Session, SessionChunk, SessionMeta, WaitTable } from "./types.ts";

const RECORD_START = 1;
const RECORD_CHUNK = 2;
const RECORD_STOP = 3;
const RECORD_HEAD = 5;
/** A record's payload is one drain's worth: far below this; a larger length is damage, not data. */
const MAX_RECORD = 0x40000000;
const MAX_RATIO = 1100;

function record(type: number, payload: Uint8Array): Uint8Array {
  const deflated = deflateSync(payload, { level: 6 });
  const out = new Uint8Array(RECORD_HEAD + deflated.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, deflated.length, true);
  out.set(deflated, RECORD_HEAD);
  return out;
}

const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

/** Encodes format 3 record by record; the bytes of each call are appended to the file as they come. */
export class StreamEncoder {
  private base: TableBase;
  private ended = false;

  /** `base`: where the chunks continue from, when another encoder wrote the ones before (a stream's writer). */
  constructor(base: Readonly<TableBase> = EMPTY_BASE) {
    this.base = { ...base };
  }

  /** Where the next chunk continues from. */
  get tableBase(): TableBase {
    return { ...this.base };
  }

  /** The file's first bytes: magic, version and the start record. */
  start(meta: SessionMeta): Uint8Array {
    const head = new Uint8Array(8);
    for (let i = 0; i < 7; i++) head[i] = MAGIC.charCodeAt(i);
    head[7] = STREAM_FORMAT_VERSION;
    const rec = record(RECORD_START, json({ meta: metaRecord(meta) }));
    const out = new Uint8Array(head.length + rec.length);
    out.set(head);
    out.set(rec, head.length);
    return out;
  }

  chunk(c: SessionChunk): Uint8Array {
    if (this.ended) throw new Error("tsprofile: the stream was already ended");
    const { body, next } = encodeBody({ end: Math.round(c.end) }, c, this.base);
    this.base = next;
    return record(RECORD_CHUNK, body);
  }

  /**
   * The last chunk (what a sampler's stop() returns after drains: the whole frame and stack tables, the samples
   * and waits not drained yet) and the stop record.
   */
  end(rest: Session): Uint8Array {
    const last = this.chunk({
      frames: rest.frames.slice(this.base.frames),
      stacks: { parent: rest.stacks.parent.slice(this.base.stacks), frame: rest.stacks.frame.slice(this.base.stacks) },
      samples: rest.samples,
      ...(rest.waits ? { waits: rest.waits } : {}),
      end: rest.meta.duration,
    });
    this.ended = true;
    const stop = record(RECORD_STOP, json({ meta: metaRecord(rest.meta) }));
    const out = new Uint8Array(last.length + stop.length);
    out.set(last);
    out.set(stop, last.length);
    return out;
  }
}

/** A whole session as a stream of one chunk (for runtimes that cannot stream, and for tests). */
export function encodeStream(session: Session): Uint8Array {
  const e = new StreamEncoder();
  const parts = [e.start({ ...session.meta, duration: 0 }), e.end(session)];
  const out = new Uint8Array(parts[0].length + parts[1].length);
  out.set(parts[0]);
  out.set(parts[1], parts[0].length);
  return out;
}

/** Where a stream's records end up: a StreamFile, or a writer that appends them from another thread. */
export interface StreamSink {
  /** The last chunk (the rest a sampler's stop() returned) and the stop record; closes the file. */
  end(rest: Session): void;
  close(): void;
}

/**
 * Appends a stream to a file as it is recorded: each record with one write, so a kill leaves whole records.
 * `shared`: the descriptor of a file another StreamFile opened (on another thread), continuing from `base`;
 * closing leaves it open.
 */
export class StreamFile implements StreamSink {
  private fd: number;
  private readonly owned: boolean;
  private encoder: StreamEncoder;
  constructor(readonly path: string, shared?: { fd: number; base: TableBase }) {
    this.fd = shared ? shared.fd : openSync(path, "w");
    this.owned = !shared;
    this.encoder = new StreamEncoder(shared?.base);
  }
  /** The open descriptor (-1 once closed), for a writer on another thread. */
  get descriptor(): number {
    return this.fd;
  }
  /** Where the next chunk continues from. */
  get tableBase(): TableBase {
    return this.encoder.tableBase;
  }
  /** The chunks up to `base` were appended by another writer on this file's descriptor: continue after them. */
  continueFrom(base: TableBase): void {
    this.encoder = new StreamEncoder(base);
  }
  start(meta: SessionMeta): void {
    this.write(this.encoder.start(meta));
  }
  chunk(c: SessionChunk): void {
    this.write(this.encoder.chunk(c));
  }
  end(rest: Session): void {
    this.write(this.encoder.end(rest));
    this.close();
  }
  close(): void {
    if (this.fd < 0) return;
    if (!this.owned) {
      this.fd = -1;
      return;
    }
    try {
      closeSync(this.fd);
    } catch {
      // closing is best effort: the descriptor is given up either way
    }
    this.fd = -1;
  }
  private write(bytes: Uint8Array): void {
    if (this.fd < 0) throw new Error("tsprofile: the stream file is closed");
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at);
  }
}

// ---- reading ----

/** Growable columns for the tables of every chunk. */
class Grow<T extends Int32Array | Uint32Array | Float64Array | Uint8Array> {
  length = 0;
  constructor(public data: T) {}
  append(src: ArrayLike<number>): void {
    if (this.length + src.length > this.data.length) {
      let size = Math.max(16, this.data.length * 2);
      while (size < this.length + src.length) size *= 2;
      const bigger = new (this.data.constructor as new (n: number) => T)(size);
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    this.data.set(src as ArrayLike<number> & T, this.length);
    this.length += src.length;
  }
  result(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/** Decodes format 3 (the caller checked magic and version). A cut-off tail is dropped; damage fails. */
export function decodeStream(bytes: Uint8Array, fail: Fail): Session {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let index = 0;
  let startMeta: SessionMeta | null = null;
  let stopMeta: SessionMeta | null = null;
  let lastEnd = 0;
  let base: TableBase = { ...EMPTY_BASE };
  const frames: FrameInfo[] = [];
  const parent = new Grow(new Int32Array(0));
  const frameOf = new Grow(new Uint32Array(0));
  const stack = new Grow(new Int32Array(0));
  const time = new Grow(new Float64Array(0));
  const state = new Grow(new Uint8Array(0));
  let waits: { start: Grow<Float64Array>; end: Grow<Float64Array>; stack: Grow<Int32Array> } | null = null;
  // The CPU column, until a chunk with samples comes without it (then the session has none, like the core's).
  let cpu: Grow<Float64Array> | null = null;
  let cpuLost = false;

  while (at < bytes.length) {
    // A record whose head or payload runs past the end was being written when the process died.
    if (bytes.length - at < RECORD_HEAD) break;
    const type = bytes[at];
    const length = view.getUint32(at + 1, true);
    if (type < RECORD_START || type > RECORD_STOP) fail(`corrupt stream (record ${index} has unknown type ${type})`);
    if (length > MAX_RECORD) fail(`corrupt stream (record ${index} is too long)`);
    if (at + RECORD_HEAD + length > bytes.length) break;
    const what = `record ${index}`;
    const recFail: Fail = (why) => fail(`${what}: ${why}`);
    let payload: Uint8Array;
    try {
      payload = inflateSync(bytes.subarray(at + RECORD_HEAD, at + RECORD_HEAD + length), {
        maxOutputLength: Math.max(1, Math.min(0x7fff0000, length * MAX_RATIO + 1024)),
      });
    } catch {
      fail(`corrupt stream (${what} does not inflate)`);
    }
    at += RECORD_HEAD + length;
    index++;
    if (stopMeta) fail(`corrupt stream (${what} follows the stop record)`);
    if (type === RECORD_START) {
      if (startMeta) fail(`corrupt stream (${what}: a second start record)`);
      startMeta = validateMeta(parseJson(payload!, recFail).meta, recFail);
      continue;
    }
    if (!startMeta) fail(`corrupt stream (${what} comes before the start record)`);
    if (type === RECORD_STOP) {
      stopMeta = validateMeta(parseJson(payload!, recFail).meta, recFail);
      continue;
    }
    const part = decodeBody(payload!, recFail, base, (header) => {
      const end = header.end;
      if (typeof end !== "number" || !Number.isSafeInteger(end) || end < 0) recFail("bad chunk end");
    });
    base = part.next;
    lastEnd = Math.max(lastEnd, part.header.end as number); // checked above
    for (const f of part.frames) frames.push(f);
    if (part.samples.cpu && !cpuLost) {
      if (!cpu && time.length > 0) cpuLost = true;
      else (cpu ??= new Grow(new Float64Array(0))).append(part.samples.cpu);
    } else if (!part.samples.cpu && part.samples.stack.length > 0) {
      cpu = null;
      cpuLost = true;
    }
    parent.append(part.stacks.parent);
    frameOf.append(part.stacks.frame);
    stack.append(part.samples.stack);
    time.append(part.samples.time);
    state.append(part.samples.state);
    if (part.waits) {
      waits ??= {
        start: new Grow(new Float64Array(0)),
        end: new Grow(new Float64Array(0)),
        stack: new Grow(new Int32Array(0)),
      };
      waits.start.append(part.waits.start);
      waits.end.append(part.waits.end);
      waits.stack.append(part.waits.stack);
    }
  }
  if (!startMeta) fail("truncated (the stream ended before its start record: nothing was recorded)");
  let meta: SessionMeta;
  if (stopMeta) meta = stopMeta;
  else {
    const end = Math.max(lastEnd, time.length > 0 ? time.data[time.length - 1] : 0);
    meta = {
      ...startMeta!,
      duration: end,
      cpuTime: -1,
      startStack: [],
      program: `${startMeta!.program} (cut off after ${(end / 1e6).toFixed(1)}s: the run did not finish)`,
    };
  }
  for (const f of meta.startStack) if (f >= frames.length) fail("start stack names a missing frame");
  const lastTime = time.length > 0 ? time.data[time.length - 1] : 0;
  if (lastTime > meta.duration) meta = { ...meta, duration: lastTime };
  const session: Session = {
    version: 1,
    meta,
    frames,
    stacks: { parent: parent.result(), frame: frameOf.result() },
    samples: { stack: stack.result(), time: time.result(), state: state.result() },
  };
  if (cpu) session.samples.cpu = cpu.result();
  if (waits) {
    session.waits = { start: waits.start.result(), end: waits.end.result(), stack: waits.stack.result() } as WaitTable;
  }
  return session;
}

function parseJson(bytes: Uint8Array, fail: Fail): JsonObject {
  let x: unknown;
  try {
    x = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    fail("corrupt record");
  }
  if (typeof x !== "object" || x === null || Array.isArray(x)) fail("corrupt record");
  return x as JsonObject;
}
