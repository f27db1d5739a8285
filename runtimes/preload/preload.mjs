// What the CLI's child process preloads, on every runtime (Node: --import, Deno and Bun: --preload): on Node,
// TypeScript support first (Deno and Bun run TypeScript natively), then the preload itself, which starts the
// sampler before the program. In the bundle (dist/preload.mjs) the preload is already JavaScript, so Node sets
// up TypeScript only when the program is TypeScript, or when await attribution instruments the program's
// JavaScript as it loads (runtimes/loader/register.mjs decides from TSPROFILE_CHILD, which preload.ts reads
// after): a JavaScript program with await attribution off has no use for the loader's hooks thread. On Deno the
// instrumentation is a load hook of this thread and on Bun a runtime plugin (runtimes/awaits/load-hooks.mjs).
// TSPROFILE_AWAIT_INSTRUMENT=0 turns the instrumentation off (the wrappers alone then see the waits).
import { TS_FILE } from "../../session/source/ts-format.mjs";

const onNode = typeof globalThis.Deno === "undefined" && typeof globalThis.Bun === "undefined";
const bundled = typeof __TSPROFILE_BUNDLED__ !== "undefined"; // defined by scripts/bundle.mjs
const instrumented = process.env.TSPROFILE_AWAIT_INSTRUMENT !== "0" && process.env.TSPROFILE_CHILD !== undefined &&
  !/"asyncMode":"disabled"/.test(process.env.TSPROFILE_CHILD);
if (onNode && (!bundled || TS_FILE.test(process.argv[1] ?? "") || instrumented)) await import("../loader/register.mjs");
if (instrumented && !onNode) {
  const hooks = await import("../awaits/load-hooks.mjs");
  if (typeof globalThis.Deno !== "undefined") hooks.instrumentDenoAwaits();
  else hooks.instrumentBunAwaits();
}
await import("./preload.ts");
