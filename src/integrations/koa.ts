// Per-request profiles for Koa: a middleware. Koa is not imported (the types below are the parts of its context
// used here), so tsprofile/web loads without it. src/integrations/requests.ts does the profiling.
import { pathOf } from "./fetch.ts";
import { type RequestMode, RequestProfiler, type RequestProfilerOptions, sayUncalled } from "./requests.ts";

/** What the middleware uses of a Koa context; the index signature lets show() read the rest (ctx.get(), ...)
 * untyped: pass Koa's own type as the type argument for more. */
export interface KoaContextLike {
  method: string;
  originalUrl: string;
  status: number;
  type: string;
  body: unknown;
  response: { headers: Record<string, unknown> };
  res: { once(event: string, listener: () => void): unknown };
  set(field: string, value: string): void;
  remove(field: string): void;
  // deno-lint-ignore no-explicit-any -- the rest of Koa's context, untyped for show() (see above)
  [key: string]: any;
}

/**
 * Koa middleware: `app.use(koaProfiler({ enabled: true }))`, first. With `?profile` in the URL (and show(ctx)
 * allowing it) the response is the request's HTML report instead of what the downstream middleware made; in
 * profile-directory mode (`dir`) the report is saved when the response has been sent, and the response left alone.
 */
export function koaProfiler<Ctx extends KoaContextLike = KoaContextLike>(
  options: RequestProfilerOptions<Ctx> = {},
): (ctx: Ctx, next: () => Promise<unknown>) => Promise<unknown> {
  // app.use(koaProfiler), not called: Koa calls it with (ctx, next). Said once; the requests pass through.
  if (arguments.length > 1) {
    sayUncalled("use koaProfiler(options), called: app.use(koaProfiler({ enabled: true }))");
    return (arguments[1] as () => Promise<unknown>)() as never;
  }
  const profiler = new RequestProfiler<Ctx>(options);
  if (!profiler.enabled) return (_ctx, next) => next();
  // Unprofiled requests cost a look at the URL: no await, no promise of ours.
  return function tsprofile(ctx, next) {
    const decided = profiler.check(ctx.originalUrl, ctx);
    if (decided === null) return next();
    if (decided instanceof Promise) {
      return decided.then((mode) => (mode === null ? next() : profile(profiler, ctx, next, mode)));
    }
    return profile(profiler, ctx, next, decided);
  };
}

async function profile<Ctx extends KoaContextLike>(
  profiler: RequestProfiler<Ctx>,
  ctx: Ctx,
  next: () => Promise<unknown>,
  mode: RequestMode,
): Promise<unknown> {
  const profiled = profiler.begin(`${ctx.method} ${pathOf(ctx.originalUrl)}`, mode);
  // Koa writes the body after the middleware returns (a stream body as it streams): a saved profile ends when the
  // response is sent; either ends if the connection closes first.
  const finish = () => void profiled.finish();
  ctx.res.once("close", finish);
  if (mode === "save") {
    ctx.res.once("finish", finish);
    return profiled.run(next);
  }
  try {
    await profiled.run(next);
  } catch (err) {
    // Koa's own error handling answers, unprofiled.
    finish();
    throw err;
  }
  const html = await profiled.report();
  if (html === null) return;
  // The report instead of the response, none of its headers (cookies, caching, length) with it.
  for (const name of Object.keys(ctx.response.headers)) ctx.remove(name);
  ctx.status = 200;
  ctx.body = html;
  ctx.type = "html";
  ctx.set("cache-control", "no-store");
}
