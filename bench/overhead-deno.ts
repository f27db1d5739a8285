// The overhead benchmark on Deno: bench/workload.mjs run plain, under tsprofile (the CLI from source on Deno,
// as a JSR user runs it: deno run -A src/cli/main.ts, whose child is deno run -A --preload) and under Deno's hidden
// `--cpu-prof` (V8's profiler written as a .cpuprofile to --cpu-prof-dir at exit; --cpu-prof-interval in us),
// at 1 ms and 100 us, interleaved. The harness and what it prints: bench/overhead-harness.ts.
//
//   node --import ./runtimes/loader/register.mjs bench/overhead-deno.ts [--runs 7] [--scale 1]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { root, runOverhead } from "./overhead-harness.ts";

const deno = process.env.TSPROFILE_DENO ?? join(root, "test", "runtimes", "node_modules", ".bin", "deno");
if (!existsSync(deno)) throw new Error(`no deno at ${deno} (npm ci in test/runtimes, or set TSPROFILE_DENO)`);

runOverhead({
  runtime: deno,
  runtimeArgs: ["run", "-A"],
  cli: join(root, "src", "cli", "main.ts"),
  describe: () => `${deno} (${spawnSync(deno, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]})`,
  warm: (modes) => [modes[0], modes[1]], // the disk cache and Deno's emit cache (of the CLI's source too)
});
