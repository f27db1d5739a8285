// Display in a notebook (Deno's Jupyter kernel): the Symbol.for("Jupyter.display") bundle of a report page, and the
// sessions and Profiler that carry it without ceasing to be plain data.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeSession,
  displayable,
  encodeSession,
  htmlDisplayBundle,
  JUPYTER_DISPLAY,
  loadSession,
  profile,
  Profiler,
  saveSession,
  Session,
} from "../src/index.ts";
import type { DisplayBundle } from "../src/index.ts";
import { frame, makeSession, spread } from "./report-helpers.ts";

const DISPLAY = Symbol.for("Jupyter.display");

function sample() {
  return makeSession(
    [frame("main", "/app/main.ts", 1), frame('quote"amp&<tag>', "/app/x.ts", 2)],
    spread([[[0], 10], [[0, 1], 20]]),
  );
}

/** The srcdoc attribute's value, unescaped as an HTML parser would. */
function srcdoc(html: string): string {
  const m = /^<iframe srcdoc="([^"]*)"/.exec(html);
  assert.ok(m, `an iframe with a srcdoc: ${html.slice(0, 80)}`);
  return m![1].replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function display(value: object): DisplayBundle {
  const method = (value as Record<symbol, unknown>)[DISPLAY];
  assert.type(method, "function");
  return (method as () => DisplayBundle).call(value);
}

test("htmlDisplayBundle: the page in an iframe's srcdoc, attribute-escaped, and the text", () => {
  assert.is(JUPYTER_DISPLAY, DISPLAY);
  const page = `<!DOCTYPE html><p title="a&amp;b">x < y & "z" 'w'</p>`;
  const bundle = htmlDisplayBundle(page, "a report", 450);
  assert.equal(Object.keys(bundle).sort(), ["text/html", "text/plain"]);
  assert.is(bundle["text/plain"], "a report");
  assert.is(srcdoc(bundle["text/html"]), page, "the page comes back whole");
  assert.match(bundle["text/html"], /height: 450px/);
  assert.match(bundle["text/html"], /width: 100%/);
  assert.match(bundle["text/html"], /<\/iframe>$/);
  assert.match(htmlDisplayBundle("", "t", Number.NaN)["text/html"], /height: 600px/);
});

test("sessions from decodeSession, loadSession and Session.load display as the HTML report, and stay plain data", () => {
  const original = sample();
  const bytes = encodeSession(original);
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-jupyter-"));
  try {
    const path = join(dir, "run.tsprof");
    saveSession(original, path);
    for (const session of [decodeSession(bytes), loadSession(path), Session.load(path), Session.decode(bytes)]) {
      const bundle = display(session);
      const page = srcdoc(bundle["text/html"]);
      assert.match(page, /^<!DOCTYPE html>/i);
      assert.ok(page.includes("main"), "the report's data is in the page");
      assert.match(
        bundle["text/plain"],
        /^tsprofile session: node app\.ts \(node 20\.20\.2\), 0\.030 s, 30 samples$/,
        bundle["text/plain"],
      );
      // Not enumerable: JSON, keys, spread and deep equality see the data only.
      assert.not.ok(Object.keys(session).includes(String(DISPLAY)));
      assert.is(Object.getOwnPropertyDescriptor(session, DISPLAY)!.enumerable, false);
      assert.not.ok(DISPLAY in { ...session });
      assert.is(JSON.stringify({ ...session.meta }), JSON.stringify(original.meta));
      assert.equal(session, original);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // displayable() for a session made otherwise; a frozen one is left as it is.
  assert.is(DISPLAY in sample(), false);
  assert.is(typeof display(displayable(sample()))["text/html"], "string");
  const frozen = Object.freeze(sample());
  assert.is(displayable(frozen), frozen);
  assert.is(DISPLAY in frozen, false);
});

test("Profiler: its last session's report; stop(), lastSession and profile() give displayable sessions", () => {
  const p = new Profiler();
  assert.match(display(p)["text/plain"], /no session yet/);
  p.start();
  const end = Date.now() + 30;
  while (Date.now() < end);
  const session = p.stop();
  assert.is(p.lastSession, session);
  assert.match(srcdoc(display(p)["text/html"]), /^<!DOCTYPE html>/i);
  assert.match(display(session)["text/plain"], /^tsprofile session: /);
  const { session: profiled } = profile(() => 1);
  assert.type((profiled as unknown as Record<symbol, unknown>)[DISPLAY], "function");
});

test.run();
