// Reading a profile from a file for --load: a .tsprof session (any readable version) or a .cpuprofile written by
// `node --cpu-prof`, `deno run --cpu-prof`, `bun --cpu-prof` or DevTools. Detected by content, not by name.
// Everything is validated first: a bad file is a SessionError with one line naming it, never a stack trace,
// a hang or an allocation the file's numbers ask for.
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { convertProfile, gapCapFor } from "../runtimes/shared/cpuprofile.ts";
import type { CpuProfile } from "../runtimes/shared/cpuprofile.ts";
import { decodeSession, isSessionFile, SessionError } from "../session/session.ts";
import { createSourceMapper } from "../session/source/sourcemaps.ts";
import type { SourceMapper } from "../session/source/sourcemaps.ts";
import type { Session } from "../session/types.ts";

/** Loads a .tsprof or .cpuprofile file; throws SessionError (one line, naming the file). */
export function loadProfileFile(path: string): Session {
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) throw new SessionError(`${path}: not a file`);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof SessionError) throw err;
    throw new SessionError(`${path}: cannot read (${(err as { code?: string }).code ?? "error"})`);
  }
  let mtime = Date.now();
  try {
    mtime = statSync(path).mtimeMs;
  } catch {
    // No modification time: now stands in.
  }
  return decodeProfileFile(bytes, path, { mtime, program: basename(path) });
}

export interface DecodeProfileFileOptions {
  /** When the file was written, epoch ms: a V8 profile's clock is not the wall clock. Default now. */
  mtime?: number;
  /** meta.program. Default the name. */
  program?: string;
  /** Source mapping for the profile's frames; default: follow maps of regular files on this machine. */
  mapper?: SourceMapper;
}

/** decodeSession for .tsprof bytes, parseCpuProfile for JSON; anything else is refused. */
export function decodeProfileFile(bytes: Uint8Array, name: string, options: DecodeProfileFileOptions = {}): Session {
  if (isSessionFile(bytes)) return decodeSession(bytes, name);
  let at = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) at = 3; // a BOM
  while (at < bytes.length && (bytes[at] === 0x20 || bytes[at] === 0x0a || bytes[at] === 0x0d || bytes[at] === 0x09)) {
    at++;
  }
  if (bytes[at] !== 0x7b) throw new SessionError(`${name}: not a tsprofile session or a .cpuprofile`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(at)));
  } catch {
    throw new SessionError(`${name}: not a tsprofile session, and not valid JSON for a .cpuprofile`);
  }
  return cpuProfileToSession(json, name, options);
}

const isInt = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x);
const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/**
 * Validates a parsed .cpuprofile and converts it. Node ids are renumbered densely (the converter allocates by
 * the largest id). The sampling interval is the median spacing of the samples. The gap cap follows from how
 * the engine samples: V8 (Node, Deno) keeps sampling while the thread waits, as "(idle)" or "(program)"
 * samples, so a long silence is a starved sampler and gets the samplers' own cap (20 intervals, at least
 * 20 ms); JavaScriptCore (Bun) takes no sample while the thread waits, so a gap longer than 3 median spacings
 * is idle time.
 */
export function cpuProfileToSession(json: unknown, name: string, options: DecodeProfileFileOptions = {}): Session {
  const fail = (what: string): never => {
    throw new SessionError(`${name}: ${what}`);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("not a .cpuprofile (not an object)");
  const p = json as Record<string, unknown>;
  if (!Array.isArray(p.nodes)) fail("not a .cpuprofile (no nodes array)");
  const rawNodes = p.nodes as unknown[];
  const dense = new Map<number, number>();
  rawNodes.forEach((n, i) => {
    if (typeof n !== "object" || n === null) fail(`node ${i} is not an object`);
    const id = (n as { id?: unknown }).id;
    if (!isInt(id)) fail(`node ${i} has a bad id`);
    if (dense.has(id as number)) fail(`node id ${id} appears twice`);
    dense.set(id as number, i);
  });
  let hasIdleNodes = false;
  let runtimeHint = "";
  const nodes: CpuProfile["nodes"] = rawNodes.map((raw, i) => {
    const n = raw as Record<string, unknown>;
    const cf = n.callFrame as Record<string, unknown>;
    if (typeof cf !== "object" || cf === null) fail(`node ${i} has no callFrame`);
    const { functionName, url, lineNumber, columnNumber } = cf;
    if (typeof functionName !== "string" || typeof url !== "string") fail(`node ${i} has a bad callFrame`);
    // -1 = unknown; a line past 2^31 is not a line.
    const pos = (
      x: unknown,
    ) => (x === undefined
      ? -1
      : isInt(x) && x >= -1 && x < 2 ** 31
      ? x
      : fail(`node ${i} has a bad callFrame position`));
    const children: number[] = [];
    if (n.children !== undefined) {
      if (!Array.isArray(n.children)) fail(`node ${i} has a bad children list`);
      for (const c of n.children as unknown[]) {
        const d = isInt(c) ? dense.get(c) : undefined;
        if (d === undefined) fail(`node ${i} names a missing child`);
        children.push(d as number);
      }
    }
    if (url === "" && (functionName === "(idle)" || functionName === "(program)")) hasIdleNodes = true;
    if (!runtimeHint && (url as string).startsWith("ext:")) runtimeHint = "deno";
    if (!runtimeHint && (url as string).startsWith("node:")) runtimeHint = "node";
    return {
      id: i,
      callFrame: {
        functionName: functionName as string,
        scriptId: typeof cf.scriptId === "string" || typeof cf.scriptId === "number" ? cf.scriptId : 0,
        url: url as string,
        lineNumber: pos(lineNumber),
        columnNumber: pos(columnNumber),
      },
      children,
    };
  });
  const samples: number[] = [];
  const deltas: number[] = [];
  if (p.samples !== undefined || p.timeDeltas !== undefined) {
    if (!Array.isArray(p.samples) || !Array.isArray(p.timeDeltas)) fail("bad samples or timeDeltas (not arrays)");
    const s = p.samples as unknown[];
    const d = p.timeDeltas as unknown[];
    if (s.length !== d.length) fail(`${s.length} samples but ${d.length} timeDeltas`);
    let sum = 0;
    for (let i = 0; i < s.length; i++) {
      const id = isInt(s[i]) ? dense.get(s[i] as number) : undefined;
      if (id === undefined) fail(`sample ${i} names a missing node`);
      const delta = d[i];
      if (!isNum(delta)) fail(`sample ${i} has a bad time delta`);
      sum += delta as number;
      if (Math.abs(sum) > 2 ** 52) fail(`sample ${i} has a bad time delta (time out of range)`);
      samples.push(id as number);
      deltas.push(delta as number);
    }
  }
  if (!isNum(p.startTime) || !isNum(p.endTime)) fail("bad startTime or endTime");
  const startTime = p.startTime as number;
  const endTime = p.endTime as number;
  if (Math.abs(endTime - startTime) > 2 ** 52) fail("bad startTime or endTime (duration out of range)");

  // The interval: the median positive spacing (1 ms when there is none).
  const spacing = deltas.filter((d) => d > 0).sort((a, b) => a - b);
  const interval = spacing.length > 0 ? Math.max(1, Math.round(spacing[spacing.length >> 1])) : 1000;
  const jsc = !hasIdleNodes && nodes.length > 0;
  if (!runtimeHint && jsc) runtimeHint = "bun";
  // Written by tsprofile (renderers/formats.ts): its positions are the sources' already, and it names its run.
  const own = typeof p.$tsprofile === "object" && p.$tsprofile !== null ? p.$tsprofile as Record<string, unknown> : {};
  const mapped = own.positions === "source";
  // Epoch microseconds (Bun) say when; V8's profile clock does not, so the file's time stands in.
  const duration = Math.max(0, endTime - startTime);
  const recorded = startTime > 1e15 ? startTime / 1000 : (options.mtime ?? Date.now()) - duration / 1000;

  let session: Session;
  try {
    session = convertProfile(
      { nodes, startTime, endTime, samples, timeDeltas: deltas },
      {
        startTime: recorded,
        cpuTime: -1,
        interval,
        program: options.program ?? (typeof own.program === "string" && own.program ? own.program : name),
        mapper: options.mapper ?? (mapped ? unmapped : guardedMapper()),
        runtime: `${
          typeof own.runtime === "string" && own.runtime ? own.runtime : runtimeHint || "unknown runtime"
        } (.cpuprofile)`,
        wholeStacks: jsc,
      },
    );
  } catch (err) {
    fail(`cannot convert the profile (${(err as Error)?.message ?? err})`);
  }
  session!.meta.gapCap = jsc ? 3 * interval : gapCapFor(interval);
  // V8's (idle)/(program) samples say idle is sampled (SPEC.md §1, running gap); Bun's --cpu-prof has none.
  session!.meta.idleSampled = hasIdleNodes;
  return session!;
}

/** Positions as they are. */
const unmapped: SourceMapper = { map: (file, line, col) => ({ file, line, col }) };

/** Source maps for files that are regular files of a sane size here; anything else (a device, a FIFO) unmapped. */
function guardedMapper(): SourceMapper {
  const inner = createSourceMapper();
  const ok = new Map<string, boolean>();
  return {
    map(file, line, col) {
      let good = ok.get(file);
      if (good === undefined) {
        try {
          const st = statSync(file);
          good = st.isFile() && st.size <= 64 * 1024 * 1024;
        } catch {
          good = false;
        }
        ok.set(file, good);
      }
      return good ? inner.map(file, line, col) : { file, line, col };
    },
  };
}
