// The overhead benchmark on Node: bench/workload.mjs (acorn on a large generated source, JSON round trips,
// sorting, regexes, Map churn) run plain, under tsprofile (the bundled CLI, as users run it) and under
// `node --cpu-prof`, at 1 ms and 100 us, interleaved. The harness and what it prints: bench/overhead-harness.ts.
//
//   node --import ./runtimes/loader/register.mjs bench/overhead.ts [--runs 7] [--scale 1]
//   test/runtimes/node_modules/.bin/node --import ./runtimes/loader/register.mjs bench/overhead.ts     # Node 24
import { bundledCli, runOverhead } from "./overhead-harness.ts";

runOverhead({
  runtime: process.execPath,
  cli: bundledCli,
  bundle: true,
  describe: () => `${process.execPath} (${process.version})`,
  warm: (modes) => [modes[0]], // the disk cache and the esbuild binary
});
