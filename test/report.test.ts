import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderSession, renderSessionWith } from "../src/report.ts";
import { UsageError } from "../session/errors.ts";
import { SampleState } from "../session/types.ts";
import { oracleProcess } from "./oracle.ts";
import type { ProcessFn } from "../src/report.ts";
import { frame, makeSession, spread } from "./report-helpers.ts";

const oracle: ProcessFn = (session, options) =>
  oracleProcess(session.stacks, session.samples, {
    ...options,
    duration: session.meta.duration,
    gapCap: session.meta.gapCap,
    idleSampled: session.meta.idleSampled,
    startStack: session.meta.startStack,
  });

function session() {
  return makeSession(
    [
      frame("main", "/app/src/main.ts", 1),
      frame("handle", "/app/node_modules/express/lib/router.js", 100),
      frame("next", "/app/node_modules/express/lib/router.js", 200),
      frame("work", "/app/src/work.ts", 7),
      frame("runMain", "node:internal/modules/run_main", 3),
      frame("gen", "/app/generated/schema.ts", 2),
      frame("dispatch", "/app/node_modules/express/lib/route.js", 9),
    ],
    spread([
      [[4, 0, 1, 2, 6, 3], 40],
      [[4, 0, 1, 2], 10],
      [[4, 0, 5], 20],
      [[4, 0], 10, SampleState.await],
      [[], 5, SampleState.idle],
    ]),
  );
}

test("renderSession: the wasm core and the oracle give the same report, every option", () => {
  const s = session();
  const variants = [
    {},
    { unicode: true, color: true },
    { timeline: true },
    { showAll: true },
    { flat: true, flatTime: "total" as const },
    { flat: true },
    { time: "percent_of_total" as const, shortMode: true },
    { filterThreshold: 0.2 },
    { hide: ["*/generated/*"] },
    { show: ["*/express/*"] },
    { renderer: "json" as const },
  ];
  for (const v of variants) {
    assert.fixture(renderSession(s, v), renderSessionWith(oracle, s, v) as string, JSON.stringify(v));
  }
});

test("renderSession: runtime internals removed, libraries grouped, --hide/--show applied", () => {
  const s = session();
  const out = renderSession(s, { shortMode: true });
  assert.not.ok(out.includes("runMain"));
  assert.ok(out.includes("[1 frame hidden]  express"), out);
  const hidden = renderSession(s, { shortMode: true, hide: ["*/generated/*"] });
  assert.ok(hidden.includes("gen  generated/schema.ts:2"), "a lone library frame is not grouped");
  const shown = renderSession(s, { shortMode: true, show: ["*/express/*"] });
  assert.ok(shown.includes("next  node_modules/express/lib/router.js:200"), shown);
  assert.ok(renderSession(s, { shortMode: true, showAll: true }).includes("runMain  node:internal/modules/run_main:3"));
});

test("renderSession: a bad regex is a UsageError", () => {
  assert.throws(() => renderSession(session(), { hideRegex: ["["] }), (err: unknown) => err instanceof UsageError);
});

test.run();
