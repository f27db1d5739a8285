// The program bench/pauses.ts runs under each mode: plain JavaScript, so every mode runs the very same file.
//   PAUSES_KIND=server: an HTTP server on 127.0.0.1 and, in the same process, a client keeping 4 requests in
//     flight for PAUSES_SECONDS; each request does ~1 ms of JSON and sorting. The event loop's delay
//     (perf_hooks.monitorEventLoopDelay, 1 ms resolution) is what a pause of the thread adds to a response.
//   PAUSES_KIND=idle: the same server with no traffic for PAUSES_SECONDS: what being profiled costs at rest.
// Prints one JSON line: event-loop delay max and p99 (ms), the process's CPU (all threads) per second of the run,
// requests served.
import { Agent, createServer, request } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";

const kind = process.env.PAUSES_KIND ?? "server";
const seconds = Number(process.env.PAUSES_SECONDS ?? "5");

const data = Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ["a", "b", String(i % 7)] }));
/** @param {import("node:http").ServerResponse} res */
function handle(res) {
  const copy = JSON.parse(JSON.stringify(data));
  copy.sort((/** @type {{ name: string }} */ a, /** @type {{ name: string }} */ b) => b.name.localeCompare(a.name));
  res.end(JSON.stringify(copy.slice(0, 10)));
}

const server = createServer((_req, res) => handle(res));
await new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(undefined)));
const port = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

const delay = monitorEventLoopDelay({ resolution: 1 });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
delay.enable();
let served = 0;
const end = t0 + seconds * 1000;

function get() {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
      res.resume();
      res.on("end", () => ok(undefined));
    });
    req.on("error", fail);
    req.end();
  });
}

if (kind === "server") {
  // Bounded in count and time: 4 loops, each until the deadline.
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() < end && served < 1_000_000) {
      await get();
      served++;
    }
  }));
} else {
  await new Promise((ok) => setTimeout(ok, seconds * 1000));
}
delay.disable();
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
agent.destroy();
server.close();
console.log(JSON.stringify({
  kind,
  maxMs: delay.max / 1e6,
  p99Ms: delay.percentile(99) / 1e6,
  cpuPerSec: (cpu.user + cpu.system) / 1e6 / wall,
  served,
}));
