// bench/async.ts's child on Deno and Bun (--preload): the program's awaits instrumented as the CLI's child has them
// (runtimes/awaits/load-hooks.mjs; Node's loader does it from the same TSPROFILE_CHILD), when "enabled" asks.
import { instrumentBunAwaits, instrumentDenoAwaits } from "../runtimes/awaits/load-hooks.mjs";

if (/"asyncMode":"enabled"/.test(process.env.TSPROFILE_CHILD ?? "")) {
  if (typeof globalThis.Deno !== "undefined") instrumentDenoAwaits();
  else instrumentBunAwaits();
}
