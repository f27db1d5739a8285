// Hand-built sessions for the renderer and report tests: frames by name, samples as frame paths.
import { classifyFrames } from "../src/processing/classify.ts";
import type { Classification } from "../src/processing/classify.ts";
import type { CoreProcessOptions, FrameInfo, ProcessedTree, Session, SessionMeta } from "../session/types.ts";
import { oracleProcess } from "./oracle.ts";

export function frame(name: string, file = "", line = 0, kind: FrameInfo["kind"] = "js"): FrameInfo {
  return { name, file, line, col: 1, kind };
}

/** samples: [path of frame ids root -> leaf, time us, state?] in time order. */
export function makeSession(
  frames: FrameInfo[],
  samples: Array<[number[], number, number?]>,
  meta: Partial<SessionMeta> = {},
): Session {
  const parent: number[] = [];
  const frameOf: number[] = [];
  const ids = new Map<string, number>();
  const stackOf = (path: number[]): number => {
    let at = -1;
    for (const f of path) {
      const key = `${at}/${f}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = parent.length;
        parent.push(at);
        frameOf.push(f);
        ids.set(key, id);
      }
      at = id;
    }
    return at;
  };
  const stack = samples.map(([p]) => stackOf(p));
  const last = samples.length ? samples[samples.length - 1][1] : 0;
  return {
    version: 1,
    meta: {
      startTime: Date.UTC(2024, 0, 2, 3, 4, 5),
      duration: last + 1000,
      cpuTime: 456000,
      interval: 1000,
      gapCap: 5000,
      idleSampled: false,
      program: "node app.ts",
      cwd: "/app",
      runtime: "node 20.20.2",
      startStack: [],
      ...meta,
    },
    frames,
    stacks: { parent: Int32Array.from(parent), frame: Uint32Array.from(frameOf) },
    samples: {
      stack: Int32Array.from(stack),
      time: Float64Array.from(samples.map(([, t]) => t)),
      state: Uint8Array.from(samples.map(([, , s]) => s ?? 0)),
    },
  };
}

/** Evenly spaced samples (1 ms apart): each [path, count, state?] repeated count times. */
export function spread(runs: Array<[number[], number, number?]>): Array<[number[], number, number?]> {
  const out: Array<[number[], number, number?]> = [];
  let t = 0;
  for (const [path, count, state] of runs) for (let i = 0; i < count; i++, t += 1000) out.push([path, t, state]);
  return out;
}

export function processWithOracle(
  session: Session,
  options: Partial<Omit<CoreProcessOptions, "frameFlags" | "frameLibrary">> & { hide?: string[]; show?: string[] } = {},
): { tree: ProcessedTree; classification: Classification } {
  const classification = classifyFrames(session.frames, {
    cwd: session.meta.cwd,
    hide: options.hide,
    show: options.show,
    ownRoot: "/pkg/tsprofile",
  });
  const tree = oracleProcess(session.stacks, session.samples, {
    duration: session.meta.duration,
    gapCap: session.meta.gapCap,
    idleSampled: session.meta.idleSampled,
    startStack: session.meta.startStack,
    timeline: false,
    showAll: false,
    filterThreshold: 0.01,
    flatTime: "self",
    ...options,
    frameFlags: classification.flags,
    frameLibrary: classification.library,
  });
  return { tree, classification };
}
