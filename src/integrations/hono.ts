// Per-request profiles for Hono, on any runtime it runs on (Node through @hono/node-server, Deno.serve, Bun.serve):
// a middleware. Hono is not imported (the types below are the parts of its context used here), so tsprofile/web
// loads without it. src/integrations/requests.ts does the profiling.
import { htmlResponse, pathOf } from "./fetch.ts";
import { type RequestMode, RequestProfiler, type RequestProfilerOptions, sayUncalled } from "./requests.ts";

/** What the middleware uses of a Hono context; the index signature lets show() read the rest (c.req.header(),
 * c.env, ...) untyped: pass Hono's Context as the type argument for more. */
export interface HonoContextLike {
  // deno-lint-ignore no-explicit-any -- the rest of Hono's request, untyped for show() (see above)
  req: { url: string; method: string; [key: string]: any };
  res: Response;
  // deno-lint-ignore no-explicit-any -- the rest of Hono's context, untyped for show() (see above)
  [key: string]: any;
}

/**
 * Hono middleware: `app.use(honoProfiler({ enabled: true }))`, before the routes. With `?profile` in the URL (and
 * show(c) allowing it) the response is the request's HTML report instead of the route's; in profile-directory
 * mode (`dir`) the report is saved and the response left alone.
 */
export function honoProfiler<C extends HonoContextLike = HonoContextLike>(
  options: RequestProfilerOptions<C> = {},
): (c: C, next: () => Promise<void>) => Promise<void> {
  // app.use(honoProfiler), not called: Hono calls it with (c, next). Said once; the requests pass through.
  if (arguments.length > 1) {
    sayUncalled("use honoProfiler(options), called: app.use(honoProfiler({ enabled: true }))");
    return (arguments[1] as () => Promise<void>)() as never;
  }
  const profiler = new RequestProfiler<C>(options);
  if (!profiler.enabled) return (_c, next) => next();
  // Unprofiled requests cost a look at the URL: no await, no promise of ours.
  return function tsprofile(c, next) {
    const decided = profiler.check(c.req.url, c);
    if (decided === null) return next();
    if (decided instanceof Promise) {
      return decided.then((mode) => (mode === null ? next() : profile(profiler, c, next, mode)));
    }
    return profile(profiler, c, next, decided);
  };
}

async function profile<C extends HonoContextLike>(
  profiler: RequestProfiler<C>,
  c: C,
  next: () => Promise<void>,
  mode: RequestMode,
): Promise<void> {
  const profiled = profiler.begin(`${c.req.method} ${pathOf(c.req.url)}`, mode);
  try {
    await profiled.run(next);
  } catch (err) {
    // (Hono answers a handler's error itself; this is an error of its own, or of a custom onError.)
    void profiled.finish();
    throw err;
  }
  if (mode === "save") {
    void profiled.finish();
    return;
  }
  const html = await profiled.report();
  if (html === null) return;
  const replaced = c.res;
  replaced.body?.cancel().catch(() => {});
  // Setting c.res copies the previous response's headers onto the new one; the report takes none of them.
  (c as { res: Response | undefined }).res = undefined;
  c.res = htmlResponse(html);
}
