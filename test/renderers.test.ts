import { test } from "uvu";
import * as assert from "uvu/assert";
import { UsageError } from "../session/errors.ts";
import { applyRenderOption, defaultReportOptions, detectColor, detectUnicode } from "../src/processing/options.ts";
import { accuracyLines, accuracyOf } from "../src/renderers/accuracy.ts";
import { renderJson } from "../src/renderers/json.ts";
import { renderSessionOutput } from "../src/report.ts";
import { NO_SAMPLES_MESSAGE, renderText } from "../src/renderers/text.ts";
import { TRUNCATED_FRAME } from "../session/frames.ts";
import { SampleState } from "../session/types.ts";
import { VERSION } from "../session/version.ts";
import { frame, makeSession, processWithOracle, spread } from "./report-helpers.ts";

const FRAMES = [
  frame("main", "/app/src/main.ts", 1), // 0
  frame("handle", "/app/src/server.ts", 10), // 1
  frame("handle", "/app/node_modules/express/lib/router.js", 100), // 2
  frame("next", "/app/node_modules/express/lib/router.js", 200), // 3
  frame("parse", "/app/node_modules/body-parser/index.js", 5), // 4
  frame("route", "/app/src/routes.ts", 20), // 5
  frame("spin", "/app/src/routes.ts", 30), // 6
  frame("readFileSync", "node:fs", 400), // 7
  frame("\x1b[31mevil\x07\u202e", "/app/src/evil\x1b]8;;x.ts", 1), // 8: a hostile name and path
];

/** 103 samples 1 ms apart: express -> body-parser -> app code, an await, node:fs, a hostile name, idle. */
function shop() {
  return makeSession(
    FRAMES,
    spread([
      [[0, 2, 3, 4, 5, 6], 50],
      [[0, 2, 3, 4, 5], 5],
      [[0, 2, 3, 4], 20],
      [[0, 1, 7], 10],
      [[0, 1], 10, SampleState.await],
      [[0, 8], 5],
      [[], 3, SampleState.idle],
    ]),
  );
}

const TREE_UNICODE = `0.100 main  src/main.ts:1 (await 0.010)
├─ 0.075 handle  node_modules/express/lib/router.js:100
│     [1 frame hidden]  express, body-parser
│        0.075 parse  node_modules/body-parser/index.js:5
│        └─ 0.055 route  src/routes.ts:20
│           ├─ 0.050 spin  src/routes.ts:30
│           └─ 0.005 [self]
├─ 0.020 handle  src/server.ts:10 (await 0.010)
│  ├─ 0.010 readFileSync  node:fs:400
│  └─ 0.010 [await]
└─ 0.005 \\x1b[31mevil\\x07\\u202e  src/evil\\x1b]8;;x.ts:1
0.003 [idle]
`;

test("text: the tree with unicode guides, a library group folded into one line", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  assert.fixture(renderText(s, tree, classification, { unicode: true, shortMode: true }), TREE_UNICODE);
});

test("text: ascii guides", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  const ascii = TREE_UNICODE.replace(/├─ /g, "|- ").replace(/└─ /g, "`- ").replace(/│/g, "|");
  assert.fixture(renderText(s, tree, classification, { unicode: false, shortMode: true }), ascii);
  // deno-lint-ignore no-control-regex -- the ASCII range, NUL included, is what the output must stay in
  assert.not.match(renderText(s, tree, classification, { unicode: false }), /[^\x00-\x7f]/);
});

test("text: nodes that are not visible are skipped, their visible descendants take their place", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { shortMode: true });
  assert.not.ok(out.includes("next"), "express's next() is inside the group and not visible");
  // parse is visible (it has a child outside the group): printed without guides under the hidden-frames line.
  assert.ok(out.includes("|     [1 frame hidden]  express, body-parser\n|        0.075 parse"));
});

test("text: the last child that prints gets the closing guide, not an invisible [self] after it", () => {
  const frames = [
    frame("main", "/app/src/main.ts", 1),
    frame("handle", "/app/node_modules/express/lib/router.js", 100),
    frame("next", "/app/node_modules/express/lib/router.js", 200),
    frame("dispatch", "/app/node_modules/express/lib/route.js", 9),
    frame("work", "/app/src/work.ts", 7),
  ];
  const s = makeSession(frames, spread([[[0, 1, 2, 3, 4], 40], [[0, 1, 2], 10]]));
  const { tree, classification } = processWithOracle(s);
  assert.fixture(
    renderText(s, tree, classification, { shortMode: true, unicode: true }),
    [
      "0.050 main  src/main.ts:1",
      "└─ 0.050 handle  node_modules/express/lib/router.js:100",
      "      [1 frame hidden]  express",
      "         0.040 dispatch  node_modules/express/lib/route.js:9",
      "         └─ 0.040 work  src/work.ts:7",
      "",
    ].join("\n"),
  );
});

test("text: the header", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { unicode: false });
  const d = new Date(s.meta.startTime);
  const hms = [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, "0")).join(":");
  const lines = out.split("\n");
  assert.is(lines[0], "");
  assert.is(lines[1], `  .-. ${`tsprofile ${VERSION}`.padEnd(20)}  Recorded: ${hms}  Samples:  103`);
  assert.is(lines[2], "  |-' node 20.20.2          Duration: 0.103     CPU time: 0.456");
  assert.is(lines[3], "  '                         Interval: 1.000 ms  Achieved: 1.000 ms");
  assert.is(lines[4], "");
  assert.is(lines[5], "Program: node app.ts");
  // 103 samples: 3.84 / 103 (accuracy.ts).
  assert.is(lines[6], "Few samples: shares under 3.7% cannot be told from noise (95%)");
  assert.is(lines[7], "");
  assert.is(lines[8], "0.100 main  src/main.ts:1 (await 0.010)");
  s.meta.cpuTime = -1;
  assert.ok(renderText(s, tree, classification).includes("CPU time: n/a"));
});

test("accuracy: missed samples where idle is sampled, truncated stacks, the noise floor; in JSON too", () => {
  const frames = [frame("main", "/app/main.ts", 1), { ...TRUNCATED_FRAME }];
  const s = makeSession(frames, spread([[[0], 5000], [[1, 0], 5]]), { idleSampled: true });
  s.meta.duration = 2 * 5005 * 1000; // half the samples asked for came
  const a = accuracyOf(s);
  assert.is(Math.round(a.missed! * 100), 50);
  assert.is(a.truncated, 5);
  assert.equal(accuracyLines(a).map((l) => l.split(":")[0]), ["Missed", "Truncated"]); // 5005 samples: no noise line
  assert.is(accuracyOf({ ...s, meta: { ...s.meta, idleSampled: false } }).missed, null);
  const { tree, classification } = processWithOracle(s);
  const json = JSON.parse(renderJson(s, tree, classification));
  assert.equal(Object.keys(json.accuracy), [
    "achieved_interval",
    "missed",
    "truncated_samples",
    "noise_share",
    "guessed",
  ]);
  assert.is(Math.round(json.accuracy.missed * 100), 50);
});

test("accuracy: time in silences the gap rule had to guess, with idle sampled or by the program's waits", () => {
  const frames = [frame("main", "/app/main.ts", 1)];
  // 100 samples 1 ms apart (0-99 ms), a silence to 150 ms, 100 more: 49 ms past two intervals.
  const runs = spread([[[0], 100]]);
  const samples = [...runs, ...runs.map(([p, t]) => [p, t + 150_000] as [number[], number])];
  const s = makeSession(frames, samples, { idleSampled: true });
  assert.is(accuracyOf(s).guessed, 49_000);
  assert.match(accuracyLines(accuracyOf(s)).join("\n"), /Guessed: 0\.049 s lay in silences/);
  // Between two idle samples a silence is idle: nothing guessed.
  const idle = makeSession(frames, samples.map(([p, t]) => [p, t, SampleState.idle]), { idleSampled: true });
  assert.is(accuracyOf(idle).guessed, 0);
  // Without idle samples (Bun), a wait pending across the silence explains it.
  const bun = makeSession(frames, samples);
  assert.is(accuracyOf(bun).guessed, 49_000);
  const waited = {
    ...bun,
    waits: { start: Float64Array.of(99_500), end: Float64Array.of(150_000), stack: Int32Array.of(-1) },
  };
  assert.is(accuracyOf(waited).guessed, 0);
  // Under a twentieth of the run, no line.
  const short = makeSession(
    frames,
    samples.filter(([, t]) => t < 100_000 || t >= 150_000).concat(
      spread([[[0], 2000]]).map(([p, t]) => [p, t + 300_000] as [number[], number]),
    ),
  );
  assert.not.match(accuracyLines(accuracyOf(short)).join("\n"), /Guessed/);
});

test("text: the header's columns stay apart when values are wide; a start time out of range is unknown", () => {
  const s = shop();
  s.meta.startTime = 8.7e15; // past what a Date can hold
  s.meta.interval = 16_000_000;
  s.meta.duration = 123_456_000_000;
  const { tree, classification } = processWithOracle(s);
  const lines = renderText(s, tree, classification, { unicode: false }).split("\n");
  assert.not.ok(lines.slice(0, 6).join("\n").includes("NaN"), lines.join("\n"));
  assert.ok(lines[1].endsWith("Recorded: unknown       Samples:  103"), lines[1]);
  assert.ok(lines[2].endsWith("Duration: 123456.000    CPU time: 0.456"), lines[2]);
  assert.ok(lines[3].endsWith("Interval: 16000.000 ms  Achieved: 1198601.942 ms"), lines[3]);
});

test("text: short mode has no header", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { shortMode: true });
  assert.ok(out.startsWith("0.100 main"));
  assert.not.ok(out.includes("Recorded"));
});

test("text: colour only when asked; time coloured by share, application code highlighted", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  assert.not.ok(renderText(s, tree, classification, { color: false }).includes("\x1b"));
  const out = renderText(s, tree, classification, { color: true, unicode: true, shortMode: true });
  const lines = out.split("\n");
  assert.is(
    lines[0],
    "\x1b[31m0.100\x1b[0m \x1b[48;5;24m\x1b[38;5;15mmain\x1b[0m  \x1b[2msrc/main.ts:1\x1b[0m \x1b[2m(await 0.010)\x1b[0m",
  );
  assert.is(
    lines[1],
    "├─ \x1b[31m0.075\x1b[0m handle  \x1b[2mnode_modules/express/lib/router.js:100\x1b[0m",
    "library names plain, paths faint",
  );
  assert.is(lines[2], "│     \x1b[2m[1 frame hidden]  express, body-parser\x1b[0m");
  assert.ok(lines[4].includes("\x1b[33m0.055\x1b[0m"), "yellow over 20%");
  assert.ok(lines[7].includes("\x1b[32m0.020\x1b[0m"), "green over 5%");
  assert.ok(lines[11].startsWith("\x1b[92m\x1b[2m0.003\x1b[0m [idle]"), "faint below 5%");
  // The only escape sequences are ours: the hostile name's ESC is shown as text.
  assert.not.ok(out.includes("\x1b[31mevil"));
  assert.not.ok(out.includes("\x07"));
  assert.not.ok(out.includes("\u202e"));
});

test("text: hostile program and runtime strings are escaped in the header", () => {
  const s = makeSession(FRAMES, spread([[[0], 3]]), { program: "node \x1b[2Jwipe.ts\r", runtime: "node\x1b[5m" });
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { color: false });
  assert.not.ok(out.includes("\x1b"));
  assert.not.ok(out.includes("\r"));
  assert.ok(out.includes("Program: node \\x1b[2Jwipe.ts\\x0d"));
});

test("text: bidi marks, line and paragraph separators and invisible code points are escaped", () => {
  const frames = [frame("ali\u061cgn\u2028next\u2029", "/app/src/x\u202egnp.js", 16), frame("zero\u200bwidth\ufeff")];
  const s = makeSession(frames, spread([[[0, 1], 3]]), { program: "node \u2066a\u2069.js" });
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { color: false });
  assert.not.match(out, /[\u061c\u200b\u2028\u2029\u202e\u2066\u2069\ufeff]/);
  assert.ok(out.includes("ali\\u061cgn\\u2028next\\u2029"), out);
  assert.ok(out.includes("x\\u202egnp.js:16"), out);
  assert.ok(out.includes("zero\\u200bwidth\\ufeff"), out);
  assert.ok(out.includes("Program: node \\u2066a\\u2069.js"), out);
});

test("text: percent of total", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  const lines = renderText(s, tree, classification, { time: "percent_of_total", shortMode: true }).split("\n");
  assert.is(lines[0], "97.1% main  src/main.ts:1 (await 9.7%)");
  assert.is(lines[1], "|- 72.8% handle  node_modules/express/lib/router.js:100");
  assert.is(lines[11], "2.9% [idle]");
});

test("text: flat, by self time and by total time", () => {
  const s = shop();
  let { tree, classification } = processWithOracle(s, { flatTime: "self" });
  assert.fixture(
    renderText(s, tree, classification, { flat: true, flatTime: "self", shortMode: true }),
    [
      "0.050 spin  src/routes.ts:30",
      "0.020 parse  node_modules/body-parser/index.js:5",
      "0.010 readFileSync  node:fs:400",
      "0.010 [await]",
      "0.005 route  src/routes.ts:20",
      "0.005 \\x1b[31mevil\\x07\\u202e  src/evil\\x1b]8;;x.ts:1",
      "0.003 [idle]",
      "",
    ].join("\n"),
  );
  ({ tree, classification } = processWithOracle(s, { flatTime: "total" }));
  const lines = renderText(s, tree, classification, { flat: true, flatTime: "total", shortMode: true }).split("\n");
  assert.is(lines[0], "0.100 main  src/main.ts:1");
  assert.is(lines[1], "0.075 handle  node_modules/express/lib/router.js:100");
});

test("text: the flat view lists the top flat_limit functions, whatever the threshold", () => {
  // 40 functions of 1 ms and one of 100: at the 1% threshold only the big one would show.
  const frames = Array.from({ length: 41 }, (_, i) => frame(`f${i}`, "/app/src/a.ts", i + 1));
  const s = makeSession(
    frames,
    spread([[[0], 100], ...Array.from({ length: 40 }, (_, i) => [[i + 1], 1] as [number[], number])]),
  );
  const rows = (o: Record<string, unknown>) =>
    renderSessionOutput(s, { renderer: "text", flat: true, shortMode: true, color: false, ...o }).toString().trim()
      .split("\n");
  assert.is(rows({}).length, 30);
  assert.match(rows({})[0], /f0 /);
  assert.is(rows({ flatLimit: 3 }).length, 3);
  assert.is(rows({ flatLimit: 100 }).length, 41);
});

test("text: show_all keeps every frame, no groups", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s, { showAll: true });
  const out = renderText(s, tree, classification, { shortMode: true });
  assert.ok(out.includes("0.075 next  node_modules/express/lib/router.js:200"));
  assert.not.ok(out.includes("hidden]"));
});

test("text: timeline keeps the order of the samples", () => {
  const s = makeSession(FRAMES, spread([[[0, 5], 2], [[0, 6], 2], [[0, 5], 2]]));
  const { tree, classification } = processWithOracle(s, { timeline: true });
  assert.fixture(
    renderText(s, tree, classification, { shortMode: true }),
    [
      "0.006 main  src/main.ts:1",
      "|- 0.002 route  src/routes.ts:20",
      "|- 0.002 spin  src/routes.ts:30",
      "`- 0.002 route  src/routes.ts:20",
      "",
    ].join("\n"),
  );
});

test("text: no samples", () => {
  const s = makeSession(FRAMES, []);
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { shortMode: true });
  assert.ok(out.startsWith(NO_SAMPLES_MESSAGE + "\n"));
  assert.ok(out.includes("--interval"));
  const full = renderText(s, tree, classification);
  assert.ok(full.includes("Samples:  0"));
  assert.ok(full.includes("Achieved: n/a"));
});

test("text: synthetic frames by name, anonymous functions named", () => {
  const frames = [frame("", "/app/a.ts", 3), frame("work", "/app/b.ts", 0)];
  const s = makeSession(
    frames,
    spread([[[0, 1], 4], [[0], 2, SampleState.gc], [[0], 2, SampleState.native], [[0], 2, SampleState.outOfContext]]),
  );
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { shortMode: true });
  assert.ok(out.startsWith("0.010 (anonymous)  a.ts:3\n"));
  assert.ok(out.includes(" 0.004 work  b.ts\n"), "no :line when the line is unknown");
  for (const name of ["[gc]", "[native]", "[out-of-context]"]) assert.ok(out.includes(`0.002 ${name}\n`), name);
});

test("text and JSON: time in runtime internals only (a top-level [self]) is named for what it is", () => {
  const frames = [frame("main", "/app/a.ts", 1), frame("loadESM", "node:internal/modules/esm/loader", 10, "runtime")];
  const s = makeSession(frames, spread([[[0], 6], [[1], 4]]));
  const { tree, classification } = processWithOracle(s);
  const out = renderText(s, tree, classification, { shortMode: true });
  assert.ok(out.includes("0.004 [runtime internals]\n"), out);
  assert.not.ok(out.includes("[self]"), out);
  const json = JSON.parse(renderJson(s, tree, classification, {}));
  assert.ok(json.root_frame.children.some((c: { function: string }) => c.function === "[runtime internals]"));
});

test("text and JSON: a 10,000-deep stack renders (nothing recurses over depth)", () => {
  const frames = Array.from({ length: 10_000 }, (_, i) => frame(`f${i}`, "/app/deep.ts", i + 1));
  const path = frames.map((_, i) => i);
  const s = makeSession(frames, spread([[path, 3]]));
  const { tree, classification } = processWithOracle(s);
  const text = renderText(s, tree, classification, { shortMode: true });
  assert.ok(text.includes("f9999  deep.ts:10000"));
  const json = JSON.parse(renderJson(s, tree, classification));
  let node = json.root_frame;
  let depth = 0;
  while (node.children.length) {
    node = node.children[0];
    depth++;
  }
  assert.is(depth, 10_000);
});

test("text: a deep stack's report is linear in its nodes: past 50 levels the guides start again after '...'", () => {
  const frames = Array.from({ length: 10_000 }, (_, i) => frame(`f${i}`, "/app/deep.ts", i + 1));
  const s = makeSession(frames, spread([[frames.map((_, i) => i), 3]]));
  const { tree, classification } = processWithOracle(s);
  const lines = renderText(s, tree, classification, { shortMode: true, unicode: true }).trimEnd().split("\n");
  assert.is(lines.length, 10_000);
  const widest = Math.max(...lines.map((l) => l.length));
  assert.ok(widest < 200, `the widest row has ${widest} characters`);
  // Rows within 50 levels keep their guides; the row past them continues after the mark, its own guide kept.
  assert.is(lines[1], "└─ 0.003 f1  deep.ts:2");
  assert.is(lines[50], `${"   ".repeat(49)}└─ 0.003 f50  deep.ts:51`);
  assert.is(lines[52], "... └─ 0.003 f52  deep.ts:53");
  assert.ok(lines[9999].endsWith("f9999  deep.ts:10000"));
});

test("json: pyinstrument's shape and numbers", () => {
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  const json = JSON.parse(renderJson(s, tree, classification));
  assert.is(json.start_time, s.meta.startTime / 1000);
  assert.is(json.duration, 0.103);
  assert.is(json.sample_count, 103);
  assert.is(json.cpu_time, 0.456);
  assert.is(json.program, "node app.ts");
  const root = json.root_frame;
  assert.equal(Object.keys(root), [
    "function",
    "file_path_short",
    "file_path",
    "line_no",
    "time",
    "await_time",
    "is_application_code",
    "group_id",
    "visible",
    "children",
  ]);
  assert.is(root.function, "[root]");
  assert.is(root.time, 0.103);
  const main = root.children[0];
  assert.equal(
    { ...main, children: main.children.length },
    {
      function: "main",
      file_path_short: "src/main.ts",
      file_path: "/app/src/main.ts",
      line_no: 1,
      time: 0.1,
      await_time: 0.01,
      is_application_code: true,
      group_id: null,
      visible: true,
      children: 3,
    },
  );
  const express = main.children[0];
  assert.is(express.is_application_code, false);
  assert.is(express.group_id, 0);
  assert.is(express.visible, true);
  const next = express.children[0];
  assert.is(next.function, "next");
  assert.is(next.visible, false, "every node is included, invisible ones marked");
  assert.is(root.children[1].function, "[idle]");
  // Every node's children sum to at most its time (pre-order arrays were nested correctly).
  const stack = [root];
  let count = 0;
  while (stack.length) {
    const n = stack.pop();
    count++;
    const sum = n.children.reduce((a: number, c: { time: number }) => a + c.time, 0);
    assert.ok(sum <= n.time + 1e-9);
    stack.push(...n.children);
  }
  assert.is(count, tree.frame.length);
});

/** shop() with the JS thread's CPU time per sample: a running sample's span costs 800 us of CPU, others none. */
function shopWithCpu() {
  const s = shop();
  const { state } = s.samples;
  const cpu = new Float64Array(state.length);
  for (let i = 1; i < cpu.length; i++) cpu[i] = cpu[i - 1] + (state[i - 1] === SampleState.js ? 800 : 0);
  s.samples.cpu = cpu;
  return s;
}

test("text: show_cpu adds each row's CPU time when the session has it; nothing otherwise", () => {
  const s = shopWithCpu();
  const { tree, classification } = processWithOracle(s);
  // 90 running samples at 800 us each: main 0.072; [await] and [idle] none.
  assert.fixture(
    renderText(s, tree, classification, { unicode: true, shortMode: true, showCpu: true }),
    `0.100 main  src/main.ts:1 (await 0.010) (cpu 0.072)
├─ 0.075 handle  node_modules/express/lib/router.js:100 (cpu 0.060)
│     [1 frame hidden]  express, body-parser
│        0.075 parse  node_modules/body-parser/index.js:5 (cpu 0.060)
│        └─ 0.055 route  src/routes.ts:20 (cpu 0.044)
│           ├─ 0.050 spin  src/routes.ts:30 (cpu 0.040)
│           └─ 0.005 [self] (cpu 0.004)
├─ 0.020 handle  src/server.ts:10 (await 0.010) (cpu 0.008)
│  ├─ 0.010 readFileSync  node:fs:400 (cpu 0.008)
│  └─ 0.010 [await] (cpu 0.000)
└─ 0.005 \\x1b[31mevil\\x07\\u202e  src/evil\\x1b]8;;x.ts:1 (cpu 0.004)
0.003 [idle] (cpu 0.000)
`,
  );
  // Not asked: the usual report. Asked without CPU time in the session: the usual report too.
  assert.fixture(renderText(s, tree, classification, { unicode: true, shortMode: true }), TREE_UNICODE);
  const plain = shop();
  const p = processWithOracle(plain);
  assert.fixture(
    renderText(plain, p.tree, p.classification, { unicode: true, shortMode: true, showCpu: true }),
    TREE_UNICODE,
  );
  // Percent of the total wall time (103 ms); the flat view has no CPU column.
  assert.match(
    renderText(s, tree, classification, { shortMode: true, showCpu: true, time: "percent_of_total" }),
    /^97\.1% main {2}src\/main\.ts:1 \(await 9\.7%\) \(cpu 69\.9%\)$/m,
  );
  assert.not.match(renderText(s, tree, classification, { shortMode: true, showCpu: true, flat: true }), /cpu/);
});

test("json: cpu_time on every frame when the session has CPU time, absent when not", () => {
  const s = shopWithCpu();
  const { tree, classification } = processWithOracle(s);
  const root = JSON.parse(renderJson(s, tree, classification)).root_frame;
  assert.equal(Object.keys(root).slice(4, 6), ["time", "cpu_time"]);
  const stack = [root];
  let count = 0;
  while (stack.length) {
    const n = stack.pop();
    assert.is(n.cpu_time, tree.cpuTime![count] / 1e6, `node ${count} in pre-order`);
    count++;
    stack.push(...[...n.children].reverse());
  }
  assert.is(count, tree.frame.length);
  assert.is(root.cpu_time, s.samples.cpu![s.samples.cpu!.length - 1] / 1e6);
  const plain = shop();
  const p = processWithOracle(plain);
  // Without CPU time no frame has the key (the session's own cpu_time figure stays at the top).
  const json = JSON.parse(renderJson(plain, p.tree, p.classification));
  assert.is(json.cpu_time, 0.456);
  const nodes = [json.root_frame];
  while (nodes.length) {
    const n = nodes.pop();
    assert.not.ok("cpu_time" in n, n.function);
    nodes.push(...n.children);
  }
});

test("json: no samples gives a null root_frame; hostile strings stay escaped", () => {
  const empty = makeSession(FRAMES, []);
  const p = processWithOracle(empty);
  assert.is(JSON.parse(renderJson(empty, p.tree, p.classification)).root_frame, null);
  const s = shop();
  const { tree, classification } = processWithOracle(s);
  const raw = renderJson(s, tree, classification);
  // deno-lint-ignore no-control-regex -- control characters are exactly what the output must not contain
  assert.not.ok(/[\u0000-\u001f\u007f-\u009f\u202e]/.test(raw.replace(/\n$/, "")));
  assert.ok(JSON.stringify(JSON.parse(raw)).includes("\\u001b[31mevil"));
});

test("options: colour detection", () => {
  const tty = { isTTY: true };
  assert.is(detectColor(tty, {}), true);
  assert.is(detectColor({ isTTY: false }, {}), false);
  assert.is(detectColor(undefined, {}), false);
  assert.is(detectColor(tty, { NO_COLOR: "1" }), false);
  assert.is(detectColor(tty, { NO_COLOR: "" }), true, "an empty NO_COLOR is unset");
  assert.is(detectColor({ isTTY: false }, { FORCE_COLOR: "1" }), true);
  assert.is(detectColor({ isTTY: false }, { FORCE_COLOR: "" }), true);
  assert.is(detectColor(tty, { FORCE_COLOR: "0" }), false);
  assert.is(detectColor(tty, { FORCE_COLOR: "false" }), false);
  assert.is(detectColor(tty, { NO_COLOR: "1", FORCE_COLOR: "1" }), false);
  assert.is(detectColor(tty, { TERM: "dumb" }), false);
  assert.is(defaultReportOptions(tty, {}).color, true);
});

test("options: unicode detection", () => {
  assert.is(detectUnicode({}), true);
  assert.is(detectUnicode({ LANG: "en_US.UTF-8" }), true);
  assert.is(detectUnicode({ LC_ALL: "C.utf8", LANG: "C" }), true);
  assert.is(detectUnicode({ LANG: "C" }), false);
  assert.is(detectUnicode({ LC_ALL: "POSIX" }), false);
  assert.is(detectUnicode({ LANG: "en_US.ISO-8859-1" }), false);
  assert.is(detectUnicode({ LANG: "en_US.UTF-8", TERM: "dumb" }), false);
});

test("options: defaults", () => {
  const o = defaultReportOptions({ isTTY: false }, {});
  assert.equal(o, {
    renderer: "text",
    timeline: false,
    showAll: false,
    filterThreshold: 0.01,
    flat: false,
    flatTime: "self",
    flatLimit: 30,
    time: "seconds",
    unicode: true,
    color: false,
    shortMode: false,
    showCpu: false,
    hide: [],
    hideRegex: [],
    show: [],
    showRegex: [],
    asyncMode: "enabled",
    processors: [],
  });
});

test("options: -p KEY=VALUE", () => {
  const o = defaultReportOptions({ isTTY: false }, {});
  applyRenderOption(o, "flat");
  applyRenderOption(o, "flat_time=total");
  applyRenderOption(o, "time=percent_of_total");
  applyRenderOption(o, "filter_threshold=0");
  applyRenderOption(o, "show_all=true");
  applyRenderOption(o, "timeline=1");
  applyRenderOption(o, "unicode=false");
  applyRenderOption(o, "color=yes");
  applyRenderOption(o, "short_mode");
  applyRenderOption(o, "processor_options.hide_regex=gen");
  applyRenderOption(o, "processor_options.show=*/x/*");
  applyRenderOption(o, 'flat_time="self"');
  applyRenderOption(o, "async_mode=disabled");
  applyRenderOption(o, "show_cpu=on");
  applyRenderOption(o, "flat_limit=5");
  assert.equal(o, {
    renderer: "text",
    timeline: true,
    showAll: true,
    filterThreshold: 0,
    flat: true,
    flatTime: "self",
    flatLimit: 5,
    time: "percent_of_total",
    unicode: false,
    color: true,
    shortMode: true,
    showCpu: true,
    hide: [],
    hideRegex: ["gen"],
    show: ["*/x/*"],
    showRegex: [],
    asyncMode: "disabled",
    processors: [],
  });
});

test("options: a bad -p key or value is a one-line UsageError", () => {
  const cases: Array<[string, RegExp]> = [
    ["foo=1", /^-p: unknown render option "foo" \(known: flat, flat_time, time, filter_threshold, .*\)$/],
    ["flat=maybe", /^-p: flat takes true or false, not "maybe"$/],
    ["show_cpu=sometimes", /^-p: show_cpu takes true or false, not "sometimes"$/],
    ["flat_time=wall", /^-p: flat_time is one of self, total, not "wall"$/],
    ["time=minutes", /^-p: time is one of seconds, percent_of_total/],
    ["filter_threshold=lots", /^-p: filter_threshold is a fraction between 0 and 1/],
    ["filter_threshold=2", /^-p: filter_threshold is a fraction between 0 and 1/],
    ["filter_threshold=", /^-p: filter_threshold is a fraction/],
    ["__proto__=1", /^-p: unknown render option "__proto__"/],
    ["flat_limit=0", /^-p: flat_limit is a number of rows \(1 or more\), not "0"$/],
    ["flat_limit=3.5", /^-p: flat_limit is a number of rows/],
  ];
  for (const [option, expected] of cases) {
    try {
      applyRenderOption(defaultReportOptions({}, {}), option);
      assert.unreachable(option);
    } catch (err) {
      assert.instance(err, UsageError, option);
      assert.match((err as Error).message, expected);
      assert.not.ok((err as Error).message.includes("\n"));
    }
  }
});

test.run();
