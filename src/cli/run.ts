// Runs the program in a child process of the same runtime with the sampler preloaded: the signals, the sessions the
// child writes (at its end, mid-run for --duration and --signal-toggle, or to --stream-to) and the CLI's exit code.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { childLaunch } from "../../runtimes/launch/launch.ts";
import type { CliPlan } from "./arguments.ts";
import { keepLastSession } from "./cache.ts";
import { type CliExit, numberedPath, say } from "./output.ts";

/** How often the CLI looks for the sessions a server-mode child writes mid-run. */
const REPORT_POLL_MS = 200;

const RERAISED = new Set(["SIGINT", "SIGTERM", "SIGHUP"]);

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

/** Runs the plan; resolves to how the CLI should end. */
export async function run(plan: CliPlan): Promise<CliExit> {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-"));
  const sessionPath = join(dir, "session.tsprof");
  const streamPath = plan.streamTo !== undefined ? resolve(plan.streamTo) : undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  try {
    // Listeners go in before the child exists so an early Ctrl-C cannot kill the parent first.
    let child: ReturnType<typeof spawn> | undefined;
    const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
    const forward = (signal: string) => {
      if (alive()) child!.kill(signal as "SIGTERM");
    };
    // Ctrl-C goes to the whole process group: the child's preload writes its session and dies by the signal;
    // the parent must outlive it to print the report. A SIGTERM/SIGHUP sent to the parent alone is forwarded.
    // JavaScript handles a signal only when the program yields, so a program stuck in a synchronous loop
    // cannot answer the first Ctrl-C: a second one stops it for good (its profile is lost).
    let interrupts = 0;
    const interrupt = () => {
      if (++interrupts >= 2 && alive()) child!.kill("SIGKILL");
    };
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", forward);
    process.on("SIGHUP", forward);
    // Server mode: the user may signal tsprofile (the pid they started) rather than the program. By pid: Deno's
    // ChildProcess.kill() sends one signal per child, then reports the child's exit as killed by it.
    if (plan.signalToggle) {
      process.on("SIGUSR2", () => {
        try {
          if (alive()) process.kill(child!.pid!, "SIGUSR2");
        } catch {}
      });
    }
    const launch = childLaunch({ preload: preloadPath(), script: plan.script, code: plan.code, args: plan.args, interval: plan.interval });
    child = spawn(launch.command, launch.args, {
      stdio: "inherit",
      env: {
        ...process.env,
        ...launch.env,
        TSPROFILE_CHILD: JSON.stringify({
          interval: plan.interval,
          sessionPath,
          program: plan.code !== undefined ? programLine("-c", [plan.code, ...plan.args]) : programLine(plan.script, plan.args),
          // "disabled" records nothing: no wrappers in the program at all.
          asyncMode: plan.report.asyncMode,
          ...(streamPath !== undefined ? { streamPath } : {}),
          ...(plan.duration !== undefined ? { duration: plan.duration } : {}),
          ...(plan.signalToggle ? { toggleSignal: true } : {}),
        }),
      },
    });
    const started = child;
    const reporting = Promise.all([import("../report.ts"), import("../../session/session.ts")]);
    reporting.catch(() => {}); // reported below, once the program has ended

    // Renders one session file to -o (numbered in server mode) or stderr; false (said why) when it fails.
    let reports = 0;
    const emit = async (path: string): Promise<boolean> => {
      let report: string | Uint8Array;
      try {
        const [{ renderSessionOutput }, { loadSession }] = await reporting;
        const session = loadSession(path);
        keepLastSession(path); // for --load-prev; best effort
        report = renderSessionOutput(session, plan.report);
        if (typeof report === "string" && !report.endsWith("\n")) report += "\n";
      } catch (err) {
        say(`cannot render the profile: ${(err as Error).message ?? err}`);
        return false;
      }
      reports++;
      const outfile = plan.outfile !== undefined && plan.signalToggle ? numberedPath(plan.outfile, reports) : plan.outfile;
      if (outfile !== undefined) {
        try {
          writeFileSync(outfile, report);
        } catch (err) {
          say(`cannot write ${outfile}: ${(err as { code?: string }).code ?? (err as Error).message}`);
          return false;
        }
        if (plan.signalToggle) say(`report ${reports} written to ${outfile}`);
      } else {
        if (plan.signalToggle) say(`report ${reports}:`);
        process.stderr.write(report);
      }
      return true;
    };
    // Sessions of periods that ended mid-run (SIGUSR2, --duration) appear as session.tsprof.<n>, whole.
    let nextPeriod = 1;
    let emitting = Promise.resolve();
    const collect = (): Promise<void> =>
      (emitting = emitting.then(async () => {
        while (existsSync(`${sessionPath}.${nextPeriod}`)) await emit(`${sessionPath}.${nextPeriod++}`);
      }));
    if (streamPath === undefined && (plan.signalToggle || plan.duration !== undefined)) {
      poller = setInterval(() => void collect(), REPORT_POLL_MS);
    }

    const outcome = await new Promise<{ code: number | null; signal: string | null } | Error>((done) => {
      started.once("error", done);
      started.once("exit", (code, signal) => done({ code, signal }));
    });
    if (poller) clearInterval(poller);
    if (outcome instanceof Error) {
      say(`cannot start ${launch.command}: ${outcome.message}`);
      return { code: 2 };
    }
    await collect();
    const forced = interrupts >= 2 && outcome.signal === "SIGKILL";
    const signal = forced ? "SIGINT" : outcome.signal;
    const programCode =
      signal !== null ? 128 + ((osConstants.signals as Record<string, number>)[signal] ?? 0) : outcome.code ?? 1;
    const programExit: CliExit =
      signal !== null && RERAISED.has(signal) ? { code: programCode, signal: signal as CliExit["signal"] } : { code: programCode };
    // A tsprofile failure ends with 2, unless the program itself failed: then its code wins.
    const failed = (): CliExit => (programCode !== 0 ? programExit : { code: 2 });
    // A stream survives a second Ctrl-C (or any kill): what reached the file is rendered.
    if (forced && streamPath === undefined) {
      say("stopped by a second Ctrl-C: the program was busy and never yielded to the first, so no profile was recorded");
      return failed();
    }
    const final = streamPath ?? sessionPath;
    if (!existsSync(final)) {
      if (reports > 0) return programExit; // server mode: its reports are out; profiling was off at the end
      if (plan.signalToggle) {
        say(`no profile was recorded: profiling was never started (send SIGUSR2 to tsprofile, pid ${process.pid}, or to the program)`);
        return failed();
      }
      say(
        `no profile was recorded: the program ended (${outcome.signal ?? `exit code ${outcome.code}`}) without writing its session`,
      );
      return failed();
    }
    if (!(await emit(final))) return failed();
    return programExit;
  } finally {
    if (poller) clearInterval(poller);
    if (plan.signalToggle) process.removeAllListeners("SIGUSR2");
    rmSync(dir, { recursive: true, force: true });
  }
}
