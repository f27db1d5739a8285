// Per-request profiles for Fastify: a plugin of four hooks. Fastify is not imported (the types below are the parts
// of it used here), so tsprofile/web loads without it. src/integrations/requests.ts does the profiling.
import { pathOf } from "./fetch.ts";
import {
  type ProfiledRequest,
  type RequestMode,
  RequestProfiler,
  type RequestProfilerOptions,
  sayUncalled,
} from "./requests.ts";

/** What the plugin uses of a Fastify request; the index signature lets show() read the rest (headers, ip, ...)
 * untyped: pass FastifyRequest as the type argument for more. */
export interface FastifyRequestLike {
  method: string;
  url: string;
  // deno-lint-ignore no-explicit-any -- the rest of Fastify's request, untyped for show() (see above)
  [key: string]: any;
}

interface FastifyReplyLike {
  raw: { once(event: string, listener: () => void): unknown };
  code(statusCode: number): unknown;
  header(name: string, value: string): unknown;
  getHeaders(): Record<string, unknown>;
  removeHeader(name: string): unknown;
}

interface FastifyInstanceLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}

type Done = (err?: Error | null, value?: unknown) => void;

/** A Fastify plugin (callback style) that applies to the whole application, as fastify-plugin would make it. */
export type FastifyProfilerPlugin = (instance: unknown, options: unknown, done: (err?: Error) => void) => void;

/**
 * Fastify plugin: `app.register(fastifyProfiler({ enabled: true }))`, before the routes. With `?profile` in the
 * URL (and show(request) allowing it) the response is the request's HTML report instead of the route's; in
 * profile-directory mode (`dir`) the report is saved once the response has been sent, the response left alone.
 */
export function fastifyProfiler<Req extends FastifyRequestLike = FastifyRequestLike>(
  options: RequestProfilerOptions<Req> = {},
): FastifyProfilerPlugin {
  // app.register(fastifyProfiler), not called: Fastify calls it as the plugin, (instance, options, done). Said;
  // the app runs unprofiled.
  if (arguments.length > 1) {
    sayUncalled("register fastifyProfiler(options), called: app.register(fastifyProfiler({ enabled: true }))");
    return (arguments[2] as () => void)?.() as never;
  }
  const profiler = new RequestProfiler<Req>(options);
  // Fastify's own instance type is not imported: instance is Fastify's, which has addHook.
  const plugin = (instance: unknown, _options: unknown, done: (err?: Error) => void): void => {
    if (profiler.enabled) addHooks(instance as FastifyInstanceLike, profiler);
    done();
  };
  // Hooks added by a plugin apply to its own encapsulated context only, unless it skips that (fastify-plugin's way).
  return Object.assign(plugin, {
    [Symbol.for("skip-override")]: true,
    [Symbol.for("fastify.display-name")]: "tsprofile",
  });
}

function addHooks<Req extends FastifyRequestLike>(app: FastifyInstanceLike, profiler: RequestProfiler<Req>): void {
  const profiles = new WeakMap<object, ProfiledRequest>();

  app.addHook("onRequest", (request: Req, reply: FastifyReplyLike, done: Done) => {
    const go = (mode: RequestMode | null) => {
      if (mode === null) return done();
      const profiled = profiler.begin(`${request.method} ${pathOf(request.url)}`, mode);
      profiles.set(request, profiled);
      // A client gone before the response ends the profile all the same.
      reply.raw.once("close", () => void profiled.finish());
      // The hooks and the handler that follow run in the request's context...
      profiled.run(() => done());
    };
    const decided = profiler.check(request.url, request);
    if (decided instanceof Promise) decided.then(go, () => done());
    else go(decided);
  });

  // ...except after a request body was read: its stream's events come from the connection, outside the request's
  // context, so the handler's hooks are entered in it again.
  app.addHook("preValidation", (request: Req, _reply: FastifyReplyLike, done: Done) => {
    const profiled = profiles.get(request);
    if (profiled) profiled.run(() => done());
    else done();
  });

  app.addHook("onSend", (request: Req, reply: FastifyReplyLike, payload: unknown, done: Done) => {
    const profiled = profiles.get(request);
    if (!profiled || profiled.mode !== "report") return done(null, payload);
    profiles.delete(request);
    profiled.report().then(
      (html) => {
        if (html === null) return done(null, payload);
        discard(payload);
        // The report instead of the response, none of its headers (cookies, caching, length) with it.
        for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
        reply.code(200);
        reply.header("content-type", "text/html; charset=utf-8");
        reply.header("cache-control", "no-store");
        done(null, html);
      },
      () => done(null, payload),
    );
  });

  app.addHook("onResponse", (request: Req, _reply: FastifyReplyLike, done: Done) => {
    const profiled = profiles.get(request);
    if (profiled) {
      profiles.delete(request);
      void profiled.finish();
    }
    done();
  });
}

/** A payload the report replaces: a stream (Node's or a Response's body) is closed, not left to leak. */
function discard(payload: unknown): void {
  try {
    const p = payload as { destroy?: () => void; body?: { cancel?: () => Promise<void> } | null } | null;
    if (typeof p?.destroy === "function") p.destroy();
    else if (typeof p?.body?.cancel === "function") p.body.cancel().catch(() => {});
  } catch {
    // discarding is best effort: the report is sent either way
  }
}
