// What the web middleware costs a server: a small Express app (one JSON route doing a little work) under
// autocannon on loopback, in four modes, each in a child process of its own (the server; this process is the
// load generator, on the other core), rounds interleaved with the order rotating, medians:
//   none      no middleware
//   disabled  app.use(expressProfiler())                      installed, not enabled (the default)
//   idle      app.use(expressProfiler({ enabled: true }))    enabled, no request asks for ?profile: the idle cost
//   profiled  app.use(expressProfiler({ enabled: true, dir })) every request profiled, its report saved
//   node --import ./runtimes/loader/register.mjs bench/web.ts [--rounds 5] [--seconds 5] [--connections 10]
//        [--runtimes node20,node24] [--modes none,idle]
// As a child: bench/web.ts --serve <mode>: prints {"port"}, then on "go"/"stop" lines on stdin measures its CPU,
// and prints a JSON line of it (and, profiled, how many reports it saved) before it exits.
import express from "express";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { expressProfiler } from "../src/integrations/web.ts";

const MODES = ["none", "disabled", "idle", "profiled"] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    rounds: { type: "string" },
    seconds: { type: "string" },
    connections: { type: "string" },
    runtimes: { type: "string" },
    modes: { type: "string" },
  },
});

interface ServerResult {
  /** The server's CPU time (user + system, all threads) over the measured part. */
  cpuMs: number;
  /** Profiled mode: reports in the folder once the saves have settled. */
  reports: number;
}

// ---- the server (child) ----

const PRODUCTS = Array.from(
  { length: 200 },
  (_, i) => ({ id: i, name: `product ${(i * 7919) % 1000}`, price: ((i * 37) % 500) / 10, stock: (i * 13) % 40 }),
);

/** The route's work: a filtered, sorted, paged listing, as a typical JSON API does it (~0.1 ms). */
async function listProducts(query: Record<string, unknown>): Promise<object> {
  const max = Number(query.max ?? 40);
  const page = PRODUCTS.filter((p) => p.stock > 0 && p.price <= max)
    .sort((a, b) => a.price - b.price || a.name.localeCompare(b.name))
    .slice(0, 20)
    .map((p) => ({ ...p, label: `${p.name} (${p.price.toFixed(2)})` }));
  await Promise.resolve(); // a data layer's await
  return { count: page.length, items: page };
}

async function serve(mode: Mode): Promise<void> {
  const dir = mode === "profiled" ? mkdtempSync(join(tmpdir(), "tsprofile-bench-web-")) : null;
  const app = express();
  if (mode === "disabled") app.use(expressProfiler());
  if (mode === "idle") app.use(expressProfiler({ enabled: true }));
  if (mode === "profiled") app.use(expressProfiler({ enabled: true, dir: dir! }));
  app.get("/products", async (req, res) => void res.json(await listProducts(req.query)));
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((r) => server.once("listening", r));
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  let cpu0 = process.cpuUsage();
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "go") cpu0 = process.cpuUsage();
    if (line !== "stop") continue;
    const cpu = process.cpuUsage(cpu0);
    server.closeAllConnections?.();
    server.close();
    // Saves happen when a group of requests ends (at most 2 s after it began) and take a while each: count once
    // the folder has stopped growing.
    let reports = 0;
    if (dir) {
      for (let stable = 0; stable < 10;) {
        await new Promise((r) => setTimeout(r, 300));
        const n = readdirSync(dir).length;
        stable = n === reports ? stable + 1 : 0;
        reports = n;
      }
      rmSync(dir, { recursive: true, force: true });
    }
    const result: ServerResult = { cpuMs: (cpu.user + cpu.system) / 1000, reports };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  }
}

// ---- the load generator (parent) ----

interface Run {
  reqPerSec: number;
  requests: number;
  /** With the warm-up's: every request the server answered (each one profiled in profiled mode). */
  served: number;
  /** Mean latency by Little's law (connections / throughput): autocannon's histogram has 1 ms steps. */
  mean: number;
  p50: number;
  p99: number;
  errors: number;
  cpuUsPerReq: number;
  reports: number;
}

async function runMode(cmd: string, args: string[], mode: Mode, seconds: number, connections: number): Promise<Run> {
  const { default: autocannon } = await import("autocannon");
  const child = spawn(cmd, [...args, "--serve", mode], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${mode}: the server exited early`);
    return JSON.parse(value);
  };
  const { port } = await next();
  const url = `http://127.0.0.1:${port}/products?max=30`;
  const load = (duration: number) => autocannon({ url, connections, duration });
  const warm = await load(1); // warm-up: JIT, connections
  child.stdin!.write("go\n");
  const r = await load(seconds);
  child.stdin!.write("stop\n");
  const server: ServerResult = await next();
  await new Promise((done) => (child.exitCode === null ? child.once("exit", done) : done(null)));
  return {
    reqPerSec: r.requests.total / (r.duration || seconds),
    requests: r.requests.total,
    served: warm.requests.total + r.requests.total,
    mean: (connections * 1000 * (r.duration || seconds)) / Math.max(1, r.requests.total),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
    cpuUsPerReq: (server.cpuMs * 1000) / Math.max(1, r.requests.total),
    reports: server.reports,
  };
}

async function main(): Promise<void> {
  const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
  const bin = (n: string) => join(root, "test", "runtimes", "node_modules", ".bin", n);
  const register = join(root, "runtimes", "loader", "register.mjs");
  const self = join(root, "bench", "web.ts");
  const all: [string, string, string[]][] = [
    ["node20", process.env.TSPROFILE_NODE20 ?? "/usr/bin/node", ["--import", register, self]],
    ["node24", bin("node"), ["--import", register, self]],
    ["deno", bin("deno"), ["run", "-A", "--no-lock", self]],
    ["bun", bin("bun"), [self]],
  ];
  const wanted = (values.runtimes ?? "node20").split(",");
  const modes = (values.modes?.split(",") ?? MODES) as Mode[];
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m} (one of ${MODES.join(", ")})`);
  const rounds = Number(values.rounds ?? 5);
  const seconds = Number(values.seconds ?? 5);
  const connections = Number(values.connections ?? 10);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(
    `web middleware cost: Express, autocannon ${connections} connections x ${seconds} s on loopback, ${rounds} rounds interleaved, medians; ` +
      `2 cores; loadavg ${load()} at start`,
  );
  for (const [name, cmd, args] of all) {
    if (!wanted.includes(name)) continue;
    if (!existsSync(cmd)) {
      console.log(`${name}: not installed (${cmd})`);
      continue;
    }
    const got = new Map<Mode, Run[]>(modes.map((m) => [m, []]));
    for (let r = 0; r < rounds; r++) {
      const order = modes.map((_, i) => modes[(i + r) % modes.length]);
      for (const mode of order) got.get(mode)!.push(await runMode(cmd, args, mode, seconds, connections));
      const summary = order.map((m) => `${m} ${got.get(m)!.at(-1)!.reqPerSec.toFixed(0)}`).join(", ");
      console.log(`  ${name} round ${r + 1}/${rounds}: req/s ${summary}; loadavg ${load()}`);
    }
    const base = got.has("none") ? median(got.get("none")!.map((x) => x.reqPerSec)) : NaN;
    console.log(
      `\n${name}: mode      req/s  vs none  paired (q1..q3)  mean ms  p50 ms  p99 ms  server CPU us/req  errors  reports saved / requests served`,
    );
    for (const mode of modes) {
      const runs = got.get(mode)!;
      const rps = median(runs.map((x) => x.reqPerSec));
      // Each round's runs were back to back: their ratio to that round's "none" cancels slow drift of other load.
      const ratios = got.has("none")
        ? runs.map((x, i) => x.reqPerSec / got.get("none")![i].reqPerSec - 1).sort((a, b) => a - b)
        : [];
      const q = (
        p: number,
      ) => (ratios.length ? `${(ratios[Math.round(p * (ratios.length - 1))] * 100).toFixed(1)}` : "-");
      const saved = mode === "profiled"
        ? `${median(runs.map((x) => x.reports))} / ${median(runs.map((x) => x.served))}`
        : "";
      console.log(
        [
          " ".repeat(name.length + 1),
          mode.padEnd(9),
          rps.toFixed(0).padStart(6),
          `${(((rps - base) / base) * 100).toFixed(1)}%`.padStart(8),
          `${q(0.5)}% (${q(0.25)}..${q(0.75)})`.padStart(16),
          median(runs.map((x) => x.mean)).toFixed(2).padStart(8),
          median(runs.map((x) => x.p50)).toFixed(1).padStart(7),
          median(runs.map((x) => x.p99)).toFixed(1).padStart(7),
          median(runs.map((x) => x.cpuUsPerReq)).toFixed(0).padStart(18),
          String(runs.reduce((s, x) => s + x.errors, 0)).padStart(7),
          ` ${saved}`,
        ].join(" "),
      );
    }
    console.log(`loadavg ${load()} at the end\n`);
  }
}

if (values.serve) await serve(values.serve as Mode);
else await main();
