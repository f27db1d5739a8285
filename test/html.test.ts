// The HTML renderer without a browser: the page's structure, the embedded data (both processings, the timeline's
// runs), hostile names kept as data, the Profiler's HTML methods, and that the committed page.generated.ts is what
// scripts/build-html.mjs makes from its sources today. test/html-browser.test.ts drives the page in Chromium.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { browserCommand, Profiler } from "../src/profiler.ts";
import { renderSession } from "../src/report.ts";
import { embedJson, timelineData } from "../src/renderers/html.ts";
import { packInts, unpackFrame, unpackInts } from "../src/renderers/html-page/data.ts";
import type { PageData, TreeData } from "../src/renderers/html-page/data.ts";
import { SampleState, SyntheticFrame } from "../session/types.ts";
import { frame, makeSession, spread } from "./report-helpers.ts";
import { classifyFrames } from "../src/processing/classify.ts";
import { sessionEntries } from "../wasm/core.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const HOSTILE = "</script><img src=x onerror=alert(1)>";

const FRAMES = [
  frame("main", "/app/src/main.ts", 1), // 0
  frame("handle", "/app/node_modules/express/lib/router.js", 100), // 1
  frame("next", "/app/node_modules/express/lib/router.js", 200), // 2
  frame("parse", "/app/node_modules/body-parser/index.js", 5), // 3
  frame("route", "/app/src/routes.ts", 20), // 4
  frame(HOSTILE, "/app/src/<!--evil-->\u2028\u2029.ts", 7), // 5
  frame("readFileSync", "node:fs", 400), // 6
];

function shop() {
  return makeSession(
    FRAMES,
    spread([
      [[0, 1, 2, 3, 4], 40],
      [[0, 1, 2, 3], 20],
      [[0, 5], 25],
      [[0, 6], 5],
      [[0], 5, SampleState.await],
      [[], 5, SampleState.idle],
    ]),
  );
}

/** The page's embedded data, read the way the page reads it. */
function embedded(html: string): PageData {
  const m = /<script type="application\/json" id="tsprofile-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m, "one JSON data block with no '<' inside");
  return JSON.parse(m![1]) as PageData;
}

test("html: one self-contained page: doctype, styles and script inline, no external resources", () => {
  const html = renderSession(shop(), { renderer: "html" });
  assert.ok(html.startsWith("<!doctype html>"));
  assert.ok(html.trimEnd().endsWith("</html>"));
  assert.is(html.match(/<script\b/g)?.length, 2, "the data block and the page's script");
  assert.is(html.match(/<\/script>/g)?.length, 2);
  assert.not.match(html, /<script[^>]+src=/);
  assert.not.match(html, /<link\b/);
  assert.not.match(html, /https?:\/\//, "no URL at all: nothing to fetch, works offline");
  // The only script allowed to run is the page's own, by hash.
  const csp = /Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? "";
  assert.match(csp, /default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.not.match(csp, /script-src[^;]*unsafe-inline/);
});

test("html: both processings embedded, default first; options set the starting toggles", () => {
  const data = embedded(renderSession(shop(), { renderer: "html" }));
  assert.is(data.meta.samples, 100);
  assert.is(data.showAll, false);
  assert.is(data.percent, false);
  const normal = data.trees.normal;
  const all = data.trees.all;
  assert.ok(normal.n > 1 && all.n >= normal.n);
  // The default tree groups express + body-parser; the show-all one has no groups.
  const groupsNormal = Array.from(unpackInts(normal.group, normal.n) as Float64Array).filter((g) => g > 0);
  const groupsAll = Array.from(unpackInts(all.group, all.n) as Float64Array).filter((g) => g > 0);
  assert.ok(groupsNormal.length > 0, "a library group in the default tree");
  assert.is(groupsAll.length, 0);
  assert.equal(normal.groupLibs[0].map((l) => data.libraries[l]), ["express", "body-parser"]);
  assert.is(normal.groupHidden[0], 1, "next: handle roots the group, parse calls app code");
  // Root: frame [root] (0 after the +256 shift), parent -1 (stored as 1), total time 100 ms.
  assert.is((unpackInts(normal.frame, 1) as Float64Array)[0], 0);
  assert.is((unpackInts(normal.parent, 1) as Float64Array)[0], 1);
  assert.is((unpackInts(normal.time, 1) as Float64Array)[0], 100_000);
  const other = embedded(renderSession(shop(), { renderer: "html", showAll: true, time: "percent_of_total" }));
  assert.is(other.showAll, true);
  assert.is(other.percent, true);
  assert.equal(other.trees, data.trees, "the same two processings whichever the page starts on");
  const timeline = embedded(renderSession(shop(), { renderer: "html", timeline: true }));
  assert.equal(timeline.trees, data.trees, "-p timeline: the call tree stays aggregated (the page has a timeline)");
});

test("html: each tree carries its CPU time when the session has it, and none when not", () => {
  const s = shop();
  assert.not.ok("cpu" in embedded(renderSession(s, { renderer: "html" })).trees.normal);
  // 1 ms of wall time a sample, 600 us of CPU for the running ones.
  const cpu = new Float64Array(s.samples.stack.length);
  for (let i = 1; i < cpu.length; i++) cpu[i] = cpu[i - 1] + (s.samples.state[i - 1] === SampleState.js ? 600 : 0);
  s.samples.cpu = cpu;
  const data = embedded(renderSession(s, { renderer: "html" }));
  for (const t of [data.trees.normal, data.trees.all]) {
    assert.ok(t.cpu !== undefined);
    assert.is((unpackInts(t.cpu!, 1) as Float64Array)[0], cpu[cpu.length - 1], "the root: all of it");
  }
});

test("html: both trees follow the report's asyncMode: no [await] when disabled, the show-all tree included", () => {
  // main > route runs 20 ms, awaits a wait it started at 19.5 ms until 48 ms (idle samples meanwhile), then main
  // runs 10 ms more. No sample is in state await: only the wait can make an [await] frame.
  const s = makeSession(FRAMES, spread([[[0, 4], 20], [[], 30, SampleState.idle], [[0], 10]]));
  const route = s.stacks.frame.indexOf(4);
  s.waits = { start: Float64Array.of(19_500), end: Float64Array.of(48_000), stack: Int32Array.of(route) };
  const frames = (t: TreeData): number[] => Array.from(unpackInts(t.frame, t.n) as Float64Array, unpackFrame);
  const awaits = (t: TreeData): boolean => frames(t).includes(SyntheticFrame.await);
  for (const showAll of [false, true]) {
    for (const timeline of [false, true]) {
      const how = `showAll ${showAll}, timeline ${timeline}`;
      const off = embedded(renderSession(s, { renderer: "html", asyncMode: "disabled", showAll, timeline })).trees;
      assert.ok(frames(off.normal).includes(SyntheticFrame.idle), `${how}: the wait is idle time`);
      assert.not.ok(awaits(off.normal), `${how}: no [await] in the default tree`);
      assert.not.ok(awaits(off.all), `${how}: no [await] in the show-all tree`);
      const on = embedded(renderSession(s, { renderer: "html", asyncMode: "enabled", showAll, timeline })).trees;
      assert.ok(awaits(on.normal) && awaits(on.all), `${how}: enabled, route awaits in both trees`);
    }
  }
});

test("html: hostile names and paths are data: no markup in the page, the JSON gives them back exactly", () => {
  const html = renderSession(shop(), { renderer: "html" });
  assert.not.ok(html.includes("<img"), "no <img anywhere");
  assert.not.ok(html.includes("<!--evil"));
  assert.not.ok(html.includes("\u2028") || html.includes("\u2029"));
  const data = embedded(html);
  assert.is(data.names[5], HOSTILE);
  assert.is(data.positions[5], "src/<!--evil-->\u2028\u2029.ts:7");
  assert.is(embedJson({ a: "</script>&<!--\u2028" }), '{"a":"\\u003c/script\\u003e\\u0026\\u003c!--\\u2028"}');
  // The program and runtime (the header) go the same way.
  const s = shop();
  s.meta.program = `node ${HOSTILE}`;
  const page = renderSession(s, { renderer: "html" });
  assert.not.ok(page.includes("<img"));
  assert.is(embedded(page).meta.program, `node ${HOSTILE}`);
});

test("html: packInts round-trips unsigned integers up to 2^53, in characters that need no escaping", () => {
  const values = [0, 1, 31, 32, 33, 1023, 1024, 65535, 2 ** 31, 2 ** 32 + 5, 2 ** 40 + 12345, 2 ** 53 - 1];
  const text = packInts(values);
  assert.match(text, /^[A-Za-z0-9_-]*$/);
  assert.equal(Array.from(unpackInts(text, values.length) as Float64Array), values);
  assert.is(packInts([5, 40]).length, 3, "one character under 32, two under 1024");
  assert.is(packInts([]), "");
});

/** The timeline's data of a hand-made session, as the page gets it. */
function wholeTimeline(s: ReturnType<typeof makeSession>) {
  const { flags, library } = classifyFrames(s.frames, { cwd: s.meta.cwd });
  return timelineData(s, sessionEntries(s, { showAll: true, frameFlags: flags, frameLibrary: library }));
}

/** The timeline's runs as [path/state, duration]. */
function timelineRuns(s: ReturnType<typeof makeSession>): Array<[string, number]> {
  return decodeRuns(wholeTimeline(s));
}

function decodeRuns(tl: PageData["timeline"]): Array<[string, number]> {
  const keys = Array.from(unpackInts(tl.keys, tl.keyCount) as Float64Array);
  const pairs = Array.from(unpackInts(tl.runs, 2 * tl.count) as Float64Array);
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < tl.count; i++) {
    const z = pairs[2 * i + 1];
    runs.push([keys[pairs[2 * i]], (z % 2 === 0 ? z / 2 : -(z + 1) / 2) + tl.interval]);
  }
  const parents = Array.from(unpackInts(tl.parent, tl.n) as Float64Array).map((d, i) => i - d);
  const frames = Array.from(unpackInts(tl.frame, tl.n) as Float64Array);
  const pathOf = (key: number): string => {
    const path: number[] = [];
    for (let st = Math.floor(key / 8) - 1; st >= 0; st = parents[st]) path.unshift(frames[st]);
    return `${path.join(">")}/${key % 8}`;
  };
  return runs.map(([k, d]) => [pathOf(k), d]);
}

test("html: the timeline's runs follow SPEC.md's weights: gaps capped, the rest idle, equal neighbours merged", () => {
  // gapCap 5 ms: a 20 ms gap after the second sample credits 5 ms to it and 15 ms to idle.
  const s = makeSession(FRAMES, [
    [[0, 4], 1000],
    [[0, 4], 2000],
    [[0, 1], 22000],
    [[0, 1], 23000, SampleState.await],
  ]);
  const runs = timelineRuns(s);
  assert.equal(
    runs,
    [
      ["/1", 1000], // before the first sample: idle
      ["0>4/0", 6000], // 1 ms, then 5 of the 20 ms gap
      ["/1", 15000], // the rest of the gap
      ["0>1/0", 1000],
      ["0>1/4", 1000], // the last sample runs to the session's end (duration = last + 1 ms)
    ],
  );
  assert.is(runs.reduce((a, [, d]) => a + d, 0), s.meta.duration);
  // With meta.idleSampled the 20 ms gap between two running samples is a running gap: 2 ms (2 intervals) to the
  // sample before it, the late 18 ms to the one after it, and the 1 ms between the last two splits at its middle;
  // only the leading 1 ms is idle.
  assert.equal(timelineRuns({ ...s, meta: { ...s.meta, idleSampled: true } }), [
    ["/1", 1000],
    ["0>4/0", 3000],
    ["0>1/0", 18500],
    ["0>1/4", 1500],
  ]);
});

test("html: the timeline shows time spent awaiting as [await] under the stack that awaited, not as idle", () => {
  // main runs 2 ms, awaits a wait it started until 80 ms (idle samples meanwhile), then runs to 82 ms.
  const idle = Array.from({ length: 78 }, (_, i) => 2000 + i * 1000);
  const s = makeSession(FRAMES, [
    [[0], 0],
    [[0], 1000],
    ...idle.map((t): [number[], number, number] => [[], t, SampleState.idle]),
    [[0], 80_000],
    [[0], 81_000],
  ], { idleSampled: true, duration: 82_000 });
  s.waits = { start: Float64Array.of(1500), end: Float64Array.of(80_000), stack: Int32Array.of(0) };
  const runs = decodeRuns(embedded(renderSession(s, { renderer: "html" })).timeline);
  const awaited = runs.filter(([path]) => path === "0/4").reduce((a, [, d]) => a + d, 0);
  assert.ok(awaited > 70_000, JSON.stringify(runs));
  assert.not.ok(runs.some(([path, d]) => path === "/1" && d > 5000), JSON.stringify(runs));
});

test("html: stacks with the same frame path are one stack on the timeline", () => {
  const s = makeSession(FRAMES, spread([[[0, 4], 3]]));
  // A second stack id for the same path (V8 gives one per call site): its samples continue the same run.
  s.stacks = { parent: Int32Array.from([-1, 0, -1, 2]), frame: Uint32Array.from([0, 4, 0, 4]) };
  s.samples.stack = Int32Array.from([1, 3, 1]);
  const tl = wholeTimeline(s);
  assert.is(tl.n, 2);
  assert.is(tl.count, 1);
});

test("html: no samples: a page that says so", () => {
  const s = makeSession(FRAMES, []);
  const html = renderSession(s, { renderer: "html" });
  const data = embedded(html);
  assert.is(data.meta.samples, 0);
  assert.is(data.timeline.count, 0);
});

test("Profiler: outputHtml, writeHtml, openInBrowser (file written, opener chosen; nothing launched)", () => {
  const p = new Profiler({ interval: 0.001 });
  p.start();
  const end = Date.now() + 30;
  let spins = 0;
  while (Date.now() < end) spins++;
  p.stop();
  assert.ok(spins > 0);
  const html = p.outputHtml();
  assert.ok(html.startsWith("<!doctype html>"));
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-html-"));
  try {
    const file = join(dir, "report.html");
    p.writeHtml(file, { showAll: true });
    assert.is(embedded(readFileSync(file, "utf8")).showAll, true);
    const launch = p.openInBrowser({ launch: false });
    assert.ok(existsSync(launch.path), "the temporary report exists");
    assert.ok(launch.path.endsWith(".html"));
    assert.ok(readFileSync(launch.path, "utf8").startsWith("<!doctype html>"));
    rmSync(launch.path);
    assert.equal(launch, { path: launch.path, ...browserCommand(process.platform, launch.path) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(browserCommand("linux", "/t/r.html"), { command: "xdg-open", args: ["/t/r.html"] });
  assert.equal(browserCommand("darwin", "/t/r.html"), { command: "open", args: ["/t/r.html"] });
  const win = "C:\\t\\r.html";
  assert.equal(browserCommand("win32", win), { command: "cmd", args: ["/c", "start", "", win] });
});

test("page.generated.ts is what scripts/build-html.mjs makes from main.ts, page.css and template.html", async () => {
  // By URL: the script is plain JavaScript with no declaration file for the type checker to find.
  const script = new URL("../scripts/build-html.mjs", import.meta.url).href;
  const { buildHtmlPage, GENERATED } = (await import(script)) as {
    buildHtmlPage: () => Promise<string>;
    GENERATED: string;
  };
  assert.is(GENERATED, join(root, "src", "renderers", "html-page", "page.generated.ts"));
  const fresh = await buildHtmlPage();
  const stale = "stale: run node scripts/build-html.mjs (npm run build does too) and commit it";
  assert.ok(fresh === readFileSync(GENERATED, "utf8"), stale);
});

test.run();
