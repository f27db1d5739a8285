// .tsprof sessions: save -> load -> the same report; combine; clean errors for wrong, truncated and corrupt
// files; the 1M-sample file size (asserted against the 8 MB target) and save/load times (printed only).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderSession } from "../src/report.ts";
import {
  combineSessions,
  decodeSession,
  encodeSession,
  loadSession,
  saveSession,
  Session,
  SessionError,
} from "../session/session.ts";
import type { Session as SessionData } from "../session/types.ts";
import { randomSession, withCpu } from "./session-helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "tsprofile-session-"));
const TEXT = { renderer: "text", unicode: false, color: false } as const;

function sameTables(a: SessionData, b: SessionData): void {
  assert.equal(b.meta, a.meta);
  assert.equal(b.frames, a.frames);
  assert.equal(Array.from(b.stacks.parent), Array.from(a.stacks.parent));
  assert.equal(Array.from(b.stacks.frame), Array.from(a.stacks.frame));
  assert.equal(Array.from(b.samples.stack), Array.from(a.samples.stack));
  assert.equal(Array.from(b.samples.time), Array.from(a.samples.time));
  assert.equal(Array.from(b.samples.state), Array.from(a.samples.state));
  assert.equal(b.samples.cpu && Array.from(b.samples.cpu), a.samples.cpu && Array.from(a.samples.cpu));
}

/** Runs f, which must throw a SessionError whose one line starts with `name: `; returns the message. */
function refuses(f: () => unknown, name: string): string {
  try {
    f();
  } catch (err) {
    assert.instance(err, SessionError, String(err));
    const message = (err as Error).message;
    assert.ok(message.startsWith(`${name}: `), message);
    assert.not.match(message, /\n/);
    return message;
  }
  assert.unreachable("no error");
  return "";
}

test("save -> load gives the same tables and the same report (deflated and not)", () => {
  const s = randomSession(5000, 7);
  for (const compress of [true, false]) {
    const path = join(dir, `a-${compress}.tsprof`);
    saveSession(s, path, { compress });
    const back = loadSession(path);
    sameTables(s, back);
    assert.is(renderSession(back, TEXT), renderSession(s, TEXT));
    assert.is(renderSession(back, { ...TEXT, timeline: true }), renderSession(s, { ...TEXT, timeline: true }));
  }
});

test("Session.save / Session.load / Session.combine", () => {
  const s = randomSession(300, 3);
  const path = join(dir, "api.tsprof");
  Session.save(s, path);
  const back: Session = Session.load(path);
  sameTables(s, back);
  assert.is(Session.combine(s, back).samples.stack.length, 600);
});

test("times that are not whole microseconds survive (f64 column)", () => {
  const s = randomSession(200, 4);
  s.samples.time[10] += 0.25;
  sameTables(s, decodeSession(encodeSession(s)));
});

test("an empty session round-trips", () => {
  const s = randomSession(0, 5);
  sameTables(s, decodeSession(encodeSession(s)));
});

test("combine: samples and durations add, b after a, frames and stacks interned", () => {
  const a = randomSession(1000, 11);
  const b = randomSession(500, 12);
  const c = combineSessions(a, b);
  assert.is(c.samples.stack.length, 1500);
  const aEnd = Math.max(a.meta.duration, a.samples.time[999]);
  assert.is(c.meta.duration, aEnd + b.meta.duration);
  assert.is(c.meta.cpuTime, a.meta.cpuTime + b.meta.cpuTime);
  assert.is(c.samples.time[1000], b.samples.time[0] + aEnd);
  for (let i = 1; i < 1500; i++) assert.ok(c.samples.time[i] >= c.samples.time[i - 1]);
  // Same frames: the frame table does not grow; same stacks: neither does the stack table.
  const twice = combineSessions(a, a);
  assert.is(twice.frames.length, a.frames.length);
  assert.is(twice.stacks.parent.length, a.stacks.parent.length);
  // The aggregate report of a+a is a's with every time doubled (shown to the millisecond).
  const total = (x: SessionData) => JSON.parse(renderSession(x, { renderer: "json" })).root_frame.time;
  assert.ok(Math.abs(total(twice) - 2 * total(a)) < 1e-9);
  // Frames of b that a lacks are appended and b's stacks point at them.
  const c2 = combineSessions(a, { ...b, frames: b.frames.map((f) => ({ ...f, name: f.name + "_b" })) });
  assert.is(c2.frames.length, a.frames.length + b.frames.length);
  const leaf = c2.stacks.frame[c2.samples.stack[1000 + b.samples.stack.findIndex((x) => x >= 0)]];
  assert.match(c2.frames[leaf].name, /_b$/);
  // Still a valid session.
  sameTables(c, decodeSession(encodeSession(c)));
});

test("wrong files: magic, version, truncation, corruption, counts; one line naming the file", () => {
  const s = randomSession(2000, 21);
  const packed = encodeSession(s);
  const plain = encodeSession(s, { compress: false });
  const name = "/some/dir/run.tsprof";
  assert.match(
    refuses(() => decodeSession(new TextEncoder().encode("hello world, not a profile"), name), name),
    /not a tsprofile session/,
  );
  assert.match(refuses(() => decodeSession(new Uint8Array(3), name), name), /too short/);
  const v9 = Uint8Array.from(packed);
  v9[7] = 9;
  assert.match(refuses(() => decodeSession(v9, name), name), /unsupported session version 9/);
  const v0 = Uint8Array.from(packed);
  v0[7] = 0;
  assert.match(refuses(() => decodeSession(v0, name), name), /unsupported session version 0/);
  for (const bytes of [packed, plain]) {
    for (const cut of [8, 9, 10, 12, 40, bytes.length >> 1, bytes.length - 1]) {
      assert.match(refuses(() => decodeSession(bytes.subarray(0, cut), name), name), /truncated|corrupt/);
    }
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    refuses(() => decodeSession(longer, name), name);
  }
  // A flipped byte in deflated data: the checksum.
  const flipped = Uint8Array.from(packed);
  flipped[packed.length >> 1] ^= 0x10;
  assert.match(refuses(() => decodeSession(flipped, name), name), /corrupt/);
  // A header that claims more samples than the file holds is refused before anything is allocated.
  const text = new TextDecoder().decode(plain);
  const huge = new TextEncoder().encode(text.replace(/"sampleCount":\d+/, '"sampleCount":9999999999'));
  refuses(() => decodeSession(huge, name), name);
  // Files: missing, a directory.
  assert.match(
    refuses(() => loadSession(join(dir, "missing.tsprof")), join(dir, "missing.tsprof")),
    /cannot read \(ENOENT\)/,
  );
  refuses(() => loadSession(dir), dir);
  const bad = join(dir, "bad.tsprof");
  writeFileSync(bad, v9);
  assert.match(refuses(() => loadSession(bad), bad), /version 9/);
});

test("samples.cpu round-trips (varint deltas, or f64s when not whole); files without it load without it", () => {
  const s = withCpu(randomSession(3000, 31), 31);
  for (const compress of [true, false]) {
    const back = decodeSession(encodeSession(s, { compress }));
    sameTables(s, back);
    assert.is(renderSession(back, { renderer: "json" }), renderSession(s, { renderer: "json" }));
  }
  // The column costs about a byte and a half a sample before deflate.
  const plain = encodeSession({ ...s, samples: { ...s.samples, cpu: undefined } }, { compress: false }).length;
  const extra = encodeSession(s, { compress: false }).length - plain;
  assert.ok(extra > 0 && extra < 2.5 * 3000, `${extra} bytes for 3000 cpu values`);
  const t = withCpu(randomSession(200, 32), 32);
  t.samples.cpu![10] += 0.25;
  assert.match(new TextDecoder().decode(encodeSession(t, { compress: false })), /"cpuEncoding":"f64"/);
  sameTables(t, decodeSession(encodeSession(t)));
  const empty = withCpu(randomSession(0, 33));
  sameTables(empty, decodeSession(encodeSession(empty)));
  const none = decodeSession(encodeSession(randomSession(100, 34)));
  assert.not.ok("cpu" in none.samples, "no cpu column where none was saved");
});

test("a session without samples.cpu encodes byte for byte as before the column existed", () => {
  // The digest of this encoding as tsprofile wrote it before samples.cpu was saved (and meta.idleSampled, which
  // is written only when true).
  const s = randomSession(3000, 17, 30, 400);
  s.meta.idleSampled = false;
  s.waits = {
    start: Float64Array.from([10, 2000, 9000]),
    end: Float64Array.from([500, 2500, 9500]),
    stack: Int32Array.from([-1, 3, 7]),
  };
  const digest = createHash("sha256").update(encodeSession(s, { compress: false })).digest("hex");
  assert.is(digest, "34c3b10f7a8ecd4c928512b42dfa81b056d238adc6d92e2b1d49f67e074231ce");
});

test("combine: samples.cpu kept when both sessions have it (b continuing from a's last reading), dropped otherwise", () => {
  const a = withCpu(randomSession(1000, 41), 41);
  const b = withCpu(randomSession(500, 42), 42);
  const c = combineSessions(a, b);
  const aLast = a.samples.cpu![999];
  assert.equal(Array.from(c.samples.cpu!.subarray(0, 1000)), Array.from(a.samples.cpu!));
  assert.equal(Array.from(c.samples.cpu!.subarray(1000)), Array.from(b.samples.cpu!, (x) => x + aLast));
  sameTables(c, decodeSession(encodeSession(c)));
  // The combined report's CPU time is the two runs' (the last readings) added.
  const rootCpu = (x: SessionData) => JSON.parse(renderSession(x, { renderer: "json" })).root_frame.cpu_time;
  assert.ok(Math.abs(rootCpu(c) - (aLast + b.samples.cpu![499]) / 1e6) < 1e-9);
  const plain = randomSession(300, 43);
  for (const x of [combineSessions(a, plain), combineSessions(plain, b)]) assert.not.ok("cpu" in x.samples);
});

test("wrong cpu columns: a bad encoding, a cut column, a value going back; one line", () => {
  const name = "cpu.tsprof";
  const s = withCpu(randomSession(400, 51), 51);
  const plain = encodeSession(s, { compress: false });
  /** The file with its header's cpuEncoding written as `to` (as long as "varint", so every length still holds). */
  const recoded = (to: string): Uint8Array => {
    const from = new TextEncoder().encode('"cpuEncoding":"varint"');
    const at = plain.findIndex((_, i) => from.every((b, k) => plain[i + k] === b));
    assert.ok(at > 0);
    const out = Uint8Array.from(plain);
    out.set(new TextEncoder().encode(to), at);
    return out;
  };
  assert.match(
    refuses(() => decodeSession(recoded('"cpuEncoding":"zip123"'), name), name),
    /corrupt header \(cpu encoding\)/,
  );
  // Read as f64s, the varints run out.
  assert.match(
    refuses(() => decodeSession(recoded('"cpuEncoding":"f64"   '), name), name),
    /truncated|corrupt|bad cpu/,
  );
  const back = Float64Array.from(s.samples.cpu!);
  back[200] = back[199] - 1;
  const f64 = encodeSession({ ...s, samples: { ...s.samples, cpu: back } });
  assert.match(refuses(() => decodeSession(f64, name), name), /sample 200 has a bad cpu time/);
});

test("meta.sampler: kept in the file, absent in older ones, refused when it names no sampler", () => {
  const s = randomSession(50, 3);
  assert.is(decodeSession(encodeSession(s)).meta.sampler, undefined);
  const addon = { ...s, meta: { ...s.meta, sampler: "addon" as const } };
  const plain = encodeSession(addon, { compress: false });
  assert.is(decodeSession(plain).meta.sampler, "addon");
  const needle = new TextEncoder().encode('"sampler":"addon"');
  const at = plain.findIndex((_, i) => needle.every((b, j) => plain[i + j] === b));
  assert.ok(at > 0);
  const bad = Uint8Array.from(plain);
  bad.set(new TextEncoder().encode('"sampler":"gdb!!"'), at);
  assert.match(refuses(() => decodeSession(bad, "bad.tsprof"), "bad.tsprof"), /bad metadata field sampler/);
});

test("meta.idleSampled: saved only when true, read as false when absent (older files), combined only when both", () => {
  const s = randomSession(300, 8);
  assert.ok(s.meta.idleSampled);
  const plain = encodeSession(s, { compress: false });
  assert.is(decodeSession(plain).meta.idleSampled, true);
  const off = { ...s, meta: { ...s.meta, idleSampled: false } };
  const offBytes = encodeSession(off, { compress: false });
  assert.not.ok(new TextDecoder().decode(offBytes).includes("idleSampled"), "absent, as in files before the flag");
  assert.is(decodeSession(offBytes).meta.idleSampled, false);
  // A value that is not a boolean is refused, in one line (the header edited in place, same length).
  const needle = new TextEncoder().encode('"idleSampled":true');
  const at = plain.findIndex((_, i) => needle.every((b, j) => plain[i + j] === b));
  assert.ok(at > 0);
  const bad = Uint8Array.from(plain);
  bad.set(new TextEncoder().encode('"idleSampled":"ye"'), at);
  assert.match(refuses(() => decodeSession(bad, "bad.tsprof"), "bad.tsprof"), /bad metadata field idleSampled/);
  // Combined: a running gap is running time only if both samplers recorded idle.
  assert.is(combineSessions(s, s).meta.idleSampled, true);
  assert.is(combineSessions(s, off).meta.idleSampled, false);
  assert.is(combineSessions(off, s).meta.idleSampled, false);
});

test("format 1 files are still read", () => {
  const s = randomSession(300, 8);
  sameTables(s, decodeSession(encodeV1(s)));
});

test("1M samples (depth 40): file size within 8 MB; save and load times printed", () => {
  const s = randomSession(1_000_000, 99, 40, 20_000);
  const path = join(dir, "big.tsprof");
  let t0 = performance.now();
  saveSession(s, path);
  const save = performance.now() - t0;
  const size = readFileSync(path).length;
  t0 = performance.now();
  const back = loadSession(path);
  const load = performance.now() - t0;
  assert.is(back.samples.stack.length, 1_000_000);
  assert.is(back.samples.time[999_999], s.samples.time[999_999]);
  const plainSize = encodeSession(s, { compress: false }).length;
  console.log(
    `  1M samples: ${(size / 1e6).toFixed(2)} MB (${(size / 1e6).toFixed(2)} B/sample; ${
      (plainSize / 1e6).toFixed(2)
    } MB undeflated), ` +
      `save ${save.toFixed(0)} ms, load ${load.toFixed(0)} ms`,
  );
  assert.ok(size <= 8e6, `${size} bytes`);
  assert.ok(plainSize <= 8e6, `${plainSize} bytes undeflated`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The old fixed-width format, as the previous tsprofile wrote it. */
function encodeV1(session: SessionData): Uint8Array {
  const { stacks, samples } = session;
  const header = new TextEncoder().encode(
    JSON.stringify({
      meta: session.meta,
      frames: session.frames.map((f) => [f.name, f.file, f.line, f.col, f.kind]),
      stackCount: stacks.parent.length,
      sampleCount: samples.stack.length,
    }),
  );
  const ns = stacks.parent.length;
  const n = samples.stack.length;
  const headerEnd = 12 + header.length;
  const columnsStart = headerEnd + ((8 - (headerEnd % 8)) % 8);
  const out = new Uint8Array(columnsStart + n * 13 + ns * 8);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode("TSPROF\u0000"), 0);
  out[7] = 1;
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  let at = columnsStart;
  for (let i = 0; i < n; i++, at += 8) view.setFloat64(at, samples.time[i], true);
  for (let i = 0; i < ns; i++, at += 4) view.setInt32(at, stacks.parent[i], true);
  for (let i = 0; i < ns; i++, at += 4) view.setUint32(at, stacks.frame[i], true);
  for (let i = 0; i < n; i++, at += 4) view.setInt32(at, samples.stack[i], true);
  out.set(samples.state, at);
  return out;
}

test.run();
