// The HTML report at 1,000,000 samples: how long the renderer takes, how big the file is, and how long headless
// Chromium takes until the report is interactive (tree shown, a node expanded) and until the timeline's first
// draw, then a zoom redraw. The session is bench/core.ts's synthetic one (bench/synthetic-session.ts, without
// waits): ~600 functions, a few thousand unique stacks of depth ~40, every sample on a random hot stack, so
// nearly every sample is its own run on the timeline (the worst case for the run encoding).
//
//   node --import ./runtimes/loader/register.mjs bench/html.ts [--samples 1000000] [--rounds 3] [--seed 1] [--out FILE]
//
// Needs Debian's chromium (/usr/bin/chromium) and playwright-core (a devDependency). Offline: every request
// other than the report file is refused. Prints the machine's load average with the figures.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { renderSessionOutput } from "../src/report.ts";
import { syntheticSession } from "./synthetic-session.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const SAMPLES = arg("samples", 1_000_000);
const ROUNDS = Math.max(1, arg("rounds", 3));
const SEED = arg("seed", 1);
const outIndex = argv.indexOf("--out");
/** --out FILE: keep a copy of the report there. */
const OUT = outIndex >= 0 ? argv[outIndex + 1] : undefined;

// ---- measuring ------------------------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number): string => `${x.toFixed(0)} ms`;

const load = loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(
  `tsprofile HTML benchmark: ${SAMPLES.toLocaleString("en")} samples, ${ROUNDS} rounds; load average ${load}`,
);
const session = syntheticSession(SAMPLES, SEED);

const renderTimes: number[] = [];
let html = "";
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  html = renderSessionOutput(session, { renderer: "html" }) as string;
  renderTimes.push(performance.now() - t0);
}
const dir = mkdtempSync(join(tmpdir(), "tsprofile-bench-html-"));
const file = join(dir, "report.html");
writeFileSync(file, html);
if (OUT) writeFileSync(OUT, html);
const bytes = statSync(file).size;
const dataStart = html.indexOf('id="tsprofile-data">');
const pageBytes = html.length - (html.indexOf("</script>", dataStart) - dataStart);
const runsAt = html.indexOf('"runs":"');
const runsLen = runsAt >= 0 ? html.indexOf('"', runsAt + 8) - (runsAt + 8) : 0;
const runCount = Number(/"count":(\d+)/.exec(html)?.[1] ?? 0);

const browser = await chromium.launchPersistentContext(join(dir, "profile"), {
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
  viewport: { width: 1400, height: 900 },
});
const url = `file://${file}`;
await browser.route("**/*", (route) => (route.request().url() === url ? route.continue() : route.abort()));

const columns = {
  ready: [] as number[],
  expand: [] as number[],
  timeline: [] as number[],
  zoom: [] as number[],
  showAll: [] as number[],
  search: [] as number[],
  heap: [] as number[],
};
for (let r = 0; r < ROUNDS; r++) {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  const t0 = performance.now();
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForSelector("body[data-ready] #tree .row", { timeout: 120_000 });
  const ready = performance.now() - t0;
  // First expand: a collapsed row, clicked open, its children on screen.
  const toggle = page.locator('#tree [aria-expanded="false"] > .row .tog').first();
  const rowsBefore = await page.$$eval("#tree .row", (rows) => rows.length);
  await toggle.click();
  await page.waitForFunction((n) => document.querySelectorAll("#tree .row").length > n, rowsBefore);
  const expand = performance.now() - t0;
  await page.click("#tab-timeline");
  await page.waitForSelector("#timeline[data-draws]");
  const timeline = performance.now() - t0;
  // A zoom: time to the next draw.
  const z0 = performance.now();
  await page.click("#zoom-in");
  await page.waitForSelector('#timeline[data-draws="2"]');
  const zoom = performance.now() - z0;
  const steps = await page.evaluate(() =>
    (window as unknown as { tsprofileTimings: Record<string, number> }).tsprofileTimings
  );
  console.log(
    `  in page (ms since navigation): ${Object.entries(steps).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}`,
  );
  // Show all (the other processing: unpacked and drawn on first use), then a search over it, back in the tree.
  await page.click("#tab-tree");
  const a0 = performance.now();
  await page.check("#show-all");
  await page.waitForFunction(() => document.querySelector("#tree .row") && !document.querySelector("#tree .group")); // no library groups
  const showAll = performance.now() - a0;
  const s0 = performance.now();
  await page.fill("#search", "app12");
  await page.waitForFunction(() => /match/.test(document.querySelector("#matches")?.textContent ?? ""));
  const search = performance.now() - s0;
  columns.showAll.push(showAll);
  columns.search.push(search);
  const heap = await page.evaluate(() =>
    (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0
  );
  if (errors.length) console.log(`  page errors: ${errors.join("; ")}`);
  columns.ready.push(ready);
  columns.expand.push(expand);
  columns.timeline.push(timeline);
  columns.zoom.push(zoom);
  columns.heap.push(heap);
  console.log(
    `  round ${r + 1}: tree ${ms(ready)}, expanded ${ms(expand)}, timeline drawn ${ms(timeline)}, zoom redraw ${
      ms(zoom)
    }, show all ${ms(showAll)}, search ${ms(search)}`,
  );
  await page.close();
}
await browser.close();
rmSync(dir, { recursive: true, force: true });

const rows: Array<[string, string]> = [
  ["render (median)", `${ms(median(renderTimes))} (classify + both processings + encode)`],
  [
    "file size",
    `${(bytes / 1e6).toFixed(2)} MB (timeline runs ${(runsLen / 1e6).toFixed(2)} MB for ${
      runCount.toLocaleString("en")
    } runs; page code ${(pageBytes / 1e3).toFixed(0)} kB)`,
  ],
  ["load -> tree shown", ms(median(columns.ready))],
  ["load -> first expand done", ms(median(columns.expand))],
  ["load -> timeline first draw", ms(median(columns.timeline))],
  ["zoom redraw", ms(median(columns.zoom))],
  ["show all (tree)", ms(median(columns.showAll))],
  ["search (show-all tree)", ms(median(columns.search))],
  ["JS heap after", `${(median(columns.heap) / 2 ** 20).toFixed(0)} MiB`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log("");
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
console.log(
  `\nmedians of ${ROUNDS} rounds; headless chromium (Debian), 1400x900; load average ${
    loadavg().map((x) => x.toFixed(2)).join(" ")
  }`,
);
