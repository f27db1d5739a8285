// The CLI end to end on the runtime the test runs on (`node --import register.mjs src/cli/main.ts`, `deno run -A
// src/cli/main.ts`, `bun src/cli/main.ts` [options] fixture.ts [args]) and one smoke test of the bundle, checking what
// passes through untouched (args, stdin, stdout, exit code) and what the report says.
import { spawn, spawnSync } from "node:child_process";
import type { SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { root, runOnThisRuntime, runtime } from "./runtime-helpers.ts";

const fixtures = join(root, "test", "fixtures");
const cliSource = join(root, "src", "cli", "main.ts");
const cliBundle = join(root, "dist", "cli.js");
const fixture = (name: string) => join("test", "fixtures", name);
/** Every child is bounded: a hang fails the test instead of the suite. */
const TIMEOUT = 60_000;
// The report's colour would otherwise follow the environment; tests that want it ask for it.
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, LANG: "C.UTF-8", LC_ALL: undefined };

interface Run {
  status: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
}

function finish(r: SpawnSyncReturns<Buffer>): Run {
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

/** tsprofile from source, through the TypeScript loader. */
function cli(args: string[], input?: string | Buffer, env: Record<string, string | undefined> = ENV): Run {
  return finish(
    spawnSync(...runOnThisRuntime(cliSource, args), {
      cwd: root,
      input: input ?? "",
      env,
      timeout: TIMEOUT,
      maxBuffer: 64 << 20,
    }),
  );
}

/** The same script without tsprofile, for byte-for-byte comparisons. */
function plain(script: string, args: string[], input?: string | Buffer): Run {
  return finish(
    spawnSync(...runOnThisRuntime(script, args), {
      cwd: root,
      input: input ?? "",
      env: ENV,
      timeout: TIMEOUT,
      maxBuffer: 64 << 20,
    }),
  );
}

/** A usage error: exit 2, one line on stderr starting "tsprofile: ", nothing else. */
function assertUsageError(r: Run, pattern: RegExp) {
  assert.is(r.status, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.is(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], /^tsprofile: /);
  assert.match(lines[0], pattern);
  assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
  assert.is(r.stdout.length, 0, "nothing on stdout");
}

interface JsonFrame {
  function: string;
  file_path: string;
  file_path_short: string;
  line_no: number;
  time: number;
  await_time: number;
  is_application_code: boolean;
  group_id: number | null;
  visible: boolean;
  children: JsonFrame[];
}

function* walk(frame: JsonFrame | null): Generator<JsonFrame> {
  const stack = frame ? [frame] : [];
  while (stack.length) {
    const f = stack.pop()!;
    yield f;
    for (let i = f.children.length - 1; i >= 0; i--) stack.push(f.children[i]); // pre-order
  }
}

/** Inclusive time of a function, counting only its outermost occurrences (recursion is not double-counted). */
function timeOf(rootFrame: JsonFrame, name: string): number {
  let total = 0;
  const stack: JsonFrame[] = [rootFrame];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.function === name) total += f.time;
    else stack.push(...f.children);
  }
  return total;
}

/** A report: the text after the program's own stderr. */
function hasTextReport(stderr: string): boolean {
  return /Recorded:|Samples:|Duration:/.test(stderr);
}

// ---- help, version and usage errors ----

test("--help prints a pyinstrument-like usage and exits 0 without running anything", () => {
  for (const flag of ["--help", "-h"]) {
    const r = cli([flag]);
    assert.is(r.status, 0);
    const out = r.stdout.toString();
    assert.match(out, /^Usage: tsprofile \[options\] scriptfile \[arg\] \.\.\./);
    for (
      const option of [
        "--interval",
        "--outfile",
        "--renderer",
        "--render-option",
        "--timeline",
        "--hide-regex",
        "--show-all",
        "--no-unicode",
        "--no-color",
      ]
    ) {
      assert.ok(out.includes(option), `help mentions ${option}`);
    }
  }
});

test("--version prints the package version", () => {
  const r = cli(["--version"]);
  assert.is(r.status, 0);
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  assert.is(r.stdout.toString(), `tsprofile ${version}\n`);
});

test("bad command lines: one line on stderr, exit 2, no stack trace", () => {
  const work = fixture("cli-exit.ts");
  assertUsageError(cli(["--bogus", work]), /unknown option '--bogus'/);
  assertUsageError(cli(["-z", work]), /unknown option '-z'/);
  assertUsageError(cli([]), /no script given/);
  assertUsageError(cli(["-t"]), /no script given/);
  assertUsageError(cli(["test/fixtures/does-not-exist.ts"]), /can't open file 'test\/fixtures\/does-not-exist.ts'/);
  assertUsageError(cli(["test/fixtures"]), /not a file/);
  assertUsageError(cli(["-i", "abc", work]), /--interval: 'abc' is not a number/);
  assertUsageError(cli(["--interval=", work]), /--interval/);
  assertUsageError(cli(["-i", "0.00005", work]), /--interval: 0.00005 is out of range/);
  assertUsageError(cli(["-i", "-1", work]), /--interval/);
  // Checked before the program runs: a decimal number of seconds in range, not hex, exponents or overflows.
  assertUsageError(cli(["-i", "3000", work]), /--interval: 3000 is out of range \(from 0.0001 to 1 seconds\)/);
  assertUsageError(cli(["-i", "1e9", work]), /--interval: '1e9' is not a number of seconds/);
  assertUsageError(cli(["-i", "0x10", work]), /--interval: '0x10' is not a number of seconds/);
  assertUsageError(cli(["-i", "Infinity", work]), /--interval: 'Infinity' is not a number of seconds/);
  assertUsageError(cli(["-r", "bogus", work]), /unknown renderer 'bogus'/);
  assertUsageError(cli(["--renderer=xml", work]), /unknown renderer 'xml'/);
  assertUsageError(cli(["-p", "nonsense=1", work]), /-p: unknown render option/);
  assertUsageError(cli(["-p", "flat=maybe", work]), /-p: flat/);
  assertUsageError(cli(["-p", "filter_threshold=x", work]), /-p: filter_threshold/);
  assertUsageError(cli(["--hide-regex", "(", work]), /--hide-regex: bad regular expression/);
  assertUsageError(cli(["-o"]), /option '--outfile' needs a value/);
  assertUsageError(cli(["--timeline=yes", work]), /takes no value/);
  assertUsageError(cli(["-o", "no-such-dir/report.txt", work]), /--outfile: directory 'no-such-dir' does not exist/);
});

test("--runtime-arg: the runtime's own options reach the program, before the script; one line if not an option", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-runtime-arg-"));
  const script = join(dir, "show.mjs");
  // Deno: --location sets location; Node and Bun: --title sets the process's title.
  writeFileSync(script, "console.log(globalThis.Deno ? location.href : process.title);\n");
  const [option, shown] = runtime === "deno"
    ? ["--location=https://example.com/from-tsprofile", "https://example.com/from-tsprofile"]
    : ["--title=from-tsprofile", "from-tsprofile"];
  const r = cli(["-o", join(dir, "report.txt"), "--runtime-arg", option, script, "--title=arg"]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.toString().trim(), shown);
  assertUsageError(cli(["--runtime-arg=inspect", script]), /--runtime-arg: 'inspect' is not an option of the runtime/);
  assertUsageError(cli(["--runtime-arg=--x", "--load", script]), /--runtime-arg is for running a program/);
  rmSync(dir, { recursive: true, force: true });
});

test("the bad script is never run when an option is wrong", () => {
  // cli-exit.ts would print "worked true" on stdout.
  const r = cli(["-r", "nope", fixture("cli-exit.ts")]);
  assert.is(r.status, 2);
  assert.is(r.stdout.length, 0);
});

// ---- pass-through ----

test("args, stdin, stdout pass through byte for byte; the report goes to stderr", () => {
  const input = Buffer.concat([
    Buffer.from("line one\nline two\r\n"),
    Buffer.from([0, 0xff, 0x80, 0x7f]),
    Buffer.from("é—end"),
  ]);
  const args = ["--help", "-i", "0.5", "--", "with space", "ünïcödé", "-o", "x.json", "--renderer=json", ""];
  const profiled = cli([fixture("cli-echo.ts"), ...args], input);
  const unprofiled = plain(fixture("cli-echo.ts"), args, input);
  assert.is(profiled.status, 0, profiled.stderr);
  assert.is(unprofiled.status, 0, unprofiled.stderr);
  assert.ok(profiled.stdout.equals(unprofiled.stdout), "stdout byte-identical to the unprofiled run");
  assert.ok(profiled.stdout.includes(input), "stdin reached the program");
  assert.ok(
    profiled.stdout.toString("utf8").startsWith(`args=${JSON.stringify(args)}\n`),
    "args reached the program untouched",
  );
  assert.ok(profiled.stderr.startsWith("echo-fixture stderr line\n"), "the program's stderr comes first");
  assert.ok(hasTextReport(profiled.stderr), "a report on stderr");
});

test("-- ends the options, and options after the script belong to the script", () => {
  const r = cli(["-t", "--", fixture("cli-echo.ts"), "-t", "--version"]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.toString().startsWith(`args=["-t","--version"]\n`));
  assert.ok(hasTextReport(r.stderr));
});

test("-r html without -o: a temporary file, opened with BROWSER's command, its path said; stdout untouched", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-browser-"));
  try {
    const browser = join(dir, "browser.sh");
    writeFileSync(browser, `#!/bin/sh\necho "$1" > "${join(dir, "opened")}"\n`, { mode: 0o755 });
    const r = cli(["-r", "html", fixture("cli-echo.ts"), "a"], "", { ...ENV, BROWSER: browser });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.toString(), plain(fixture("cli-echo.ts"), ["a"]).stdout.toString());
    const path = /HTML report written to (\S+\.html)/.exec(r.stderr)?.[1];
    assert.ok(path && existsSync(path), r.stderr);
    assert.not.match(r.stderr, /<html/i);
    for (let i = 0; i < 100 && !existsSync(join(dir, "opened")); i++) spawnSync("sleep", ["0.05"]);
    assert.is(readFileSync(join(dir, "opened"), "utf8").trim(), path);
    rmSync(path!, { force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("process.exit(3): exit code 3, report printed", () => {
  const r = cli([fixture("cli-exit.ts")]);
  assert.is(r.status, 3, r.stderr);
  assert.is(r.stdout.toString(), "worked true\n");
  assert.ok(hasTextReport(r.stderr), r.stderr);
  assert.match(r.stderr, /\bwork\b/);
});

test("an uncaught exception: exit 1, the error shown, report printed", () => {
  const r = cli([fixture("cli-throw.ts")]);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stdout.toString(), "worked true\n");
  assert.match(r.stderr, /[Ee]rror: fixture failure 42/); // Node and Deno say "Error:", Bun "error:"
  assert.ok(hasTextReport(r.stderr), r.stderr);
  assert.ok(
    r.stderr.indexOf("fixture failure 42") < r.stderr.search(/Recorded:|Samples:|Duration:/),
    "error first, then report",
  );
});

test("a hard crash (SIGKILL) writes no session: one line says so, exit 137 passes through", () => {
  const r = cli([fixture("cli-crash.ts")]);
  assert.is(r.status, 137, r.stderr);
  assert.is(r.stdout.toString(), "about to crash\n");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /^tsprofile: no profile was recorded/);
});

/** Starts the CLI on cli-spin.ts in its own process group; resolves once the program says it is spinning. */
function startSpinner(args: string[] = [], program = "cli-spin.ts") {
  const child = spawn(...runOnThisRuntime(cliSource, [...args, fixture(program)]), {
    cwd: root,
    env: ENV,
    detached: true, // its own process group, like a shell job: a "Ctrl-C" reaches the CLI and the program
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // the process group is already gone
    }
  }, TIMEOUT);
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((done) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    })
  );
  const ready = new Promise<number>((done, fail) => {
    const check = () => {
      const m = /ready (\d+)\n/.exec(stdout);
      if (m) done(Number(m[1]));
    };
    child.stdout.on("data", check);
    exited.then((r) => fail(new Error(`spinner ended before it was ready: ${JSON.stringify(r)}`)));
  });
  return { child, ready, exited };
}

test("Ctrl-C (SIGINT to the process group) while the program busy-loops: report printed, dies by SIGINT", async () => {
  const { child, ready, exited } = startSpinner();
  await ready;
  await new Promise((r) => setTimeout(r, 300));
  process.kill(-child.pid!, "SIGINT");
  const r = await exited;
  assert.is(r.signal, "SIGINT", `code ${r.code}: ${r.stderr}`);
  assert.ok(hasTextReport(r.stderr), r.stderr);
  assert.match(r.stderr, /spinSlice/);
});

test("SIGINT to the program alone: report printed, dies by SIGINT", async () => {
  const { ready, exited } = startSpinner();
  const pid = await ready;
  await new Promise((r) => setTimeout(r, 200));
  process.kill(pid, "SIGINT");
  const r = await exited;
  assert.is(r.signal, "SIGINT", r.stderr);
  assert.ok(hasTextReport(r.stderr), r.stderr);
});

test("SIGTERM to tsprofile alone is forwarded to the program: report printed, dies by SIGTERM", async () => {
  const { child, ready, exited } = startSpinner();
  await ready;
  await new Promise((r) => setTimeout(r, 200));
  process.kill(child.pid!, "SIGTERM");
  const r = await exited;
  assert.is(r.signal, "SIGTERM", r.stderr);
  assert.ok(hasTextReport(r.stderr), r.stderr);
});

test("SIGHUP to tsprofile alone is forwarded too: the program and tsprofile die by it", async () => {
  const { child, ready, exited } = startSpinner();
  await ready;
  process.kill(child.pid!, "SIGHUP");
  const r = await exited;
  assert.is(r.signal, "SIGHUP", r.stderr);
});

test("SIGINT to tsprofile alone (kill -INT, a supervisor) is forwarded: report printed, dies by SIGINT", async () => {
  const { child, ready, exited } = startSpinner();
  await ready;
  await new Promise((r) => setTimeout(r, 200));
  process.kill(child.pid!, "SIGINT");
  const r = await exited;
  assert.is(r.signal, "SIGINT", `code ${r.code}: ${r.stderr}`);
  assert.ok(hasTextReport(r.stderr), r.stderr);
  assert.not.match(r.stderr, /second Ctrl-C/);
});

test("a second Ctrl-C stops a program that never yields to the first: one line, dies by SIGINT", async () => {
  const { child, ready, exited } = startSpinner([], "cli-hang.ts");
  await ready;
  process.kill(-child.pid!, "SIGINT");
  await new Promise((r) => setTimeout(r, 400));
  assert.is(child.exitCode, null, "still running: the first Ctrl-C cannot reach a synchronous loop");
  process.kill(-child.pid!, "SIGINT");
  const r = await exited;
  assert.is(r.signal, "SIGINT", r.stderr);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /^tsprofile: stopped by a second Ctrl-C/);
});

// ---- output options ----

test("-o writes the report to the file and says so; stdout and stderr are otherwise the program's own", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-cli-test-"));
  try {
    const out = join(dir, "report.txt");
    const r = cli(["-o", out, fixture("cli-echo.ts"), "a"], "in");
    const unprofiled = plain(fixture("cli-echo.ts"), ["a"], "in");
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.stdout.equals(unprofiled.stdout));
    assert.is(
      r.stderr,
      `${unprofiled.stderr}tsprofile: report written to ${out}\n`,
      "stderr holds the program's own output, then one line",
    );
    const report = readFileSync(out, "utf8");
    assert.ok(hasTextReport(report), report);
    // deno-lint-ignore no-control-regex -- looks for the ESC of an ANSI colour sequence
    assert.not.match(report, /\x1b\[/, "no colour in a file unless asked");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--stream-to a file that cannot be written: the program's exit code, the report on stderr, one line", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-cli-test-"));
  try {
    const readOnly = join(dir, "kept.tsprof");
    writeFileSync(readOnly, "keep");
    chmodSync(readOnly, 0o444);
    for (const [target, why] of [[readOnly, /is read-only/], [dir, /is a directory/]] as const) {
      const r = cli(["--stream-to", target, fixture("cli-exit.ts")]);
      assert.is(r.status, 3, r.stderr);
      assert.is(r.stdout.toString(), "worked true\n");
      assert.ok(hasTextReport(r.stderr), r.stderr);
      const ours = r.stderr.split("\n").filter((l) => l.startsWith("tsprofile:"));
      assert.is(ours.length, 1, r.stderr);
      assert.match(ours[0], /^tsprofile: --stream-to: /);
      assert.match(ours[0], why);
    }
    assert.is(readFileSync(readOnly, "utf8"), "keep", "a read-only file is never replaced");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-o that cannot be written is found before the program runs: exit 2, one line", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-cli-test-"));
  try {
    const readOnly = join(dir, "kept.txt");
    writeFileSync(readOnly, "keep");
    chmodSync(readOnly, 0o444);
    const work = fixture("cli-exit.ts"); // would print "worked true"
    assertUsageError(cli(["-o", dir, work]), /--outfile: '.*' is a directory/);
    assertUsageError(cli(["-o", readOnly, work]), /--outfile: '.*kept\.txt' is read-only/);
    assertUsageError(cli(["--load", "x.tsprof", "-o", readOnly]), /--outfile: '.*kept\.txt' is read-only/);
    assert.is(readFileSync(readOnly, "utf8"), "keep");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-o is written whole: a write that fails (file too large) leaves the old file as it was", () => {
  if (process.platform === "win32") return; // no ulimit
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-cli-test-"));
  try {
    const saved = join(dir, "run.tsprof");
    assert.is(cli(["-o", saved, fixture("cli-work.ts")]).status, 0);
    const out = join(dir, "report.html");
    writeFileSync(out, "the old report");
    // A file size limit of 16 blocks: the HTML report (hundreds of kB) fails with EFBIG.
    const [command, args] = runOnThisRuntime(cliSource, ["--load", saved, "-o", out]);
    const r = spawnSync("sh", ["-c", 'ulimit -f 16; exec "$0" "$@"', command, ...args], {
      cwd: root,
      env: ENV,
      timeout: TIMEOUT,
    });
    // Deno does not ignore SIGXFSZ: it dies by it, mid-write, yet the old file is kept.
    if (r.signal === null && r.status !== 153) {
      assert.is(r.status, 2, r.stderr.toString());
      assert.match(r.stderr.toString(), /^tsprofile: cannot write .*report\.html: EFBIG\n$/);
      assert.equal(readdirSync(dir).sort(), ["report.html", "run.tsprof"], "no temporary file left");
    }
    assert.is(readFileSync(out, "utf8"), "the old report");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-o through a symlink replaces its target and keeps the link; -o /dev/stdout is written in place", () => {
  if (process.platform === "win32") return; // no /dev/stdout
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-cli-test-"));
  try {
    const saved = join(dir, "run.tsprof");
    assert.is(cli(["-o", saved, fixture("cli-work.ts")]).status, 0);
    const real = join(dir, "real.txt");
    writeFileSync(real, "old");
    symlinkSync(real, join(dir, "link.txt"));
    const r = cli(["--load", saved, "-o", join(dir, "link.txt")]);
    assert.is(r.status, 0, r.stderr);
    assert.ok(hasTextReport(readFileSync(real, "utf8")), "the target holds the report");
    assert.is(readlinkSync(join(dir, "link.txt")), real, "the link stays a link");
    // Through a real pipe: spawnSync's stdout is a socket, which /dev/stdout cannot open.
    const [command, args] = runOnThisRuntime(cliSource, ["--load", saved, "-o", "/dev/stdout"]);
    const out = spawnSync("sh", ["-c", '"$0" "$@" | cat', command, ...args], { cwd: root, env: ENV, timeout: TIMEOUT });
    assert.is(out.status, 0, out.stderr.toString());
    assert.ok(hasTextReport(out.stdout.toString()), out.stderr.toString());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-r json: pyinstrument's JSON shape", () => {
  const r = cli(["-r", "json", fixture("cli-work.ts")]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.toString(), "done true\n");
  const report = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
  for (const key of ["start_time", "duration", "sample_count", "cpu_time", "program", "root_frame"]) {
    assert.ok(key in report, `top-level ${key}`);
  }
  assert.match(report.program, /cli-work\.ts/);
  assert.ok(report.sample_count > 50, `sample_count ${report.sample_count}`);
  assert.ok(report.duration > 0.3, `duration ${report.duration}`);
  for (const f of walk(report.root_frame)) {
    for (
      const key of [
        "function",
        "file_path",
        "file_path_short",
        "line_no",
        "time",
        "await_time",
        "is_application_code",
        "children",
      ]
    ) {
      assert.ok(key in f, `frame has ${key}`);
    }
  }
  const a = [...walk(report.root_frame)].find((f) => f.function === "A");
  assert.ok(a, "A is in the tree");
  assert.match(a!.file_path, /cli-work\.ts$/);
  assert.ok(a!.is_application_code);
});

test("a .ts program's frames show their .ts file:line (source-mapped) in the text report", () => {
  const source = readFileSync(join(fixtures, "cli-work.ts"), "utf8").split("\n");
  const lineOf = (decl: string) => source.findIndex((l) => l.startsWith(decl)) + 1;
  const r = cli(["--no-color", fixture("cli-work.ts")]);
  assert.is(r.status, 0, r.stderr);
  for (const fn of ["A", "B", "parseWithAcorn"]) {
    const line = lineOf(`function ${fn}(`);
    assert.ok(line > 0);
    assert.match(
      r.stderr,
      new RegExp(`\\b${fn}\\b.*cli-work\\.ts:${line}\\b`),
      `${fn} at cli-work.ts:${line}\n${r.stderr}`,
    );
  }
});

test("--color / --no-color / --unicode / --no-unicode", () => {
  const colored = cli(["--color", fixture("cli-exit.ts")]);
  // deno-lint-ignore no-control-regex -- looks for the ESC of an ANSI colour sequence
  assert.match(colored.stderr, /\x1b\[/);
  const plainText = cli(["--color", "--no-color", fixture("cli-exit.ts")]);
  // deno-lint-ignore no-control-regex -- looks for the ESC of an ANSI colour sequence
  assert.not.match(plainText.stderr, /\x1b\[/, "the last of --color/--no-color wins");
  const unicode = cli(["--unicode", fixture("cli-work.ts")]);
  assert.match(unicode.stderr, /[├└│─]/);
  const ascii = cli(["--no-unicode", fixture("cli-work.ts")]);
  assert.not.match(ascii.stderr, /[├└│─]/);
  assert.match(ascii.stderr, /[|`]-/);
});

test("-p render options: time=percent_of_total, flat, short_mode", () => {
  const pct = cli(["-p", "time=percent_of_total", fixture("cli-work.ts")]);
  assert.is(pct.status, 0, pct.stderr);
  assert.match(pct.stderr, /\d+(\.\d+)?%/);
  const short = cli(["-p", "short_mode=true", fixture("cli-work.ts")]);
  assert.is(short.status, 0, short.stderr);
  assert.not.match(short.stderr, /Recorded:/);
  assert.match(short.stderr, /\bA\b/);
  const flat = cli(["-p", "flat", "--render-option=flat_time=total", fixture("cli-work.ts")]);
  assert.is(flat.status, 0, flat.stderr);
  assert.match(flat.stderr, /\bspin\b/);
});

function jsonReport(
  args: string[],
): { report: { sample_count: number; duration: number; root_frame: JsonFrame }; stdout: string } {
  const r = cli(["-r", "json", ...args]);
  assert.is(r.status, 0, r.stderr);
  return { report: JSON.parse(r.stderr.slice(r.stderr.indexOf("{"))), stdout: r.stdout.toString() };
}

const visibleNames = (root: JsonFrame) => new Set([...walk(root)].filter((f) => f.visible).map((f) => f.function));

test("-t/--timeline keeps calls in order: A, B, A stay apart", () => {
  // The calls in order, consecutive repeats merged (a [gc] sample may split one call into two nodes).
  const order = (root: JsonFrame) =>
    [...walk(root)]
      .filter((f) => f.function === "A" || f.function === "B")
      .map((f) => f.function)
      .filter((name, i, all) => i === 0 || all[i - 1] !== name);
  const nodesOfA = (root: JsonFrame) => [...walk(root)].filter((f) => f.function === "A").length;
  const aggregated = jsonReport([fixture("cli-work.ts")]).report.root_frame;
  assert.is(nodesOfA(aggregated), 1, "aggregated: one A node");
  const timeline = jsonReport(["--timeline", fixture("cli-work.ts")]).report.root_frame;
  assert.equal(order(timeline), ["A", "B", "A"]);
  assert.equal(order(jsonReport(["-t", fixture("cli-work.ts")]).report.root_frame), ["A", "B", "A"]);
});

test("--hide / --hide-regex fold a file's frames; --show / --show-regex bring library frames back; --show-all", () => {
  const base = visibleNames(jsonReport([fixture("cli-work.ts")]).report.root_frame);
  assert.ok(base.has("helperInner"), "local code is shown by default");
  // acorn's frames, by file: their names differ by runtime.
  const isAcorn = (f: JsonFrame) => /node_modules\/acorn\//.test(f.file_path);
  const acornFrames = (root: JsonFrame) => [...walk(root)].filter((f) => f.visible && isAcorn(f));
  // By default only a group's root shows, with "[N frames hidden]" under it: no visible acorn frame has an acorn
  // frame as its parent. (There may be more than one group: on Bun, `parse` tail-calls `Parser.parse`, so a
  // sample's outermost acorn frame is either one.)
  const nestedAcorn = [...walk(jsonReport([fixture("cli-work.ts")]).report.root_frame)].filter(
    (f) => isAcorn(f) && f.children.some((c) => c.visible && isAcorn(c)),
  );
  assert.is(nestedAcorn.length, 0, `acorn is folded by default: ${nestedAcorn.map((f) => f.function).join(", ")}`);
  const hidden = visibleNames(jsonReport(["--hide", "*/cli-helper.ts", fixture("cli-work.ts")]).report.root_frame);
  assert.not.ok(hidden.has("helperMiddle"), "--hide folds the helper");
  const hiddenRe = visibleNames(
    jsonReport(["--hide-regex", "cli-helper\\.ts$", fixture("cli-work.ts")]).report.root_frame,
  );
  assert.not.ok(hiddenRe.has("helperMiddle"), "--hide-regex folds the helper");
  const shown = jsonReport(["--show", "*/node_modules/acorn/*", fixture("cli-work.ts")]).report.root_frame;
  assert.ok(acornFrames(shown).length > 1, `--show brings acorn back: ${[...visibleNames(shown)].join(", ")}`);
  const shownRe = jsonReport(["--show-regex", "acorn", fixture("cli-work.ts")]).report.root_frame;
  assert.ok(acornFrames(shownRe).length > 1, "--show-regex brings acorn back");
  const all = jsonReport(["--show-all", fixture("cli-work.ts")]).report.root_frame;
  assert.ok(acornFrames(all).length > 1, "--show-all shows library frames");
  assert.ok([...walk(all)].length > [...walk(jsonReport([fixture("cli-work.ts")]).report.root_frame)].length);
});

test("-i sets the sampling interval", () => {
  const rate = (args: string[]) => {
    const { report } = jsonReport([...args, fixture("cli-work.ts")]);
    return report.sample_count / report.duration;
  };
  const slow = rate(["-i", "0.01"]);
  const fast = rate(["--interval=0.0002"]);
  assert.ok(slow < 150, `at 10 ms: ${slow.toFixed(0)} samples/s`);
  assert.ok(fast > 4 * slow, `at 200 us: ${fast.toFixed(0)} samples/s vs ${slow.toFixed(0)} at 10 ms`);
});

/**
 * A known split through the CLI: `a` spins 7 ms, `b` 3 ms, 300 times. Both shares within 3 points of what the
 * program measured, and A's of 70%. On a busy machine a spin that is preempted near its end overshoots, and the
 * program's own measurement drifts from 70/30 too; then the fixture did not run the split it meant to, so it
 * runs again (at most 3 times).
 */
function knownSplit(file: string, a: string, b: string): { A: number; B: number; env?: string[] } {
  let share = 0;
  let trueShare = 0;
  let truth = { A: 0, B: 0 };
  for (let attempt = 1; attempt <= 3; attempt++) {
    const { report, stdout } = jsonReport([fixture(file)]);
    truth = JSON.parse(stdout);
    const ta = timeOf(report.root_frame, a);
    const tb = timeOf(report.root_frame, b);
    share = (100 * ta) / (ta + tb);
    trueShare = (100 * truth.A) / (truth.A + truth.B);
    console.log(
      `    ${file} (attempt ${attempt}): profile ${a} ${share.toFixed(2)}% ${b} ${(100 - share).toFixed(2)}% ` +
        `(${a} ${(ta * 1000).toFixed(0)} ms, ${b} ${(tb * 1000).toFixed(0)} ms); measured ${a} ${
          trueShare.toFixed(2)
        }%`,
    );
    if (Math.abs(trueShare - 70) <= 1.5) break;
  }
  assert.ok(Math.abs(share - trueShare) <= 3, `${a}'s share ${share.toFixed(2)}% vs measured ${trueShare.toFixed(2)}%`);
  // A loaded machine stretches the program's own spins too: 70% is what to expect only when it measured about that.
  if (Math.abs(trueShare - 70) <= 1.5) {
    assert.ok(
      Math.abs(share - 70) <= 3,
      `${a}'s share ${share.toFixed(2)}% vs 70% (measured ${trueShare.toFixed(2)}%)`,
    );
  }
  return truth;
}

test("the known split: A spins 7 ms, B 3 ms, 300 times -> 70/30 within 3 points", () => {
  knownSplit("cli-split.ts", "A", "B");
});

test("the known split through tail calls (a() { return spin(7) }): the callers keep their frames, on Bun too", () => {
  // JavaScriptCore's proper tail calls would drop a and b from Bun's stacks (0% each); the CLI turns them off
  // for the program and leaves none of its own settings in the program's environment.
  const { env } = knownSplit("tail-split.ts", "a", "b");
  const own = Object.entries(ENV)
    .filter(([k, v]) => v !== undefined && (k.startsWith("BUN_JSC_") || k.startsWith("TSPROFILE_")))
    .map(([k]) => k);
  assert.equal(env?.sort(), own.sort(), "the program's BUN_JSC_ and TSPROFILE_ variables are the caller's");
});

// ---- the bundle ----

/** dist/ is rebuilt when missing or older than any source it is built from. */
function ensureBundle() {
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((
        e,
      ) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)),
    );
  if (existsSync(cliBundle) && existsSync(join(root, "dist", "preload.mjs"))) {
    const built = statSync(cliBundle).mtimeMs;
    if (built >= Math.max(...["session", "src", "runtimes", "wasm"].map((d) => newest(join(root, d))))) return;
  }
  const r = spawnSync(...runOnThisRuntime(join(root, "scripts", "bundle.mjs")), {
    cwd: root,
    encoding: "utf8",
    timeout: TIMEOUT,
  });
  assert.is(r.status, 0, `bundle.mjs: ${r.stderr}`);
}

test("dist/cli.js (the npm bin) profiles a .ts program", () => {
  ensureBundle();
  const r = finish(
    spawnSync(...runOnThisRuntime(cliBundle, ["-r", "json", fixture("cli-work.ts"), "x"]), {
      cwd: root,
      env: ENV,
      timeout: TIMEOUT,
      input: "",
    }),
  );
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.toString(), "done true\n");
  const report = JSON.parse(r.stderr.slice(r.stderr.indexOf("{")));
  const a = [...walk(report.root_frame)].find((f: JsonFrame) => f.function === "A");
  assert.ok(a && /cli-work\.ts$/.test(a.file_path), "A from cli-work.ts");
  const help = finish(
    spawnSync(...runOnThisRuntime(cliBundle, ["--bogus"]), { cwd: root, env: ENV, timeout: TIMEOUT }),
  );
  assert.is(help.status, 2);
});

test("a script with an extension Node's module loader does not know (t.exe) runs as the runtime runs it", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-cli-test-"));
  try {
    const script = join(dir, "t.exe");
    writeFileSync(
      script,
      'const main = typeof require === "undefined" ? "esm" : String(require.main === module);\n' +
        'console.log("ran", main, process.argv.slice(2).join(" "));\n' +
        "const t = Date.now();\nwhile (Date.now() - t < 50);\nprocess.exitCode = 4;\n",
    );
    // The runtime itself, without tsprofile (and without our TypeScript loader on Node).
    const direct = spawnSync(process.execPath, [...(runtime === "deno" ? ["run", "-A"] : []), script, "a", "-b"], {
      cwd: root,
      env: ENV,
      timeout: TIMEOUT,
    });
    assert.is(direct.status, 4, direct.stderr.toString());
    const r = cli([script, "a", "-b"]);
    assert.is(r.status, 4, r.stderr);
    assert.is(r.stdout.toString(), direct.stdout.toString());
    assert.match(r.stdout.toString(), /^ran (true|esm) a -b\n$/);
    assert.ok(hasTextReport(r.stderr), r.stderr);
    assert.match(r.stderr, /<module>\s+\S*t\.exe:1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("-c CODE runs the code with the arguments after it; its output and exit code pass through", () => {
  const code = "function spinInCode() { const e = performance.now() + 80; while (performance.now() < e); } " +
    "spinInCode(); console.log(JSON.stringify(process.argv.slice(-2))); process.exitCode = 4;";
  const r = cli(["-r", "json", "-c", code, "one", "two"]);
  assert.is(r.status, 4, r.stderr);
  assert.is(r.stdout.toString().trim(), '["one","two"]');
  const report = JSON.parse(r.stderr);
  assert.ok(visibleNames(report.root_frame).has("spinInCode"));
  assert.match(report.program, /^-c '/);
  assertUsageError(cli(["-c", "1", "--from-path", "x"]), /-c and --from-path/);
  assertUsageError(cli(["--load-prev", "-c", "1"]), /-c runs a program/);
});

test("--from-path runs a program from the nearest node_modules/.bin, then PATH", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-from-path-"));
  try {
    mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
    mkdirSync(join(dir, "node_modules", "mytool"));
    const tool = join(dir, "node_modules", "mytool", "cli.mjs");
    writeFileSync(
      tool,
      "#!/usr/bin/env node\nfunction spinInTool() { const e = performance.now() + 80; while (performance.now() < e); }\nspinInTool();\nconsole.log(process.argv.slice(2).join(' '));\n",
    );
    symlinkSync(tool, join(dir, "node_modules", ".bin", "mytool"));
    const run = (args: string[]) =>
      finish(
        spawnSync(...runOnThisRuntime(cliSource, args), { cwd: join(dir, "node_modules"), env: ENV, timeout: TIMEOUT }),
      );
    const r = run(["-r", "json", "--from-path", "mytool", "a", "--flag"]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.toString().trim(), "a --flag");
    // (Its frames are in node_modules: library code, folded unless --show; there, but maybe not visible.)
    assert.ok([...walk(JSON.parse(r.stderr).root_frame)].some((f) => f.function === "spinInTool"), r.stderr);
    assertUsageError(run(["--from-path", "no-such-tool-anywhere"]), /no program 'no-such-tool-anywhere'/);
    assertUsageError(run(["--from-path", "./mytool"]), /a program's name, not a path/);
    assertUsageError(run(["--from-path", "sh"]), /not a JavaScript program/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
