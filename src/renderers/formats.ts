// The sample-based interchange formats: speedscope, Chrome's .cpuprofile, collapsed stacks and pprof. Each
// writes the session's samples (weights by the gap rule, internals and hidden frames removed unless show_all;
// see samples.ts), not the processed tree: the tools that read them fold and group for themselves.
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { shortPath } from "../processing/classify.ts";
import { SYNTHETIC_NAMES, SyntheticFrame } from "../../session/types.ts";
import type { Session, SessionEntries } from "../../session/types.ts";
import { VERSION } from "../../session/version.ts";
import { escapeText, isSynthetic } from "./common.ts";
import { weightedSamples } from "./samples.ts";

export interface FormatContext {
  session: Session;
  /** The session's entries in time order (samples.ts). */
  entries: SessionEntries;
}

/** A frame as these formats name it; synthetic ones by their bracketed name, the empty path "[runtime internals]". */
function describe(session: Session, frame: number): { name: string; file: string; line: number; col: number } {
  if (isSynthetic(frame)) {
    const name = frame === SyntheticFrame.self ? "[runtime internals]" : SYNTHETIC_NAMES[frame] ?? "[unknown]";
    return { name, file: "", line: 0, col: 0 };
  }
  const f = session.frames[frame];
  return { name: f.name === "" ? "(anonymous)" : f.name, file: f.file, line: f.line, col: f.col };
}

// ---- speedscope ----

/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json): one "sampled" profile per thread
 * (the main thread's first, then each worker's: Session.threads), weights in microseconds, samples in time order
 * (consecutive samples on the same stack merged), frames with name/file/line/col shared by every profile.
 * Gap-rule idle time is an "[idle]" sample.
 */
export function renderSpeedscope(main: FormatContext, threads: readonly FormatContext[] = []): string {
  const frameIndex = new Map<string, number>();
  const frames: string[] = [];
  const profiles: string[] = [];
  for (const ctx of [main, ...threads]) {
    const { session, entries } = ctx;
    const ws = weightedSamples(session, entries);
    const local = new Map<number, number>();
    const indexOf = (frame: number): number => {
      let i = local.get(frame);
      if (i === undefined) {
        const d = describe(session, frame);
        const out: Record<string, unknown> = { name: d.name };
        if (d.file) out.file = d.file;
        if (d.line > 0) out.line = d.line;
        if (d.col > 0) out.col = d.col;
        const json = JSON.stringify(out);
        i = frameIndex.get(json);
        if (i === undefined) {
          i = frames.length;
          frames.push(json);
          frameIndex.set(json, i);
        }
        local.set(frame, i);
      }
      return i;
    };
    // One JSON array per path node, built once.
    const pathJson = new Map<number, string>();
    const pathOf = (node: number): string => {
      let s = pathJson.get(node);
      if (s === undefined) {
        const ids: number[] = [];
        for (let k = node; k >= 0; k = ws.parent[k]) ids.push(indexOf(ws.frame[k]));
        s = `[${ids.reverse().join(",")}]`;
        pathJson.set(node, s);
      }
      return s;
    };
    const sampleParts: string[] = [];
    let total = 0;
    for (let i = 0; i < ws.node.length; i++) {
      sampleParts.push(pathOf(ws.node[i]));
      total += ws.weight[i];
    }
    const { thread, program } = session.meta;
    const name = thread ? `${thread.name} (${program})` : program || "tsprofile";
    profiles.push(
      `{"type":"sampled","name":${JSON.stringify(name)},"unit":"microseconds","startValue":0,"endValue":${total},` +
        `"samples":[${sampleParts.join(",")}],"weights":[${Array.from(ws.weight).join(",")}]}`,
    );
  }
  const name = main.session.meta.program || "tsprofile";
  return (
    `{"$schema":"https://www.speedscope.app/file-format-schema.json","exporter":${
      JSON.stringify(`tsprofile ${VERSION}`)
    },` +
    `"name":${JSON.stringify(name)},"activeProfileIndex":0,"shared":{"frames":[${frames.join(",")}]},` +
    `"profiles":[${profiles.join(",")}]}\n`
  );
}

// ---- Chrome .cpuprofile ----

const CPUPROFILE_NAMES: Record<number, string> = {
  [SyntheticFrame.idle]: "(idle)",
  [SyntheticFrame.gc]: "(garbage collector)",
  [SyntheticFrame.native]: "(program)",
  [SyntheticFrame.self]: "(program)",
};

/**
 * A V8 CPU profile as DevTools (Performance > Load profile) and `node --cpu-prof` write it: a node tree under
 * "(root)" with callFrame (0-based lines), children and hitCount; samples (node ids) with timeDeltas (us);
 * startTime/endTime in epoch microseconds. Idle is an "(idle)" node (there, if unused, whenever the session's
 * sampler records idle: meta.idleSampled), GC "(garbage collector)", native time
 * "(program)"; await and out-of-context time are "[await]" / "[out-of-context]" frames without a url, under the
 * stack that awaited (samples.ts). Samples are written so that a reader gives each entry its weight (below).
 */
export function renderCpuProfile({ session, entries }: FormatContext): string {
  // Not merged: readers (ours included) take the median spacing of the samples for the sampling interval.
  const ws = weightedSamples(session, entries);
  const scriptIds = new Map<string, number>();
  const nodes: { id: number; callFrame: object; hitCount: number; children: number[] }[] = [
    {
      id: 1,
      callFrame: { functionName: "(root)", scriptId: "0", url: "", lineNumber: -1, columnNumber: -1 },
      hitCount: 0,
      children: [],
    },
  ];
  // Path node k is cpuprofile node k + 2; a path node's parent is earlier in ws (prefix tree), so one pass.
  for (let k = 0; k < ws.parent.length; k++) {
    const f = ws.frame[k];
    let callFrame: object;
    if (isSynthetic(f)) {
      const name = CPUPROFILE_NAMES[f] ?? SYNTHETIC_NAMES[f] ?? "[unknown]";
      callFrame = { functionName: name, scriptId: "0", url: "", lineNumber: -1, columnNumber: -1 };
    } else {
      const d = describe(session, f);
      const url = d.file.startsWith("/") ? pathToFileURL(d.file).href : d.file;
      let sid = scriptIds.get(url);
      if (sid === undefined) scriptIds.set(url, sid = url === "" ? 0 : scriptIds.size + 1);
      const name = d.name === "(anonymous)" ? "" : d.name;
      callFrame = { functionName: name, scriptId: String(sid), url, lineNumber: d.line - 1, columnNumber: d.col - 1 };
    }
    nodes.push({ id: k + 2, callFrame, hitCount: 0, children: [] });
    const p = ws.parent[k];
    nodes[p < 0 ? 0 : p + 1].children.push(k + 2);
  }
  const idleNode = ws.frame.findIndex((f, k) => f === SyntheticFrame.idle && ws.parent[k] === -1);
  if (idleNode < 0 && session.meta.idleSampled) {
    // A V8 profile that never waited still says that its sampler records idle (readers, ours included, tell V8's
    // profiles from JSC's by the node, and judge gaps by it: SPEC.md §1, running gap).
    const idle = { functionName: "(idle)", scriptId: "0", url: "", lineNumber: -1, columnNumber: -1 };
    nodes.push({ id: nodes.length + 1, callFrame: idle, hitCount: 0, children: [] });
    nodes[0].children.push(nodes.length);
  }
  const sampleIds: number[] = [];
  const deltas: number[] = [];
  let prev = 0;
  // Each entry as samples a reader gives back its weight (SPEC.md §1 as our loader applies it; DevTools gives a
  // sample the time to the next): its own samples an interval apart from its start (readers take the median
  // spacing for the interval), then samples gapCap apart (no silence a reader could judge idle), the last one
  // where the reader ends it at the entry's end: an interval before it, or, where a running gap splits at its
  // middle (idleSampled), 1 us before it, the next entry's first sample 1 us after its start. The gap rule's idle
  // is one "(idle)" sample: whatever follows it, the time after an idle sample is idle.
  const step = Math.max(1, Math.floor(session.meta.gapCap));
  const interval = Math.max(1, Math.round(session.meta.interval));
  const middle = session.meta.idleSampled && session.meta.runningGap !== "previous";
  const sample = (k: number, at: number) => {
    sampleIds.push(k + 2);
    nodes[k + 1].hitCount++;
    deltas.push(at - prev);
    prev = at;
  };
  let afterRunning = false;
  for (let i = 0; i < ws.node.length; i++) {
    const k = ws.node[i];
    const start = ws.start[i];
    if (k === idleNode) {
      sample(k, start);
      afterRunning = false;
      continue;
    }
    const end = start + ws.weight[i];
    const first = middle && afterRunning ? start + 1 : start;
    const last = middle ? Math.max(first, end - 1) : end - interval;
    const own = Math.max(1, Math.min(ws.count[i], Math.floor(ws.weight[i] / interval)));
    let at = first;
    for (let j = 0; j < own && (j === 0 || at < last); j++, at += interval) sample(k, at);
    at += step - interval;
    for (let pieces = 0; at < last && pieces < 100_000; at += step, pieces++) sample(k, at);
    if (prev < last) sample(k, last);
    afterRunning = true;
  }
  const startTime = Math.round(session.meta.startTime * 1000);
  // What DevTools and speedscope ignore and our reader takes: positions already mapped to the sources (mapped
  // again, a .ts file's lines moved by its transpiled code's map), and the run's runtime and program.
  const own = { positions: "source", runtime: session.meta.runtime, program: session.meta.program };
  return (
    `{"nodes":${JSON.stringify(nodes)},"startTime":${startTime},"endTime":${startTime + ws.end},` +
    `"samples":[${sampleIds.join(",")}],"timeDeltas":[${deltas.join(",")}],"$tsprofile":${JSON.stringify(own)}}\n`
  );
}

// ---- collapsed stacks ----

/**
 * A collapsed-stack frame: "name (short/path.ts:12)"; ";" and line breaks, which would split it, become "_", and
 * other controls (an ESC a terminal would act on) and bidi marks are escaped as in the text report.
 */
function collapsedName(session: Session, frame: number): string {
  const d = describe(session, frame);
  const where = d.file ? ` (${shortPath(d.file, session.meta.cwd)}${d.line > 0 ? `:${d.line}` : ""})` : "";
  return escapeText(`${d.name}${where}`.replace(/[;\r\n\u2028\u2029]/g, "_"));
}

/**
 * Brendan Gregg's collapsed ("folded") stacks, as flamegraph.pl, speedscope and inferno read them: one line per
 * distinct stack, `root;...;leaf weight`, the weight in integer microseconds of wall time (not a sample count),
 * in order of first appearance. With worker threads (Session.threads) each thread's lines follow the main
 * thread's, every line under its thread's name as the outermost frame (`main;...`, `worker 1;...`).
 */
export function renderCollapsed(main: FormatContext, threads: readonly FormatContext[] = []): string {
  let out = "";
  for (const ctx of [main, ...threads]) {
    const name = ctx.session.meta.thread?.name ?? "main";
    out += collapsedLines(ctx, threads.length > 0 ? `${name.replace(/[;\r\n]/g, "_")};` : "");
  }
  return out;
}

function collapsedLines({ session, entries }: FormatContext, prefix: string): string {
  const ws = weightedSamples(session, entries);
  const totals = new Map<number, number>();
  for (let i = 0; i < ws.node.length; i++) totals.set(ws.node[i], (totals.get(ws.node[i]) ?? 0) + ws.weight[i]);
  const names = new Map<number, string>();
  const text = new Map<number, string>();
  const pathText = (node: number): string => {
    let s = text.get(node);
    if (s === undefined) {
      const f = ws.frame[node];
      let name = names.get(f);
      if (name === undefined) names.set(f, name = collapsedName(session, f));
      const p = ws.parent[node];
      s = p < 0 ? name : `${pathText(p)};${name}`;
      text.set(node, s);
    }
    return s;
  };
  // Parents first so pathText's recursion is one level deep at most.
  for (let k = 0; k < ws.parent.length; k++) pathText(k);
  let out = "";
  for (const [node, w] of totals) out += `${prefix}${pathText(node)} ${w}\n`;
  return out;
}

// ---- pprof ----

// pprof-format is required on first use, not imported: on Deno a static bare import would have to resolve in the
// profiled program's own configuration (the Profiler API loads the renderers there); see session/source/sourcemaps.ts.
type PprofFormat = typeof import("pprof-format");
let pprofFormat: PprofFormat | null = null;
const pf = (): PprofFormat => (pprofFormat ??= createRequire(import.meta.url)("pprof-format") as PprofFormat);

/**
 * pprof (profile.proto, gzipped), as `go tool pprof` and the pprof web UI read it. Sample types samples/count
 * and wall/microseconds (the default); one sample per distinct stack with its sample count and its wall time
 * (gap-rule idle time is "[idle]" with count 0). Locations are leaf first, one per frame, with a function
 * (name, file, start line) and the frame's line. With worker threads (Session.threads) every thread's samples
 * are in the one profile, each labelled `thread` ("main", "worker 1", ...: `pprof -tagfocus thread=main`).
 */
export function renderPprof(main: FormatContext, threads: readonly FormatContext[] = []): Uint8Array {
  const { Function: PFunction, Label, Line, Location, Profile, Sample, StringTable, ValueType } = pf();
  const { session } = main;
  const strings = new StringTable();
  const functions: InstanceType<PprofFormat["Function"]>[] = [];
  const locations: InstanceType<PprofFormat["Location"]>[] = [];
  const sample: InstanceType<PprofFormat["Sample"]>[] = [];
  let duration = 0;
  for (const ctx of [main, ...threads]) {
    const ws = weightedSamples(ctx.session, ctx.entries);
    duration = Math.max(duration, ws.end);
    const locationOf = new Map<number, number>();
    const location = (frame: number): number => {
      let id = locationOf.get(frame);
      if (id === undefined) {
        const d = describe(ctx.session, frame);
        id = locations.length + 1;
        functions.push(
          new PFunction({
            id,
            name: strings.dedup(d.name),
            systemName: strings.dedup(d.name),
            filename: strings.dedup(d.file),
            startLine: d.line,
          }),
        );
        locations.push(new Location({ id, line: [new Line({ functionId: id, line: d.line })] }));
        locationOf.set(frame, id);
      }
      return id;
    };
    const count = new Map<number, number>();
    const wall = new Map<number, number>();
    for (let i = 0; i < ws.node.length; i++) {
      const node = ws.node[i];
      count.set(node, (count.get(node) ?? 0) + ws.count[i]);
      wall.set(node, (wall.get(node) ?? 0) + ws.weight[i]);
    }
    const name = ctx.session.meta.thread?.name ?? "main";
    const label = threads.length > 0 ? [new Label({ key: strings.dedup("thread"), str: strings.dedup(name) })] : [];
    for (const [node, w] of wall) {
      const ids: number[] = [];
      for (let k = node; k >= 0; k = ws.parent[k]) ids.push(location(ws.frame[k]));
      sample.push(new Sample({ locationId: ids, value: [count.get(node) ?? 0, w], label }));
    }
  }
  const wallType = new ValueType({ type: strings.dedup("wall"), unit: strings.dedup("microseconds") });
  const profile = new Profile({
    sampleType: [new ValueType({ type: strings.dedup("samples"), unit: strings.dedup("count") }), wallType],
    sample,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(Math.round(session.meta.startTime)) * 1_000_000n,
    durationNanos: duration * 1000,
    periodType: new ValueType({ type: strings.dedup("wall"), unit: strings.dedup("microseconds") }),
    period: session.meta.interval,
    defaultSampleType: strings.dedup("wall"),
    comment: [strings.dedup(`tsprofile ${VERSION}: ${session.meta.program} (${session.meta.runtime})`)],
  });
  return gzipSync(profile.encode());
}
