// Hostile files: valid .tsprof (deflated and not) and .cpuprofile files mutated (bit flips, byte writes,
// truncations, splices, huge varints, wrong types and huge numbers in the JSON). Each case must end in a clean
// SessionError (one line naming the file) or a valid session, which then renders through the wasm core and
// every writer without a trap. Seeded: a failure prints its case number and reproduces.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeProfileFile, loadProfileFile } from "../src/profile-file.ts";
import { renderSessionOutput } from "../src/report.ts";
import { encodeSession, SessionError } from "../session/session.ts";
import type { Session } from "../session/types.ts";
import { randomSession, rng } from "./session-helpers.ts";

const NAME = "fuzz/case.bin";
const identity = { map: (file: string, line: number, col: number) => ({ file, line, col }) };
const rnd = rng(20240601);
const int = (n: number) => Math.floor(rnd() * n);

interface Outcome {
  ok: number;
  refused: number;
  slowest: number;
}

/** Loads, and when that works renders; anything but a SessionError is a failure. */
function check(bytes: Uint8Array, label: string, out: Outcome, renderAll: boolean): void {
  const started = performance.now();
  let session: Session | undefined;
  try {
    session = decodeProfileFile(bytes, NAME, { mapper: identity, mtime: 0 });
  } catch (err) {
    if (!(err instanceof SessionError)) {
      assert.unreachable(`${label}: not a SessionError: ${(err as Error)?.stack ?? err}`);
    }
    const message = (err as Error).message;
    assert.ok(message.startsWith(`${NAME}: `) && !message.includes("\n"), `${label}: ${message}`);
    out.refused++;
  }
  if (session) {
    try {
      renderSessionOutput(session, { renderer: "text", color: false });
      if (renderAll) {
        for (const r of ["json", "collapsed", "speedscope", "cpuprofile", "pprof", "tsprof"]) {
          renderSessionOutput(session, { renderer: r });
        }
      }
      renderSessionOutput(session, { renderer: "text", color: false, timeline: true, showAll: true });
    } catch (err) {
      assert.unreachable(`${label}: a loaded session failed to render: ${(err as Error)?.stack ?? err}`);
    }
    out.ok++;
  }
  const took = performance.now() - started;
  out.slowest = Math.max(out.slowest, took);
  assert.ok(took < 1000, `${label}: took ${took.toFixed(0)} ms`);
}

function mutateBytes(base: Uint8Array): Uint8Array {
  const b = Uint8Array.from(base);
  switch (int(6)) {
    case 0: // bit flips
      for (let k = 1 + int(3); k > 0; k--) b[int(b.length)] ^= 1 << int(8);
      return b;
    case 1: // random bytes
      for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] = int(256);
      return b;
    case 2: // truncation
      return b.subarray(0, int(b.length));
    case 3: {
      // splice: a chunk of the file copied over another place, or inserted
      const from = int(b.length);
      const len = 1 + int(32);
      const chunk = b.slice(from, from + len);
      const at = int(b.length);
      if (rnd() < 0.5) {
        b.set(chunk.subarray(0, b.length - at), at);
        return b;
      }
      const out = new Uint8Array(b.length + chunk.length);
      out.set(b.subarray(0, at));
      out.set(chunk, at);
      out.set(b.subarray(at), at + chunk.length);
      return out;
    }
    case 4: {
      // a huge varint (0xff... then 0x01) written somewhere
      const at = int(b.length);
      for (let k = 0; k < 9 && at + k < b.length; k++) b[at + k] = k < 8 ? 0xff : 0x01;
      return b;
    }
    default: {
      // a deletion
      const len = Math.min(1 + int(16), b.length);
      const at = int(b.length - len + 1);
      const out = new Uint8Array(b.length - len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + len), at);
      return out;
    }
  }
}

const HOSTILE: unknown[] = [
  null,
  -1,
  -1e308,
  1e308,
  2 ** 53 + 2,
  0.5,
  NaN,
  "x",
  "",
  true,
  [],
  {},
  [1, 2],
  { id: 1 },
  4294967295,
  -2147483649,
];

/** A structural JSON mutation: some value somewhere replaced, deleted or blown up. */
function mutateJson(value: unknown): unknown {
  const copy = structuredClone(value);
  // Pick a random container (a JSON object or array) on a random walk down.
  let holder = copy as Record<string | number, unknown>;
  let key: string | number | undefined;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Array.isArray(holder) ? holder.map((_: unknown, i: number) => i) : Object.keys(holder);
    if (keys.length === 0) break;
    key = keys[int(keys.length)];
    const next = holder[key!];
    if (next === null || typeof next !== "object" || rnd() < 0.3) break;
    holder = next as Record<string | number, unknown>;
  }
  if (key === undefined) return copy;
  const r = rnd();
  if (r < 0.6) holder[key] = HOSTILE[int(HOSTILE.length)];
  else if (r < 0.75 && !Array.isArray(holder)) delete holder[key];
  else if (r < 0.85 && typeof holder[key] === "number") {
    holder[key] = (holder[key] as number) * (rnd() < 0.5 ? -1 : 1e12);
  } else if (Array.isArray(holder)) holder.push(holder[int(holder.length)] ?? 0);
  else holder[key] = [holder[key], holder[key]];
  return copy;
}

// ---- the .tsprof header JSON, rewritten inside an undeflated file ----
function readVarint(b: Uint8Array, at: number): [number, number] {
  let x = 0;
  let scale = 1;
  for (;;) {
    const v = b[at++];
    x += (v & 0x7f) * scale;
    if (v < 0x80) return [x, at];
    scale *= 128;
  }
}
function varint(x: number): number[] {
  const out: number[] = [];
  while (x >= 0x80) {
    out.push((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  out.push(x);
  return out;
}
function splitPlain(file: Uint8Array): { header: unknown; tables: Uint8Array } {
  let [, at] = readVarint(file, 9);
  const [headerLength, after] = readVarint(file, at);
  at = after;
  return {
    header: JSON.parse(new TextDecoder().decode(file.subarray(at, at + headerLength))),
    tables: file.subarray(at + headerLength),
  };
}
function joinPlain(header: unknown, tables: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const body = [...varint(h.length), ...h, ...tables];
  return Uint8Array.from([...new TextEncoder().encode("TSPROF\u0000"), 2, 0, ...varint(body.length), ...body]);
}

const bases = [
  randomSession(40, 1, 6, 30),
  randomSession(120, 2, 12, 80),
  randomSession(0, 3),
  randomSession(8, 4, 3, 5),
];
const tsprofPlain = bases.map((s) => encodeSession(s, { compress: false }));
const tsprofPacked = bases.map((s) => encodeSession(s));
const cpuprofiles = bases.map((s) =>
  JSON.parse(renderSessionOutput(s, { renderer: "cpuprofile", showAll: true }) as string)
);
// Bun's shape: epoch-microsecond startTime, no (idle) node.
type ProfileNode = { id: number; callFrame: { functionName: string } };
const bunShape = structuredClone(cpuprofiles[1]);
bunShape.startTime += 1.7e15;
bunShape.endTime += 1.7e15;
bunShape.nodes = bunShape.nodes.filter((n: ProfileNode) => n.callFrame.functionName !== "(idle)");
const known = new Set(bunShape.nodes.map((n: ProfileNode) => n.id));
for (const n of bunShape.nodes) n.children = n.children.filter((c: number) => known.has(c));
bunShape.samples = bunShape.samples.map((id: number) => (known.has(id) ? id : 1));
cpuprofiles.push(bunShape);

const totals: Outcome = { ok: 0, refused: 0, slowest: 0 };
let cases = 0;

test("the unmutated bases load and render", () => {
  for (const b of [...tsprofPlain, ...tsprofPacked]) check(b, "base", totals, true);
  for (const p of cpuprofiles) check(new TextEncoder().encode(JSON.stringify(p)), "base", totals, true);
  assert.is(totals.refused, 0);
});

test("mutated .tsprof bytes (undeflated and deflated)", () => {
  for (let i = 0; i < 5000; i++, cases++) {
    const base = rnd() < 0.75 ? tsprofPlain[int(tsprofPlain.length)] : tsprofPacked[int(tsprofPacked.length)];
    check(mutateBytes(base), `tsprof byte case ${i}`, totals, i % 50 === 0);
  }
});

test("mutated .tsprof headers (wrong types, huge numbers, missing fields)", () => {
  for (let i = 0; i < 2000; i++, cases++) {
    const { header, tables } = splitPlain(tsprofPlain[int(tsprofPlain.length)]);
    check(joinPlain(mutateJson(header), tables), `tsprof header case ${i}`, totals, i % 50 === 0);
  }
});

test("mutated .cpuprofile JSON and bytes", () => {
  for (let i = 0; i < 4000; i++, cases++) {
    const base = cpuprofiles[int(cpuprofiles.length)];
    let json = base;
    for (let k = 1 + int(3); k > 0; k--) json = mutateJson(json);
    let bytes: Uint8Array = new TextEncoder().encode(JSON.stringify(json));
    if (i % 4 === 3) bytes = mutateBytes(new TextEncoder().encode(JSON.stringify(base)));
    check(bytes, `cpuprofile case ${i}`, totals, i % 50 === 0);
  }
});

test("hostile shapes: deep nesting, a cycle, huge ids, empty files", () => {
  const deep = new TextEncoder().encode("[".repeat(200_000) + "]".repeat(200_000));
  check(deep, "deep array", totals, false);
  check(new TextEncoder().encode("{" + '"a":{'.repeat(100_000) + "}".repeat(100_001)), "deep object", totals, false);
  const cyc = structuredClone(cpuprofiles[0]);
  cyc.nodes[1].children = [...cyc.nodes[1].children, 1, 2];
  check(new TextEncoder().encode(JSON.stringify(cyc)), "cycle", totals, true);
  const big = structuredClone(cpuprofiles[0]);
  big.nodes[1].id = 2 ** 52;
  check(new TextEncoder().encode(JSON.stringify(big)), "huge id", totals, true);
  for (const b of [new Uint8Array(0), new TextEncoder().encode("{}"), new TextEncoder().encode("TSPROF\u0000")]) {
    check(b, "tiny", totals, false);
  }
  cases += 6;
});

// A profile names files by its frames' urls, and a script names its map: either may be a device (an endless read)
// or a FIFO (an open that waits for a writer for good). Each case loads (or is refused) promptly, in bounded memory.
test("devices and FIFOs named by a profile or by a script's map comment: bounded time and memory", () => {
  if (process.platform === "win32") return;
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-fuzz-devices-"));
  try {
    const fifo = join(dir, "fifo");
    const hasFifo = spawnSync("mkfifo", [fifo]).status === 0;
    const folder = join(dir, "folder");
    mkdirSync(folder);
    const targets = ["/dev/zero", "/dev/urandom", folder, ...(hasFifo ? [fifo] : [])];
    const urls: string[] = [...targets, "file:///dev/zero", ...(hasFifo ? [`file://${fifo}`] : [])];
    targets.forEach((target, i) => {
      const js = join(dir, `named-${i}.js`);
      writeFileSync(js, `function f() {\n  return 1;\n}\n//# sourceMappingURL=${target}\n`);
      urls.push(js);
    });
    for (const url of urls) {
      const profile = structuredClone(cpuprofiles[0]);
      for (const node of profile.nodes) if (node.callFrame.url !== "") node.callFrame.url = url;
      const file = join(dir, "case.cpuprofile");
      writeFileSync(file, JSON.stringify(profile));
      boundedCase(`a profile naming ${url}`, () => {
        const session = loadProfileFile(file);
        renderSessionOutput(session, { renderer: "text", color: false });
      });
      cases++;
    }
    // The profile itself a device, a FIFO or a folder: refused with one line.
    for (const path of ["/dev/zero", folder, ...(hasFifo ? [fifo] : [])]) {
      boundedCase(`--load ${path}`, () => {
        try {
          loadProfileFile(path);
          assert.unreachable("loaded");
        } catch (err) {
          assert.instance(err, SessionError, String(err));
        }
      });
      cases++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs one case: it must end within 10 s and grow the process by less than 300 MB. */
function boundedCase(label: string, run: () => void): void {
  const rss = process.memoryUsage().rss;
  const started = performance.now();
  run();
  const took = performance.now() - started;
  const grew = (process.memoryUsage().rss - rss) / 2 ** 20;
  assert.ok(took < 10_000, `${label}: took ${took.toFixed(0)} ms`);
  assert.ok(grew < 300, `${label}: grew by ${grew.toFixed(0)} MB`);
}

test("figures", () => {
  console.log(
    `  fuzz: ${cases} cases, ${totals.ok} loaded and rendered, ${totals.refused} refused cleanly, slowest ${
      totals.slowest.toFixed(1)
    } ms`,
  );
  assert.ok(cases >= 10_000);
});

test.run();
