// Per-request profiles in the web frameworks (src/integrations/{node-http,koa,fastify,hono}.ts): each framework's
// server started for real on 127.0.0.1 in the runtime under test, hit with real HTTP requests (fetch). Express,
// Koa and Fastify run on node:http (Deno's and Bun's too); Hono on @hono/node-server, Deno.serve or Bun.serve.
// The engine itself and the plain node:http and fetch wrappers are tested in test/web.test.ts.
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import Koa from "koa";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { currentContext } from "../runtimes/awaits/contexts.ts";
import type { RequestProfilerOptions } from "../src/integrations/requests.ts";
import { expressProfiler, fastifyProfiler, honoProfiler, koaProfiler } from "../src/integrations/web.ts";
import { runtime } from "./runtime-helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x++;
  return x;
}
// The two routes' own work, named unlike anything in the URLs (/one, /two), so that a report holding a name holds
// that function's samples.
async function computeLeftAnswer(): Promise<{ route: string }> {
  spin(10);
  await sleep(10);
  spin(5);
  return { route: "one" };
}
async function computeRightAnswer(): Promise<string> {
  spin(10);
  await sleep(10);
  spin(5);
  return "two done";
}
// Which profiled context the route runs in (runtimes/awaits/contexts.ts: 0 is none), as it starts and after an await.
// With a body (POST) it also works a little, for its saved report to show it.
async function whereAmI(body?: unknown): Promise<{ before: number; after: number; body: unknown }> {
  const before = currentContext();
  if (body !== undefined) spin(8);
  await sleep(2);
  return { before, after: currentContext(), body: body ?? null };
}

// The same app in every framework: GET /one (200 JSON), GET /two (202 text/plain), GET and POST /where (JSON,
// POST echoing its JSON body as parsed by the framework); /one and /two send an x-route header.
// deno-lint-ignore no-explicit-any -- one harness for four frameworks, each with its own request type
type Options = RequestProfilerOptions<any>;
interface Server {
  base: string;
  close(): Promise<void>;
}
interface Framework {
  name: string;
  /** The app with the profiler installed with these options, or without it (null), or the adapter itself given
   * to the framework instead of what it returns ("uncalled": a user's mistake; not for Express). */
  start(options: Options | null | "uncalled"): Promise<Server>;
  /** The x-allow header read through the framework's own request object, as a show() would. */
  // deno-lint-ignore no-explicit-any -- the framework's own request type, which differs per framework
  allowed(request: any): boolean;
}

async function listenNode(server: HttpServer): Promise<Server> {
  if (!server.listening) await new Promise<void>((r) => server.once("listening", r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

const expressApp: Framework = {
  name: "Express",
  start(options) {
    const app = express();
    if (options) app.use(expressProfiler(options as Options));
    app.use(express.json());
    app.get("/one", async (_req, res) => void res.set("x-route", "one").json(await computeLeftAnswer()));
    app.get(
      "/two",
      async (_req, res) =>
        void res.status(202).type("text/plain").set("x-route", "two").send(await computeRightAnswer()),
    );
    app.get("/where", async (_req, res) => void res.json(await whereAmI()));
    app.post("/where", async (req, res) => void res.json(await whereAmI(req.body)));
    return listenNode(app.listen(0, "127.0.0.1"));
  },
  allowed: (req) => req.get("x-allow") === "yes",
};

const koaApp: Framework = {
  name: "Koa",
  start(options) {
    const app = new Koa();
    // deno-lint-ignore no-explicit-any -- the adapter itself, uncalled: the user's mistake under test
    if (options === "uncalled") app.use(koaProfiler as any);
    else if (options) app.use(koaProfiler(options));
    app.use(async (ctx) => {
      const route = `${ctx.method} ${ctx.path}`;
      if (route === "GET /one") {
        ctx.body = await computeLeftAnswer();
        ctx.set("x-route", "one");
      } else if (route === "GET /two") {
        ctx.body = await computeRightAnswer();
        ctx.status = 202;
        ctx.type = "text/plain";
        ctx.set("x-route", "two");
      } else if (route === "GET /where") ctx.body = await whereAmI();
      else if (route === "POST /where") {
        // Koa has no body parser of its own: the stream, as koa-bodyparser reads it.
        let text = "";
        for await (const chunk of ctx.req) text += chunk;
        ctx.body = await whereAmI(JSON.parse(text));
      }
    });
    return listenNode(app.listen(0, "127.0.0.1"));
  },
  allowed: (ctx) => ctx.get("x-allow") === "yes",
};

const fastifyApp: Framework = {
  name: "Fastify",
  async start(options) {
    // Keep-alive connections closed with the server (Deno keeps idle ones open for minutes otherwise).
    const app = Fastify({ forceCloseConnections: true });
    // deno-lint-ignore no-explicit-any -- the adapter itself, uncalled: the user's mistake under test
    if (options === "uncalled") app.register(fastifyProfiler as any);
    else if (options) app.register(fastifyProfiler(options));
    // deno-lint-ignore require-await -- an async route handler, as Fastify users write them
    app.get("/one", async (_request, reply) => {
      reply.header("x-route", "one");
      return computeLeftAnswer();
    });
    // deno-lint-ignore require-await -- an async route handler, as Fastify users write them
    app.get("/two", async (_request, reply) => {
      reply.code(202).type("text/plain").header("x-route", "two");
      return computeRightAnswer();
    });
    app.get("/where", () => whereAmI());
    app.post("/where", (request) => whereAmI(request.body));
    await app.listen({ port: 0, host: "127.0.0.1" });
    return { base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  allowed: (request) => request.headers["x-allow"] === "yes",
};

const honoApp: Framework = {
  name: `Hono (${runtime === "deno" ? "Deno.serve" : runtime === "bun" ? "Bun.serve" : "@hono/node-server"})`,
  start(options) {
    const app = new Hono();
    // deno-lint-ignore no-explicit-any -- the adapter itself, uncalled: the user's mistake under test
    if (options === "uncalled") app.use(honoProfiler as any);
    else if (options) app.use(honoProfiler(options));
    app.get("/one", async (c) => {
      const body = await computeLeftAnswer();
      c.header("x-route", "one");
      return c.json(body);
    });
    app.get("/two", async (c) => {
      const body = await computeRightAnswer();
      c.header("x-route", "two");
      return c.text(body, 202);
    });
    app.get("/where", async (c) => c.json(await whereAmI()));
    app.post("/where", async (c) => c.json(await whereAmI(await c.req.json())));
    return serveFetch(app.fetch);
  },
  allowed: (c) => c.req.header("x-allow") === "yes",
};

/** A fetch handler served by the runtime's own server (Node: @hono/node-server). */
async function serveFetch(handler: (request: Request) => Response | Promise<Response>): Promise<Server> {
  if (runtime === "deno") {
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
    return { base: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
  }
  if (runtime === "bun") {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handler });
    // deno-lint-ignore require-await -- close() returns a promise; Bun's stop() is not waited for
    return { base: `http://127.0.0.1:${server.port}`, close: async () => void server.stop(true) };
  }
  const { serve } = await import("@hono/node-server");
  return listenNode(serve({ fetch: handler, port: 0, hostname: "127.0.0.1" }) as HttpServer);
}

interface Reply {
  status: number;
  type: string;
  route: string | null;
  body: string;
}
async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await fetch(url, { headers });
  return {
    status: r.status,
    type: r.headers.get("content-type") ?? "",
    route: r.headers.get("x-route"),
    body: await r.text(),
  };
}

/** The app's own responses, from the app without the profiler: what an untouched request must get. */
async function plainReplies(fw: Framework): Promise<Record<"one" | "two", Reply>> {
  const server = await fw.start(null);
  try {
    return { one: await get(`${server.base}/one`), two: await get(`${server.base}/two`) };
  } finally {
    await server.close();
  }
}

async function withServer(
  fw: Framework,
  options: Options | "uncalled",
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = await fw.start(options);
  try {
    await fn(server.base);
  } finally {
    await server.close();
  }
}

function assertReport(r: Reply, mine: string, other: string, label: string): void {
  assert.is(r.status, 200, `${label}: status`);
  assert.match(r.type, /^text\/html/, `${label}: content-type`);
  assert.match(r.body.slice(0, 100), /^<!doctype html>/i, `${label}: an HTML page`);
  assert.ok(r.body.includes(mine), `${label}: its handler ${mine} is in its report`);
  assert.not.ok(r.body.includes(other), `${label}: the other handler ${other} is not`);
  assert.is(r.route, null, `${label}: the route's headers are not sent with the report`);
}

const LEFT = "computeLeftAnswer";
const RIGHT = "computeRightAnswer";

for (const fw of [expressApp, koaApp, fastifyApp, honoApp]) {
  let plain: Record<"one" | "two", Reply>;

  test(`${fw.name}: ?profile answers with the request's report; requests without it get the route's response`, async () => {
    plain = await plainReplies(fw);
    assert.is(plain.one.status, 200);
    assert.is(plain.two.status, 202);
    await withServer(fw, { enabled: true }, async (base) => {
      assertReport(await get(`${base}/one?profile`), LEFT, RIGHT, "/one?profile");
      assertReport(await get(`${base}/two?x=1&profile=1`), RIGHT, LEFT, "/two?x=1&profile=1");
      assert.equal(await get(`${base}/one`), plain.one);
      assert.equal(await get(`${base}/two?profiles`), plain.two);
      // An unprofiled request runs in no profiled context.
      assert.equal(JSON.parse((await get(`${base}/where`)).body), { before: 0, after: 0, body: null });
    });
  });

  test(`${fw.name}: off by default; show() refusing, sync or async, leaves the response alone`, async () => {
    await withServer(fw, {}, async (base) => assert.equal(await get(`${base}/one?profile`), plain.one));
    await withServer(
      fw,
      { enabled: false, dir: "/nonexistent/never-written" },
      async (base) => assert.equal(await get(`${base}/two?profile`), plain.two),
    );
    const seen: boolean[] = [];
    const show = (request: unknown) => (seen.push(fw.allowed(request)), fw.allowed(request));
    await withServer(fw, { enabled: true, show }, async (base) => {
      assert.equal(await get(`${base}/one?profile`), plain.one);
      assertReport(await get(`${base}/one?profile`, { "x-allow": "yes" }), LEFT, RIGHT, "allowed");
    });
    assert.equal(seen, [false, true], "show() got the framework's request and read its header");
    await withServer(
      fw,
      { enabled: true, show: async (request) => (await sleep(1), fw.allowed(request)), param: "prof" },
      async (base) => {
        assert.equal(await get(`${base}/two?prof`), plain.two);
        assert.equal(await get(`${base}/two?profile`, { "x-allow": "yes" }), plain.two, "another param");
        assertReport(await get(`${base}/two?prof`, { "x-allow": "yes" }), RIGHT, LEFT, "async show() allowing");
      },
    );
  });

  test(`${fw.name}: 50 concurrent profiled requests to two handlers each get a report of their own handler only`, async () => {
    await withServer(fw, { enabled: true }, async (base) => {
      // 50 connections opened first (cheap requests): new connections are accepted one per turn of the event loop,
      // between the handlers' spins, which would make the profiled requests arrive one after another.
      await Promise.all(Array.from({ length: 50 }, () => get(`${base}/where`)));
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => get(`${base}/${i % 2 ? "two" : "one"}?profile&i=${i}`)),
      );
      replies.forEach((r, i) => assertReport(r, i % 2 ? RIGHT : LEFT, i % 2 ? LEFT : RIGHT, `request ${i}`));
    });
  });

  test(`${fw.name}: profile-directory mode saves one report per request, responses unchanged, routes in their request's context`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsprofile-web-frameworks-"));
    try {
      await withServer(fw, { enabled: true, dir }, async (base) => {
        assert.equal(await get(`${base}/one`), plain.one);
        assert.equal(await get(`${base}/two`), plain.two);
        const where = async (init?: RequestInit) => JSON.parse(await (await fetch(`${base}/where`, init)).text());
        const a = await where();
        // The body comes a while after the headers, in a packet of its own: the framework reads it from the
        // connection's callbacks, outside the request's context, and the route must still run in it.
        const body = new ReadableStream({
          async start(controller) {
            await sleep(30);
            controller.enqueue(new TextEncoder().encode(JSON.stringify({ n: 7 })));
            controller.close();
          },
        });
        const b = await where(
          { method: "POST", headers: { "content-type": "application/json" }, body, duplex: "half" } as RequestInit,
        );
        assert.ok(
          a.before > 0 && a.after === a.before,
          `GET: the route runs in the request's context: ${JSON.stringify(a)}`,
        );
        assert.ok(
          b.before > 0 && b.after === b.before && b.before !== a.before,
          `POST, after its body was read: ${JSON.stringify(b)}`,
        );
        assert.equal(b.body, { n: 7 });
        let files: string[] = [];
        for (let t = 0; t < 100 && files.length < 4; t++, await sleep(50)) {
          files = readdirSync(dir).filter((f) => f.endsWith(".html"));
        }
        await sleep(100); // no fifth
        files = readdirSync(dir).sort();
        assert.is(files.length, 4, files.join(", "));
        const report = (route: string) =>
          readFileSync(join(dir, files.find((f) => f.endsWith(` ${route}.html`))!), "utf8");
        for (const [route, mine, other] of [["GET _one", LEFT, RIGHT], ["GET _two", RIGHT, LEFT]]) {
          assert.ok(report(route).includes(mine), `${route}'s saved report holds ${mine}`);
          assert.not.ok(report(route).includes(other), `${route}'s saved report does not hold ${other}`);
        }
        assert.ok(report("POST _where").includes("whereAmI"), "POST /where's saved report");
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  if (fw !== expressApp) {
    test(`${fw.name}: the adapter given uncalled: one line on stderr, the app answers unprofiled`, async () => {
      const said: string[] = [];
      const write = process.stderr.write;
      process.stderr.write = ((chunk: string) => (said.push(String(chunk)), true)) as typeof write;
      try {
        await withServer(fw, "uncalled", async (base) => {
          assert.equal(await get(`${base}/one?profile`), plain.one);
          assert.equal(await get(`${base}/two`), plain.two);
        });
      } finally {
        process.stderr.write = write;
      }
      assert.is(said.length, 1, said.join(""));
      assert.match(
        said[0],
        /^tsprofile: .*Profiler\(options\), called: app\.\w+\(\w+Profiler\(\{ enabled: true \}\)\)\n$/,
      );
    });
  }
}

test.run();
