// The cost of wait tracking (runtimes/waits.ts): the same workloads profiled with asyncMode "enabled" and
// "disabled", per runtime (Node 20 = this machine's node, Node 24, Deno, Bun from test/runtimes), interleaved,
// medians of wall time. Workloads: "promise" (300k awaits, 20k timers, 5k fs reads) and "http" (a loopback
// server and a client loop, 3000 requests, 8 in flight).
//   node --import ./runtimes/node/register.mjs bench/async.ts [--rounds 7]
// As a child: bench/async.ts --work promise|http --mode enabled|disabled  (prints the workload's ms)
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync, rmSync } from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startSampler } from "../runtimes/index.ts";

const { values } = parseArgs({ options: { work: { type: "string" }, mode: { type: "string" }, rounds: { type: "string" } } });

async function promiseWork(): Promise<void> {
  const file = join(tmpdir(), `tsprofile-bench-${process.pid}`);
  writeFileSync(file, "x".repeat(4096));
  async function leaf(i: number): Promise<number> {
    return i;
  }
  async function mid(i: number): Promise<number> {
    return (await leaf(i)) + 1;
  }
  let sum = 0;
  for (let i = 0; i < 150_000; i++) sum += await mid(i); // 300k awaits
  for (let k = 0; k < 20; k++) await Promise.all(Array.from({ length: 1000 }, () => new Promise((r) => setTimeout(r, 0))));
  for (let k = 0; k < 50; k++) await Promise.all(Array.from({ length: 100 }, () => fsp.readFile(file)));
  rmSync(file, { force: true });
  if (sum < 0) console.log(sum);
}

async function httpWork(): Promise<void> {
  const server = http.createServer((req, res) => res.end("hello"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const one = () =>
    new Promise<void>((res, rej) => {
      http.get({ host: "127.0.0.1", port, path: "/", agent }, (r) => {
        r.resume();
        r.on("end", res);
      }).on("error", rej);
    });
  let left = 3000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left-- > 0) await one();
    }),
  );
  agent.destroy();
  server.close();
}

if (values.work) {
  const sampler = startSampler({ interval: 1000, asyncMode: values.mode === "disabled" ? "disabled" : "enabled" });
  const t = performance.now();
  await (values.work === "http" ? httpWork() : promiseWork());
  const ms = performance.now() - t;
  const session = sampler.stop();
  process.stdout.write(`${ms.toFixed(1)} ${session.waits?.start.length ?? 0}\n`);
} else {
  const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
  const bin = (n: string) => join(root, "test", "runtimes", "node_modules", ".bin", n);
  const register = join(root, "runtimes", "node", "register.mjs");
  const self = join(root, "bench", "async.ts");
  const runtimes: [string, string, string[]][] = [
    ["node20", process.env.TSPROFILE_NODE20 ?? "/usr/bin/node", ["--import", register, self]],
    ["node24", bin("node"), ["--import", register, self]],
    ["deno", bin("deno"), ["run", "-A", "--no-lock", self]],
    ["bun", bin("bun"), [self]],
  ];
  const rounds = Number(values.rounds ?? 7);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log("runtime  workload  disabled ms  enabled ms  overhead  waits");
  for (const [name, cmd, args] of runtimes) {
    if (!existsSync(cmd)) continue;
    for (const work of ["promise", "http"]) {
      const times: Record<string, number[]> = { enabled: [], disabled: [] };
      let waits = 0;
      for (let r = 0; r < rounds; r++) {
        for (const mode of r % 2 === 0 ? ["disabled", "enabled"] : ["enabled", "disabled"]) {
          const out = spawnSync(cmd, [...args, "--work", work, "--mode", mode], { encoding: "utf8", cwd: root, timeout: 120_000 });
          const [ms, n] = (out.stdout ?? "").trim().split(" ").map(Number);
          if (!Number.isFinite(ms)) throw new Error(`${name} ${work} ${mode}: ${out.stderr}`);
          times[mode].push(ms);
          if (mode === "enabled") waits = n;
        }
      }
      const d = median(times.disabled);
      const e = median(times.enabled);
      console.log(
        `${name.padEnd(8)} ${work.padEnd(9)} ${d.toFixed(0).padStart(11)} ${e.toFixed(0).padStart(11)} ${(((e - d) / d) * 100).toFixed(1).padStart(8)}% ${String(waits).padStart(6)}`,
      );
    }
  }
}
