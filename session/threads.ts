// Format 4: a session with worker threads (Session.threads, runtimes/workers). Each thread has its own frames,
// stacks and clock, so the file is whole format 2 sessions side by side, main thread first:
//   "TSPROF\0", a version byte (4), a flags byte (0), a varint count of sessions, then per session a varint
//   length and that many bytes of a format 2 file (session/codec.ts), whose meta has `thread` on every one but
//   the first.
// A session without threads is still written as format 2, byte for byte as before, so older readers read it;
// only a run that started workers needs a reader that knows format 4.
import {
  decodeV2,
  type EncodeOptions,
  encodeSession as encodeOne,
  type Fail,
  MAGIC,
  THREADS_FORMAT_VERSION,
} from "./codec.ts";
import type { Session } from "./types.ts";

/** A program does not start more workers than this; a larger count is damage. */
const MAX_THREADS = 1 << 16;

function varint(x: number, out: number[]): void {
  while (x >= 0x80) {
    out.push((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  out.push(x);
}

/** The main thread's session and its threads as format 4. */
export function encodeThreads(session: Session, options: EncodeOptions = {}): Uint8Array {
  const { threads, ...main } = session;
  const parts = [encodeOne(main, options), ...(threads ?? []).map(({ threads: _, ...t }) => encodeOne(t, options))];
  const head: number[] = [];
  for (let i = 0; i < 7; i++) head.push(MAGIC.charCodeAt(i));
  head.push(THREADS_FORMAT_VERSION, 0);
  varint(parts.length, head);
  const lengths = parts.map((p) => {
    const l: number[] = [];
    varint(p.length, l);
    return l;
  });
  let size = head.length;
  for (let i = 0; i < parts.length; i++) size += lengths[i].length + parts[i].length;
  const out = new Uint8Array(size);
  out.set(head);
  let at = head.length;
  for (let i = 0; i < parts.length; i++) {
    out.set(lengths[i], at);
    at += lengths[i].length;
    out.set(parts[i], at);
    at += parts[i].length;
  }
  return out;
}

/** Format 4 (the caller checked magic and version). */
export function decodeThreads(bytes: Uint8Array, fail: Fail): Session {
  if (bytes.length < 10) fail("truncated (file header)");
  if (bytes[8] !== 0) fail(`corrupt file header (unknown flags ${bytes[8]})`);
  let at = 9;
  const readVarint = (what: string): number => {
    let x = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) fail(`truncated (${what})`);
      const b = bytes[at++];
      x += (b & 0x7f) * scale;
      if (b < 0x80) return x;
      scale *= 0x80;
      if (scale > 2 ** 49) fail(`corrupt number (${what})`);
    }
  };
  const count = readVarint("thread count");
  if (count < 1 || count > MAX_THREADS) fail("corrupt thread count");
  const sessions: Session[] = [];
  for (let i = 0; i < count; i++) {
    const length = readVarint("thread length");
    if (at + length > bytes.length) fail(`truncated (thread ${i})`);
    const part = bytes.subarray(at, at + length);
    at += length;
    const partFail: Fail = (what) => fail(i === 0 ? `main thread: ${what}` : `thread ${i}: ${what}`);
    let ok = part.length >= 8;
    for (let k = 0; ok && k < 7; k++) ok = part[k] === MAGIC.charCodeAt(k);
    if (!ok || part[7] !== 2) partFail("not a format 2 session");
    const s = decodeV2(part, partFail);
    if ((i === 0) !== (s.meta.thread === undefined)) {
      partFail(i === 0 ? "the main thread has thread metadata" : "missing thread metadata");
    }
    sessions.push(s);
  }
  if (at !== bytes.length) fail(`corrupt file (${bytes.length - at} bytes left over)`);
  const [main, ...threads] = sessions;
  return { ...main, threads };
}
