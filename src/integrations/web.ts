// tsprofile/web: per-request profiles for web servers. Off unless enabled; `?profile` in a request's URL
// returns its HTML report instead of its response, or `dir` saves one report per request. The profiling itself is
// src/integrations/requests.ts; each adapter only hooks it into its framework.
export { type RequestMode, RequestProfiler, type RequestProfilerOptions } from "./requests.ts";
export { htmlResponse, profileFetch } from "./fetch.ts";
export { expressProfiler, profileNodeHandler } from "./node-http.ts";
export { fastifyProfiler, type FastifyProfilerPlugin, type FastifyRequestLike } from "./fastify.ts";
export { type HonoContextLike, honoProfiler } from "./hono.ts";
export { type KoaContextLike, koaProfiler } from "./koa.ts";
