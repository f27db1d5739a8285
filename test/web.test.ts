// Per-request profiles (src/integrations/requests.ts) through the adapters that need no framework: node:http
// handlers and fetch handlers (Deno.serve, Bun.serve), with real servers on 127.0.0.1. The framework adapters
// are tested in test/web-frameworks.test.ts.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RequestProfiler } from "../src/integrations/requests.ts";
import { profileFetch, profileNodeHandler } from "../src/integrations/web.ts";
import { renderSession } from "../src/report.ts";
import type { Session } from "../session/types.ts";
import { runtime } from "./runtime-helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x++;
  return x;
}
// Two handlers' own functions, named unlike anything in the URLs.
async function computeAlphaReply(): Promise<string> {
  spin(12);
  await sleep(15);
  spin(8);
  return "alpha reply";
}
async function computeBetaReply(): Promise<string> {
  spin(12);
  await sleep(15);
  spin(8);
  return "beta reply";
}

async function handler(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const body = req.url!.startsWith("/b") ? await computeBetaReply() : await computeAlphaReply();
  res.setHeader("content-type", "text/plain");
  res.setHeader("x-route", "yes");
  res.statusCode = 201;
  res.write(body.slice(0, 3));
  res.end(body.slice(3));
}

async function withServer(listener: http.RequestListener, fn: (base: string) => Promise<void>): Promise<void> {
  const server = http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }
}

async function get(url: string): Promise<{ status: number; type: string; body: string; route: string | null }> {
  const r = await fetch(url);
  return {
    status: r.status,
    type: r.headers.get("content-type") ?? "",
    body: await r.text(),
    route: r.headers.get("x-route"),
  };
}

function assertUntouched(r: Awaited<ReturnType<typeof get>>, body = "alpha reply"): void {
  assert.equal({ status: r.status, type: r.type, body: r.body, route: r.route }, {
    status: 201,
    type: "text/plain",
    body,
    route: "yes",
  });
}

test("node:http: ?profile answers with the request's HTML report; other requests are untouched", async () => {
  await withServer(profileNodeHandler(handler, { enabled: true }), async (base) => {
    const r = await get(`${base}/a?profile`);
    assert.is(r.status, 200);
    assert.match(r.type, /^text\/html/);
    assert.match(r.body, /^<!doctype html>/i);
    assert.ok(r.body.includes("computeAlphaReply"), "the handler's function is in the report");
    assert.ok(!r.body.includes("computeBetaReply"));
    assert.is(r.route, null, "the route's headers are not sent with the report");
    assertUntouched(await get(`${base}/a`));
    assertUntouched(await get(`${base}/a?profiles=1`));
  });
});

test("node:http: off by default, and show() refusing (sync, async or throwing) leaves the response alone", async () => {
  await withServer(profileNodeHandler(handler), async (base) => assertUntouched(await get(`${base}/a?profile`)));
  const seen: string[] = [];
  await withServer(
    profileNodeHandler(handler, { enabled: true, show: (req) => (seen.push(req.url!), false) }),
    async (base) => assertUntouched(await get(`${base}/a?profile`)),
  );
  assert.equal(seen, ["/a?profile"]);
  await withServer(
    // deno-lint-ignore require-await -- an async show() is what is tested
    profileNodeHandler(handler, { enabled: true, show: async () => false }),
    async (base) => assertUntouched(await get(`${base}/a?profile`)),
  );
  await withServer(
    // deno-lint-ignore require-await -- an async show() is what is tested
    profileNodeHandler(handler, { enabled: true, show: async (req) => req.headers["x-token"] === "s3cret" }),
    async (base) => {
      assertUntouched(await get(`${base}/a?profile`));
      const r = await fetch(`${base}/a?profile`, { headers: { "x-token": "s3cret" } });
      assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
      assert.ok((await r.text()).includes("computeAlphaReply"));
    },
  );
});

test("node:http: 50 concurrent profiled requests to two handlers each get a report of their own handler only", async () => {
  await withServer(profileNodeHandler(handler, { enabled: true }), async (base) => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => get(`${base}/${i % 2 ? "b" : "a"}/${i}?profile`).then((r) => ({ i, ...r }))),
    );
    for (const r of replies) {
      const [mine, other] = r.i % 2
        ? ["computeBetaReply", "computeAlphaReply"]
        : ["computeAlphaReply", "computeBetaReply"];
      assert.match(r.type, /^text\/html/, `request ${r.i}`);
      assert.ok(r.body.includes(mine), `request ${r.i}: its handler ${mine} is in its report`);
      assert.ok(!r.body.includes(other), `request ${r.i}: the other handler ${other} is not`);
    }
  });
});

test("profile-directory mode: one report saved per request, responses unchanged", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-web-"));
  try {
    await withServer(profileNodeHandler(handler, { enabled: true, dir }), async (base) => {
      assertUntouched(await get(`${base}/a`));
      assertUntouched(await get(`${base}/b`), "beta reply");
      let files: string[] = [];
      for (let t = 0; t < 100 && files.length < 2; t++, await sleep(50)) {
        files = readdirSync(dir).filter((f) => f.endsWith(".html"));
      }
      assert.is(files.length, 2, files.join(", "));
      const alpha = files.find((f) => f.includes("GET _a"));
      assert.ok(alpha, files.join(", "));
      assert.ok(readFileSync(join(dir, alpha!), "utf8").includes("computeAlphaReply"));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("profile-directory mode names a report by method and path only: no query string, no secrets", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-web-"));
  try {
    await withServer(profileNodeHandler(handler, { enabled: true, dir }), async (base) => {
      assertUntouched(await get(`${base}/login?api_key=SK-LIVE-123&password=hunter2#frag`));
      let files: string[] = [];
      for (let t = 0; t < 100 && files.length < 1; t++, await sleep(50)) {
        files = readdirSync(dir).filter((f) => f.endsWith(".html"));
      }
      assert.is(files.length, 1, files.join(", "));
      assert.match(files[0], /^\d+ GET _login\.html$/);
      assert.not.ok(readFileSync(join(dir, files[0]), "utf8").includes("SK-LIVE-123"), "nor in the report");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("?profile=0 and ?profile=false return the response, not a report", async () => {
  await withServer(profileNodeHandler(handler, { enabled: true }), async (base) => {
    for (const off of ["0", "false", "FALSE", "no", "off"]) assertUntouched(await get(`${base}/a?profile=${off}`));
    for (const on of ["", "1", "true"]) assert.match((await get(`${base}/a?profile=${on}`)).type, /^text\/html/);
  });
});

test("profileNodeHandler returns the handler's promise, enabled or not: its rejection reaches the caller", async () => {
  const failing = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.end("x");
    return Promise.reject(new Error("handler failed"));
  };
  const fakeReq = (url: string) => ({ url, method: "GET", headers: {} }) as unknown as http.IncomingMessage;
  const fakeRes = () => ({ end() {}, once() {}, on() {} }) as unknown as http.ServerResponse;
  for (const options of [{}, { enabled: true }]) {
    const result = profileNodeHandler(failing, options)(fakeReq("/a"), fakeRes());
    assert.instance(result, Promise, JSON.stringify(options));
    let caught: unknown;
    await (result as Promise<unknown>).catch((err) => (caught = err));
    assert.match(String(caught), /handler failed/);
  }
  const ok = profileNodeHandler(() => 42, { enabled: true })(fakeReq("/a"), fakeRes());
  assert.is(ok, 42, "a plain handler's value too");
});

/** A node of the JSON report's tree, as far as these tests read it. */
interface JsonFrame {
  function: string;
  time: number;
  children: JsonFrame[];
}

// Driven without a server: the session itself, to check what the report holds.
test("a request's session: its own awaits charged to its handler, the other request's running time out of context", async () => {
  const profiler = new RequestProfiler({ enabled: true });
  const run = (fn: () => Promise<string>) => {
    const p = profiler.begin("GET /x", "report");
    const done = p.run(fn);
    return done.then(async () => (await p.finish())!);
  };
  async function otherRequestWork(): Promise<string> {
    await sleep(5);
    spin(30);
    return "other";
  }
  const find = (f: JsonFrame, name: string): JsonFrame | undefined =>
    f.function === name ? f : f.children.map((c) => find(c, name)).find(Boolean);
  // It awaited 15 ms while the other request ran 30 ms before its timer could fire: the event loop's own work and
  // any idle moment in that window are its [await]. How much of the window is the other request's depends on when
  // the two timers fire, so a run where it took the whole window is tried again (up to 3 runs).
  let alpha: Session | null = null;
  let json: { root_frame: JsonFrame } = { root_frame: { function: "", time: 0, children: [] } };
  let awaitNode: JsonFrame | undefined;
  for (let attempt = 0; attempt < 3 && !(awaitNode && awaitNode.time > 0.002); attempt++) {
    [alpha] = await Promise.all([run(computeAlphaReply), run(otherRequestWork)]);
    assert.ok(alpha, "a session");
    assert.is(alpha.meta.program, "GET /x");
    json = JSON.parse(renderSession(alpha, { renderer: "json", asyncMode: "strict" }));
    const handlerNode = find(json.root_frame, "computeAlphaReply");
    assert.ok(handlerNode, JSON.stringify(json.root_frame).slice(0, 500));
    awaitNode = find(handlerNode, "[await]");
  }
  assert.ok(awaitNode && awaitNode.time > 0.002, `[await] under the handler: ${JSON.stringify(awaitNode)}`);
  // The other request spun 30 ms while ours awaited: [out-of-context], not its function.
  assert.ok(!JSON.stringify(json).includes("otherRequestWork"));
  const out = find(json.root_frame, "[out-of-context]");
  assert.ok(out && out.time > 0.005, `[out-of-context]: ${JSON.stringify(out)}`);
  assert.ok(alpha!.meta.duration / 1000 < 200, `duration ${alpha!.meta.duration}`);
});

test("bad options: one-line errors", () => {
  assert.throws(() => new RequestProfiler({ interval: 0 }), /interval/);
  // deno-lint-ignore no-explicit-any -- a wrong argument on purpose
  assert.throws(() => new RequestProfiler({ show: 3 as any }), /show must be a function/);
  // deno-lint-ignore no-explicit-any -- a wrong argument on purpose
  assert.throws(() => profileFetch(null as any), /takes the handler/);
});

// fetch handlers: with the runtime's own server where it has one, else called directly with a Request.
async function fetchHandler(request: Request): Promise<Response> {
  const body = new URL(request.url).pathname.startsWith("/b") ? await computeBetaReply() : await computeAlphaReply();
  return new Response(body, { status: 201, headers: { "content-type": "text/plain", "x-route": "yes" } });
}

async function withFetchServer(
  handle: (r: Request) => Response | Promise<Response>,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  if (runtime === "deno") {
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handle);
    try {
      await fn(`http://127.0.0.1:${server.addr.port}`);
    } finally {
      await server.shutdown();
    }
  } else if (runtime === "bun") {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handle });
    try {
      await fn(`http://127.0.0.1:${server.port}`);
    } finally {
      server.stop(true);
    }
  } else {
    // Node has no fetch-handler server: a node:http bridge, enough to drive the wrapper.
    await withServer(async (req, res) => {
      const headers = Object.entries(req.headers).map(([k, v]) => [k, String(v)] as [string, string]);
      const response = await handle(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers }));
      res.statusCode = response.status;
      response.headers.forEach((v, k) => res.setHeader(k, v));
      res.end(Buffer.from(await response.arrayBuffer()));
    }, fn);
  }
}

test(`fetch handler (${runtime === "deno" ? "Deno.serve" : runtime === "bun" ? "Bun.serve" : "node:http bridge"}): report, untouched, guard, concurrency`, async () => {
  await withFetchServer(
    profileFetch(fetchHandler, { enabled: true, show: (r) => r.headers.get("x-deny") === null }),
    async (base) => {
      const r = await get(`${base}/a?profile`);
      assert.match(r.type, /^text\/html/);
      assert.ok(r.body.includes("computeAlphaReply") && !r.body.includes("computeBetaReply"));
      assertUntouched(await get(`${base}/a`));
      const denied = await fetch(`${base}/a?profile`, { headers: { "x-deny": "1" } });
      assert.is(await denied.text(), "alpha reply");
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => get(`${base}/${i % 2 ? "b" : "a"}?profile`).then((r) => ({ i, ...r }))),
      );
      for (const r of replies) {
        const [mine, other] = r.i % 2
          ? ["computeBetaReply", "computeAlphaReply"]
          : ["computeAlphaReply", "computeBetaReply"];
        assert.ok(r.body.includes(mine) && !r.body.includes(other), `request ${r.i}: ${mine} only`);
      }
    },
  );
});

test("fetch handler: an error passes through; a profile is still finished", async () => {
  // deno-lint-ignore require-await -- an async handler that throws is what is tested
  const boom = profileFetch(async () => {
    throw new Error("boom");
  }, { enabled: true });
  try {
    await boom(new Request("http://x/?profile"));
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, "boom");
  }
  // The failed request's profile ended: the next one is profiled as usual.
  const ok = profileFetch(fetchHandler, { enabled: true });
  const r = await ok(new Request("http://x/a?profile"));
  assert.ok((await r.text()).includes("computeAlphaReply"));
});

test.run();
