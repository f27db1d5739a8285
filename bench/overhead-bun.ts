// The overhead benchmark on Bun: bench/workload.mjs run plain, under tsprofile (the bundled CLI on Bun, as
// `bunx --bun tsprofile` runs it) and under `bun --cpu-prof` (Bun's own profiler: the same JSC sampling
// profiler, written as a .cpuprofile to --cpu-prof-dir at exit), at 1 ms and 100 us, interleaved. The harness
// and what it prints: bench/overhead-harness.ts.
//
//   node --import ./runtimes/loader/register.mjs bench/overhead-bun.ts [--runs 7] [--scale 1]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundledCli, root, runOverhead } from "./overhead-harness.ts";

const bun = process.env.TSPROFILE_BUN ?? join(root, "test", "runtimes", "node_modules", ".bin", "bun");
if (!existsSync(bun)) throw new Error(`no bun at ${bun} (npm ci in test/runtimes, or set TSPROFILE_BUN)`);

runOverhead({
  // npm_config_user_agent would make a Node-run CLI re-run itself; here the CLI runs on Bun directly.
  runtime: bun,
  cli: bundledCli,
  bundle: true,
  describe: () => `bun ${spawnSync(bun, ["--version"], { encoding: "utf8" }).stdout.trim()}`,
  warm: (modes) => modes, // the disk cache and the transpiler cache
  tmpPrefix: "tsprofile-bench-bun-",
  footer:
    "\nwall: the whole process, spawn to exit (tsprofile includes its CLI start and the report); work: the workload's\n" +
    "own timer around its work; work cpu: the workload process's CPU time over that span. Medians.",
});
