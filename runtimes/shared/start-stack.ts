// Finding the stack that called profiler.start() in a sampled stack table (meta.startStack; SPEC.md, trim stem).
import { isTruncatedFrame } from "../../session/frames.ts";
import type { FrameInfo } from "../../session/types.ts";

/** One caller of start(), root first: the function names it may carry, its file, the line it was at. */
export interface WantedCaller {
  names: string[];
  file: string;
  line: number;
}

/**
 * The deepest path whose frames are the callers in order, with only file-less frames of the runtime between
 * them (Error stacks omit some, e.g. the ES module `evaluate`). A frame matches a caller by name and file,
 * defined at or before the call line (frames carry definition lines, call sites the current line). Returns
 * the full path (those runtime frames included), or [] when nothing matches.
 */
export function findStartStack(
  want: WantedCaller[],
  frames: FrameInfo[],
  parent: ArrayLike<number>,
  frameOf: ArrayLike<number>,
): number[] {
  if (want.length === 0 || parent.length === 0) return [];
  const matches = (frame: FrameInfo, k: number): boolean => {
    const w = want[k];
    return w.file === frame.file && w.names.includes(frame.name) && (frame.line <= w.line || w.line <= 0);
  };
  // matched[i]: callers matched along stack i's path; -1 = the path left the caller chain.
  const matched = new Int32Array(parent.length);
  let best = -1;
  let bestCount = 0;
  for (let i = 0; i < parent.length; i++) {
    const before = parent[i] < 0 ? 0 : matched[parent[i]];
    if (before < 0) {
      matched[i] = -1;
      continue;
    }
    const f = frames[frameOf[i]];
    if (before < want.length && matches(f, before)) {
      matched[i] = before + 1;
      if (before + 1 > bestCount) {
        bestCount = before + 1;
        best = i;
      }
    } else {
      // [truncated] is no runtime glue: what follows it is the middle of a deeper stack, never the callers'.
      matched[i] = f.kind !== "js" && f.file === "" && !isTruncatedFrame(f) ? before : -1;
    }
  }
  const path: number[] = [];
  for (let i = best; i >= 0; i = parent[i]) path.push(frameOf[i]);
  return path.reverse();
}

/** A caller's names: an unnamed function is a module's top level or an anonymous function. */
export function callerNames(name: string): string[] {
  return name ? [name] : ["<module>", "(anonymous)"];
}
