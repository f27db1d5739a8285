// The HTML report of two runs compared (tsprofile diff -r html) without a browser: NEW's trees carry BASE's time
// and the sides beside their own columns, and the change each row shows is the text diff's; BASE's run rides along
// with its ordinary trees and its own timeline; the show-all trees are diffed again; hostile names stay data; the
// CLI writes the page. test/html-browser.test.ts drives it in Chromium.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { diffSessions, renderDiff } from "../src/diff.ts";
import { renderSession } from "../src/report.ts";
import { timelineData } from "../src/renderers/html.ts";
import { sessionEntries } from "../wasm/core.ts";
import { nodeChange } from "../src/renderers/html-page/change.ts";
import { unpackDuration, unpackFrame, unpackInts } from "../src/renderers/html-page/data.ts";
import type { PageData, TimelineData, TreeData } from "../src/renderers/html-page/data.ts";
import { saveSession } from "../session/session.ts";
import { DiffSide, SYNTHETIC_NAMES } from "../session/types.ts";
import type { Session } from "../session/types.ts";
import { frame, makeSession, spread } from "./report-helpers.ts";
import { root, runOnThisRuntime } from "./runtime-helpers.ts";

const HOSTILE = "</script><img src=x onerror=alert(1)>";

/** BASE: render 40 ms, parse 30, oldHelper 20, the hostile function 10, all under main (under an internal frame). */
function baseRun() {
  return makeSession(
    [
      frame("main", "/app/src/main.ts", 1), // 0
      frame("render", "/app/src/render.ts", 3), // 1
      frame("parse", "/app/src/parse.ts", 2), // 2
      frame("oldHelper", "/app/src/old.ts", 1), // 3
      frame(HOSTILE, "/app/src/<!--evil-->\u2028.ts", 7), // 4
      frame("runMain", "node:internal/modules/run_main", 1), // 5
    ],
    spread([[[5, 0, 1], 40], [[5, 0, 2], 30], [[5, 0, 3], 20], [[5, 0, 4], 10]]),
    { program: "node app.ts --base" },
  );
}

/** NEW, its frames in another order (and render's line moved): render 80 ms, parse 30, newHelper 20, hostile 10. */
function newRun() {
  return makeSession(
    [
      frame("runMain", "node:internal/modules/run_main", 1), // 0
      frame("main", "/app/src/main.ts", 1), // 1
      frame(HOSTILE, "/app/src/<!--evil-->\u2028.ts", 7), // 2
      frame("parse", "/app/src/parse.ts", 2), // 3
      frame("render", "/app/src/render.ts", 9), // 4
      frame("newHelper", "/app/src/new.ts", 1), // 5
    ],
    spread([[[0, 1, 4], 80], [[0, 1, 3], 30], [[0, 1, 5], 20], [[0, 1, 2], 10]]),
    { program: "node app.ts --new", startTime: Date.UTC(2024, 0, 3) },
  );
}

/** The page's embedded data, read the way the page reads it. */
function embedded(html: string): PageData {
  const m = /<script type="application\/json" id="tsprofile-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m, "one JSON data block with no '<' inside");
  return JSON.parse(m![1]) as PageData;
}

interface Row {
  time: number;
  baseTime?: number;
  side?: number;
  node: number;
}

/** A tree's nodes by path of names ("main/render"; the root is ""), unpacked as the page does. */
function rows(data: PageData, t: TreeData): Map<string, Row> {
  const frames = Array.from(unpackInts(t.frame, t.n) as Float64Array, unpackFrame);
  const parent = Array.from(unpackInts(t.parent, t.n) as Float64Array, (p, i) => i - p);
  const time = unpackInts(t.time, t.n) as Float64Array;
  const baseTime = t.baseTime === undefined ? undefined : (unpackInts(t.baseTime, t.n) as Float64Array);
  const side = t.side === undefined ? undefined : (unpackInts(t.side, t.n) as Float64Array);
  const paths: string[] = [];
  const out = new Map<string, Row>();
  for (let i = 0; i < t.n; i++) {
    const name = data.names[frames[i]] ?? SYNTHETIC_NAMES[frames[i]] ?? "?";
    paths.push(i === 0 ? "" : paths[parent[i]] === "" ? name : `${paths[parent[i]]}/${name}`);
    out.set(paths[i], { time: time[i], baseTime: baseTime?.[i], side: side?.[i], node: i });
  }
  return out;
}

/** The frame names a timeline's stacks use. */
function timelineNames(data: PageData, tl: TimelineData): Set<string> {
  return new Set(Array.from(unpackInts(tl.frame, tl.n) as Float64Array, (f) => data.names[f]));
}

/** A timeline's length: its runs' durations summed (us). */
function timelineLength(tl: TimelineData): number {
  const pairs = unpackInts(tl.runs, 2 * tl.count) as Float64Array;
  let sum = 0;
  for (let i = 0; i < tl.count; i++) sum += unpackDuration(pairs[2 * i + 1], tl.interval);
  return sum;
}

test("diff html: a self-contained page whose data says it is a diff, NEW's run first, BASE's beside it", () => {
  const html = renderDiff(diffSessions(baseRun(), newRun()), "html");
  assert.ok(html.startsWith("<!doctype html>"));
  assert.is(html.match(/<script\b/g)?.length, 2, "the data block and the page's script");
  assert.not.match(html, /https?:\/\//);
  const data = embedded(html);
  assert.ok(data.diff, "PageData.diff");
  assert.is(data.diff!.normalize, false);
  assert.is(data.meta.program, "node app.ts --new");
  assert.is(data.meta.samples, 140);
  assert.is(data.diff!.base.meta.program, "node app.ts --base");
  assert.is(data.diff!.base.meta.samples, 100);
  assert.is(data.diff!.base.meta.duration, 100_000);
  // An ordinary report carries none of it.
  const plain = embedded(renderSession(newRun(), { renderer: "html" }));
  assert.is(plain.diff, undefined);
  assert.is(plain.trees.normal.baseTime, undefined);
  assert.is(plain.trees.normal.side, undefined);
});

test("diff html: NEW's tree carries BASE's time and the sides; the change each row shows is the text diff's", () => {
  const diff = diffSessions(baseRun(), newRun());
  const data = embedded(renderDiff(diff, "html"));
  const tree = data.trees.normal;
  assert.ok(tree.baseTime !== undefined && tree.side !== undefined, "the diff's columns");
  const r = rows(data, tree);
  assert.equal(r.get(""), { time: 140_000, baseTime: 100_000, side: DiffSide.base | DiffSide.new, node: 0 });
  // render is the same function in both runs though its line moved.
  assert.equal(r.get("main/render"), { time: 80_000, baseTime: 40_000, side: 3, node: r.get("main/render")!.node });
  assert.is(r.get("main/parse")?.baseTime, 30_000);
  assert.is(r.get("main/parse")?.time, 30_000);
  assert.equal([r.get("main/newHelper")?.side, r.get("main/newHelper")?.baseTime], [DiffSide.new, 0]);
  assert.equal([r.get("main/oldHelper")?.side, r.get("main/oldHelper")?.time], [DiffSide.base, 0]);
  assert.is(r.get("main/oldHelper")?.baseTime, 20_000);
  assert.is(r.get(`main/${HOSTILE}`)?.side, 3);
  // The embedded columns are the diff's, node for node.
  assert.is(tree.n, diff.tree.frame.length);
  assert.equal(Array.from(unpackInts(tree.baseTime!, tree.n) as Float64Array), Array.from(diff.tree.baseTime));
  assert.equal(Array.from(unpackInts(tree.side!, tree.n) as Float64Array), Array.from(diff.tree.side));
  // What the page writes on each row (change.ts, from the embedded numbers) is what the text diff writes.
  const scale = { next: 140_000, base: 100_000, normalize: false };
  const change = (path: string) => {
    const row = r.get(path)!;
    return nodeChange(row.time, row.baseTime!, row.side!, scale);
  };
  assert.equal(change("main/render"), { text: "+0.040 s +100%", kind: "grew" });
  assert.equal(change("main/parse"), { text: "+0.000 s +0%", kind: "small" });
  assert.equal(change("main/newHelper"), { text: "[new]", kind: "new" });
  assert.equal(change("main/oldHelper"), { text: "[gone: 0.020 s in base]", kind: "gone" });
  const text = renderDiff(diff, "text");
  for (const path of ["main/render", "main/parse", "main/newHelper", "main/oldHelper", "main"]) {
    const name = path.split("/").pop()!;
    assert.match(text, `${name}  src/`, name);
    assert.ok(text.split("\n").some((l) => l.includes(` ${name}  `) && l.endsWith(`  ${change(path).text}`)), path);
  }
});

test("diff html: with normalize the page is told to show shares; render's share grew 17.1 points", () => {
  const data = embedded(renderDiff(diffSessions(baseRun(), newRun(), { normalize: true }), "html"));
  assert.is(data.diff!.normalize, true);
  const row = rows(data, data.trees.normal).get("main/render")!;
  const change = nodeChange(row.time, row.baseTime!, row.side!, { next: 140_000, base: 100_000, normalize: true });
  assert.equal(change, { text: "+17.1 pts +43%", kind: "grew" });
});

test("diff html: both runs' timelines, each its own run's samples and length", () => {
  const diff = diffSessions(baseRun(), newRun());
  const data = embedded(renderDiff(diff, "html"));
  const base = data.diff!.base;
  // Each the run's own entries, as the core weighs them.
  const whole = (run: Session) =>
    timelineData(
      run,
      sessionEntries(run, {
        showAll: true,
        frameFlags: diff.classification.flags,
        frameLibrary: diff.classification.library,
      }),
    );
  assert.equal(data.timeline, whole(diff.session));
  assert.equal(base.timeline, whole(diff.base));
  assert.is(timelineLength(data.timeline), 140_000);
  assert.is(timelineLength(base.timeline), 100_000);
  const newNames = timelineNames(data, data.timeline);
  const baseNames = timelineNames(data, base.timeline);
  assert.ok(newNames.has("newHelper") && !newNames.has("oldHelper"), [...newNames].join(", "));
  assert.ok(baseNames.has("oldHelper") && !baseNames.has("newHelper"), [...baseNames].join(", "));
  assert.ok(baseNames.has(HOSTILE) && baseNames.has("render"));
  assert.equal(base.startStack, []);
});

test("diff html: BASE's trees are its ordinary ones; show-all trees are diffed and processed again", () => {
  const data = embedded(renderDiff(diffSessions(baseRun(), newRun()), "html"));
  const base = data.diff!.base;
  assert.is(base.trees.normal.baseTime, undefined, "BASE's own tree: no diff columns");
  const b = rows(data, base.trees.normal);
  assert.is(b.get("")?.time, 100_000);
  assert.is(b.get("main/render")?.time, 40_000);
  assert.is(b.get("main/oldHelper")?.time, 20_000);
  assert.not.ok(b.has("main/newHelper"));
  // runMain is a runtime internal: shown only with show-all, in both runs' trees.
  assert.not.ok(rows(data, data.trees.normal).has("runMain"));
  assert.not.ok(b.has("runMain"));
  const all = rows(data, data.trees.all);
  assert.ok(data.trees.all.side !== undefined, "the show-all tree is a diff too");
  assert.equal([all.get("runMain/main/render")?.time, all.get("runMain/main/render")?.baseTime], [80_000, 40_000]);
  assert.is(rows(data, base.trees.all).get("runMain/main/oldHelper")?.time, 20_000);
  // Starting with show-all: the trees are the same two, in their places.
  const started = embedded(renderDiff(diffSessions(baseRun(), newRun(), { showAll: true }), "html"));
  assert.is(started.showAll, true);
  assert.equal(started.trees, data.trees);
  assert.equal(started.diff!.base.trees, base.trees);
  // With flat (the text report's table), the page's trees are still the tree view's.
  const flat = embedded(renderDiff(diffSessions(baseRun(), newRun(), { flat: true }), "html"));
  assert.equal(flat.trees, data.trees);
});

test("diff html: hostile names and paths are data: no markup in the page, the JSON gives them back exactly", () => {
  const html = renderDiff(diffSessions(baseRun(), newRun()), "html");
  assert.not.ok(html.includes("<img"), "no markup from a name");
  assert.not.ok(html.includes("<!--evil"), "no comment from a path");
  assert.not.ok(html.includes("\u2028"), "no raw line separator");
  const data = embedded(html);
  assert.is(data.names.filter((n) => n === HOSTILE).length, 1, "one frame on the shared table, named as written");
  assert.ok(data.positions.includes("src/<!--evil-->\u2028.ts:7"), data.positions.join(" | "));
});

test("CLI: tsprofile diff BASE NEW -r html -o writes the page; --normalize reaches it", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-diff-html-"));
  try {
    const [a, b, out] = [join(dir, "a.tsprof"), join(dir, "b.tsprof"), join(dir, "diff.html")];
    saveSession(baseRun(), a);
    saveSession(newRun(), b);
    const cli = join(root, "src", "cli", "main.ts");
    const run = (args: string[]) =>
      spawnSync(...runOnThisRuntime(cli, ["diff", a, b, "-r", "html", "-o", out, ...args]), {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      });
    let r = run([]);
    assert.is(r.status, 0, r.stderr);
    let data = embedded(readFileSync(out, "utf8"));
    assert.is(data.diff?.normalize, false);
    assert.is(data.diff?.base.meta.samples, 100);
    assert.is(rows(data, data.trees.normal).get("main/render")?.baseTime, 40_000);
    r = run(["--normalize"]);
    assert.is(r.status, 0, r.stderr);
    data = embedded(readFileSync(out, "utf8"));
    assert.is(data.diff?.normalize, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
