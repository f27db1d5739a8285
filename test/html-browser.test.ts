// runtimes: node20 -- drives Debian's chromium through playwright-core
// The HTML report in a real browser (headless Chromium, offline: every request but the report file is refused):
// a report the CLI made from a real profile, and a hand-built one with a library group, an internal frame and a
// hostile function name. Expand and collapse by click and keyboard, open a hidden group, search, the two toggles,
// the timeline (drawn, zoomed, panned), no console errors, and the hostile name runs nothing; a diff's page (rows
// with their change, the New/Base selector switching tree and timeline).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { BrowserContext, Page } from "playwright-core";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { diffSessions, renderDiff } from "../src/diff.ts";
import { renderSession } from "../src/report.ts";
import { SampleState } from "../session/types.ts";
import { frame, makeSession, spread } from "./report-helpers.ts";
import { root, runOnThisRuntime } from "./runtime-helpers.ts";

const HOSTILE = "</script><img src=x onerror=alert(1)>";
const dir = mkdtempSync(join(tmpdir(), "tsprofile-browser-"));
let context: BrowserContext;
/** Everything that went wrong in any page: console errors, uncaught exceptions, dialogs, refused requests. */
const problems: string[] = [];

function handBuilt() {
  return makeSession(
    [
      frame("main", "/app/src/main.ts", 1), // 0
      frame("handle", "/app/node_modules/express/lib/router.js", 100), // 1
      frame("next", "/app/node_modules/express/lib/router.js", 200), // 2
      frame("parse", "/app/node_modules/body-parser/index.js", 5), // 3
      frame("route", "/app/src/routes.ts", 20), // 4
      frame("spin", "/app/src/routes.ts", 30), // 5
      frame(HOSTILE, "/app/src/<b>evil</b>.ts", 7), // 6
      frame("runMain", "node:internal/modules/run_main", 1), // 7
    ],
    spread([
      [[7, 0, 1, 2, 3, 4, 5], 40],
      [[7, 0, 1, 2, 3], 20],
      [[7, 0, 6], 25],
      [[7, 0], 5, SampleState.await],
      [[], 10, SampleState.idle],
    ]),
  );
}

async function open(file: string): Promise<Page> {
  const page = await context.newPage();
  page.on("console", (m) => {
    // The one warning this test causes itself: reading the canvas back (canvasPixels) more than once.
    if (m.type() === "warning" && m.text().includes("willReadFrequently")) return;
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`file://${file}`);
  await page.waitForSelector("body[data-ready]");
  return page;
}

const rowNames = (page: Page): Promise<string[]> =>
  page.$$eval("#tree .row .name", (els) => els.map((e) => e.textContent ?? ""));

test.before(async () => {
  context = await chromium.launchPersistentContext(join(dir, "user-data"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1200, height: 800 },
  });
  // Offline: the report file may load, nothing else.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`file://${dir}/`) && url.endsWith(".html")) return route.continue();
    problems.push(`request refused: ${url}`);
    return route.abort();
  });
});

test.before.each(() => {
  problems.length = 0;
});

test.after(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a real profile: the CLI's -r html -o report opens with its header and call tree", async () => {
  const file = join(dir, "shop.html");
  const cli = join(root, "src", "cli", "main.ts");
  const r = spawnSync(...runOnThisRuntime(cli, ["-r", "html", "-o", file, join(root, "examples", "shop.ts")]), {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  const page = await open(file);
  assert.match(await page.textContent("#program") ?? "", /examples\/shop\.ts/);
  assert.match(await page.textContent("#summary") ?? "", /Samples\s*\d+/);
  const names = await rowNames(page);
  assert.ok(names.includes("main"), `main in ${names.join(", ")}`);
  assert.ok(names.includes("priceOrder"), "the hot path starts open");
  await page.click("#tab-timeline");
  await page.waitForSelector("#timeline[data-draws]");
  await page.close();
  assert.equal(problems, []);
});

test("worker threads: a selector of the thread shown; choosing the worker shows its own tree", async () => {
  const file = join(dir, "workers.html");
  const cli = join(root, "src", "cli", "main.ts");
  const fixture = join(root, "test", "fixtures", "worker-spin.ts");
  const r = spawnSync(...runOnThisRuntime(cli, ["-r", "html", "-o", file, fixture]), {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  const page = await open(file);
  assert.ok(await page.isVisible("#thread-pick"), "the selector shows");
  const options = await page.$$eval("#thread option", (els) => els.map((e) => e.textContent ?? ""));
  assert.is(options.length, 2, options.join(" | "));
  assert.is(options[0], "main");
  assert.not.ok((await rowNames(page)).includes("spinInWorker"), "the main thread's tree first");
  await Promise.all([page.waitForEvent("load"), page.selectOption("#thread", "1")]);
  await page.waitForSelector("body[data-ready]");
  assert.is(await page.inputValue("#thread"), "1");
  assert.ok((await rowNames(page)).includes("spinInWorker"), (await rowNames(page)).join(", "));
  await page.click("#tab-timeline");
  await page.waitForSelector("#timeline[data-draws]");
  await page.close();
  assert.equal(problems, []);
});

test("call tree: CPU time beside each node's time when the session has it, none when not", async () => {
  const s = handBuilt();
  const file = join(dir, "plain.html");
  writeFileSync(file, renderSession(s, { renderer: "html" }));
  let page = await open(file);
  assert.is((await page.$$("#tree .row .cpu")).length, 0);
  await page.close();
  // 800 us of CPU for each running sample's millisecond.
  const cpu = new Float64Array(s.samples.stack.length);
  for (let i = 1; i < cpu.length; i++) cpu[i] = cpu[i - 1] + (s.samples.state[i - 1] === SampleState.js ? 800 : 0);
  s.samples.cpu = cpu;
  const withCpu = join(dir, "cpu.html");
  writeFileSync(withCpu, renderSession(s, { renderer: "html" }));
  page = await open(withCpu);
  // Node rows (not a group's "[N frames hidden]" line).
  const rows = await page.$$eval(
    "#tree .row.item:not(.group)",
    (els) => els.map((e) => [e.querySelector(".name")?.textContent, e.querySelector(".cpu")?.textContent]),
  );
  assert.ok(rows.length > 1 && rows.every(([, c]) => /^cpu \d+\.\d{3}$/.test(c ?? "")), JSON.stringify(rows));
  // main: 85 running samples (the await and idle ones have none).
  assert.equal(rows.find(([n]) => n === "main"), ["main", "cpu 0.068"]);
  await page.close();
  assert.equal(problems, []);
});

test("call tree: expand and collapse by click and keyboard, open a hidden group", async () => {
  const file = join(dir, "hand.html");
  writeFileSync(file, renderSession(handBuilt(), { renderer: "html" }));
  const page = await open(file);
  // The hot path is open down to the group: main > handle, "[1 frame hidden]", parse > route > spin.
  const OPEN = ["main", "handle", "[1 frame hidden]", "parse", "route", "spin", HOSTILE, "[await]", "[idle]"];
  assert.equal(await rowNames(page), OPEN);
  // Collapse main with a click on its toggle, then open it again.
  const mainToggle = page.locator('#tree .node:has(> .row .name:text-is("main")) > .row .tog');
  await mainToggle.click();
  assert.equal(await rowNames(page), ["main", "[idle]"]);
  assert.is(await page.getAttribute('#tree > .node[data-node="1"]', "aria-expanded"), "false");
  await mainToggle.click();
  assert.ok((await rowNames(page)).includes("handle"));
  // Keyboard: main is current; Left collapses, Right expands, Down moves to handle, Left collapses handle.
  await page.click('#tree .row:has(.name:text-is("main")) .time');
  await page.keyboard.press("ArrowLeft");
  assert.equal(await rowNames(page), ["main", "[idle]"]);
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowDown");
  assert.is(await page.textContent("#tree .row.current .name"), "handle");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await rowNames(page), ["main", "handle", HOSTILE, "[await]", "[idle]"]);
  await page.keyboard.press("Enter");
  assert.equal(await rowNames(page), OPEN);
  // Open the hidden group: "next" shows between handle and parse (and parse's own time, hidden with it).
  await page.click("#tree .group");
  assert.equal(await rowNames(page), [
    "main",
    "handle",
    "[1 frame shown]",
    "next",
    "parse",
    "route",
    "spin",
    "[self]",
    HOSTILE,
    "[await]",
    "[idle]",
  ]);
  // ... and by keyboard it closes again.
  await page.keyboard.press("Enter");
  assert.ok(!(await rowNames(page)).includes("next"));
  await page.close();
  assert.equal(problems, []);
});

test("search, seconds/percent, show all", async () => {
  const page = await open(join(dir, "hand.html"));
  const matched = (name: string) =>
    page.waitForFunction(
      (n) => Array.from(document.querySelectorAll("#tree .match")).map((e) => e.textContent).join() === n,
      name,
    );
  await page.fill("#search", "spin");
  await matched("spin");
  assert.is(await page.textContent("#matches"), "1 match");
  const path = ["main", "handle", "[1 frame hidden]", "parse", "route", "spin"];
  assert.equal(await rowNames(page), path, "filtered to the match's path");
  assert.equal(await page.$$eval("#tree .match", (els) => els.map((e) => e.textContent)), ["spin"]);
  // A frame hidden in a group: the search opens the group.
  await page.fill("#search", "next");
  await matched("next");
  assert.ok((await rowNames(page)).includes("next"));
  await page.fill("#search", "no such function");
  await page.waitForFunction(() => document.querySelector("#matches")?.textContent === "no matches");
  await page.press("#search", "Escape");
  await page.waitForFunction(() => document.querySelector("#matches")?.textContent === "");
  assert.is(await page.inputValue("#search"), "", "Escape clears the search");
  // Seconds, then percent of the total (100 ms): main 0.090 s = 90.0%.
  const mainTime = () => page.textContent('#tree .row:has(.name:text-is("main")) .time');
  assert.is(await mainTime(), "0.090");
  await page.check("#percent");
  assert.is(await mainTime(), "90.0%");
  await page.uncheck("#percent");
  assert.is(await mainTime(), "0.090");
  // Show all: the runtime internal runMain appears, the group goes.
  assert.ok(!(await rowNames(page)).includes("runMain"));
  await page.check("#show-all");
  const all = await rowNames(page);
  assert.ok(all.includes("runMain"), all.join(", "));
  assert.ok(!all.some((n) => /frames? hidden/.test(n)));
  await page.uncheck("#show-all");
  assert.ok(!(await rowNames(page)).includes("runMain"));
  await page.close();
  assert.equal(problems, []);
});

/** How many canvas pixels differ from white, and a digest of the pixels (to see a redraw changed them). */
function canvasPixels(page: Page): Promise<{ painted: number; digest: number }> {
  return page.$eval("#timeline", (c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    let digest = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] !== 255 || d[i + 1] !== 255 || d[i + 2] !== 255) painted++;
      digest = (Math.imul(digest, 31) + d[i] + d[i + 1] * 3 + d[i + 2] * 7) | 0;
    }
    return { painted, digest };
  });
}

test("timeline: drawn on the canvas, zoom and pan redraw it", async () => {
  const page = await open(join(dir, "hand.html"));
  await page.click("#tab-timeline");
  await page.waitForSelector('#timeline[data-draws="1"]');
  assert.is(await page.isVisible("#tree"), false);
  const first = await canvasPixels(page);
  assert.ok(first.painted > 5000, `painted ${first.painted} pixels`);
  const range = () => page.textContent("#tl-range");
  const whole = await range();
  await page.click("#zoom-in");
  await page.waitForSelector('#timeline[data-draws="2"]');
  assert.is.not(await range(), whole);
  const zoomed = await canvasPixels(page);
  assert.is.not(zoomed.digest, first.digest);
  // Pan with the keyboard and drag, zoom with the wheel.
  await page.focus("#timeline");
  await page.keyboard.press("ArrowRight");
  await page.waitForSelector('#timeline[data-draws="3"]');
  const box = (await page.locator("#timeline").boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 40);
  await page.mouse.wheel(0, -400);
  await page.waitForSelector('#timeline[data-draws="4"]');
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 200, box.y + 40, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#timeline")!.dataset.draws) >= 5);
  // Hovering a frame names it in the tooltip; reset shows the whole run again.
  await page.click("#zoom-reset");
  await page.waitForFunction((r) => document.querySelector("#tl-range")?.textContent === r, whole);
  await page.mouse.move(box.x + 5, box.y + 20 + 18 * 0 + 9);
  await page.waitForSelector("#tooltip:not([hidden])");
  assert.is(await page.textContent("#tooltip .tt-name"), "main");
  // A search fades the frames that do not match.
  const before = await canvasPixels(page);
  const draws = Number(await page.getAttribute("#timeline", "data-draws"));
  await page.fill("#search", "spin");
  await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>("#timeline")!.dataset.draws) > n, draws);
  assert.is.not((await canvasPixels(page)).digest, before.digest);
  assert.is(await page.isVisible("#timeline"), true, "searching keeps the timeline on screen");
  await page.fill("#search", "");
  // Show all adds the runtime internal frame on top.
  const beforeAll = Number(await page.getAttribute("#timeline", "data-draws"));
  await page.check("#show-all");
  const drawnSince = (n: number) => Number(document.querySelector<HTMLElement>("#timeline")!.dataset.draws) > n;
  await page.waitForFunction(drawnSince, beforeAll);
  await page.mouse.move(box.x + 6, box.y + 20 + 9);
  await page.waitForFunction(() => document.querySelector("#tooltip .tt-name")?.textContent === "runMain");
  await page.close();
  assert.equal(problems, []);
});

test("a recursion 5000 frames deep: the tree opens part of it, the timeline draws it", async () => {
  const frames = [frame("main", "/app/src/main.ts", 1), frame("recurse", "/app/src/deep.ts", 3)];
  const path = [0, ...Array.from({ length: 5000 }, () => 1)];
  const file = join(dir, "deep.html");
  const session = makeSession(frames, spread([[path, 20], [path.slice(0, 2500), 10]]));
  writeFileSync(file, renderSession(session, { renderer: "html" }));
  const page = await open(file);
  const rows = (await rowNames(page)).length;
  assert.ok(rows > 10 && rows < 100, `${rows} rows open`);
  // The deepest open row opens one more level.
  await page.locator('#tree .node[aria-expanded="false"] > .row .tog').last().click();
  assert.is((await rowNames(page)).length, rows + 1);
  await page.click("#tab-timeline");
  await page.waitForSelector("#timeline[data-draws]");
  assert.ok((await canvasPixels(page)).painted > 5000);
  // The canvas stays a window high; the deep frames scroll into it.
  const height = await page.$eval("#timeline", (c) => (c as HTMLCanvasElement).clientHeight);
  assert.ok(height <= 800, `canvas ${height}px high`);
  await page.$eval("#tl-scroll", (s) => s.scrollTo(0, s.scrollHeight));
  await page.waitForSelector('#timeline[data-draws="2"]');
  const box = (await page.locator("#timeline").boundingBox())!;
  await page.mouse.move(box.x + 10, box.y + box.height - 18 - 9); // the deepest row (one empty row under it)
  await page.waitForSelector("#tooltip:not([hidden])");
  assert.is(await page.textContent("#tooltip .tt-name"), "recurse");
  await page.close();
  assert.equal(problems, []);
});

test("a function called </script><img src=x onerror=alert(1)> is shown as text and runs nothing", async () => {
  const page = await open(join(dir, "hand.html"));
  const names = await rowNames(page);
  assert.ok(names.includes(HOSTILE), "the name, as written");
  assert.ok((await page.$$eval("#tree .pos", (els) => els.map((e) => e.textContent))).includes("src/<b>evil</b>.ts:7"));
  await page.fill("#search", "<img");
  await page.waitForFunction(() => document.querySelector("#matches")?.textContent === "1 match");
  await page.click("#tab-timeline");
  await page.waitForSelector("#timeline[data-draws]");
  const dom = await page.evaluate(() => ({
    img: document.querySelectorAll("img").length,
    b: document.querySelectorAll("b").length,
    scripts: document.querySelectorAll("script").length,
  }));
  assert.equal(dom, { img: 0, b: 0, scripts: 2 });
  await page.close();
  assert.equal(problems, [], "no alert, no error, no request for x");
});

test("bidi controls and invisible code points show escaped, as in the text report: tree, tooltip, search, header", async () => {
  // x<U+202E>gnp.js line 16 would read "x61:sj.png" where the override is honoured.
  const s = makeSession(
    [frame("x\u202egnp", "/app/src/x\u202egnp.js", 16), frame("zero\u200bwidth\u2028", "/app/src/a.ts", 2)],
    spread([[[0], 60], [[0, 1], 40]]),
    // A start time past what a Date holds: the header says unknown.
    { program: "node \u2066evil\u2069.js", runtime: "node\u061c", startTime: 8.7e15 },
  );
  const file = join(dir, "bidi.html");
  writeFileSync(file, renderSession(s, { renderer: "html" }));
  const page = await open(file);
  const text = await page.evaluate(() => document.body.innerText + document.title);
  assert.not.match(text, /[\u061c\u200b\u2028\u202e\u2066\u2069]/, "no raw bidi or invisible code point shown");
  const names = await rowNames(page);
  assert.ok(names.includes("x\\u202egnp"), names.join(", "));
  assert.ok(names.includes("zero\\u200bwidth\\u2028"), names.join(", "));
  assert.ok(
    (await page.$$eval("#tree .pos", (els) => els.map((e) => e.textContent))).includes("src/x\\u202egnp.js:16"),
  );
  assert.match(await page.textContent("#program") ?? "", /node \\u2066evil\\u2069\.js/);
  assert.match(await page.textContent("#summary") ?? "", /node\\u061c/);
  assert.match(await page.textContent("#summary") ?? "", /Recorded\s*unknown/);
  assert.match(await page.title(), /\\u2066evil/);
  // Search matches what is shown.
  await page.fill("#search", "\\u202e");
  await page.waitForFunction(() => document.querySelector("#matches")?.textContent === "1 match");
  await page.fill("#search", "");
  // The timeline's tooltip: the top frame of the first row.
  await page.click("#tab-timeline");
  await page.waitForSelector("#timeline[data-draws]");
  const box = (await page.locator("#timeline").boundingBox())!;
  await page.mouse.move(box.x + 5, box.y + 20 + 9);
  await page.waitForSelector("#tooltip:not([hidden])");
  assert.is(await page.textContent("#tooltip .tt-name"), "x\\u202egnp");
  assert.is(await page.textContent("#tooltip .tt-pos"), "src/x\\u202egnp.js:16");
  await page.close();
  assert.equal(problems, []);
});

test("a diff: NEW's rows with their change against BASE, show-all re-diffed, BASE's own tree and timeline", async () => {
  const frames = [
    frame("runMain", "node:internal/modules/run_main", 1), // 0
    frame("main", "/app/src/main.ts", 1), // 1
    frame("render", "/app/src/render.ts", 3), // 2
    frame("parse", "/app/src/parse.ts", 2), // 3
    frame("oldHelper", "/app/src/old.ts", 1), // 4
    frame("newHelper", "/app/src/new.ts", 1), // 5
  ];
  // Each run starts in the helper only it has: the timelines' first frame under main tells them apart.
  const base = makeSession(frames, spread([[[0, 1, 4], 20], [[0, 1, 2], 40], [[0, 1, 3], 30]]), {
    program: "node app.ts (base)",
  });
  const next = makeSession(frames, spread([[[0, 1, 5], 20], [[0, 1, 2], 80], [[0, 1, 3], 30]]), {
    program: "node app.ts (new)",
  });
  const file = join(dir, "diff.html");
  writeFileSync(file, renderDiff(diffSessions(base, next), "html"));
  const page = await open(file);
  assert.match(await page.title(), /^tsprofile diff: node app\.ts \(new\)$/);
  const runs = await page.$$eval("#runs .run", (els) => els.map((e) => [e.textContent ?? "", e.className]));
  assert.is(runs.length, 2);
  assert.match(runs[0][0], /^New\s*node app\.ts \(new\)\s*0\.130 s · 130 samples/);
  assert.match(runs[1][0], /^Base\s*node app\.ts \(base\)\s*0\.090 s · 90 samples/);
  assert.equal(runs.map(([, c]) => c), ["run shown", "run"]);
  assert.match(await page.textContent("#summary") ?? "", /Total\s*\+0\.040 s \+44%/);
  // Each node's row: its change, coloured by kind.
  const changes = () =>
    page.$$eval("#tree .row.item:not(.group)", (els) =>
      Object.fromEntries(els.map((e) => {
        const c = e.querySelector(".change");
        return [e.querySelector(".name")?.textContent, c ? `${c.textContent} ${c.className}` : null];
      })));
  assert.equal(await changes(), {
    main: "+0.040 s +44% change c-grew",
    render: "+0.040 s +100% change c-grew",
    parse: "+0.000 s +0% change c-small",
    newHelper: "[new] change c-new",
    oldHelper: "[gone: 0.020 s in base] change c-gone",
  });
  assert.is(
    await page.getAttribute('#tree .row:has(.name:text-is("render")) .change', "title"),
    "base 0.040 s, new 0.080 s",
  );
  // Show all: diffed again, the runtime internal frame with its own change.
  await page.check("#show-all");
  assert.is((await changes()).runMain, "+0.040 s +44% change c-grew");
  await page.uncheck("#show-all");
  // NEW's timeline starts in newHelper (depth 1, under main).
  await page.click("#tab-timeline");
  await page.waitForSelector("#timeline[data-draws]");
  assert.match(await page.textContent("#tl-range") ?? "", /\(130 ms\)$/);
  const box = (await page.locator("#timeline").boundingBox())!;
  const hover = async (name: string) => {
    await page.mouse.move(box.x + box.width / 2, box.y + 200);
    await page.mouse.move(box.x + 5, box.y + 20 + 18 + 9);
    await page.waitForFunction((n) => document.querySelector("#tooltip .tt-name")?.textContent === n, name);
  };
  await hover("newHelper");
  // BASE: its own timeline, its own length, oldHelper first; the header marks it.
  const draws = Number(await page.getAttribute("#timeline", "data-draws"));
  await page.click("#run-base");
  await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>("#timeline")!.dataset.draws) > n, draws);
  assert.match(await page.textContent("#tl-range") ?? "", /\(90\.00 ms\)$/);
  await hover("oldHelper");
  assert.equal(await page.$$eval("#runs .run", (els) => els.map((e) => e.className)), ["run", "run shown"]);
  assert.is(await page.getAttribute("#run-base", "aria-selected"), "true");
  // BASE's tree is its ordinary one: no changes, no newHelper.
  await page.click("#tab-tree");
  assert.equal(Object.keys(await changes()), ["main", "render", "parse", "oldHelper"]);
  assert.is((await page.$$("#tree .change")).length, 0);
  // And back to NEW's, as it was.
  await page.click("#run-new");
  assert.is((await changes()).render, "+0.040 s +100% change c-grew");
  await page.close();
  assert.equal(problems, []);
});

test.run();
