// The interchange formats read back by independent readers with the same totals: pprof through the
// pprof-format package's decoder; speedscope against speedscope's own file-format-schema.json (shipped in the
// speedscope npm package; its importer is a browser bundle, so it is not run here); .cpuprofile through our
// loader (runtimes/shared/cpuprofile.ts) plus a structural check; collapsed stacks parsed and summed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpuProfileToSession } from "../src/profile-file.ts";
import { renderSessionOutput } from "../src/report.ts";
import { RENDERER_NAMES, rendererForPath } from "../src/renderers/names.ts";
import { RENDERERS } from "../src/renderers/index.ts";
import { decodeSession } from "../session/session.ts";
import { SampleState } from "../session/types.ts";
import type { Session } from "../session/types.ts";
import { root } from "./runtime-helpers.ts";
import { randomSession } from "./session-helpers.ts";

const { Profile } = createRequire(import.meta.url)("pprof-format") as typeof import("pprof-format");
const schema = JSON.parse(
  readFileSync(join(root, "node_modules", "speedscope", "dist", "release", "file-format-schema.json"), "utf8"),
);

/** The session's whole time: every entry of the gap rule covers [0, end). */
function end(s: Session): number {
  const n = s.samples.time.length;
  return Math.max(s.meta.duration, n ? s.samples.time[n - 1] : 0);
}
const render = (s: Session, renderer: string, extra = {}) => renderSessionOutput(s, { renderer, ...extra });

// ---- a JSON Schema (draft-07) checker for the keywords speedscope's schema uses ----
/** A schema node, as far as this checker reads it. */
interface SchemaNode {
  $ref?: string;
  anyOf?: SchemaNode[];
  type?: string;
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}
function validate(value: unknown, node: SchemaNode, path = "$"): string[] {
  const errors: string[] = [];
  const known = new Set([
    "$schema",
    "$ref",
    "definitions",
    "title",
    "type",
    "properties",
    "required",
    "const",
    "enum",
    "items",
    "anyOf",
    "description",
    "additionalProperties",
  ]);
  for (const k of Object.keys(node)) {
    if (!known.has(k)) errors.push(`${path}: schema keyword ${k} not supported by this checker`);
  }
  if (node.$ref) {
    const target = node.$ref.replace(/^#\//, "").split("/")
      .reduce((o: Record<string, unknown>, k: string) => o[k] as Record<string, unknown>, schema);
    return errors.concat(validate(value, target as SchemaNode, path));
  }
  if (node.anyOf) {
    const ok = node.anyOf.some((alt) => validate(value, alt, path).length === 0);
    if (!ok) errors.push(`${path}: matches none of anyOf`);
  }
  if (node.type) {
    const t = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    if (node.type !== t && !(node.type === "integer" && Number.isInteger(value))) {
      errors.push(`${path}: ${t}, not ${node.type}`);
    }
  }
  if ("const" in node && value !== node.const) errors.push(`${path}: not ${JSON.stringify(node.const)}`);
  if (node.enum && !node.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (node.required && typeof value === "object" && value) {
    for (const k of node.required) if (!(k in (value as object))) errors.push(`${path}: missing ${k}`);
  }
  if (node.properties && typeof value === "object" && value) {
    for (const [k, sub] of Object.entries(node.properties)) {
      if (k in (value as object)) errors.push(...validate((value as Record<string, unknown>)[k], sub, `${path}.${k}`));
    }
  }
  const items = node.items;
  if (items && Array.isArray(value)) value.forEach((v, i) => errors.push(...validate(v, items, `${path}[${i}]`)));
  return errors.slice(0, 10);
}

const session = randomSession(3000, 42, 30, 800);

/** What these tests read of the speedscope file's frames and the .cpuprofile's nodes. */
interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
}
interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string };
}

test("speedscope: valid against speedscope's schema; weights (us) add up to the session; frames named", () => {
  const text = render(session, "speedscope") as string;
  const file = JSON.parse(text);
  const errors = validate(file, schema.definitions["FileFormat.File"]);
  assert.equal(errors, []);
  assert.is(file.profiles.length, 1);
  const p = file.profiles[0];
  assert.is(p.type, "sampled");
  assert.is(p.unit, "microseconds");
  assert.is(p.samples.length, p.weights.length);
  const total = p.weights.reduce((a: number, b: number) => a + b, 0);
  assert.is(total, end(session));
  assert.is(p.endValue - p.startValue, total);
  for (const s of p.samples) for (const i of s) assert.ok(i >= 0 && i < file.shared.frames.length);
  // Runtime internals are removed by default, kept with show_all.
  assert.not.ok(file.shared.frames.some((f: SpeedscopeFrame) => String(f.file).startsWith("node:internal")));
  const all = JSON.parse(render(session, "speedscope", { showAll: true }) as string);
  assert.ok(all.shared.frames.some((f: SpeedscopeFrame) => String(f.file).startsWith("node:internal")));
  assert.ok(
    file.shared.frames.some((f: SpeedscopeFrame) => f.name === "fn0" && f.file === "/app/src/mod0.ts" && f.line === 1),
  );
});

test("pprof: decoded by pprof-format; wall/microseconds and samples/count add up", () => {
  const bytes = render(session, "pprof") as Uint8Array;
  assert.instance(bytes, Uint8Array);
  assert.is(bytes[0], 0x1f); // gzip
  const p = Profile.decode(gunzipSync(bytes));
  const str = (i: unknown) => p.stringTable.strings[Number(i)];
  assert.equal(p.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`), ["samples/count", "wall/microseconds"]);
  let wall = 0;
  let count = 0;
  for (const s of p.sample) {
    count += Number(s.value[0]);
    wall += Number(s.value[1]);
    for (const id of s.locationId) assert.ok(p.location.some((l) => Number(l.id) === Number(id)));
  }
  assert.is(wall, end(session));
  assert.is(count, session.samples.stack.length);
  assert.is(Number(p.period), session.meta.interval);
  assert.is(Number(p.durationNanos), end(session) * 1000);
  const names = new Set(p.function.map((f) => str(f.name)));
  assert.ok(names.has("fn0"));
  assert.not.ok(p.function.some((f) => String(str(f.filename)).startsWith("node:internal")));
});

test(".cpuprofile: DevTools' structure; our loader reads it back with the same totals and stacks", () => {
  const text = render(session, "cpuprofile") as string;
  const p = JSON.parse(text);
  const ids = new Set<number>(p.nodes.map((n: CpuProfileNode) => n.id));
  assert.is(ids.size, p.nodes.length);
  assert.is(p.nodes[0].callFrame.functionName, "(root)");
  let hits = 0;
  for (const n of p.nodes) {
    for (const k of ["functionName", "scriptId", "url", "lineNumber", "columnNumber"]) assert.ok(k in n.callFrame, k);
    for (const c of n.children) assert.ok(ids.has(c));
    hits += n.hitCount;
  }
  assert.is(hits, p.samples.length);
  assert.is(p.samples.length, p.timeDeltas.length);
  for (const id of p.samples) assert.ok(ids.has(id));
  assert.ok(p.nodes.some((n: CpuProfileNode) => n.callFrame.functionName === "(idle)"));
  const sum = p.timeDeltas.reduce((a: number, b: number) => a + b, 0);
  assert.ok(sum <= p.endTime - p.startTime);
  assert.is(p.endTime - p.startTime, end(session));
  // Written with show_all so that the functions' self times are comparable (removal moves time to callers).
  const back = cpuProfileToSession(
    JSON.parse(render(session, "cpuprofile", { showAll: true }) as string),
    "x.cpuprofile",
  );
  assert.is(end(back), end(session));
  // Per function, the same total time (the real frames; their names and positions survive the trip).
  const byName = (s: Session) => {
    const m = new Map<string, number>();
    for (const line of (render(s, "collapsed", { showAll: true }) as string).trim().split("\n")) {
      const at = line.lastIndexOf(" ");
      // The name alone: short paths are relative to each session's cwd.
      const leaf = line.slice(0, at).split(";").pop()!.split(" (")[0];
      if (!leaf.startsWith("fn")) continue;
      m.set(leaf, (m.get(leaf) ?? 0) + Number(line.slice(at + 1)));
    }
    return m;
  };
  const before = byName(session);
  const after = byName(back);
  // Samples of tsprofile's own files are cut by the loader; there are none here, so all functions match.
  assert.equal([...after.entries()].sort(), [...before.entries()].sort());
});

test("collapsed: `a;b;c weight` lines; weights are microseconds and add up", () => {
  const text = render(session, "collapsed") as string;
  let total = 0;
  const seen = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const m = /^(.+) (\d+)$/.exec(line);
    assert.ok(m, line);
    assert.not.ok(seen.has(m![1]), `stack twice: ${m![1]}`);
    seen.add(m![1]);
    total += Number(m![2]);
  }
  assert.is(total, end(session));
  assert.match(text, /^fn\d+ \(src\/mod\d+\.ts:\d+\)/m);
});

test("a running gap (meta.idleSampled): every sample format weighs it as the tree does, with no idle", () => {
  // work@0, 1 ms; main@2 ms, then the sampler starved 100 ms; work@102 ms, end 105 ms; gapCap 20 ms. The tree
  // (SPEC.md §1, running gap): work 1.5 ms (the 1 ms before main splits at its middle), main 0.5 + 2 ms (2
  // intervals), work 98 + 3 ms; without the flag 80 ms would be idle.
  const s: Session = {
    ...randomSession(0, 1),
    frames: [
      { name: "main", file: "/app/main.ts", line: 1, col: 1, kind: "js" },
      { name: "work", file: "/app/main.ts", line: 5, col: 1, kind: "js" },
    ],
    stacks: { parent: Int32Array.of(-1, 0), frame: Uint32Array.of(0, 1) },
    samples: {
      stack: Int32Array.of(1, 1, 0, 1, 1),
      time: Float64Array.of(0, 1000, 2000, 102_000, 103_000),
      state: new Uint8Array(5),
    },
  };
  s.meta = { ...s.meta, duration: 105_000, interval: 1000, gapCap: 20_000, idleSampled: true };
  const collapsed = (x: Session) => (render(x, "collapsed") as string).trim().split("\n").sort();
  const want = ["main (main.ts:1) 2500", "main (main.ts:1);work (main.ts:5) 102500"];
  const cwdless = (x: Session) => ({ ...x, meta: { ...x.meta, cwd: "/app" } });
  assert.equal(collapsed(cwdless(s)), want);
  const tree = JSON.parse(render(s, "json") as string);
  assert.is(tree.root_frame.time, 0.105);
  assert.not.ok(JSON.stringify(tree).includes("[idle]"));
  const speedscope = JSON.parse(render(s, "speedscope") as string).profiles[0];
  assert.equal(speedscope.weights, [1500, 2500, 101_000], "work, main, then work's late part and its own 3 ms");
  const p = Profile.decode(gunzipSync(render(s, "pprof") as Uint8Array));
  assert.equal(p.sample.map((x) => Number(x.value[1])).sort((x, y) => x - y), [2500, 102_500]);
  assert.equal(p.sample.map((x) => Number(x.value[0])).sort((x, y) => x - y), [1, 4], "the late part is no sample");
  // The .cpuprofile: the span over 20 ms written as samples 20 ms apart, and an (idle) node though nothing was
  // idle (V8's mark): our loader reads back the same weights.
  const text = render(s, "cpuprofile") as string;
  assert.ok(
    JSON.parse(text).nodes.some((n: { callFrame: { functionName: string } }) => n.callFrame.functionName === "(idle)"),
  );
  const back = cpuProfileToSession(JSON.parse(text), "x.cpuprofile");
  assert.ok(back.meta.idleSampled);
  assert.equal(collapsed(cwdless(back)), want);
  // Without the flag: 80 ms idle in every format.
  const off = { ...s, meta: { ...s.meta, idleSampled: false } };
  assert.ok(collapsed(off).includes("[idle] 80000"), collapsed(off).join("; "));
});

test("await time is [await] under the stack that awaited in every sample format, as in the tree", () => {
  // main runs 2 ms, starts a wait it awaits until 80 ms (idle samples meanwhile), then runs to 82 ms.
  const idle = Array.from({ length: 78 }, (_, i) => 2000 + i * 1000);
  const s: Session = {
    ...randomSession(0, 1),
    frames: [{ name: "main", file: "/app/main.ts", line: 1, col: 1, kind: "js" }],
    stacks: { parent: Int32Array.of(-1), frame: Uint32Array.of(0) },
    samples: {
      stack: Int32Array.from([0, 0, ...idle.map(() => -1), 0, 0]),
      time: Float64Array.from([0, 1000, ...idle, 80_000, 81_000]),
      state: Uint8Array.from([0, 0, ...idle.map(() => SampleState.idle), 0, 0]),
    },
    waits: { start: Float64Array.of(1500), end: Float64Array.of(80_000), stack: Int32Array.of(0) },
  };
  s.meta = { ...s.meta, duration: 82_000, interval: 1000, gapCap: 20_000, idleSampled: true, cwd: "/app" };
  const tree = JSON.parse(render(s, "json") as string).root_frame.children[0];
  const awaited = Math.round(tree.await_time * 1e6);
  assert.ok(awaited > 70_000, String(awaited));
  const collapsed = (render(s, "collapsed") as string).trim().split("\n");
  assert.ok(collapsed.includes(`main (main.ts:1);[await] ${awaited}`), collapsed.join("; "));
  assert.not.ok(collapsed.some((l) => l.startsWith("[idle]")), collapsed.join("; "));
  const speedscope = JSON.parse(render(s, "speedscope") as string);
  assert.ok(speedscope.shared.frames.some((f: { name: string }) => f.name === "[await]"));
  const p = Profile.decode(gunzipSync(render(s, "pprof") as Uint8Array));
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)];
  assert.ok(p.function.some((f) => str(f.name) === "[await]"));
  // The .cpuprofile keeps it as a frame of that name under main, which our loader reads back with its weight.
  const back = cpuProfileToSession(JSON.parse(render(s, "cpuprofile") as string), "x.cpuprofile");
  const again = (render({ ...back, meta: { ...back.meta, cwd: "/app" } }, "collapsed") as string).trim().split("\n");
  assert.ok(again.includes(`main (main.ts:1);[await] ${awaited}`), again.join("; "));
});

test("hostile names stay on their line; ; and newlines cannot split a collapsed frame", () => {
  const s = randomSession(50, 3, 5, 20);
  s.frames[s.stacks.frame[s.samples.stack.find((x) => x >= 0)!]].name = "evil;name\nnext 5";
  const text = render(s, "collapsed") as string;
  for (const line of text.trimEnd().split("\n")) assert.match(line, /^[^\n]+ \d+$/);
  assert.match(text, /evil_name_next 5/);
  JSON.parse(render(s, "speedscope") as string);
  JSON.parse(render(s, "cpuprofile") as string);
});

test("collapsed: an ESC, other controls and bidi marks in a name are escaped, as in the text report", () => {
  const s = randomSession(50, 3, 5, 20);
  s.frames[s.stacks.frame[s.samples.stack.find((x) => x >= 0)!]].name = "wipe\x1b[2J\u202eright\u2028";
  const text = render(s, "collapsed") as string;
  // deno-lint-ignore no-control-regex -- looks for a raw ESC
  assert.not.match(text, /[\x1b\u202e\u2028]/);
  assert.match(text, /wipe\\x1b\[2J\\u202eright_/);
});

test("a 10,000-deep stack in every format (no recursion)", () => {
  const depth = 10_000;
  const frames = [{ name: "rec", file: "/app/r.js", line: 1, col: 1, kind: "js" as const }];
  const parent = Int32Array.from({ length: depth }, (_, i) => i - 1);
  const frame = new Uint32Array(depth);
  const s: Session = {
    ...randomSession(0, 1),
    frames,
    stacks: { parent, frame },
    samples: {
      stack: Int32Array.from([depth - 1, depth - 1]),
      time: Float64Array.from([0, 1000]),
      state: new Uint8Array(2),
    },
  };
  s.meta = { ...s.meta, duration: 2000 };
  for (const r of ["speedscope", "cpuprofile", "collapsed", "pprof", "tsprof"]) {
    const out = render(s, r);
    assert.ok(out.length > 0, r);
  }
  assert.is(decodeSession(render(s, "tsprof") as Uint8Array).stacks.parent.length, depth);
});

test("every renderer name has a renderer (html when it lands); -o extensions pick one", () => {
  for (const name of RENDERER_NAMES) if (name !== "html") assert.ok(RENDERERS[name], name);
  const cases: [string, string | undefined][] = [
    ["run.tsprof", "tsprof"],
    ["out/x.speedscope.json", "speedscope"],
    ["x.json", "json"],
    ["X.CPUPROFILE", "cpuprofile"],
    ["stacks.collapsed", "collapsed"],
    ["prof.pb.gz", "pprof"],
    ["report.html", "html"],
    ["report.txt", "text"],
    ["report", undefined],
  ];
  for (const [path, want] of cases) assert.is(rendererForPath(path), want, path);
});

test.run();
