// --load and --load-prev end to end: real .cpuprofile files from `node --cpu-prof`, `deno run --cpu-prof` and
// `bun --cpu-prof` (made here with the test runtimes) rendered by the CLI started on the runtime under test;
// .tsprof round trips through -o; usage and file errors are one line and exit 2.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, gunzipSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeProfileFile, loadProfileFile } from "../src/profile-file.ts";
import { encodeSession, SessionError } from "../session/session.ts";
import { randomSession } from "./session-helpers.ts";
import { root, runOnThisRuntime, runtime } from "./runtime-helpers.ts";

const cliSource = join(root, "src", "cli", "main.ts");
const work = join(root, "test", "fixtures", "load-work.js");
const bin = (name: string) => join(root, "test", "runtimes", "node_modules", ".bin", name);
const dir = mkdtempSync(join(tmpdir(), "tsprofile-load-"));
const cache = join(dir, "cache");
const ENV = {
  ...process.env,
  NO_COLOR: "1",
  FORCE_COLOR: undefined,
  LANG: "C.UTF-8",
  LC_ALL: undefined,
  XDG_CACHE_HOME: cache,
};

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = ENV): Run {
  const r = spawnSync(...runOnThisRuntime(cliSource, args), { cwd: root, env, timeout: 60_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

/** Runs `command args... work.js` with --cpu-prof into its own folder; returns the .cpuprofile's path. */
function cpuProfile(name: string, command: string, args: string[]): string {
  const out = join(dir, name);
  mkdirSync(out);
  const r = spawnSync(command, [...args, "--cpu-prof", "--cpu-prof-dir", out, work], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
  });
  assert.is(r.status, 0, `${name}: ${r.error ?? r.stderr}`);
  const files = readdirSync(out).filter((f) => f.endsWith(".cpuprofile"));
  assert.is(files.length, 1, `${name}: ${files}`);
  return join(out, files[0]);
}

function oneLineError(r: Run, pattern: RegExp): void {
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stdout.length, 0);
  const lines = r.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], /^tsprofile: /);
  assert.match(lines[0], pattern);
}

const profiles: Record<string, string> = {};

test.before(() => {
  // node: the machine's Node 20 (or this one when the test runs on Node); node 24, deno and bun from test/runtimes.
  profiles.node = cpuProfile("node", runtime === "node" ? process.execPath : "node", []);
  profiles.node24 = cpuProfile("node24", bin("node"), []);
  // `deno run --cpu-prof` (not in `deno run --help`, but accepted, with --cpu-prof-dir).
  profiles.deno = cpuProfile("deno", bin("deno"), ["run", "-A"]);
  profiles.bun = cpuProfile("bun", bin("bun"), []);
});

for (const name of ["node", "node24", "deno", "bun"]) {
  test(`--load a ${name} --cpu-prof profile: the tree of its functions`, () => {
    const r = cli(["--load", profiles[name]]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, "");
    const text = r.stdout.toString("utf8");
    assert.match(text, /Samples:/);
    assert.match(text, /main\s+test\/fixtures\/load-work\.js:\d+/);
    assert.match(text, /spin\s+test\/fixtures\/load-work\.js:\d+/);
    assert.match(text, new RegExp(`${name.replace(/\d+$/, "")} \\(\\.cpuprofile\\)`));
    // Runtime internals are removed (node:internal, ext:core frames) by the processors.
    assert.not.match(text, /node:internal|ext:core/);
    // alpha spins twice as long as beta: the shares show it (loosely; the profile is real). JavaScriptCore
    // inlines both into main (Bun's profile has main -> spin), so there only main and spin are asked for.
    if (name === "bun") return void assert.match(text, /\[idle\]/);
    const secs = (fn: string) =>
      [...text.matchAll(new RegExp(`([\\d.]+) ${fn}\\s`, "g"))].reduce((a, m) => a + Number(m[1]), 0);
    assert.ok(secs("alpha") > secs("beta") * 1.3, `alpha ${secs("alpha")} beta ${secs("beta")}`);
    // Waiting is not credited to JS: Bun takes no samples while waiting, the gap rule makes it idle.
    assert.match(text, /\[idle\]/);
  });
}

test("--load: V8's (idle)/(program) nodes say idle is sampled, so a gap between running samples is not [idle]", () => {
  for (const name of ["node", "node24", "deno", "bun"]) {
    assert.is(loadProfileFile(profiles[name]).meta.idleSampled, name !== "bun", `${name}: meta.idleSampled`);
  }
  // A compile that never waits, profiled by V8 on a loaded machine: main sampled every 1 ms for 0.4 s, but for
  // one 164 ms silence (a starved sampler). No (idle) sample at all, as in the issue's `node --cpu-prof` of tsc.
  const callFrame = (functionName: string, url = "") => ({
    functionName,
    scriptId: url ? "1" : "0",
    url,
    lineNumber: url ? 0 : -1,
    columnNumber: url ? 0 : -1,
  });
  const profile = (special: string[]) => {
    const nodes = [
      { id: 1, callFrame: callFrame("(root)"), children: [2] },
      { id: 2, callFrame: callFrame("main", "file:///app/tsc.js") },
      ...special.map((name, i) => ({ id: 3 + i, callFrame: callFrame(name) })),
    ];
    nodes[0].children!.push(...special.map((_, i) => 3 + i));
    const deltas = Array.from({ length: 400 }, (_, i) => (i === 200 ? 164_000 : 1000));
    const file = join(dir, `starved-${special.length}.cpuprofile`);
    const samples = deltas.map(() => 2);
    writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: 564_000, samples, timeDeltas: deltas }));
    const r = cli(["--load", file, "-r", "json"]);
    assert.is(r.status, 0, r.stderr);
    type Frame = { function: string; time: number; children: unknown[] };
    const frames: Frame[] = [JSON.parse(r.stdout.toString()).root_frame];
    let idle = 0;
    for (let f = frames.pop(); f; f = frames.pop()) {
      if (f.function === "[idle]") idle += f.time;
      frames.push(...(f.children as typeof frames));
    }
    return idle;
  };
  assert.is(profile(["(program)", "(garbage collector)"]), 0, "V8: no [idle]");
  // Without V8's nodes the file reads as Bun's (no idle samples): the silence is idle, past Bun's cap of 3 ms.
  assert.ok(Math.abs(profile([]) - 0.161) < 0.002, `JSC: ${profile([])} s of [idle]`);
});

test("-o picks the renderer from the extension; .tsprof loads back to the same report", () => {
  const p = profiles.node24;
  const speedscope = join(dir, "x.speedscope.json");
  assert.is(cli(["--load", p, "-o", speedscope]).status, 0);
  assert.is(JSON.parse(readFileSync(speedscope, "utf8")).$schema, "https://www.speedscope.app/file-format-schema.json");
  const collapsed = join(dir, "x.collapsed");
  assert.is(cli(["--load", p, "-o", collapsed]).status, 0);
  assert.match(readFileSync(collapsed, "utf8"), /;spin \(test\/fixtures\/load-work\.js:\d+\) \d+$/m);
  const pprof = join(dir, "x.pb.gz");
  assert.is(cli(["--load", p, "-o", pprof]).status, 0);
  assert.is(readFileSync(pprof)[0], 0x1f);
  const chrome = join(dir, "x.cpuprofile");
  assert.is(cli(["--load", p, "-o", chrome]).status, 0);
  assert.ok(JSON.parse(readFileSync(chrome, "utf8")).nodes.length > 2);
  const saved = join(dir, "x.tsprof");
  assert.is(cli(["--load", p, "-o", saved]).status, 0);
  assert.equal([...readFileSync(saved).subarray(0, 6)], [...Buffer.from("TSPROF")]);
  // The same session: the same report (the .cpuprofile's recorded time comes from its mtime, kept in the session).
  const direct = cli(["--load", p]).stdout.toString("utf8");
  assert.is(cli(["--load", saved]).stdout.toString("utf8"), direct);
  // A renamed file is still recognised by content.
  const renamed = join(dir, "profile.data");
  copyFileSync(chrome, renamed);
  assert.is(cli(["--load", renamed]).status, 0);
  // -r wins over the extension.
  const forced = join(dir, "forced.json");
  assert.is(cli(["--load", p, "-r", "collapsed", "-o", forced]).status, 0);
  assert.match(readFileSync(forced, "utf8"), /^\S.* \d+$/m);
});

test("a run's own .cpuprofile of a TypeScript program loads back with its positions and its runtime", () => {
  // Its positions are the .ts file's already: mapped again through the transpiled code's map they moved.
  const program = join(root, "test", "fixtures", "cli-split.ts");
  const out = join(dir, "own.cpuprofile");
  const json = join(dir, "own.json");
  const env = { ...ENV, XDG_CACHE_HOME: join(dir, "own-cache") }; // runs of its own: --load-prev's test keeps its cache
  assert.is(cli(["-o", out, program, "30"], env).status, 0);
  assert.is(cli(["-o", json, "-p", "filter_threshold=0", program, "30"], env).status, 0);
  const lines = (text: string) => {
    const found = new Map<string, number>();
    const walk = (f: { function: string; line_no: number; children: unknown[] }) => {
      if (f.function === "A" || f.function === "B") found.set(f.function, f.line_no);
      for (const c of f.children) walk(c as typeof f);
    };
    walk(JSON.parse(text).root_frame);
    return [...found.entries()].sort();
  };
  const loaded = cli(["--load", out, "-r", "json", "-p", "filter_threshold=0"]);
  assert.is(loaded.status, 0, loaded.stderr);
  assert.equal(lines(loaded.stdout.toString()), lines(readFileSync(json, "utf8")));
  assert.equal(lines(loaded.stdout.toString()).map(([name]) => name), ["A", "B"]);
  assert.match(loaded.stdout.toString(), /"runtime": ?"(node|deno|bun) [^"]*\(\.cpuprofile\)"/);
});

test("binary formats: to a pipe with --load; never to stderr in a run", () => {
  const r = cli(["--load", profiles.node24, "-r", "pprof"]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(gunzipSync(r.stdout).length > 0);
  oneLineError(cli(["-r", "pprof", work]), /pprof format is binary: write it to a file with -o FILE/);
});

test("usage and file errors: one line, exit 2", () => {
  oneLineError(cli(["--load", profiles.node24, work]), /--load renders a saved profile: give no script/);
  oneLineError(cli(["--load", join(dir, "nope.cpuprofile")]), /nope\.cpuprofile: cannot read \(ENOENT\)/);
  const junk = join(dir, "junk.tsprof");
  writeFileSync(junk, "TSPROF\u0000\u0002garbage");
  oneLineError(cli(["--load", junk]), /junk\.tsprof: /);
  const text = join(dir, "notes.txt");
  writeFileSync(text, "hello");
  oneLineError(cli(["--load", text]), /notes\.txt: not a tsprofile session or a \.cpuprofile/);
  const json = join(dir, "other.json");
  writeFileSync(json, JSON.stringify({ nodes: [{ id: 1 }] }));
  oneLineError(cli(["--load", json]), /other\.json: node 0 has no callFrame/);
  oneLineError(cli(["--load", profiles.node24, "--load-prev"]), /give one of them/);
  oneLineError(cli(["--load", profiles.node24, "-r", "nope"]), /unknown renderer 'nope'/);
});

test("a 200,000-deep .cpuprofile loads and its text report stays linear in its nodes", () => {
  const depth = 200_000;
  const frame = (functionName: string, url: string, line: number) => ({
    functionName,
    scriptId: "1",
    url,
    lineNumber: line,
    columnNumber: 0,
  });
  const nodes = [{ id: 1, callFrame: frame("(root)", "", -1), children: [2] }];
  for (let i = 0; i < depth; i++) {
    nodes.push({ id: i + 2, callFrame: frame("rec", "file:///app/rec.js", 0), children: i + 1 < depth ? [i + 3] : [] });
  }
  const file = join(dir, "deep.cpuprofile");
  const last = depth + 1;
  writeFileSync(
    file,
    JSON.stringify({ nodes, startTime: 0, endTime: 3000, samples: [last, last], timeDeltas: [0, 1000] }),
  );
  const r = spawnSync(...runOnThisRuntime(cliSource, ["--load", file]), {
    cwd: root,
    env: ENV,
    timeout: 120_000,
    maxBuffer: 256 << 20,
  });
  assert.is(r.status, 0, r.stderr.toString());
  const lines = r.stdout.toString().trimEnd().split("\n");
  assert.ok(lines.filter((l) => l.includes("rec  /app/rec.js:1")).length === depth, "every frame has its row");
  assert.ok(r.stdout.length < depth * 200, `${r.stdout.length} bytes for ${depth} rows`);
});

test("a decompression bomb (a small .tsprof claiming a huge body) is refused before it is inflated", () => {
  const varint = (x: number) => {
    const out: number[] = [];
    for (; x >= 0x80; x = Math.floor(x / 0x80)) out.push((x % 0x80) | 0x80);
    return [...out, x];
  };
  const bomb = (body: Uint8Array) => {
    const payload = deflateSync(body, { level: 9 });
    const head = [...new TextEncoder().encode("TSPROF\u0000"), 2, 1, ...varint(body.length), ...varint(payload.length)];
    return Uint8Array.from([...head, ...payload]);
  };
  // 256 MB of zeros deflate to 250 kB; and 256 MB behind a valid header that holds two samples.
  const zeros = new Uint8Array(256 << 20);
  const json = new TextEncoder().encode(JSON.stringify(JSON.parse(new TextDecoder().decode(headerOf(small())))));
  const junk = bomb(zeros);
  zeros.set([...varint(json.length), ...json]);
  const behindHeader = bomb(zeros);
  for (const [label, bytes, why] of [["junk", junk, /corrupt header/], ["valid header", behindHeader, /body length/]]) {
    const rss = process.memoryUsage().rss;
    try {
      decodeProfileFile(bytes as Uint8Array, "bomb.tsprof");
      assert.unreachable(`${label}: loaded`);
    } catch (err) {
      assert.instance(err, SessionError, String(err));
      assert.match((err as Error).message, why as RegExp);
    }
    const grew = (process.memoryUsage().rss - rss) / 2 ** 20;
    assert.ok(grew < 100, `${label}: grew by ${grew.toFixed(0)} MB`);
  }
  // A real body of several MB still loads.
  const big = randomSession(300_000, 9, 20, 20_000);
  assert.is(decodeProfileFile(encodeSession(big), "big.tsprof").samples.stack.length, 300_000);
});

/** A small session's body header (uncompressed .tsprof: magic, version, flags, body length, header length). */
function small(): Uint8Array {
  return encodeSession(randomSession(2, 3, 3, 3), { compress: false });
}
function headerOf(file: Uint8Array): Uint8Array {
  let at = 9;
  while (file[at] >= 0x80) at++;
  at++;
  let length = 0;
  for (let scale = 1;; scale *= 128) {
    const v = file[at++];
    length += (v & 0x7f) * scale;
    if (v < 0x80) break;
  }
  return file.subarray(at, at + length);
}

test("--load-prev: the last run's session from the cache folder", () => {
  oneLineError(cli(["--load-prev"]), /--load-prev: no previous session/);
  // Put a session where a run keeps it ($XDG_CACHE_HOME/tsprofile/last.tsprof), as a run would.
  const saved = join(dir, "prev.tsprof");
  assert.is(cli(["--load", profiles.bun, "-o", saved]).status, 0);
  mkdirSync(join(cache, "tsprofile"), { recursive: true });
  copyFileSync(saved, join(cache, "tsprofile", "last.tsprof"));
  const r = cli(["--load-prev"]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout.toString("utf8"), /spin/);
  oneLineError(cli(["--load-prev", work]), /--load-prev renders a saved profile: give no script/);
});

test("a profiled run keeps its session for --load-prev (and a read-only cache does not fail the run)", () => {
  const spin = work;
  const fresh = join(dir, "cache2");
  const env = { ...ENV, XDG_CACHE_HOME: fresh };
  const run = cli(["-o", join(dir, "run.txt"), spin], env);
  assert.is(run.status, 0, run.stderr);
  assert.ok(existsSync(join(fresh, "tsprofile", "last.tsprof")));
  const again = cli(["--load-prev"], env);
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stdout.toString("utf8"), /load-work\.js/);
  // A cache folder that cannot be made: the run still succeeds.
  writeFileSync(join(dir, "file-not-dir"), "");
  const blocked = cli(["-o", join(dir, "run2.txt"), spin], { ...ENV, XDG_CACHE_HOME: join(dir, "file-not-dir") });
  assert.is(blocked.status, 0, blocked.stderr);
  assert.is(blocked.stderr, `tsprofile: report written to ${join(dir, "run2.txt")}\n`, "no word about the cache");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
