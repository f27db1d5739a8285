// pyinstrument's JSON report shape (so a tool reading one reads the other): top-level session figures and a
// root_frame tree of { function, file_path, file_path_short, line_no, time, await_time, is_application_code,
// children }, plus our group_id and visible, cpu_time (seconds of the sampled thread's CPU) when the session
// recorded it, and the profile's accuracy (accuracy.ts). Written iteratively from the pre-order arrays (deep trees are fine).
import { shortPath } from "../processing/classify.ts";
import type { Classification } from "../processing/classify.ts";
import { NodeFlag } from "../../session/types.ts";
import type { ProcessedTree, Session } from "../../session/types.ts";
import { accuracyOf } from "./accuracy.ts";
import { frameName, isApplicationCode, isSynthetic, jsonString } from "./common.ts";

/** renderJson takes no options yet. */
export type JsonOptions = Record<string, never>;

/** Microseconds to seconds. */
function s(us: number): number {
  return us / 1e6;
}

/** A worker thread's session and its processed tree (Session.threads). */
export interface JsonThread {
  session: Session;
  tree: ProcessedTree;
  classification: Classification;
}

/**
 * threads: the session's worker threads, written as a "threads" array (after root_frame) of reports of the same
 * shape, each with its thread_id and thread_name; absent when there are none.
 */
export function renderJson(
  session: Session,
  tree: ProcessedTree,
  classification: Classification,
  _options: JsonOptions = {},
  threads: readonly JsonThread[] = [],
): string {
  const main = renderOne(session, tree, classification);
  if (threads.length === 0) return main + "\n";
  const parts = threads.map((t) => {
    const info = t.session.meta.thread;
    const id = `{"thread_id": ${info?.id ?? null}, "thread_name": ${jsonString(info?.name ?? "worker")}, `;
    return id + renderOne(t.session, t.tree, t.classification).slice(1);
  });
  return `${main.slice(0, -1)}, "threads": [${parts.join(", ")}]}\n`;
}

/** accuracy.ts's figures: seconds, fractions, counts; null where not known. */
function accuracyJson(session: Session): string {
  const a = accuracyOf(session);
  return `{"achieved_interval": ${a.achieved === null ? null : s(a.achieved)}, "missed": ${a.missed}, ` +
    `"truncated_samples": ${a.truncated}, "noise_share": ${a.noise}, "guessed": ${s(a.guessed)}}`;
}

/** One thread's report as one JSON object, without a line break. */
function renderOne(session: Session, tree: ProcessedTree, classification: Classification): string {
  const { meta } = session;
  const sampleCount = session.samples.stack.length;
  const out: string[] = [
    `{"start_time": ${meta.startTime / 1000}, "duration": ${s(meta.duration)}, "sample_count": ${sampleCount}, ` +
    `"cpu_time": ${meta.cpuTime >= 0 ? s(meta.cpuTime) : null}, "program": ${jsonString(meta.program)}, ` +
    `"interval": ${s(meta.interval)}, "runtime": ${jsonString(meta.runtime)}, ` +
    `"sampler": ${meta.sampler ? jsonString(meta.sampler) : null}, "accuracy": ${accuracyJson(session)}, ` +
    `"root_frame": `,
  ];
  const n = tree.frame.length;
  const cpu = tree.cpuTime;
  if (sampleCount === 0 || n === 0 || tree.time[0] <= 0) {
    out.push("null}");
    return out.join("");
  }
  // open[d] is true while a node at depth d has its children list open.
  let openDepth = -1;
  for (let i = 0; i < n; i++) {
    const depth = tree.depth[i];
    while (openDepth >= depth) {
      out.push("]}");
      openDepth--;
    }
    if (i > 0 && tree.parent[i] !== i - 1) out.push(","); // not the first child: a sibling precedes it
    const frame = tree.frame[i];
    const info = isSynthetic(frame) ? undefined : session.frames[frame];
    const file = info?.file ?? "";
    out.push(
      `{"function": ${jsonString(frameName(session, frame, tree.parent[i] === 0))}, "file_path_short": ${
        jsonString(shortPath(file, meta.cwd))
      }, ` +
        `"file_path": ${jsonString(file)}, "line_no": ${info?.line ?? 0}, "time": ${s(tree.time[i])}, ` +
        (cpu ? `"cpu_time": ${s(cpu[i])}, ` : "") +
        `"await_time": ${s(tree.awaitTime[i])}, "is_application_code": ${isApplicationCode(classification, frame)}, ` +
        `"group_id": ${tree.group[i] >= 0 ? tree.group[i] : null}, "visible": ${
          (tree.flags[i] & NodeFlag.visible) !== 0
        }, ` +
        `"children": [`,
    );
    openDepth = depth;
  }
  while (openDepth >= 0) {
    out.push("]}");
    openDepth--;
  }
  out.push("}");
  return out.join("");
}
