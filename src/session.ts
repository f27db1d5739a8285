// The record of one run and its file form (.tsprof): magic, a JSON header (meta + frame table), then the stack
// and sample tables as little-endian binary columns. Loading validates everything and throws SessionError.
import { readFileSync, writeFileSync } from "node:fs";
import type { FrameInfo, FrameKind, Session, SessionMeta } from "./types.ts";

const MAGIC = "TSPROF\u0000";
const FORMAT_VERSION = 1;
const KINDS: readonly FrameKind[] = ["js", "native", "runtime"];

export class SessionError extends Error {}

/** Encodes a session: 8-byte magic+version, u32 header length, header JSON, then the binary columns. */
export function encodeSession(session: Session): Uint8Array {
  const { stacks, samples } = session;
  const header = new TextEncoder().encode(
    JSON.stringify({
      meta: session.meta,
      frames: session.frames.map((f) => [f.name, f.file, f.line, f.col, f.kind]),
      stackCount: stacks.parent.length,
      sampleCount: samples.stack.length,
    }),
  );
  const ns = stacks.parent.length;
  const n = samples.stack.length;
  const headerEnd = 12 + header.length;
  const columnsStart = headerEnd + ((8 - (headerEnd % 8)) % 8);
  const size = columnsStart + n * 8 + ns * 8 + n * 4 + n;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 7; i++) out[i] = MAGIC.charCodeAt(i);
  out[7] = FORMAT_VERSION;
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  let at = columnsStart;
  for (let i = 0; i < n; i++, at += 8) view.setFloat64(at, samples.time[i], true);
  for (let i = 0; i < ns; i++, at += 4) view.setInt32(at, stacks.parent[i], true);
  for (let i = 0; i < ns; i++, at += 4) view.setUint32(at, stacks.frame[i], true);
  for (let i = 0; i < n; i++, at += 4) view.setInt32(at, samples.stack[i], true);
  out.set(samples.state, at);
  return out;
}

/** Decodes and validates; `name` is used in error messages (usually the file path). */
export function decodeSession(bytes: Uint8Array, name = "session"): Session {
  const fail = (what: string): never => {
    throw new SessionError(`${name}: ${what}`);
  };
  if (bytes.length < 12) fail("not a tsprofile session (too short)");
  for (let i = 0; i < 7; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) fail("not a tsprofile session (bad magic)");
  if (bytes[7] !== FORMAT_VERSION) fail(`unsupported session version ${bytes[7]} (this tsprofile reads ${FORMAT_VERSION})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) fail("truncated header");
  let header: any;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    fail("corrupt header");
  }
  if (typeof header !== "object" || header === null) fail("corrupt header");
  const meta = validateMeta(header.meta, fail);
  if (!Array.isArray(header.frames)) fail("corrupt frame table");
  const frames: FrameInfo[] = header.frames.map((f: unknown, i: number) => {
    if (!Array.isArray(f) || f.length !== 5) fail(`corrupt frame ${i}`);
    const [fname, file, line, col, kind] = f as unknown[];
    if (typeof fname !== "string" || typeof file !== "string" || !isCount(line) || !isCount(col) || !KINDS.includes(kind as FrameKind)) {
      fail(`corrupt frame ${i}`);
    }
    return { name: fname, file, line, col, kind } as FrameInfo;
  });
  const ns = header.stackCount;
  const n = header.sampleCount;
  if (!isCount(ns) || !isCount(n)) fail("corrupt table sizes");
  const headerEnd = 12 + headerLength;
  const columnsStart = headerEnd + ((8 - (headerEnd % 8)) % 8);
  if (bytes.length !== columnsStart + n * 13 + ns * 8) fail(`truncated or oversized tables (expected ${columnsStart + n * 13 + ns * 8} bytes, found ${bytes.length})`);

  let at = columnsStart;
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++, at += 8) {
    time[i] = view.getFloat64(at, true);
    if (!Number.isFinite(time[i]) || time[i] < 0 || (i > 0 && time[i] < time[i - 1])) fail(`sample ${i} has a bad time`);
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
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}

function validateMeta(m: any, fail: (what: string) => never): SessionMeta {
  if (typeof m !== "object" || m === null) fail("missing metadata");
  for (const key of ["startTime", "duration", "cpuTime", "interval", "gapCap"]) {
    if (typeof m[key] !== "number" || !Number.isFinite(m[key])) fail(`bad metadata field ${key}`);
  }
  for (const key of ["program", "cwd", "runtime"]) if (typeof m[key] !== "string") fail(`bad metadata field ${key}`);
  if (!Array.isArray(m.startStack) || !m.startStack.every(isCount)) fail("bad metadata field startStack");
  return {
    startTime: m.startTime,
    duration: m.duration,
    cpuTime: m.cpuTime,
    interval: m.interval,
    gapCap: m.gapCap,
    program: m.program,
    cwd: m.cwd,
    runtime: m.runtime,
    startStack: m.startStack,
  };
}

export function saveSession(session: Session, path: string): void {
  writeFileSync(path, encodeSession(session));
}

export function loadSession(path: string): Session {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SessionError(`${path}: cannot read (${(err as { code?: string }).code ?? "error"})`);
  }
  return decodeSession(bytes, path);
}
