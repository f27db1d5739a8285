// What the native addon hands over (runtimes/node/addon/src/sampler.cc) and its conversion into session chunks.
// Shared by the addon sampler on the program's thread (drain/stop) and the stream writer's worker
// (runtimes/node/stream-worker.ts), which converts the pieces off the program's thread.
import { urlToFile } from "../../session/source/sourcemaps.ts";
import type { SourceMapper } from "../../session/source/sourcemaps.ts";
import { SampleState } from "../../session/types.ts";
import type { Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import { SessionChunker } from "../shared/chunker.ts";
import { convertProfile, type CpuProfile, type RawCallSite } from "../shared/cpuprofile.ts";
import { isTsprofileFile } from "../../session/root.ts";

/** What the addon's drain()/stop()/take() return: one or more rotated profiles, concatenated. */
export interface RawPiece {
  /** Profile start and end, monotonic us (CLOCK_MONOTONIC, process.hrtime's clock). */
  startTime: number;
  endTime: number;
  /** Merged tree nodes first seen in this piece: ids firstNode, firstNode + 1, ...; parents come first. */
  firstNode: number;
  parent: Int32Array;
  scriptId: Int32Array;
  /** 1-based, 0 unknown (V8's CpuProfileNode). */
  line: Int32Array;
  col: Int32Array;
  name: string[];
  url: string[];
  /** Per sample: merged node id, time (monotonic us), V8 StateTag, thread CPU (us, absolute). */
  node: Int32Array;
  time: Float64Array;
  state: Uint8Array;
  cpu?: Float64Array;
}

/** V8's StateTag (v8-unwinder.h), the values that change a sample's state. */
const V8_GC = 1;
const V8_EXTERNAL = 6;

export interface ConverterOptions {
  /** The session's time 0, on the addon's clock; and the thread CPU time then (us, -1 unknown). */
  base: number;
  cpuBase: number;
  /** Wall-clock start (Date.now()), the interval (us), the program line. */
  startTime: number;
  interval: number;
  program: string;
  runtime: string;
  /** The first piece's start stack (profiler.start()'s callers). */
  callers: RawCallSite[];
  mapper: SourceMapper;
}

/** Turns raw pieces into chunks on session-wide ids, with the addon's states and CPU column. */
export class RawConverter {
  readonly chunker = new SessionChunker();
  // The merged node tree (ids from the addon), as CpuProfile call frames, and which nodes are tsprofile's own.
  private readonly nodes: CpuProfile["nodes"] = [];
  private readonly nodeParent: number[] = [];
  private readonly own: number[] = [];
  private readonly mark: number[] = [];
  private rotations = 0;
  // samples.cpu of the samples the chunker holds (it carries no cpu column itself), session us.
  private cpuColumn: number[] = [];
  private lastCpu = 0;
  private anySample = false;

  constructor(readonly opts: ConverterOptions) {}

  /** Converts a piece like the inspector's profile (convertProfile) and hands it to the chunker; returns its end. */
  add(raw: RawPiece): number {
    const { nodes, nodeParent, own, mark, opts, chunker } = this;
    const rotation = ++this.rotations;
    for (let k = 0; k < raw.parent.length; k++) {
      const id = raw.firstNode + k;
      const p = raw.parent[k];
      const url = raw.url[k];
      nodes[id] = {
        id,
        callFrame: {
          functionName: raw.name[k],
          scriptId: raw.scriptId[k],
          url,
          lineNumber: raw.line[k] - 1,
          columnNumber: raw.col[k] - 1,
        },
      };
      nodeParent[id] = p;
      own[id] = (p >= 0 && own[p]) || (url !== "" && isTsprofileFile(urlToFile(url))) ? 1 : 0;
      mark[id] = 0;
    }
    // The piece's profile: the nodes its samples stand on and their ancestors.
    const used: CpuProfile["nodes"] = [];
    const count = raw.node.length;
    for (let i = 0; i < count; i++) {
      for (let id = raw.node[i]; id >= 0 && mark[id] !== rotation; id = nodeParent[id]) {
        mark[id] = rotation;
        used.push({ ...nodes[id], children: [] });
      }
    }
    const index = new Map<number, number>();
    used.forEach((n, i) => index.set(n.id, i));
    for (const n of used) {
      const p = nodeParent[n.id];
      if (p >= 0) used[index.get(p)!].children!.push(n.id);
    }
    const timeDeltas = new Float64Array(count);
    for (let i = 0; i < count; i++) timeDeltas[i] = raw.time[i] - (i > 0 ? raw.time[i - 1] : raw.startTime);
    const profile: CpuProfile = {
      nodes: used,
      startTime: raw.startTime,
      endTime: raw.endTime,
      samples: raw.node as unknown as number[],
      timeDeltas: timeDeltas as unknown as number[],
    };
    const piece = convertProfile(profile, {
      startTime: opts.startTime,
      cpuTime: -1,
      interval: opts.interval,
      program: opts.program,
      callers: chunker.startStack.length === 0 ? opts.callers : [],
      mapper: opts.mapper,
      runtime: opts.runtime,
    });
    // The addon's states, where they say more than the profile's nodes (never on tsprofile's own samples).
    const state = piece.samples.state;
    const stack = piece.samples.stack;
    const frameOf = piece.stacks.frame;
    for (let i = 0; i < state.length; i++) {
      const v8State = raw.state[i];
      if (own[raw.node[i]] || state[i] !== SampleState.js) continue;
      if (v8State === V8_GC) state[i] = SampleState.gc; // not seen from V8 11-13 (no stack in GC), kept for safety
      // Only where the leaf is JavaScript: a native function's own frame (performance.now) already says it.
      else if (v8State === V8_EXTERNAL && stack[i] >= 0 && piece.frames[frameOf[stack[i]]].kind !== "native") {
        state[i] = SampleState.native;
      }
    }
    const offset = Math.round(raw.startTime - opts.base);
    // The chunker drops samples at or before the last one it has; the cpu column drops the same ones.
    const cut = this.anySample ? chunker.lastTime : -Infinity;
    const times = piece.samples.time;
    for (let i = 0; i < times.length; i++) {
      if (times[i] + offset <= cut) continue;
      this.anySample = true;
      if (raw.cpu && opts.cpuBase >= 0) this.lastCpu = Math.max(this.lastCpu, Math.round(raw.cpu[i] - opts.cpuBase));
      this.cpuColumn.push(raw.cpu ? this.lastCpu : 0);
    }
    chunker.add(piece, offset);
    return offset + piece.meta.duration;
  }

  /** What was added since the previous take, with its CPU column. */
  take(): SessionChunk {
    const chunk = this.chunker.take();
    const cpu = this.takeCpu();
    if (cpu) chunk.samples.cpu = cpu;
    return chunk;
  }

  /** The rest (runtimes/shared/sampler.ts, Sampler.stop): the whole tables, the samples not taken yet. */
  rest(meta: SessionMeta): Session {
    const rest = this.chunker.rest(meta);
    const cpu = this.takeCpu();
    if (cpu) rest.samples.cpu = cpu;
    return rest;
  }

  private takeCpu(): Float64Array | undefined {
    const out = Float64Array.from(this.cpuColumn);
    this.cpuColumn = [];
    return this.opts.cpuBase >= 0 ? out : undefined;
  }
}
