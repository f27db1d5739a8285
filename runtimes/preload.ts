// Runs in the CLI's child process before the user's program: starts the sampler and writes the session once,
// whichever way the program ends. It must not change the program's output, exit code or signal behaviour.
import { isMainThread } from "node:worker_threads";
import { saveSession } from "../src/session.ts";
import { startSampler, type Sampler } from "./index.ts";

interface ChildConfig {
  interval: number;
  sessionPath: string;
  program: string;
  /** Await attribution (absent from older CLIs: enabled). */
  asyncMode?: "enabled" | "strict" | "disabled";
}

function readConfig(): ChildConfig | null {
  const raw = process.env.TSPROFILE_CHILD;
  // Deleted at once so the program's own child processes (which may inherit --import via execArgv) are not
  // profiled into the same file.
  delete process.env.TSPROFILE_CHILD;
  if (raw === undefined || !isMainThread) return null;
  try {
    const c = JSON.parse(raw);
    if (typeof c.interval === "number" && typeof c.sessionPath === "string" && c.sessionPath && typeof c.program === "string") return c;
  } catch {}
  process.stderr.write("tsprofile: ignoring a malformed TSPROFILE_CHILD; the program runs unprofiled\n");
  return null;
}

function install(config: ChildConfig): void {
  let sampler: Sampler;
  try {
    sampler = startSampler({
      interval: config.interval,
      startStack: false,
      deoptimize: false,
      asyncMode: config.asyncMode === "disabled" ? "disabled" : "enabled",
    });
  } catch (err) {
    process.stderr.write(`tsprofile: could not start the sampler (${(err as Error).message}); the program runs unprofiled\n`);
    return;
  }
  let written = false;
  const finish = (): void => {
    if (written) return;
    written = true;
    try {
      saveSession(sampler.stop({ program: config.program }), config.sessionPath);
    } catch (err) {
      // The program's exit status is not ours to change; the CLI reports the missing session.
      process.stderr.write(`tsprofile: could not write the session (${(err as Error).message})\n`);
    }
  };

  // 'exit' covers a normal end, process.exit(n) and an uncaught exception (Node prints it, then exits 1).
  process.on("exit", finish);
  if (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined") onDenoEnd(finish);

  // A signal with no listener kills the process without 'exit'. Ours stands in for the default only while the
  // program has none of its own: then save, step aside and re-raise, so the status stays "killed by <sig>".
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) > 1) return; // the program handles this signal itself
      finish();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/**
 * Deno emits process 'exit' for a normal end and process.exit(n), but not for Deno.exit(n) (only the 'unload'
 * event) nor for an uncaught exception or unhandled rejection: those dispatch 'error' / 'unhandledrejection'
 * on globalThis and then end the process without any further event. Listening does not change the outcome
 * (we never preventDefault). Not fatal, so ignored: an event already prevented, or one the program takes through
 * process.on('uncaughtException' / 'unhandledRejection') (Deno decides that after our listener has run).
 * Limitation: a globalThis listener of the program's that prevents the event after ours ran leaves the rest of
 * the run unprofiled.
 */
function onDenoEnd(finish: () => void): void {
  const g = globalThis as unknown as { addEventListener(type: string, fn: (e: Event) => void): void };
  g.addEventListener("unload", () => finish());
  const nodeEvent: Record<string, string> = { error: "uncaughtException", unhandledrejection: "unhandledRejection" };
  for (const type of Object.keys(nodeEvent)) {
    g.addEventListener(type, (e) => {
      if (!e.defaultPrevented && process.listenerCount(nodeEvent[type]) === 0) finish();
    });
  }
}

const config = readConfig();
if (config) install(config);
