// Stacks V8 cut short (runtimes/shared/cpuprofile.ts, V8_STACK_CAP): a synthetic 300-deep .cpuprofile converts to
// samples under one [truncated] root, which classification leaves alone and every report and sample format shows
// at the root of those stacks; await attribution and trim stem keep it there.
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convertProfile, type CpuProfile } from "../runtimes/shared/cpuprofile.ts";
import { findStartStack } from "../runtimes/shared/start-stack.ts";
import { classifyFrames } from "../src/processing/classify.ts";
import { cpuProfileToSession } from "../src/profile-file.ts";
import { renderSessionOutput } from "../src/report.ts";
import { isTruncatedFrame } from "../session/frames.ts";
import { NO_LIBRARY } from "../session/types.ts";
import type { Session } from "../session/types.ts";
import { checkSession } from "./sampler-helpers.ts";

const { Profile } = createRequire(import.meta.url)("pprof-format") as typeof import("pprof-format");
const identity = { map: (file: string, line: number, col: number) => ({ file, line, col }) };
const APP = "file:///app/deep.js";

/**
 * (root) > main > rec x 99 > spin: a whole stack, 101 frames.
 * (root) > rec x 300 > spin: what V8 keeps of a deeper one, 301 frames; and rec at depth 280 > other, 281 frames.
 * Plus (program) and (idle). Returns the profile and, per sample, the depth of its node below (root).
 */
function deepProfile(): { profile: CpuProfile; depths: number[] } {
  const nodes: CpuProfile["nodes"] = [];
  const depthOf = new Map<number, number>();
  const add = (name: string, url: string, line: number, parent?: number): number => {
    const id = nodes.length + 1;
    nodes.push({ id, callFrame: { functionName: name, scriptId: "1", url, lineNumber: line - 1, columnNumber: 9 } });
    if (parent !== undefined) {
      const p = nodes[parent - 1];
      (p.children ??= []).push(id);
      depthOf.set(id, (depthOf.get(parent) ?? 0) + 1);
    } else depthOf.set(id, 0);
    return id;
  };
  const root = add("(root)", "", 0);
  const program = add("(program)", "", 0, root);
  const idle = add("(idle)", "", 0, root);
  let at = add("main", APP, 10, root);
  for (let i = 0; i < 99; i++) at = add("rec", APP, 20, at);
  const whole = add("spin", APP, 30, at);
  at = root;
  let branch = -1;
  for (let i = 0; i < 300; i++) {
    at = add("rec", APP, 20, at);
    if (i === 279) branch = at;
  }
  const deepRec = at;
  const cutSpin = add("spin", APP, 30, at);
  const other = add("other", APP, 40, branch);
  const order = [whole, cutSpin, other, idle, cutSpin, deepRec, program, whole, cutSpin, other];
  const samples = [...order, ...order];
  return {
    profile: {
      nodes,
      startTime: 0,
      endTime: 21_000,
      samples,
      timeDeltas: samples.map(() => 1000),
    },
    depths: samples.map((id) => depthOf.get(id)!),
  };
}

const convert = (profile: CpuProfile, extra = {}) =>
  convertProfile(profile, { startTime: 1, cpuTime: -1, interval: 1000, program: "deep", mapper: identity, ...extra });

/** Frame ids of a stack, root first. */
function pathOf(s: Session, stack: number): number[] {
  const out: number[] = [];
  for (let i = stack; i >= 0; i = s.stacks.parent[i]) out.push(s.stacks.frame[i]);
  return out.reverse();
}

function truncatedIds(s: Session): number[] {
  return s.frames.flatMap((f, i) => (isTruncatedFrame(f) ? [i] : []));
}

test("a stack V8 cut short starts at the one [truncated] frame; a whole one does not", () => {
  const { profile, depths } = deepProfile();
  const s = convert(profile);
  checkSession(s);
  const cut = truncatedIds(s);
  assert.is(cut.length, 1, "one [truncated] frame");
  const t = cut[0];
  assert.equal(s.frames[t], { name: "[truncated]", file: "", line: 0, col: 0, kind: "native" });
  // One root row holds every cut stack: their frames aggregate as one tree under it.
  const rows = Array.from(s.stacks.frame).flatMap((f, i) => (f === t ? [i] : []));
  assert.is(rows.length, 1);
  assert.is(s.stacks.parent[rows[0]], -1);
  // The same function is one frame, in whole and cut stacks alike.
  assert.is(s.frames.filter((f) => f.name === "rec").length, 1);
  assert.is(s.frames.filter((f) => f.name === "spin").length, 1);
  for (let i = 0; i < depths.length; i++) {
    const stack = s.samples.stack[i];
    if (depths[i] <= 1) continue; // (idle), (program): states with no frame
    const path = pathOf(s, stack);
    const names = path.map((f) => s.frames[f].name);
    if (depths[i] >= 250) {
      assert.is(path[0], t, `sample ${i} (depth ${depths[i]}) starts at [truncated]`);
      assert.is(path.length, depths[i] + 1, "every frame V8 kept is there, under [truncated]");
      assert.is(names[1], "rec");
    } else {
      assert.not.ok(path.includes(t), `sample ${i} (depth ${depths[i]}) is whole`);
      assert.equal(names.slice(0, 2), ["main", "rec"]);
      assert.is(path.length, 101);
    }
  }
  const deepest = pathOf(s, s.samples.stack[1]);
  assert.is(deepest.length, 302, "[truncated] + 300 rec + spin");
  // No stack row is left over from the paths V8 cut: every row is on some sample's path.
  const used = new Uint8Array(s.stacks.parent.length);
  for (const st of s.samples.stack) for (let i = st; i >= 0 && !used[i]; i = s.stacks.parent[i]) used[i] = 1;
  assert.ok(used.every((u) => u === 1), "no unused stack rows");
});

test("a 100-deep profile, and an engine that keeps whole stacks (JSC): no [truncated]", () => {
  const { profile } = deepProfile();
  assert.equal(truncatedIds(convert(profile, { wholeStacks: true })), []);
  const shallow: CpuProfile = { ...profile, samples: [4 + 100], timeDeltas: [1000] }; // main's spin
  const s = convert(shallow);
  assert.is(s.frames[s.stacks.frame[s.samples.stack[0]]].name, "spin");
  assert.equal(truncatedIds(s), []);
});

test("[truncated] is no internal, library or --hide match; the start stack never passes through it", () => {
  const s = convert(deepProfile().profile);
  const t = truncatedIds(s)[0];
  for (const hide of [[], ["*"], ["**"]]) {
    const c = classifyFrames(s.frames, { cwd: "/app", hide, ownRoot: "/tsprofile" });
    assert.is(c.flags[t], 0, `flags with --hide ${hide.join(" ")}`);
    assert.is(c.library[t], NO_LIBRARY);
  }
  // A file-less runtime frame is skipped when the callers of start() are looked up; [truncated] is not one: what
  // hangs under it is the middle of a deeper stack, so it must not become the start stack (trim stem would cut it).
  const callers = [
    { names: ["rec"], file: "/app/deep.js", line: 25 },
    { names: ["rec"], file: "/app/deep.js", line: 25 },
  ];
  const found = findStartStack(callers, s.frames, s.stacks.parent, s.stacks.frame);
  assert.ok(!found.includes(t), "the start stack does not start at [truncated]");
  const startedDeep = convert(deepProfile().profile, {
    callers: [{ name: "rec", file: "/app/deep.js", line: 25, col: 3 }],
  });
  assert.not.ok(startedDeep.meta.startStack.includes(truncatedIds(startedDeep)[0]));
});

interface JsonFrame {
  function: string;
  file_path: string;
  visible: boolean;
  group_id: number | null;
  children: JsonFrame[];
}

test("the reports show [truncated] at the root of the cut stacks: text, JSON, HTML", () => {
  const s = convert(deepProfile().profile);
  const text = renderSessionOutput(s, { renderer: "text", color: false }) as string;
  assert.match(text, /^\d+\.\d+ \[truncated\]$/m, "a top-level [truncated] line");
  assert.match(text, /\[truncated\]\n└─ \d+\.\d+ rec/, "rec right under it");
  const json = JSON.parse(renderSessionOutput(s, { renderer: "json" }) as string);
  const top = json.root_frame.children as JsonFrame[];
  const t = top.find((f) => f.function === "[truncated]");
  assert.ok(t, "a child of the root");
  assert.is(t!.file_path, "");
  assert.ok(t!.visible);
  assert.is(t!.group_id, null);
  assert.is(t!.children[0].function, "rec");
  assert.ok(top.some((f) => f.function === "main"), "the whole stacks keep their own root");
  const html = renderSessionOutput(s, { renderer: "html" }) as string;
  assert.ok(html.includes("[truncated]"));
});

test("the sample formats have [truncated] as the root of the cut stacks", () => {
  const s = convert(deepProfile().profile);
  const deep = (names: string[]) => names.length > 250;
  // collapsed: root first.
  const lines = (renderSessionOutput(s, { renderer: "collapsed" }) as string).trim().split("\n");
  const stacks = lines.map((l) => l.slice(0, l.lastIndexOf(" ")).split(";").map((f) => f.split(" (")[0]));
  assert.ok(stacks.some(deep));
  for (const names of stacks) assert.is(names[0] === "[truncated]", deep(names), names.slice(0, 3).join(";"));
  // speedscope: each sample's frame indexes, root first.
  const sc = JSON.parse(renderSessionOutput(s, { renderer: "speedscope" }) as string);
  const scNames = (sample: number[]) => sample.map((i) => sc.shared.frames[i].name as string);
  const scStacks = (sc.profiles[0].samples as number[][]).map(scNames);
  assert.ok(scStacks.some(deep));
  for (const names of scStacks) if (deep(names)) assert.is(names[0], "[truncated]");
  assert.is(sc.shared.frames.filter((f: { name: string }) => f.name === "[truncated]").length, 1);
  // pprof: locations leaf first, so the root is the last.
  const p = Profile.decode(gunzipSync(renderSessionOutput(s, { renderer: "pprof" }) as Uint8Array));
  const str = (i: unknown) => p.stringTable.strings[Number(i)];
  const fnName = new Map(p.function.map((f) => [Number(f.id), str(f.name)]));
  const locName = new Map(p.location.map((l) => [Number(l.id), fnName.get(Number(l.line[0].functionId))]));
  const ppStacks = p.sample.map((x) => x.locationId.map((id) => locName.get(Number(id))!));
  assert.ok(ppStacks.some(deep));
  for (const names of ppStacks) if (deep(names)) assert.is(names[names.length - 1], "[truncated]");
  // .cpuprofile: (root) > [truncated] > rec; read back, it has the one root still, not a second under it.
  const cp = JSON.parse(renderSessionOutput(s, { renderer: "cpuprofile" }) as string);
  const nodes = cp.nodes as CpuProfile["nodes"];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rootChildren = nodes[0].children!.map((c) => byId.get(c)!.callFrame.functionName);
  assert.ok(rootChildren.includes("[truncated]"));
  const back = cpuProfileToSession(cp, "deep.cpuprofile");
  const t = truncatedIds(back);
  assert.is(t.length, 1);
  for (const st of back.samples.stack) {
    const path = pathOf(back, st);
    if (path.length > 250) {
      assert.is(path[0], t[0]);
      assert.is(back.frames[path[1]].name, "rec");
    }
  }
});

test("await attribution's async stacks and trim stem leave [truncated] at the root", () => {
  const s = convert(deepProfile().profile);
  const main = s.frames.findIndex((f) => f.name === "main");
  // A wait requested from main > rec, ended before every sample: the async-stack rule stitches a sample onto the
  // wait's stack where its first shown frame appears there. A cut stack's first shown frame is [truncated], which
  // no wait's stack holds, so it stays as it is (rec under [truncated], not main > rec).
  const waitStack = s.samples.stack[0]; // main > rec x 99 > spin
  s.waits = { start: Float64Array.of(0), end: Float64Array.of(500), stack: Int32Array.of(waitStack) };
  // The start stack is main's: trim stem would cut the whole stacks down to main, but the cut stacks do not start
  // with it, so nothing is trimmed, and [truncated] is never mistaken for the stem.
  s.meta.startStack = [main];
  for (const asyncMode of ["enabled", "disabled"] as const) {
    const json = JSON.parse(renderSessionOutput(s, { renderer: "json", asyncMode }) as string);
    const top = (json.root_frame.children as JsonFrame[]).map((f) => f.function);
    assert.ok(top.includes("[truncated]"), `${asyncMode}: [truncated] at the root (${top.join(", ")})`);
    const cut = (json.root_frame.children as JsonFrame[]).find((f) => f.function === "[truncated]")!;
    assert.is(cut.children[0].function, "rec");
  }
});

test.run();
