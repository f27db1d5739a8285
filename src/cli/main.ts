// The `tsprofile` command's entry: reads the command line (arguments.ts), then runs the program (run.ts), renders a
// saved profile (output.ts) or compares two (diff.ts), and ends as the program did. The program's stdout stays its own: reports go elsewhere.
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../session/errors.ts";
import { reexecUnderBun } from "../../runtimes/launch/bun-reexec.ts";
import { dieBySignal } from "../../runtimes/shared/die-by-signal.ts";
import { type CliPlan, parseCommandLine, parseDiffCommandLine } from "./arguments.ts";
import { runDiff } from "./diff.ts";
import { loadModules } from "./modules.ts";
import { type CliExit, runLoad, say } from "./output.ts";
import { run } from "./run.ts";

// What this module exported before the CLI was split in files (deno.json exports it as "./cli").
export { type CliPlan, parseCommandLine } from "./arguments.ts";
export { type CliExit, numberedPath, runLoad } from "./output.ts";
export { run } from "./run.ts";

/**
 * The CLI's own process (never the program's): V8 compiles the wasm core's hot functions to its optimizing tier in
 * the background and, at exit, waits for those compiles, 40-45 ms of every run. Its baseline tier processes a
 * session as fast (measured, --load on Node 20: 100k samples 196 ms against 224, 1M 371 against 361).
 */
function baselineWasmOnly(): void {
  try {
    setFlagsFromString("--liftoff-only");
  } catch {
    // A runtime without V8's flags (Bun): nothing to change.
  }
}

export async function main(argv: string[]): Promise<CliExit> {
  const viaBun = await reexecUnderBun(argv); // `bunx tsprofile` started us under Node: profile under Bun
  if (viaBun) return viaBun;
  let plan: CliPlan;
  try {
    // `tsprofile diff ...` compares profiles (a script named diff runs as ./diff).
    plan = argv[0] === "diff" ? parseDiffCommandLine(argv.slice(1)) : parseCommandLine(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      say(err.message);
      return { code: 2 };
    }
    throw err;
  }
  if (plan.message !== undefined) {
    process.stdout.write(plan.message);
    return { code: 0 };
  }
  try {
    await loadModules(plan); // before the program runs: a module that fails to load fails at once
  } catch (err) {
    if (err instanceof UsageError) {
      say(err.message);
      return { code: 2 };
    }
    throw err;
  }
  if (plan.diff !== undefined) return runDiff(plan);
  return plan.load !== undefined ? runLoad(plan) : run(plan);
}

/** True when this module is the program (source, bundle, or npm's node_modules/.bin symlink to it). */
function isMain(): boolean {
  const meta = import.meta as { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const entry = process.argv[1];
  if (!entry || import.meta.url.slice(0, 5) !== "file:") return false;
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Run when executed, not when imported by tests or the API.
if (isMain()) {
  baselineWasmOnly();
  main(process.argv.slice(2)).then(
    (exit) => {
      process.removeAllListeners("SIGINT").removeAllListeners("SIGTERM").removeAllListeners("SIGHUP");
      process.exitCode = exit.code;
      // Die by the program's signal, as a shell expects (a loop around `tsprofile` stops on Ctrl-C).
      if (exit.signal) dieBySignal(exit.signal);
    },
    (err) => {
      say(`internal error: ${(err as Error)?.message ?? err}`);
      process.exitCode = 2;
    },
  );
}
