// The record of one run and its file form (.tsprof): the save/load/combine API. The formats themselves are in
// codec.ts (formats 1 and 2) and stream.ts (format 3, appendable). Loading validates everything and throws
// SessionError, with one line naming the file and what is wrong.
import { readFileSync, writeFileSync } from "node:fs";
import {
  decodeV1,
  decodeV2,
  encodeSession as encodeOne,
  MAGIC,
  READABLE_VERSIONS,
  SESSION_FORMAT_VERSION,
  SessionError,
  STREAM_FORMAT_VERSION,
  THREADS_FORMAT_VERSION,
} from "./codec.ts";
import type { EncodeOptions, Fail } from "./codec.ts";
import { combineSessions } from "./combine.ts";
import { decodeStream } from "./stream.ts";
import { decodeThreads, encodeThreads } from "./threads.ts";
import type { Session as SessionData } from "./types.ts";

export { combineSessions } from "./combine.ts";
export { isSessionFile, SESSION_FORMAT_VERSION, SessionError } from "./codec.ts";
export type { EncodeOptions } from "./codec.ts";

/** The record of one run (session/types.ts); also the name of the save/load/combine API below. */
export type Session = SessionData;

/** The .tsprof bytes: format 2, or format 4 when the session has worker threads (session/threads.ts). */
export function encodeSession(session: Session, options: EncodeOptions = {}): Uint8Array {
  return session.threads?.length ? encodeThreads(session, options) : encodeOne(session, options);
}

/** Decodes and validates; `name` is used in error messages (usually the file path). */
export function decodeSession(bytes: Uint8Array, name = "session"): Session {
  const fail: Fail = (what) => {
    throw new SessionError(`${name}: ${what}`);
  };
  if (!(bytes instanceof Uint8Array)) fail("not a tsprofile session (not bytes)");
  if (bytes.length < 8) fail("not a tsprofile session (too short)");
  for (let i = 0; i < 7; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) fail("not a tsprofile session (bad magic)");
  const version = bytes[7];
  if (!READABLE_VERSIONS.includes(version)) {
    fail(`unsupported session version ${version} (this tsprofile reads versions ${READABLE_VERSIONS.join(", ")})`);
  }
  if (version === STREAM_FORMAT_VERSION) return decodeStream(bytes, fail);
  if (version === THREADS_FORMAT_VERSION) return decodeThreads(bytes, fail);
  return version === 1 ? decodeV1(bytes, fail) : decodeV2(bytes, fail);
}

export function saveSession(session: Session, path: string, options: EncodeOptions = {}): void {
  const bytes = encodeSession(session, options);
  try {
    writeFileSync(path, bytes);
  } catch (err) {
    throw new SessionError(`${path}: cannot write (${(err as { code?: string }).code ?? (err as Error).message})`);
  }
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

/** The Session-facing API: `Session.save(session, path)`, `Session.load(path)`, `Session.combine(a, b)`. */
export const Session = {
  save: saveSession,
  load: loadSession,
  combine: combineSessions,
  encode: encodeSession,
  decode: decodeSession,
  formatVersion: SESSION_FORMAT_VERSION,
} as const;
