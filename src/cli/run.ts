// Runs the program in a child process of the same runtime with the sampler preloaded: the signals, the sessions the
// child writes (at its end, mid-run for --duration and --signal-toggle, or to --stream-to) and the CLI's exit code.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { childLaunch } from "../../runtimes/launch/launch.ts";
import type { CliPlan } from "./arguments.ts";
import { type CliExit, say, startReports } from "./output.ts";
import { whyNotWritable } from "./writable.ts";

/** How often the CLI looks for the sessions a server-mode child writes mid-run. */
const REPORT_POLL_MS = 200;

/** The signals a program may die by that the CLI re-raises on itself. */
const RERAISED = new Set(["SIGINT", "SIGTERM", "SIGHUP"]);
/** How long a SIGINT to the CLI waits for the program to end by the same signal before it is forwarded. */
const INTERRUPT_GRACE_MS = 1000;

/** The program's process (once started) and the Ctrl-Cs the CLI has had. */
interface Program {
  child?: ChildProcess;
  interrupts: number;
  /** The last of SIGINT, SIGTERM and SIGHUP the CLI had. */
  received?: string;
}

/** How the child ended, or why it could not start. */
type Outcome = { code: number | null; signal: string | null } | Error;

/** Runs the plan; resolves to how the CLI should end. */
export async function run(plan: CliPlan): Promise<CliExit> {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-"));
  const sessionPath = join(dir, "session.tsprof");
  const streamPath = plan.streamTo !== undefined ? streamTarget(plan.streamTo, plan.outfile) : undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  try {
    const program: Program = { interrupts: 0 };
    listenForSignals(program, plan.signalToggle === true);
    const { child, command } = startChild(plan, sessionPath, streamPath);
    program.child = child;
    const reports = startReports(plan);
    const collect = periodCollector(sessionPath, reports.emit);
    if (streamPath === undefined && (plan.signalToggle || plan.duration !== undefined)) {
      poller = setInterval(() => void collect(), REPORT_POLL_MS);
    }

    const outcome = await new Promise<Outcome>((done) => {
      child.once("error", done);
      child.once("exit", (code, signal) => done({ code, signal }));
    });
    if (poller) clearInterval(poller);
    if (outcome instanceof Error) {
      say(`cannot start ${command}: ${outcome.message}`);
      return { code: 2 };
    }
    await collect();
    const forced = program.interrupts >= 2 && outcome.signal === "SIGKILL";
    const programExit = exitOfProgram(forced ? "SIGINT" : outcome.signal, outcome.code, program.received);
    // A tsprofile failure ends with 2, unless the program itself failed: then its code wins. A stream is for runs
    // that must not be disturbed: the program's code always passes through.
    const failed = (): CliExit => (programExit.code !== 0 || streamPath !== undefined ? programExit : { code: 2 });
    // A stream survives a second Ctrl-C (or any kill): what reached the file is rendered.
    if (forced && streamPath === undefined) {
      say(
        "stopped by a second Ctrl-C: the program was busy and never yielded to the first, so no profile was recorded",
      );
      return failed();
    }
    const final = streamPath ?? sessionPath;
    if (!existsSync(final)) {
      if (reports.written() > 0) return programExit; // server mode: its reports are out; profiling was off at the end
      say(noProfileMessage(plan, outcome));
      return failed();
    }
    if (!(await reports.emit(final))) return failed();
    return programExit;
  } finally {
    if (poller) clearInterval(poller);
    if (plan.signalToggle) process.removeAllListeners("SIGUSR2");
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * --stream-to's file, resolved; undefined (said why, in one line) when it cannot be written: the program runs
 * anyway and its report goes where it would without a stream. A read-only file is never replaced.
 */
function streamTarget(path: string, outfile: string | undefined): string | undefined {
  const why = whyNotWritable(path);
  if (why === undefined) return resolve(path);
  say(`--stream-to: ${why}: not streaming; the report goes to ${outfile ?? "stderr"} at the end`);
  return undefined;
}

/** Listeners go in before the child exists so an early Ctrl-C cannot kill the parent first. */
function listenForSignals(program: Program, signalToggle: boolean): void {
  const alive = () => {
    const child = program.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };
  const forward = (signal: string) => {
    program.received = signal;
    if (alive()) program.child!.kill(signal as "SIGTERM");
  };
  // Ctrl-C goes to the whole process group: the child's preload writes its session and dies by the signal;
  // the parent must outlive it to print the report. A SIGTERM/SIGHUP sent to the parent alone is forwarded.
  // A SIGINT is forwarded too unless a terminal sent it (then the program has it already, and a second one
  // would read as "press Ctrl-C again to force quit"). JavaScript handles a signal only when the program
  // yields, so a program stuck in a synchronous loop cannot answer the first Ctrl-C: a second one stops it for
  // good (its profile is lost).
  const interrupt = () => {
    program.received = "SIGINT";
    if (++program.interrupts >= 2) {
      if (alive()) program.child!.kill("SIGKILL");
      return;
    }
    if (alive() && !fromTerminal()) {
      // Without a terminal, a signal to the CLI alone cannot be told from one to the whole process group (which
      // the program has too): forwarded only if the program has not ended within a second, so a group's SIGINT
      // is not delivered twice to a program that answers it (its preload writes the session and dies by it).
      const later = setTimeout(() => {
        try {
          if (alive()) process.kill(program.child!.pid!, "SIGINT"); // by pid, as for SIGUSR2 below
        } catch {
          // the program ended between the check and the signal
        }
      }, INTERRUPT_GRACE_MS);
      program.child!.once("exit", () => clearTimeout(later));
    }
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  // Server mode: the user may signal tsprofile (the pid they started) rather than the program. By pid: Deno's
  // ChildProcess.kill() sends one signal per child, then reports the child's exit as killed by it.
  if (signalToggle) {
    process.on("SIGUSR2", () => {
      try {
        if (alive()) process.kill(program.child!.pid!, "SIGUSR2");
      } catch {
        // the program ended between the check and the signal: nothing to toggle
      }
    });
  }
}

/**
 * True when a SIGINT to the CLI may be a terminal's Ctrl-C, which reaches the program as well: the CLI is in the
 * foreground process group of its terminal (Linux: /proc/self/stat; elsewhere, a terminal on stdin or stderr).
 * A supervisor's, `docker stop`'s or `kill -INT`'s signal reaches the CLI alone.
 */
function fromTerminal(): boolean {
  let stat: string;
  try {
    stat = readFileSync("/proc/self/stat", "utf8");
  } catch {
    return process.stdin.isTTY === true || process.stderr.isTTY === true;
  }
  // pid (comm) state ppid pgrp session tty_nr tpgid ...: comm may hold spaces and parentheses.
  const [, , pgrp, , ttyNr, tpgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return ttyNr !== 0 && tpgid === pgrp;
}

/** Spawns the program with the sampler preloaded; TSPROFILE_CHILD tells the preload what to record and where. */
function startChild(
  plan: CliPlan,
  sessionPath: string,
  streamPath: string | undefined,
): { child: ChildProcess; command: string } {
  const launch = childLaunch({
    preload: preloadPath(),
    script: plan.script,
    code: plan.code,
    args: plan.args,
    interval: plan.interval,
    runtimeArgs: plan.runtimeArgs,
  });
  const program = plan.code !== undefined
    ? programLine("-c", [plan.code, ...plan.args])
    : programLine(plan.script, plan.args);
  const child = spawn(launch.command, launch.args, {
    stdio: "inherit",
    env: {
      ...process.env,
      ...launch.env,
      TSPROFILE_CHILD: JSON.stringify({
        interval: plan.interval,
        sessionPath,
        program,
        // "disabled" records nothing: no wrappers in the program at all.
        asyncMode: plan.report.asyncMode,
        ...(streamPath !== undefined ? { streamPath } : {}),
        ...(plan.duration !== undefined ? { duration: plan.duration } : {}),
        ...(plan.signalToggle ? { toggleSignal: true } : {}),
      }),
    },
  });
  return { child, command: launch.command };
}

/** The preload the child loads first: next to the bundle (dist/), or in the source tree. */
function preloadPath(): string {
  for (const candidate of ["./preload.mjs", "../../runtimes/preload/preload.mjs"]) {
    const url = new URL(candidate, import.meta.url);
    if (url.protocol === "file:" && existsSync(fileURLToPath(url))) return fileURLToPath(url);
  }
  throw new Error("cannot find preload.mjs next to the CLI (is the package built? run `npm run build`)");
}

/** How the program is spelled in the report's header. */
function programLine(script: string, args: string[]): string {
  return [script, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/**
 * Reports the sessions of periods that ended mid-run (SIGUSR2, --duration): they appear whole as
 * session.tsprof.<n>. Each call reports the new ones, in order, after those of the calls before it.
 */
function periodCollector(sessionPath: string, emit: (path: string) => Promise<boolean>): () => Promise<void> {
  let nextPeriod = 1;
  let emitting = Promise.resolve();
  return () => (emitting = emitting.then(async () => {
    while (existsSync(`${sessionPath}.${nextPeriod}`)) await emit(`${sessionPath}.${nextPeriod++}`);
  }));
}

/** The program's own end, as the CLI passes it on: 128 + a signal's number, re-raised when it is a polite one. */
function exitOfProgram(signal: string | null, code: number | null, received?: string): CliExit {
  const signals = osConstants.signals as Record<string, number>;
  // A runtime may end by a signal it handled as code 128 + n (Deno, once in CI, after a forwarded SIGINT): the
  // signal the CLI had and passed on is what ended it.
  if (signal === null && received !== undefined && code === 128 + signals[received]) signal = received;
  const programCode = signal !== null ? 128 + (signals[signal] ?? 0) : code ?? 1;
  return signal !== null && RERAISED.has(signal)
    ? { code: programCode, signal: signal as CliExit["signal"] }
    : { code: programCode };
}

/** Why a run that ended with no session file has no report. */
function noProfileMessage(plan: CliPlan, outcome: { code: number | null; signal: string | null }): string {
  if (plan.signalToggle) {
    return (
      "no profile was recorded: profiling was never started " +
      `(send SIGUSR2 to tsprofile, pid ${process.pid}, or to the program)`
    );
  }
  const end = outcome.signal ?? `exit code ${outcome.code}`;
  return `no profile was recorded: the program ended (${end}) without writing its session`;
}
