// The whole test suite: the static checks (tsc, deno lint, deno fmt --check, cargo fmt --check, clippy), cargo
// test for the core, then every test/*.test.ts under each runtime (Node 20 from the machine, Node 24, Deno and Bun
// from node_modules). Each static check counts as one test. Ends with the one line CI reads: "N passed, N failed".
//
// A test file may restrict its runtimes with a first-line comment, saying why, which is printed:
//   // runtimes: node20 node24 -- the native addon is built for Node only
// Usage: node scripts/test.mjs [--runtime node20,bun] [--no-cargo] [--no-static] [file-filter...]
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
// Node 24, Deno and Bun live in test/runtimes (their own package, installed on first use), not in the package's
// devDependencies: a `node` there would come first on PATH in every npm script and shadow the machine's Node.
const runtimesDir = join(root, "test", "runtimes");
const bin = (/** @type {string} */ name) => join(runtimesDir, "node_modules", ".bin", name);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runtime: { type: "string" }, "no-cargo": { type: "boolean" }, "no-static": { type: "boolean" } },
});

/** Node 20 is the machine's node: the first `node` on PATH outside node_modules/.bin. */
function machineNode() {
  if (process.env.TSPROFILE_NODE20) return process.env.TSPROFILE_NODE20;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (existsSync(candidate)) return candidate;
  }
  return "node";
}

const register = join(root, "runtimes", "loader", "register.mjs");
/**
 * Per runtime, the command and arguments that run a test file.
 * @type {Record<string, (file: string) => [string, string[]]>}
 */
const RUNTIMES = {
  node20: (file) => [machineNode(), ["--import", register, file]],
  node24: (file) => [bin("node"), ["--import", register, file]],
  deno: (file) => [bin("deno"), ["run", "-A", "--no-lock", file]],
  bun: (file) => [bin("bun"), [file]],
};
const selected = values.runtime ? values.runtime.split(",") : Object.keys(RUNTIMES);
for (const r of selected) if (!RUNTIMES[r]) fail(`unknown runtime ${r} (one of ${Object.keys(RUNTIMES).join(", ")})`);
const runStatic = !values["no-static"] && positionals.length === 0;
// Deno's linter and formatter come from test/runtimes too.
if ((runStatic || selected.some((r) => r !== "node20")) && !existsSync(bin("node"))) {
  console.log("== installing the test runtimes (test/runtimes: Node 24, Deno, Bun)");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: runtimesDir, stdio: "inherit" });
  if (r.status !== 0) fail("npm ci in test/runtimes failed");
}

// The native sampler for each Node selected, as `npm install` builds it for the machine's (its sources may have
// changed since): the prebuilt one where it fits, else compiled; a no-op when up to date. Node 24's needs this.
for (const r of selected.filter((r) => r === "node20" || r === "node24")) {
  const [node] = RUNTIMES[r]("");
  const built = spawnSync(node, [join(root, "scripts", "build-addon.mjs")], { encoding: "utf8" });
  if (!/up to date/.test(built.stderr)) process.stdout.write(`== native sampler (${r}): ${built.stderr}`);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(`test.mjs: ${message}`);
  process.exit(2);
}

// ---- static checks: types, lint and format, each one test ----
if (runStatic) {
  console.log("== static checks");
  const core = join(root, "core-rs");
  /** @type {[name: string, command: string, args: string[], cwd: string][]} */
  const checks = [
    ["tsc --noEmit", join(root, "node_modules", ".bin", "tsc"), ["-p", "."], root],
    ["deno lint", bin("deno"), ["lint", "--quiet"], root],
    ["deno fmt --check", bin("deno"), ["fmt", "--check", "--quiet"], root],
    // The JSR package (deno.json "publish"), type-checked as JSR checks it.
    ["deno publish --dry-run", bin("deno"), ["publish", "--dry-run", "--allow-dirty", "--quiet"], root],
    ["cargo fmt --check", "cargo", ["fmt", "--check"], core],
    ["cargo clippy -D warnings", "cargo", ["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"], core],
  ];
  for (const [name, cmd, args, cwd] of checks) {
    const r = spawnSync(cmd, args, {
      cwd,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      maxBuffer: 64 * 1024 * 1024,
    });
    const ok = r.status === 0;
    console.log(`  ${name}: ${ok ? "ok" : "FAILED"}`);
    if (ok) passed += 1;
    else {
      failed += 1;
      failures.push(name);
      const out = ((r.stdout ?? "") + (r.stderr ?? "") || String(r.error ?? "")).split("\n");
      console.log(
        out.slice(0, 60).map((l) => "    | " + l).join("\n") +
          (out.length > 60 ? `\n    | ... ${out.length - 60} more lines` : ""),
      );
    }
  }
}

// ---- Rust ----
if (!values["no-cargo"] && positionals.length === 0) {
  console.log("== cargo test (core-rs)");
  const r = spawnSync("cargo", ["test", "--quiet"], { cwd: join(root, "core-rs"), encoding: "utf8" });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  let counted = false;
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
    counted = true;
  }
  if (r.status !== 0 || !counted) {
    console.log(out);
    if (!counted) failed += 1;
    failures.push("cargo test");
  } else console.log(out.split("\n").filter((l) => l.startsWith("test result")).join("\n"));
}

// ---- uvu, per runtime ----
const files = readdirSync(join(root, "test"))
  .filter((f) => f.endsWith(".test.ts"))
  .filter((f) => positionals.length === 0 || positionals.some((p) => f.includes(p)))
  .sort();

for (const runtime of selected) {
  const [cmd] = RUNTIMES[runtime]("x");
  let version = "";
  try {
    version = execFileSync(cmd, ["--version"], { encoding: "utf8" }).trim().split("\n")[0];
  } catch {
    fail(`${runtime}: cannot run ${cmd} (did npm install run?)`);
  }
  console.log(`\n== ${runtime} (${version})`);
  for (const file of files) {
    const path = join(root, "test", file);
    const first = readFileSync(path, "utf8").split("\n", 1)[0];
    const only = /^\/\/\s*runtimes:\s*([\w\s]+?)(?:\s+--\s*(.*))?$/.exec(first);
    if (only && !only[1].split(/\s+/).includes(runtime)) {
      console.log(`  ${file}: not run on ${runtime}: ${only[2] ?? "restricted to " + only[1]}`);
      skipped += 1;
      continue;
    }
    const [c, args] = RUNTIMES[runtime](path);
    const started = Date.now();
    const r = spawnSync(c, args, {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, TSPROFILE_TEST_RUNTIME: runtime, FORCE_COLOR: "0", NO_COLOR: "1" },
      timeout: 10 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = (r.stdout ?? "") + (r.stderr ?? "");
    const total = /Total:\s+(\d+)/.exec(out);
    const ok = /Passed:\s+(\d+)/.exec(out);
    const skip = /Skipped:\s+(\d+)/.exec(out);
    const t = total ? Number(total[1]) : 0;
    const p = ok ? Number(ok[1]) : 0;
    const s = skip ? Number(skip[1]) : 0;
    let f = Math.max(0, t - p - s);
    if ((r.status !== 0 || !total) && f === 0) f = 1; // crashed, timed out or printed no summary
    passed += p;
    failed += f;
    skipped += s;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`  ${file}: ${p} passed, ${f} failed${s ? `, ${s} skipped` : ""} (${secs}s)`);
    if (f > 0) {
      failures.push(`${runtime} ${file}`);
      console.log(out.split("\n").map((l) => "    | " + l).join("\n"));
    }
  }
}

if (failures.length) console.log(`\nFailed: ${failures.join("; ")}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
