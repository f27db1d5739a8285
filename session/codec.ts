// The .tsprof codec, formats 1 (read only) and 2 (written), and the body codec the appendable format 3
// (stream.ts) builds on. Decoding validates everything and throws SessionError, with one line saying what is wrong.
//
// Format 2 (written): "TSPROF\0", a version byte (2), a flags byte (bit 0: the body is zlib-deflated), a varint
// with the body's length (uncompressed), when deflated a varint with the deflated length, then the body:
//   varint header length, header JSON { meta, frames: [[name, file, line, col, kind]...], stackCount,
//     sampleCount, timeEncoding: "varint" | "f64", stateRuns },
//   stack parents: varint (i - 1 - parent) per stack (parent -1 gives i),
//   stack frames: varint per stack,
//   sample times: varint deltas from the previous time (the first from 0), or little-endian f64s when some time
//     is not a safe integer (timeEncoding "f64"),
//   sample stacks: zigzag varint of (stack - previous stack), the previous of the first being -1,
//   sample states: stateRuns pairs of (state, varint run length),
//   then, only when the header has cpuEncoding (samples.cpu, the native Node sampler's; files without it load
//   with none): sample CPU times as varint deltas from the previous one (the first from 0), or f64s when some
//   value is not a safe integer or goes back (cpuEncoding "f64"),
//   then, only when the header has waitCount (await attribution; files without it load with no waits):
//   wait starts as varint deltas from the previous start (waits are in order of start, whole microseconds),
//   wait durations (end - start) as varints, wait stacks as zigzag varints of (stack - previous stack) from -1.
// meta.idleSampled (SPEC.md §1, running gap) is a field of the header's meta, written only when true: files
// without it read as false (the gap rule they were made with), and readers from before it ignore it (no version
// bump: both kinds of file stay readable by both kinds of reader).
// About 2-3 bytes a sample before deflate and under 1 after it on real profiles (was 13 in format 1, which is
import { constants as zlibConstants, deflateSync, inflateSync } from "node:zlib";
import { SAMPLER_NAMES } from "./types.ts";
import type {
  FrameInfo,
  FrameKind,
  SamplerName,
  SampleTable,
  Session,
  SessionMeta,
  StackTable,
  WaitTable,
} from "./types.ts";

export const MAGIC = "TSPROF\u0000";
export const SESSION_FORMAT_VERSION = 2;
/** The appendable format --stream-to writes (session/stream.ts). */
export const STREAM_FORMAT_VERSION = 3;
/** A session with worker threads: format 2 sessions side by side (session/threads.ts). */
export const THREADS_FORMAT_VERSION = 4;
export const READABLE_VERSIONS = [1, 2, STREAM_FORMAT_VERSION, THREADS_FORMAT_VERSION];
const KINDS: readonly FrameKind[] = ["js", "native", "runtime"];
const FLAG_DEFLATED = 1;
/** deflate cannot compress better than about 1032:1; a body that claims more is corrupt (or a bomb). */
const MAX_RATIO = 1100;
const MAX_BODY = 0x7fff0000;

export class SessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SessionError";
  }
}

export interface EncodeOptions {
  /** Deflate the body (default true). Uncompressed files load a little faster and are easier to inspect. */
  compress?: boolean;
}

// ---- varints ----

class Writer {
  buf = new Uint8Array(1 << 16);
  at = 0;
  reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }
  /** x: a non-negative safe integer. */
  varint(x: number): void {
    this.reserve(8);
    const buf = this.buf;
    let at = this.at;
    while (x >= 0x80) {
      buf[at++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    buf[at++] = x;
    this.at = at;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  f64(x: number): void {
    this.reserve(8);
    new DataView(this.buf.buffer).setFloat64(this.at, x, true);
    this.at += 8;
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}

const zigzag = (x: number): number => (x >= 0 ? x * 2 : -x * 2 - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

// ---- encode ----

/**
 * Where a body's tables continue from: format 2 starts from nothing; a chunk of a stream (session/stream.ts) from
 * the chunks before it (ids continue, deltas run on from the previous chunk's last time and stack).
 */
export interface TableBase {
  frames: number;
  stacks: number;
  /** The last sample time before the body (0 at the start). */
  time: number;
  /** The last sample stack before the body (-1 at the start). */
  stack: number;
  waitStart: number;
  waitStack: number;
  /** The last sample CPU time before the body (0 at the start; unchanged by a body without the column). */
  cpu: number;
}
export const EMPTY_BASE: Readonly<TableBase> = {
  frames: 0,
  stacks: 0,
  time: 0,
  stack: -1,
  waitStart: 0,
  waitStack: -1,
  cpu: 0,
};

export interface Tables {
  /** New frames (ids from base.frames). */
  frames: FrameInfo[];
  /** New stacks (ids from base.stacks); parents may name earlier ones. */
  stacks: StackTable;
  samples: SampleTable;
  waits?: WaitTable;
}

/**
 * The body of format 2 (see the top), and of a stream's chunk: a header of `head`'s fields then the tables'
 * own, then the columns. Returns the body and the base the next body continues from.
 */
export function encodeBody(
  head: Record<string, unknown>,
  t: Tables,
  base: Readonly<TableBase>,
): { body: Uint8Array; next: TableBase } {
  const { stacks, samples, waits } = t;
  const ns = stacks.parent.length;
  const n = samples.stack.length;
  let integerTimes = true;
  for (let i = 0; i < n; i++) {
    const x = samples.time[i];
    if (!Number.isSafeInteger(x) || x < base.time || (i > 0 && x < samples.time[i - 1])) {
      integerTimes = false;
      break;
    }
  }
  let stateRuns = 0;
  for (let i = 0; i < n; i++) if (i === 0 || samples.state[i] !== samples.state[i - 1]) stateRuns++;
  const cpu = samples.cpu;
  let integerCpu = true;
  for (let i = 0; cpu && i < n; i++) {
    const x = cpu[i];
    if (!Number.isSafeInteger(x) || x < (i > 0 ? cpu[i - 1] : base.cpu)) {
      integerCpu = false;
      break;
    }
  }
  const header = new TextEncoder().encode(
    JSON.stringify({
      ...head,
      frames: t.frames.map((f) => [f.name, f.file, f.line, f.col, f.kind]),
      stackCount: ns,
      sampleCount: n,
      timeEncoding: integerTimes ? "varint" : "f64",
      stateRuns,
      // Only with the column: a session without it encodes exactly as before it existed.
      ...(cpu ? { cpuEncoding: integerCpu ? "varint" : "f64" } : {}),
      ...(waits ? { waitCount: waits.start.length } : {}),
    }),
  );
  const w = new Writer();
  w.reserve(header.length + 8 + ns * 4 + n * 6);
  w.varint(header.length);
  w.bytes(header);
  for (let i = 0; i < ns; i++) w.varint(base.stacks + i - 1 - stacks.parent[i]);
  for (let i = 0; i < ns; i++) w.varint(stacks.frame[i]);
  let prev = base.time;
  if (integerTimes) {
    for (let i = 0; i < n; i++) {
      const x = samples.time[i];
      w.varint(x - prev);
      prev = x;
    }
  } else for (let i = 0; i < n; i++) w.f64(samples.time[i]);
  const next: TableBase = { ...base, frames: base.frames + t.frames.length, stacks: base.stacks + ns };
  if (n > 0) next.time = Math.max(base.time, samples.time[n - 1]);
  let prevStack = base.stack;
  for (let i = 0; i < n; i++) {
    const st = samples.stack[i];
    w.varint(zigzag(st - prevStack));
    prevStack = st;
  }
  next.stack = prevStack;
  for (let i = 0; i < n;) {
    const state = samples.state[i];
    let j = i + 1;
    while (j < n && samples.state[j] === state) j++;
    w.varint(state);
    w.varint(j - i);
    i = j;
  }
  if (cpu) {
    let prevCpu = base.cpu;
    if (integerCpu) {
      for (let i = 0; i < n; i++) {
        w.varint(cpu[i] - prevCpu);
        prevCpu = cpu[i];
      }
    } else for (let i = 0; i < n; i++) w.f64(cpu[i]);
    if (n > 0) next.cpu = integerCpu ? prevCpu : Math.max(base.cpu, cpu[n - 1]);
  }
  if (waits) {
    let prevStart = base.waitStart;
    let prevWaitStack = base.waitStack;
    for (let i = 0; i < waits.start.length; i++) {
      // Stored in whole microseconds, in order of start (the sampler's waits already are).
      const start = Math.max(prevStart, Math.round(waits.start[i]) || 0);
      w.varint(start - prevStart);
      prevStart = start;
    }
    next.waitStart = prevStart;
    prevStart = base.waitStart;
    for (let i = 0; i < waits.start.length; i++) {
      const start = Math.max(prevStart, Math.round(waits.start[i]) || 0);
      w.varint(Math.max(0, (Math.round(waits.end[i]) || 0) - start));
      prevStart = start;
    }
    for (let i = 0; i < waits.start.length; i++) {
      const st = waits.stack[i];
      w.varint(zigzag(st - prevWaitStack));
      prevWaitStack = st;
    }
    next.waitStack = prevWaitStack;
  }
  return { body: w.result(), next };
}

/**
 * The meta as files hold it: idleSampled only when true, so a session without it (Bun's, an older one's) is
 * written byte for byte as before the flag existed.
 */
export function metaRecord(meta: SessionMeta): object {
  const { idleSampled, ...rest } = meta;
  return idleSampled ? meta : rest;
}

/** Encodes a session in the current format (2). */
export function encodeSession(session: Session, options: EncodeOptions = {}): Uint8Array {
  const { body } = encodeBody({ meta: metaRecord(session.meta) }, session, EMPTY_BASE);
  const compress = options.compress ?? true;
  const payload = compress ? deflateSync(body, { level: 6 }) : body;
  const head = new Writer();
  for (let i = 0; i < 7; i++) head.buf[head.at++] = MAGIC.charCodeAt(i);
  head.buf[head.at++] = SESSION_FORMAT_VERSION;
  head.buf[head.at++] = compress ? FLAG_DEFLATED : 0;
  head.varint(body.length);
  if (compress) head.varint(payload.length);
  const out = new Uint8Array(head.at + payload.length);
  out.set(head.result(), 0);
  out.set(payload, head.at);
  return out;
}

// ---- decode ----

export type Fail = (what: string) => never;

class Reader {
  at: number;
  constructor(
    readonly buf: Uint8Array,
    at: number,
    readonly fail: Fail,
  ) {
    this.at = at;
  }
  varint(what: string): number {
    const buf = this.buf;
    let at = this.at;
    let x = 0;
    let scale = 1;
    for (;;) {
      if (at >= buf.length) this.fail(`truncated (${what})`);
      const b = buf[at++];
      x += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 49) this.fail(`corrupt number (${what})`);
    }
    if (x > Number.MAX_SAFE_INTEGER) this.fail(`corrupt number (${what})`);
    this.at = at;
    return x;
  }
}

/** Format 2 (the caller checked magic and version). */
export function decodeV2(bytes: Uint8Array, fail: Fail): Session {
  if (bytes.length < 10) fail("truncated (file header)");
  const flags = bytes[8];
  if ((flags & ~FLAG_DEFLATED) !== 0) fail(`corrupt file header (unknown flags ${flags})`);
  const head = new Reader(bytes, 9, fail);
  const bodyLength = head.varint("body length");
  const deflated = (flags & FLAG_DEFLATED) !== 0;
  const payloadLength = deflated ? head.varint("compressed length") : bodyLength;
  const payload = bytes.subarray(head.at);
  // zlib stops at the end of its stream: trailing bytes would go unnoticed without this.
  if (deflated && payload.length !== payloadLength) {
    fail(`truncated or oversized (expected ${payloadLength} compressed bytes, found ${payload.length})`);
  }
  let body: Uint8Array;
  if (deflated) {
    if (bodyLength > MAX_BODY || bodyLength > payload.length * MAX_RATIO + 1024) {
      fail("corrupt file header (body length)");
    }
    if (bodyLength > PEEK_ABOVE) checkBodyLength(payload, bodyLength, fail);
    try {
      body = inflateSync(payload, { maxOutputLength: Math.max(bodyLength, 1) });
    } catch (err) {
      const code = (err as { code?: string }).code;
      fail(code === "Z_BUF_ERROR" ? "truncated (compressed data ends early)" : "corrupt compressed data");
    }
    if (body!.length !== bodyLength) fail("corrupt compressed data (wrong length)");
  } else {
    body = payload;
    if (body.length !== bodyLength) {
      fail(`truncated or oversized (expected ${bodyLength} body bytes, found ${body.length})`);
    }
  }
  let meta: SessionMeta;
  const parts = decodeBody(body!, fail, EMPTY_BASE, (header) => (meta = validateMeta(header.meta, fail)));
  meta = meta!;
  for (const f of meta.startStack) if (f >= parts.frames.length) fail("start stack names a missing frame");
  const session: Session = { version: 1, meta, frames: parts.frames, stacks: parts.stacks, samples: parts.samples };
  if (parts.waits) session.waits = parts.waits;
  return session;
}

/** Bodies longer than this have their length checked against their own header before they are inflated. */
const PEEK_ABOVE = 1 << 20;

/**
 * A body's header says how many entries its tables hold, so how long the body can be (every entry at most 10
 * bytes, a few per sample): inflated first, alone, it stops a decompression bomb (a small file claiming a huge body
 * of junk) before the rest is inflated. Returns when the header cannot be read (decodeBody then says why).
 */
function checkBodyLength(payload: Uint8Array, bodyLength: number, fail: Fail): void {
  for (let take = 4096;; take *= 8) {
    const end = Math.min(take, payload.length);
    let head: Uint8Array;
    try {
      // Z_SYNC_FLUSH: what this much of the stream gives, without an error for the rest being missing.
      head = inflateSync(payload.subarray(0, end), {
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: Math.max(1, Math.min(bodyLength, end * MAX_RATIO + 1024)),
      });
    } catch {
      return fail("corrupt compressed data");
    }
    const span = varintAt(head, 0);
    if (span === null || span[1] + span[0] > head.length) {
      if (end < payload.length) continue; // the header goes on past what was inflated
      return;
    }
    const [headerLength, at] = span;
    const header = parseHeader(head.subarray(at, at + headerLength), fail);
    const counts = [header.stackCount, header.sampleCount, header.stateRuns, header.waitCount ?? 0];
    if (!counts.every(isCount)) fail("corrupt table sizes");
    const [stacks, samples, runs, waits] = counts as number[];
    const longest = at + headerLength + 20 * stacks + 30 * samples + 20 * runs + 30 * waits + 16;
    if (bodyLength > longest) fail("corrupt file header (body length larger than its tables can be)");
    return;
  }
}

/** The varint at `at` and where it ends; null when it runs past the bytes (or past 8 bytes). */
function varintAt(bytes: Uint8Array, at: number): [number, number] | null {
  let x = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 8; i++, scale *= 128) {
    x += (bytes[i] & 0x7f) * scale;
    if (bytes[i] < 0x80) return [x, i + 1];
  }
  return null;
}

/** A body's header (its own fields, e.g. meta or end) and validated tables, continuing `base`. */
export interface DecodedBody extends Tables {
  header: JsonObject;
  next: TableBase;
}

/**
 * Decodes and validates a body written by encodeBody on `base`; ids must name frames and stacks that exist.
 * checkHeader sees the header's own fields first (so a bad meta is reported before the tables).
 */
export function decodeBody(
  body: Uint8Array,
  fail: Fail,
  base: Readonly<TableBase>,
  checkHeader?: (header: JsonObject) => void,
): DecodedBody {
  const r = new Reader(body, 0, fail);
  const headerLength = r.varint("header length");
  if (r.at + headerLength > body.length) fail("truncated header");
  const header = parseHeader(body.subarray(r.at, r.at + headerLength), fail);
  r.at += headerLength;
  checkHeader?.(header);
  const frames = validateFrames(header.frames, fail);
  const frameCount = base.frames + frames.length;
  const ns = header.stackCount;
  const n = header.sampleCount;
  const runs = header.stateRuns;
  if (!isCount(ns) || !isCount(n) || !isCount(runs) || runs > n || (n > 0 && runs === 0)) fail("corrupt table sizes");
  if (header.timeEncoding !== "varint" && header.timeEncoding !== "f64") fail("corrupt header (time encoding)");
  const f64Times = header.timeEncoding === "f64";
  // Every entry takes at least a byte: counts larger than what is left are corrupt, not a reason to allocate.
  const left = body.length - r.at;
  if (ns * 2 + n * (f64Times ? 9 : 2) + runs * 2 > left) {
    fail("truncated or corrupt tables (counts larger than the data)");
  }

  const parent = new Int32Array(ns);
  const frame = new Uint32Array(ns);
  for (let i = 0; i < ns; i++) {
    const g = base.stacks + i;
    const d = r.varint("stack table");
    if (d > g) fail(`stack ${g} has a bad parent`);
    parent[i] = g - 1 - d;
  }
  for (let i = 0; i < ns; i++) {
    const f = r.varint("stack table");
    if (f >= frameCount) fail(`stack ${base.stacks + i} names a missing frame`);
    frame[i] = f;
  }
  const stackCount = base.stacks + ns;
  const time = new Float64Array(n);
  if (f64Times) {
    if (r.at + n * 8 > body.length) fail("truncated (sample times)");
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < n; i++, r.at += 8) {
      const t = view.getFloat64(r.at, true);
      if (!Number.isFinite(t) || t < 0 || t > Number.MAX_SAFE_INTEGER || t < (i > 0 ? time[i - 1] : base.time)) {
        fail(`sample ${i} has a bad time`);
      }
      time[i] = t;
    }
  } else {
    let t = base.time;
    for (let i = 0; i < n; i++) {
      t += r.varint("sample times");
      if (t > Number.MAX_SAFE_INTEGER) fail(`sample ${i} has a bad time`);
      time[i] = t;
    }
  }
  const stack = new Int32Array(n);
  let prev = base.stack;
  for (let i = 0; i < n; i++) {
    const s = prev + unzigzag(r.varint("sample stacks"));
    if (s < -1 || s >= stackCount) fail(`sample ${i} names a missing stack`);
    stack[i] = prev = s;
  }
  const state = new Uint8Array(n);
  let at = 0;
  for (let k = 0; k < runs; k++) {
    const s = r.varint("sample states");
    const len = r.varint("sample states");
    if (s > 5) fail(`sample ${at} has a bad state`);
    if (len === 0 || at + len > n) fail("corrupt sample states (runs do not add up)");
    state.fill(s, at, at + len);
    at += len;
  }
  if (at !== n) fail("corrupt sample states (runs do not add up)");
  const next: TableBase = { ...base, frames: frameCount, stacks: stackCount, stack: prev };
  if (n > 0) next.time = time[n - 1];
  let cpu: Float64Array | undefined;
  if (header.cpuEncoding !== undefined) {
    if (header.cpuEncoding !== "varint" && header.cpuEncoding !== "f64") fail("corrupt header (cpu encoding)");
    const f64Cpu = header.cpuEncoding === "f64";
    if (n * (f64Cpu ? 8 : 1) > body.length - r.at) fail("truncated (sample cpu times)");
    cpu = new Float64Array(n);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let c = base.cpu;
    for (let i = 0; i < n; i++) {
      if (f64Cpu) {
        const x = view.getFloat64(r.at, true);
        r.at += 8;
        if (!Number.isFinite(x) || x < 0 || x > Number.MAX_SAFE_INTEGER || x < (i > 0 ? cpu[i - 1] : base.cpu)) {
          fail(`sample ${i} has a bad cpu time`);
        }
        c = x;
      } else {
        c += r.varint("sample cpu times");
        if (c > Number.MAX_SAFE_INTEGER) fail(`sample ${i} has a bad cpu time`);
      }
      cpu[i] = c;
    }
    if (n > 0) next.cpu = c;
  }
  let waits: WaitTable | undefined;
  if (header.waitCount !== undefined) {
    const nw = header.waitCount;
    if (!isCount(nw) || nw * 3 > body.length - r.at) fail("corrupt wait table size");
    const start = new Float64Array(nw);
    const end = new Float64Array(nw);
    const wstack = new Int32Array(nw);
    let t = base.waitStart;
    for (let i = 0; i < nw; i++) {
      t += r.varint("wait starts");
      if (t > Number.MAX_SAFE_INTEGER) fail(`wait ${i} has a bad time`);
      start[i] = t;
    }
    next.waitStart = t;
    for (let i = 0; i < nw; i++) {
      end[i] = start[i] + r.varint("wait durations");
      if (end[i] > Number.MAX_SAFE_INTEGER) fail(`wait ${i} has a bad time`);
    }
    let prevWait = base.waitStack;
    for (let i = 0; i < nw; i++) {
      const s = prevWait + unzigzag(r.varint("wait stacks"));
      if (s < -1 || s >= stackCount) fail(`wait ${i} names a missing stack`);
      wstack[i] = prevWait = s;
    }
    next.waitStack = prevWait;
    waits = { start, end, stack: wstack };
  }
  if (r.at !== body.length) fail(`corrupt tables (${body.length - r.at} bytes left over)`);
  const samples = cpu ? { stack, time, state, cpu } : { stack, time, state };
  const out: DecodedBody = { header, next, frames, stacks: { parent, frame }, samples };
  if (waits) out.waits = waits;
  return out;
}

/** A parsed JSON object whose fields are not checked yet. */
export type JsonObject = Record<string, unknown>;

function parseHeader(bytes: Uint8Array, fail: Fail): JsonObject {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    fail("corrupt header");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("corrupt header");
  return header as JsonObject;
}

function validateFrames(list: unknown, fail: Fail): FrameInfo[] {
  if (!Array.isArray(list)) fail("corrupt frame table");
  const frames: FrameInfo[] = new Array((list as unknown[]).length);
  (list as unknown[]).forEach((f, i) => {
    if (!Array.isArray(f) || f.length !== 5) fail(`corrupt frame ${i}`);
    const [name, file, line, col, kind] = f as [string, string, number, number, FrameKind];
    const typed = typeof name === "string" && typeof file === "string" && isCount(line) && isCount(col);
    if (!typed || !KINDS.includes(kind)) fail(`corrupt frame ${i}`);
    frames[i] = { name, file, line, col, kind };
  });
  return frames;
}

/** Format 1 (read, no longer written): 8-byte magic+version, u32 header length, header JSON, padding to 8, then
 * fixed-width columns. */
export function decodeV1(bytes: Uint8Array, fail: Fail): Session {
  if (bytes.length < 12) fail("truncated (file header)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) fail("truncated header");
  const header = parseHeader(bytes.subarray(12, 12 + headerLength), fail);
  const meta = validateMeta(header.meta, fail);
  const frames = validateFrames(header.frames, fail);
  const ns = header.stackCount;
  const n = header.sampleCount;
  if (!isCount(ns) || !isCount(n)) fail("corrupt table sizes");
  const headerEnd = 12 + headerLength;
  const columnsStart = headerEnd + ((8 - (headerEnd % 8)) % 8);
  const expected = columnsStart + n * 13 + ns * 8;
  if (bytes.length !== expected) {
    fail(`truncated or oversized tables (expected ${expected} bytes, found ${bytes.length})`);
  }
  let at = columnsStart;
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++, at += 8) {
    time[i] = view.getFloat64(at, true);
    const bad = !Number.isFinite(time[i]) || time[i] < 0 || time[i] > Number.MAX_SAFE_INTEGER;
    if (bad || (i > 0 && time[i] < time[i - 1])) fail(`sample ${i} has a bad time`);
  }
  const parent = new Int32Array(ns);
  const frame = new Uint32Array(ns);
  for (let i = 0; i < ns; i++, at += 4) {
    parent[i] = view.getInt32(at, true);
    if (parent[i] < -1 || parent[i] >= i) fail(`stack ${i} has a bad parent`);
  }
  for (let i = 0; i < ns; i++, at += 4) {
    frame[i] = view.getUint32(at, true);
    if (frame[i] >= frames.length) fail(`stack ${i} names a missing frame`);
  }
  const stack = new Int32Array(n);
  for (let i = 0; i < n; i++, at += 4) {
    stack[i] = view.getInt32(at, true);
    if (stack[i] < -1 || stack[i] >= ns) fail(`sample ${i} names a missing stack`);
  }
  const state = bytes.slice(at, at + n);
  for (let i = 0; i < n; i++) if (state[i] > 5) fail(`sample ${i} has a bad state`);
  for (const f of meta.startStack) if (f >= frames.length) fail("start stack names a missing frame");
  return { version: 1, meta, frames, stacks: { parent, frame }, samples: { stack, time, state } };
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

export function validateMeta(value: unknown, fail: Fail): SessionMeta {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("missing metadata");
  const m = value as JsonObject;
  // m as it should be: each field is read through f only after its check below.
  const f = m as Omit<SessionMeta, "startStack">;
  for (const key of ["startTime", "duration", "cpuTime", "interval", "gapCap"]) {
    if (typeof m[key] !== "number" || !Number.isFinite(m[key])) fail(`bad metadata field ${key}`);
  }
  // Times the core sums stay exact below 2^53 microseconds (SPEC.md).
  for (const key of ["duration", "interval", "gapCap"] as const) {
    if (f[key] < 0 || f[key] > Number.MAX_SAFE_INTEGER) fail(`bad metadata field ${key}`);
  }
  if (f.cpuTime < -1 || f.cpuTime > Number.MAX_SAFE_INTEGER) fail("bad metadata field cpuTime");
  for (const key of ["program", "cwd", "runtime"]) if (typeof m[key] !== "string") fail(`bad metadata field ${key}`);
  if (!Array.isArray(m.startStack) || !m.startStack.every(isCount)) fail("bad metadata field startStack");
  // Files written before the flag existed read as false: the gap rule they were made with.
  if (m.idleSampled !== undefined && typeof m.idleSampled !== "boolean") fail("bad metadata field idleSampled");
  if (m.runningGap !== undefined && m.runningGap !== "previous") fail("bad metadata field runningGap");
  const sampler = m.sampler as SamplerName | undefined;
  if (sampler !== undefined && !SAMPLER_NAMES.includes(sampler)) fail("bad metadata field sampler");
  const t = m.thread as JsonObject | undefined;
  if (t !== undefined && (typeof t !== "object" || t === null || !isCount(t.id) || typeof t.name !== "string")) {
    fail("bad metadata field thread");
  }
  return {
    startTime: f.startTime,
    duration: f.duration,
    cpuTime: f.cpuTime,
    interval: f.interval,
    gapCap: f.gapCap,
    idleSampled: m.idleSampled === true,
    ...(m.runningGap === "previous" ? { runningGap: "previous" as const } : {}),
    program: f.program,
    cwd: f.cwd,
    runtime: f.runtime,
    ...(sampler ? { sampler } : {}),
    startStack: [...m.startStack],
    ...(t ? { thread: { id: t.id as number, name: t.name as string } } : {}),
  };
}

/** True when the bytes start like a .tsprof file (any version). */
export function isSessionFile(bytes: Uint8Array): boolean {
  if (bytes.length < 7) return false;
  for (let i = 0; i < 7; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return false;
  return true;
}
