// The part every test-runner integration shares, as pyinstrument's pytest fixture does it: a Profiler per test,
// started before the test body and stopped after it, its HTML report written to <dir>/<test>.html. Profiling
// must never fail a test or change its outcome: anything that goes wrong is one line on stderr, and the test
// runs on as if tsprofile were not there.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Profiler } from "../profiler.ts";
import type { AsyncMode } from "../../session/types.ts";

export interface PerTestOptions {
  /** Folder of the reports, created when the first is written; default ".profiles" (pyinstrument's), from the
   * working directory at setup. */
  dir?: string;
  /** Seconds between samples, as Profiler's; default 0.001. */
  interval?: number;
  /** As Profiler's; default "enabled". */
  asyncMode?: AsyncMode;
}

/** One line on stderr: what tsprofile could not do, never a stack trace. */
export function warn(what: string, err: unknown): void {
  const message = String((err as Error)?.message ?? err).split("\n")[0].replace(/^tsprofile: /, "");
  process.stderr.write(`tsprofile: ${what}: ${message}\n`);
}

/** warn(), once per cause: a missing permission or a folder that cannot be made is said once, not per test or
 * request. */
export function warnOnce(): (what: string, err: unknown) => void {
  const said = new Set<string>();
  return (what, err) => {
    const cause = String((err as Error)?.message ?? err);
    if (!said.has(cause)) warn(what, err);
    said.add(cause);
  };
}

/**
 * A file-name-safe form of a test's name: characters that are not allowed in file names (on any common system)
 * and control characters become "_", runs of white space one space; no leading or trailing dots or spaces (no
 * hidden files, no ".."), and at most 180 bytes so that "-NN.html" still fits a 255-byte name.
 */
export function reportFileName(name: string): string {
  let s = name
    // deno-lint-ignore no-control-regex -- control characters are exactly what must not reach a file name
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, "_")
    .replace(/\s+/g, " ")
    .replace(/^[ .]+|[ .]+$/g, "");
  while (Buffer.byteLength(s) > 180) s = [...s].slice(0, -1).join("");
  s = s.replace(/[ .]+$/, "");
  if (s === "") s = "test";
  if (/^(con|prn|aux|nul|com\d|lpt\d)$/i.test(s)) s += "_"; // reserved device names on Windows
  return s;
}

/** "file.test.ts - group - test": the test file's base name (file path or URL) then the test's own names. */
export function testTitle(file: string | undefined, names: Array<string | undefined>): string {
  const parts = names.filter((n): n is string => typeof n === "string" && n !== "");
  if (file) parts.unshift(basename(file.startsWith("file:") ? fileURLToPath(file) : file));
  return parts.join(" - ");
}

/**
 * Where the code that called into tsprofile is, from a stack trace (V8's "at f (file:1:2)", JavaScriptCore's
 * "f@file:1:2"): the first frame outside the integrations' folder (or bundle) and outside any file whose path
 * contains `skip` (the runner's). For runners that do not say which file a test is in (the setup call does), and
 * for the location Deno reports for a test.
 */
/** The report names written by this process, per folder: several TestProfiles (one per uvu suite) share them. */
const written = new Map<string, Set<string>>();

const HERE = dirname(fileURLToPath(import.meta.url));

export function callerSite(skip = "\0"): { file: string; line: number; column: number } | undefined {
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n")) {
    const m = /(?:\(|@|at )((?:file:\/\/)?\/[^()]*?|[A-Za-z]:\\[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m || m[1].includes(skip) || dirname(m[1].startsWith("file:") ? fileURLToPath(m[1]) : m[1]) === HERE) continue;
    return { file: m[1], line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/**
 * Profiles tests one at a time or side by side: begin(key, title) before a test, end(key) after it, the key being
 * whatever the runner hands both hooks (its test context). Tests that run at the same time each get a report of
 * the whole wall-clock span of their own test, which includes whatever ran beside it.
 */
export class TestProfiles {
  readonly dir: string;
  readonly #options: { interval?: number; asyncMode?: AsyncMode };
  readonly #running = new Map<unknown, { title: string; profiler: Profiler }>();
  #disabled = false;
  readonly #sayOnce = warnOnce();

  constructor(options: PerTestOptions = {}) {
    this.dir = resolve(options.dir ?? ".profiles");
    this.#options = { interval: options.interval, asyncMode: options.asyncMode };
    try {
      new Profiler(this.#options); // a bad option is said once, here, not once per test
    } catch (err) {
      warn("per-test profiles are off", err);
      this.#disabled = true;
    }
  }

  begin(key: unknown, title: string): void {
    if (this.#disabled) return;
    try {
      const profiler = new Profiler(this.#options);
      profiler.start();
      this.#running.set(key, { title, profiler });
    } catch (err) {
      this.#sayOnce(title ? `could not profile test "${title}"` : "could not profile the tests", err);
    }
  }

  /** Stops the key's profiler and writes its report (under `title` when given, for runners that learn the test's
   * name only once it runs); returns the file written, if any. */
  end(key: unknown, title?: string): string | undefined {
    const entry = this.#running.get(key);
    if (entry === undefined) return undefined;
    this.#running.delete(key);
    if (title !== undefined) entry.title = title;
    try {
      entry.profiler.stop();
      const html = entry.profiler.outputHtml();
      mkdirSync(this.dir, { recursive: true });
      const path = this.#uniquePath(entry.title);
      writeFileSync(path, html);
      return path;
    } catch (err) {
      this.#sayOnce(`could not write the profile of test "${entry.title}"`, err);
      entry.profiler.reset();
      return undefined;
    }
  }

  /** Stops the key's profiler without a report (a test that turned out not to be one of ours). */
  discard(key: unknown): void {
    const entry = this.#running.get(key);
    this.#running.delete(key);
    try {
      entry?.profiler.reset();
    } catch (err) {
      warn("could not stop a profile", err);
    }
  }

  /**
   * Runs fn as the test `title`, profiled, for runners that have no hooks that know the test: the wrapper of a
   * test function. The result (a value, a promise, a throw) is fn's own, unchanged.
   */
  run<T>(title: string, fn: () => T): T {
    const key = {};
    this.begin(key, title);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.end(key);
      throw err;
    }
    if (result !== null && typeof (result as { then?: unknown })?.then === "function") {
      return (result as unknown as PromiseLike<unknown>).then(
        (value) => {
          this.end(key);
          return value;
        },
        (err) => {
          this.end(key);
          throw err;
        },
      ) as T;
    }
    this.end(key);
    return result;
  }

  /** <dir>/<title>.html, or -2, -3, ... for a title this process has already written (a report of an earlier run
   * under the same name is replaced, as pyinstrument's fixture does). */
  #uniquePath(title: string): string {
    const base = reportFileName(title);
    const taken = written.get(this.dir) ?? new Set<string>();
    written.set(this.dir, taken);
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}`; // case-insensitive file systems
    taken.add(name.toLowerCase());
    return join(this.dir, `${name}.html`);
  }
}
