// Per-request profiles for fetch-style handlers (Request in, Response out): Deno.serve, Bun.serve, and any
// framework built on them. src/integrations/requests.ts does the profiling.
import { RequestProfiler, type RequestProfilerOptions } from "./requests.ts";

type FetchHandler<Rest extends unknown[]> = (request: Request, ...rest: Rest) => Response | Promise<Response>;

/**
 * Wraps a fetch handler: `Deno.serve(profileFetch(handler, { enabled: true }))`,
 * `Bun.serve({ fetch: profileFetch(handler, { enabled: true }) })`. With `?profile` in the URL (and show()
 * allowing it) the response is the request's HTML report; in profile-directory mode (`dir`) the report is saved
 * and the handler's response returned. Other arguments (Deno's info, Bun's server) pass through.
 */
export function profileFetch<Rest extends unknown[]>(
  handler: FetchHandler<Rest>,
  options: RequestProfilerOptions<Request> = {},
): FetchHandler<Rest> {
  if (typeof handler !== "function") throw new TypeError("tsprofile: profileFetch() takes the handler function first");
  const profiler = new RequestProfiler<Request>(options);
  return async (request, ...rest) => {
    const mode = await profiler.check(request.url, request);
    if (mode === null) return handler(request, ...rest);
    const profiled = profiler.begin(`${request.method} ${pathOf(request.url)}`, mode);
    let response: Response;
    try {
      response = await profiled.run(() => handler(request, ...rest));
    } catch (err) {
      void profiled.finish();
      throw err;
    }
    if (mode === "save") {
      void profiled.finish();
      return response;
    }
    const html = await profiled.report();
    return html === null ? response : htmlResponse(html);
  };
}

/** The report as a response. */
export function htmlResponse(html: string): Response {
  return new Response(html, {
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
}

/** "/path?query" of a URL, absolute or not. */
export function pathOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  // Without the query and fragment: they hold tokens and passwords, and a report's title and file name are kept.
  const rest = (m ? url.slice(m[0].length) : url).split(/[?#]/)[0];
  return rest.startsWith("/") ? rest : `/${rest}`;
}
