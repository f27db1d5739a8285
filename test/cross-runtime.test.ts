// runtimes: node20 -- it starts every runtime (Node 20, Node 24, Deno, Bun) itself
// The same program profiled on every runtime must give the same application frames in the same tree shape,
// with shares within 5 points of each other, plus the share of the run a report says it guessed (its accuracy's
// `guessed`: a sampler starved on a busy machine, Bun's most of all, leaves time only the gap rule can place).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { root } from "./runtime-helpers.ts";

const bin = (name: string) => join(root, "test", "runtimes", "node_modules", ".bin", name);
const cli = join(root, "src", "cli", "main.ts");
const register = join(root, "runtimes", "loader", "register.mjs");
const RUNTIMES: Record<string, [string, string[]]> = {
  node20: [process.execPath, ["--import", register, cli]],
  node24: [bin("node"), ["--import", register, cli]],
  deno: [bin("deno"), ["run", "-A", "--no-lock", cli]],
  bun: [bin("bun"), [cli]],
};

interface JsonFrame {
  function: string;
  file_path_short: string;
  line_no: number;
  time: number;
  is_application_code: boolean;
  children: JsonFrame[];
}

/**
 * Application frames as "a > b > c" paths with their inclusive share, in percent, of the program's own time (the
 * top-level application frames): start-up and idle time differ by runtime and are tested elsewhere.
 */
function appPaths(report: { duration: number; root_frame: JsonFrame }): Map<string, number> {
  const out = new Map<string, number>();
  let total = 0;
  const walk: Array<[JsonFrame, string]> = [[report.root_frame, ""]];
  while (walk.length) {
    const [frame, prefix] = walk.pop()!;
    let path = prefix;
    if (frame.is_application_code && frame.file_path_short.includes("cross-app")) {
      if (prefix === "") total += frame.time;
      path = `${prefix}${prefix ? " > " : ""}${frame.function}:${frame.line_no}`;
      out.set(path, (out.get(path) ?? 0) + frame.time);
    }
    for (const c of frame.children) walk.push([c, path]);
  }
  for (const [p, t] of out) out.set(p, (100 * t) / total);
  return out;
}

function profile(runtime: string): { paths: Map<string, number>; guessed: number } {
  const [cmd, args] = RUNTIMES[runtime];
  const r = spawnSync(cmd, [...args, "-r", "json", "--no-color", join("test", "fixtures", "cross-app.ts")], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.is(r.status, 0, `${runtime}: ${r.stderr}`);
  const report = JSON.parse(r.stderr);
  return { paths: appPaths(report), guessed: (100 * report.accuracy.guessed) / report.duration };
}

/** The differences over the allowance, or "" when all four agree; throws when an expected path is missing. */
function compare(): string {
  const profiles = Object.fromEntries(Object.keys(RUNTIMES).map((r) => [r, profile(r)]));
  const results = Object.fromEntries(Object.entries(profiles).map(([r, p]) => [r, p.paths]));
  const allowed = 5 + Math.max(...Object.values(profiles).map((p) => p.guessed));
  // The paths that matter: over 2% anywhere.
  const significant = new Set<string>();
  for (const paths of Object.values(results)) for (const [p, share] of paths) if (share > 2) significant.add(p);
  const expected = [
    "main:32 > parse:14 > spin:5",
    "main:32 > compute:22 > inner:27 > spin:5",
    "main:32 > format:20 > spin:5",
  ];
  for (const e of expected) {
    assert.ok(
      [...significant].some((p) => p.endsWith(e)),
      `expected a path ending ${e}; got ${[...significant].join(" | ")}`,
    );
  }
  const table: string[] = [];
  let bad = false;
  for (const p of significant) {
    const shares = Object.entries(results).map(([r, paths]) => [r, paths.get(p) ?? 0] as const);
    const values = shares.map(([, s]) => s);
    const spread = Math.max(...values) - Math.min(...values);
    if (spread > allowed) bad = true;
    const over = spread > allowed ? `  <- over ${allowed.toFixed(1)} points` : "";
    table.push(`${p}: ${shares.map(([r, s]) => `${r} ${s.toFixed(1)}`).join(", ")}${over}`);
  }
  const guessed = Object.entries(profiles).map(([r, p]) => `${r} ${p.guessed.toFixed(1)}%`).join(", ");
  table.push(`guessed: ${guessed}`);
  console.log(table.join("\n"));
  return bad ? table.join("\n") : "";
}

test("the same application frames, tree shape and shares (within 5 points + guessed) on Node 20, 24, Deno and Bun", () => {
  for (const name of ["node", "deno", "bun"]) assert.ok(existsSync(bin(name)), `test/runtimes has ${name}`);
  // Four profiles in a row on a shared 2-core machine: a burst of load can skew one run, so up to three tries;
  // a real disagreement between runtimes fails all three.
  let failure = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    failure = compare();
    if (failure === "") return;
  }
  assert.unreachable(
    `shares differ by more than 5 points (plus the guessed share) in three tries; the last:\n${failure}`,
  );
});

test.run();
