// What the CLI's child process preloads, on every runtime (Node: --import, Deno and Bun: --preload): on Node,
// TypeScript support first (Deno and Bun run TypeScript natively), then the preload itself, which starts the
// sampler before the program. In the bundle (dist/preload.mjs) the preload is already JavaScript, so Node sets
// up TypeScript only when the program is TypeScript, or when await attribution instruments the program's
// JavaScript as it loads (opted in with TSPROFILE_AWAIT_INSTRUMENT=1; runtimes/loader/register.mjs decides from
// TSPROFILE_CHILD, which preload.ts reads after): a JavaScript program has no use for the loader's hooks thread.
import { TS_FILE } from "../../session/source/ts-format.mjs";

const onNode = typeof globalThis.Deno === "undefined" && typeof globalThis.Bun === "undefined";
const bundled = typeof __TSPROFILE_BUNDLED__ !== "undefined"; // defined by scripts/bundle.mjs
const instrumented = process.env.TSPROFILE_AWAIT_INSTRUMENT === "1" &&
  !/"asyncMode":"disabled"/.test(process.env.TSPROFILE_CHILD ?? '"asyncMode":"disabled"');
if (onNode && (!bundled || TS_FILE.test(process.argv[1] ?? "") || instrumented)) await import("../loader/register.mjs");
await import("./preload.ts");
