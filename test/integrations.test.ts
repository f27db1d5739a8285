// runtimes: node20 -- it starts each test runner itself: node:test on Node 20 and 24, vitest, bun test, deno test, and uvu on all four runtimes
// Per-test profiles (src/integrations): each runner runs a small suite for real (test/fixtures/integrations), once
// as it is and once with per-test profiles. The profiled run must give one report per test, holding that test's
// code and not the other's, and leave the runner's exit code and output as they were.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { reportFileName, testTitle } from "../src/integrations/per-test.ts";
import { root } from "./runtime-helpers.ts";

const bin = (name: string) => join(root, "test", "runtimes", "node_modules", ".bin", name);
const register = join(root, "runtimes", "loader", "register.mjs");
const fixtures = join("test", "fixtures", "integrations");
const work = mkdtempSync(join(tmpdir(), "tsprofile-integrations-"));

interface Run {
  status: number | null;
  output: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: "utf8",
    timeout: 180_000,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", TSPROFILE_FIXTURE_CACHE: join(work, "vite-cache"), ...env },
  });
  return {
    status: r.status,
    output: (r.stdout ?? "") + "\n--- stderr ---\n" + (r.stderr ?? ""),
    stderr: r.stderr ?? "",
  };
}

/**
 * A runner's output with what differs from run to run (durations, clock times) taken out, and the stack frames of
 * code other than the suite's own: a runner that has hooks to call awaits them, so the frames of its own machinery
 * under a failing test change (uvu, node:test); the test's own frames, and every other line, must not.
 */
function normalise(output: string): string {
  const location = /:\d+:\d+\)?\s*$|\((<anonymous>|index \d+|native)\)\s*$/;
  return output
    // deno-lint-ignore no-control-regex -- strips ANSI colour sequences (ESC)
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split("\n")
    .filter((line) => !location.test(line) || /(fixtures|src)\/integrations\//.test(line))
    .join("\n")
    .replace(/duration_ms:? [\d.]+/g, "duration_ms T")
    .replace(/\d+(\.\d+)?\s?(ms|s|µs)\b/g, "T")
    .replace(/\d\d:\d\d:\d\d/g, "T");
}

/**
 * Runs the suite plain, then profiled into a fresh folder; checks the runner's exit code (1: one test fails on
 * purpose) and output are the same, and returns the reports by file name.
 */
function compare(
  label: string,
  cmd: string,
  args: string[],
  allowed: (output: string) => string = (output) => output,
): Map<string, string> {
  const plain = run(cmd, args);
  const dir = join(work, label);
  const profiled = run(cmd, args, { TSPROFILE_FIXTURE_PROFILE: "1", TSPROFILE_FIXTURE_DIR: dir });
  assert.is(plain.status, 1, `${label}: the plain run fails (one test fails on purpose):\n${plain.output}`);
  assert.is(profiled.status, plain.status, `${label}: same exit code:\n${profiled.output}`);
  assert.fixture(
    allowed(normalise(profiled.output)),
    normalise(plain.output),
    `${label}: the runner's output is unchanged`,
  );
  assert.ok(existsSync(dir), `${label}: no reports written:\n${profiled.output}`);
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

/** One report per test, under the expected names; alpha's holds spinAlpha only, beta's spinBeta only. */
function checkReports(
  label: string,
  reports: Map<string, string>,
  expected: { alpha: string; beta: string; quick: string },
): void {
  assert.equal([...reports.keys()].sort(), Object.values(expected).sort(), `${label}: one report per test`);
  for (const html of reports.values()) {
    assert.ok(html.startsWith("<!DOCTYPE html>") || html.startsWith("<!doctype html>"), `${label}: an HTML page`);
  }
  const alpha = reports.get(expected.alpha)!;
  const beta = reports.get(expected.beta)!;
  const quick = reports.get(expected.quick)!;
  assert.ok(alpha.includes("spinAlpha"), `${label}: alpha's report shows spinAlpha`);
  assert.not.ok(alpha.includes("spinBeta"), `${label}: alpha's report does not show spinBeta`);
  assert.ok(beta.includes("spinBeta"), `${label}: beta's report shows spinBeta`);
  assert.not.ok(beta.includes("spinAlpha"), `${label}: beta's report does not show spinAlpha`);
  assert.not.ok(quick.includes("spinAlpha") || quick.includes("spinBeta"), `${label}: quick's report shows neither`);
}

const names = (file: string, group = "group - beta fails") => ({
  alpha: `${file} - alpha.html`,
  beta: `${file} - ${group}.html`,
  quick: `${file} - quick.html`,
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test("report names: file-name-safe, the test file first, unique", () => {
  assert.is(reportFileName('a/b\\c:d*e?"f<g>h|i'), "a_b_c_d_e_f_g_h_i");
  assert.is(reportFileName("  ..hidden.  "), "hidden");
  assert.is(reportFileName("\u0000\n"), "_");
  assert.is(reportFileName(" . "), "test");
  assert.is(reportFileName("nul"), "nul_");
  assert.ok(Buffer.byteLength(reportFileName("é".repeat(500))) <= 180);
  assert.is(testTitle("file:///x/y/math.test.ts", ["sums", undefined, "adds"]), "math.test.ts - sums - adds");
  assert.is(testTitle(undefined, ["only"]), "only");
});

test("node:test (Node 20): beforeEach/afterEach in the test file", () => {
  const reports = compare("node20", process.execPath, ["--import", register, "--test", join(fixtures, "node-test.ts")]);
  checkReports("node20", reports, names("node-test.ts"));
});

test("node:test (Node 24): the hooks from a module given to --import apply to every test file", () => {
  const args = ["--import", register, "--test", join(fixtures, "node-test.ts")];
  const plain = run(bin("node"), args);
  const dir = join(work, "node24");
  const profiled = run(bin("node"), [
    "--import",
    register,
    "--import",
    "./" + join(fixtures, "node-test-setup.ts"),
    ...args.slice(2),
  ], { TSPROFILE_FIXTURE_DIR: dir });
  assert.is(plain.status, 1, plain.output);
  assert.is(profiled.status, plain.status, profiled.output);
  assert.fixture(normalise(profiled.output), normalise(plain.output));
  checkReports(
    "node24",
    new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")])),
    names("node-test.ts"),
  );
});

test("node:test: a report that cannot be written is one line on stderr; the run is otherwise unchanged", () => {
  const args = ["--import", register, "--test", join(fixtures, "node-test.ts")];
  const blocker = join(work, "a-file");
  writeFileSync(blocker, "not a folder");
  const plain = run(process.execPath, args);
  const profiled = run(process.execPath, args, { TSPROFILE_FIXTURE_PROFILE: "1", TSPROFILE_FIXTURE_DIR: blocker });
  assert.is(profiled.status, plain.status);
  // node --test passes a test file's stderr on as TAP comments.
  const ours = profiled.output.split("\n").filter((l) => /^(# )?tsprofile:/.test(l));
  assert.is(ours.length, 1, `said once, not once per test:\n${profiled.output}`);
  assert.match(ours[0], /^# tsprofile: could not write the profile of test "node-test\.ts - alpha": (EEXIST|ENOTDIR)/);
  const without = profiled.output.split("\n").filter((l) => !/^(# )?tsprofile:/.test(l)).join("\n");
  assert.fixture(normalise(without), normalise(plain.output));
});

test("vitest: beforeEach/afterEach in a setup file", () => {
  const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
  const reports = compare("vitest", process.execPath, [vitest, "run", "--root", join(fixtures, "vitest")]);
  checkReports("vitest", reports, names("suite.test.ts"));
});

test("bun test: the wrapped test and describe", () => {
  const reports = compare("bun", bin("bun"), ["test", "./" + join(fixtures, "bun.test.ts")]);
  checkReports("bun", reports, names("bun.test.ts"));
});

test("deno test: Deno.test wrapped; a test's location is still the user's call; one frame more in a failure", () => {
  // --no-check: type-checking src/ from this repository's tree fails (its tsconfig asks for @types/node, which
  // only Node's tooling would install); the profiling under test does not depend on it.
  // The one difference allowed: the wrapper that names the test, one frame in the failing test's stack trace (V8
  // cannot leave it off, and Deno's hooks do not say which test runs).
  const oneWrapperFrame = (output: string) => {
    const lines = output.split("\n");
    const frames = lines.filter((l) => l.includes("src/integrations/deno-test.ts"));
    assert.is(frames.length, 1, `exactly one frame of the wrapper:\n${output}`);
    return lines.filter((l) => !l.includes("src/integrations/deno-test.ts")).join("\n");
  };
  const args = ["test", "-A", "--no-lock", "--no-check", join(fixtures, "deno.test.ts")];
  const reports = compare("deno", bin("deno"), args, oneWrapperFrame);
  checkReports("deno", reports, names("deno.test.ts", "group"));
});

for (
  const [runtime, cmd, args] of [
    ["node20", process.execPath, ["--import", register]],
    ["node24", bin("node"), ["--import", register]],
    ["deno", bin("deno"), ["run", "-A", "--no-lock"]],
    ["bun", bin("bun"), []],
  ] as const
) {
  test(`uvu on ${runtime}: before.each/after.each of each suite`, () => {
    const reports = compare(`uvu-${runtime}`, cmd, [...args, join(fixtures, "uvu.test.ts")]);
    checkReports(`uvu-${runtime}`, reports, names("uvu.test.ts"));
  });
}

test.run();
