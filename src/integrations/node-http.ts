// Per-request profiles for node:http servers: Express (and Connect) middleware, and a wrapper for a plain
// (req, res) handler. Works wherever node:http does (Node, Deno, Bun). src/integrations/requests.ts profiles.
import type { IncomingMessage, ServerResponse } from "node:http";
import { pathOf } from "./fetch.ts";
import {
  type ProfiledRequest,
  type RequestMode,
  RequestProfiler,
  type RequestProfilerOptions,
  sayUncalled,
} from "./requests.ts";

type Next = (err?: unknown) => void;

/**
 * Express middleware: `app.use(expressProfiler({ enabled: true }))`, before the routes. With `?profile` in the URL
 * (and show(req) allowing it) the response is the request's HTML report instead of the route's; in
 * profile-directory mode (`dir`) the report is saved and the response left alone.
 */
export function expressProfiler(
  options: RequestProfilerOptions<IncomingMessage> = {},
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  // app.use(expressProfiler), not called: Express calls it as the middleware (req, res, next). Said once; the app
  // runs unprofiled.
  if (arguments.length > 1) {
    sayUncalled("use expressProfiler(options), called: app.use(expressProfiler({ enabled: true }))");
    return (arguments[2] as Next)() as never;
  }
  const profiler = new RequestProfiler<IncomingMessage>(options);
  return function tsprofile(req, res, next) {
    if (!profiler.enabled) return next();
    handle(profiler, req, res, next);
  };
}

/** A node:http request handler, profiled: `http.createServer(profileNodeHandler(handler, { enabled: true }))`. */
export function profileNodeHandler(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
  options: RequestProfilerOptions<IncomingMessage> = {},
): (req: IncomingMessage, res: ServerResponse) => unknown {
  if (typeof handler !== "function") {
    throw new TypeError("tsprofile: profileNodeHandler() takes the handler function first");
  }
  const profiler = new RequestProfiler<IncomingMessage>(options);
  // The handler's result (an async handler's promise) is returned, so its caller can still catch a rejection.
  return (req, res) => {
    if (!profiler.enabled) return handler(req, res);
    return handle(profiler, req, res, () => handler(req, res));
  };
}

/** Runs next() profiled or not, as check() decides; returns what next() returns (later, if show() is async). */
function handle(
  profiler: RequestProfiler<IncomingMessage>,
  req: IncomingMessage,
  res: ServerResponse,
  next: () => unknown,
): unknown {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
  const decided = profiler.check(url, req);
  const go = (mode: RequestMode | null): unknown => {
    if (mode === null) return next();
    const profiled = profiler.begin(`${req.method} ${pathOf(url)}`, mode);
    if (mode === "save") {
      let finished = false;
      const done = () => {
        if (!finished) void profiled.finish();
        finished = true;
      };
      res.once("finish", done);
      res.once("close", done);
    } else holdResponse(res, profiled);
    return profiled.run(next);
  };
  if (decided instanceof Promise) return decided.then(go, () => next());
  return go(decided);
}

const HELD = ["writeHead", "write", "end", "flushHeaders"] as const;
type Held = (typeof HELD)[number];

/**
 * Holds back what the route sends, until it ends the response; then sends the report instead. If the report
 * cannot be made (said on stderr), what the route sent is sent after all, in the order it sent it.
 */
function holdResponse(res: ServerResponse, profiled: ProfiledRequest): void {
  // res itself, its held methods seen as plain slots: saved, replaced and restored whatever their signatures.
  const slots = res as unknown as Record<Held, unknown>;
  const own = new Map<Held, unknown>(
    HELD.map((m) => [m, Object.prototype.hasOwnProperty.call(res, m) ? slots[m] : undefined]),
  );
  const calls: [Held, unknown[]][] = [];
  const restore = () => {
    for (const [m, f] of own) {
      if (f === undefined) delete slots[m];
      else slots[m] = f;
    }
  };
  for (const m of HELD) {
    slots[m] = function (this: ServerResponse, ...args: unknown[]) {
      calls.push([m, args]);
      if (m === "end") void send();
      if (m === "write") {
        const cb = args.find((a) => typeof a === "function") as (() => void) | undefined;
        if (cb) queueMicrotask(cb);
        return true;
      }
      return res;
    };
  }
  let sent = false;
  const send = async () => {
    if (sent) return;
    sent = true;
    const html = await profiled.report();
    restore();
    if (html === null) {
      for (const [m, args] of calls) (slots[m] as (...args: unknown[]) => unknown)(...args);
      return;
    }
    try {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.statusCode = 200;
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.setHeader("cache-control", "no-store");
      res.end(html);
    } catch {
      // the response was closed meanwhile (client gone): nothing left to send to
    }
  };
  // A response closed before the route ended it (client gone): the profile is finished all the same.
  res.once("close", () => void profiled.finish());
}
