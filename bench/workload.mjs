// The overhead benchmark's workload: plain JavaScript (so `node bench/workload.mjs` runs it with no loader,
// exactly as under tsprofile and --cpu-prof) doing what real programs do, with real npm packages.
// Prints its own work time on stdout: `work_ms=<wall ms> cpu_ms=<process CPU ms>`, and the wall-clock times (epoch ms)
// its code began and ended, `begin_at= end_at=`, from which the harness tells start-up and exit costs apart.
// Usage: node bench/workload.mjs [scale]     (scale 0: a trivial script, no work)
import { parse } from "acorn";

const beginAt = performance.timeOrigin + performance.now();

const scale = Number(process.argv[2] ?? 1);

/**
 * A large, varied, deterministic JavaScript source file for acorn.
 * @param {number} functions
 */
function generateSource(functions) {
  const parts = [];
  for (let i = 0; i < functions; i++) {
    parts.push(
      `export async function handler${i}(req, { db, log = console } = {}) {\n` +
        `  const rows = await db.query(\`select * from t${i % 17} where id = \${req.id}\`);\n` +
        `  const out = rows.filter((r) => r.score > ${
          i % 100
        } && !r.deleted).map(({ id, score, ...rest }) => ({ id, score: score * ${1 + (i % 7)}, ...rest }));\n` +
        `  for (let k = 0; k < out.length; k++) { if (out[k].id % ${
          2 + (i % 5)
        } === 0) log.info?.("even", k, out[k]); }\n` +
        `  class Model${i} extends Base { #x = ${i}; static of(v) { return new Model${i}(v ?? null); } get x() { return this.#x; } }\n` +
        `  return { status: ${200 + (i % 3)}, body: JSON.stringify(out), model: Model${i}.of(req.body) };\n}\n`,
    );
  }
  return parts.join("");
}

/**
 * @param {string} source
 * @param {number} times
 */
function parseSource(source, times) {
  let nodes = 0;
  for (let i = 0; i < times; i++) nodes += parse(source, { ecmaVersion: "latest", sourceType: "module" }).body.length;
  return nodes;
}

/** @param {number} count */
function jsonRoundTrips(count) {
  const doc = Array.from(
    { length: 2000 },
    (_, i) => ({
      id: i,
      name: `item-${i}`,
      tags: ["a", "b", String(i % 13)],
      price: i * 1.25,
      nested: { ok: i % 2 === 0, at: [i, i + 1] },
    }),
  );
  let size = 0;
  for (let i = 0; i < count; i++) size += JSON.parse(JSON.stringify(doc)).length;
  return size;
}

/** @param {number} count */
function sorting(count) {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let checksum = 0;
  for (let i = 0; i < count; i++) {
    const numbers = Array.from({ length: 50_000 }, random).sort((a, b) => a - b);
    const words = Array.from({ length: 10_000 }, () => random().toString(36).slice(2)).sort();
    checksum += numbers[0] + words[0].length;
  }
  return checksum;
}

/** @param {number} count */
function regexes(count) {
  const text = Array.from(
    { length: 5000 },
    (_, i) => `user${i}@example${i % 50}.com said "hello #${i}" at 2024-0${1 + (i % 9)}-1${i % 10}`,
  ).join("\n");
  const email = /([\w.+-]+)@([\w-]+\.)+\w+/g;
  const date = /(\d{4})-(\d{2})-(\d{2})/g;
  let found = 0;
  for (let i = 0; i < count; i++) {
    found += (text.match(email) ?? []).length;
    found += [...text.matchAll(date)].length;
    found += text.replace(/#(\d+)/g, (_, n) => `<${n}>`).length > 0 ? 1 : 0;
  }
  return found;
}

/** @param {number} count */
function mapChurn(count) {
  const map = new Map();
  let live = 0;
  for (let i = 0; i < count; i++) {
    map.set(`k${i}`, { i, data: [i, i * 2] });
    if (i >= 1000) map.delete(`k${i - 1000}`);
    live = map.size;
  }
  return live;
}

const started = performance.now();
const cpuStarted = process.cpuUsage();
const source = generateSource(600);
const results = [];
for (let round = 0; round < 2 * scale; round++) {
  results.push(parseSource(source, 1), jsonRoundTrips(40), sorting(2), regexes(20), mapChurn(400_000));
}
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuStarted);
// cpu_ms counts every thread of the process, so a profiler's own sampling thread is in it.
process.stdout.write(
  `work_ms=${ms.toFixed(1)} cpu_ms=${((cpu.user + cpu.system) / 1000).toFixed(1)} checksum=${
    results.reduce((a, b) => a + b, 0).toFixed(0)
  } begin_at=${beginAt.toFixed(1)} end_at=${(performance.timeOrigin + performance.now()).toFixed(1)}\n`,
);
