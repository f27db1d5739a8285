// Ending a process by a signal as if it had no handler, after its handler has run (the preload saves the session,
// the CLI prints the report): the listener is removed, then the signal raised on the process itself.
import process from "node:process";

const SIGNAL_NUMBER = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * Raises `signal` on this process once its own listeners are gone. Deno unregisters its OS-level handler some time
 * after the last listener goes, and a signal raised before that is swallowed (seen under load: the CLI then ended
 * with code 130, not by SIGINT): it is raised again every 20 ms until it lands. After 2 s `giveUp` runs (by default
 * nothing: the process ends on its own with the exit code already set, 128 + n).
 */
export function dieBySignal(signal: keyof typeof SIGNAL_NUMBER, giveUp: () => void = () => {}): void {
  process.kill(process.pid, signal);
  let tries = 0;
  const again = setInterval(() => {
    if (++tries <= 100) return process.kill(process.pid, signal);
    clearInterval(again);
    giveUp();
  }, 20);
}

/** 128 + the signal's number: the exit code a shell reports for a death by it. */
export function signalExitCode(signal: keyof typeof SIGNAL_NUMBER): number {
  return 128 + SIGNAL_NUMBER[signal];
}
