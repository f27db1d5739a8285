// What the CLI writes: a run's reports (to -o, numbered under --signal-toggle, or stderr), a saved profile's report
// (--load, --load-prev: to stdout or -o), its own one-line messages, and the exit it ends with.
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../session/errors.ts";
import { launch, openerFor } from "../browser.ts";
import type { CliPlan } from "./arguments.ts";
import { keepLastSession } from "./cache.ts";
import { numberedPath, writeWhole } from "./writable.ts";

export { numberedPath } from "./writable.ts";

/** How the CLI ends: an exit code, or (as the program did) death by a polite signal, re-raised on itself. */
export interface CliExit {
  code: number;
  signal?: "SIGINT" | "SIGTERM" | "SIGHUP";
}

/** A message of the CLI's own, on stderr: one line. */
export function say(message: string): void {
  process.stderr.write(`tsprofile: ${message.split("\n")[0]}\n`);
}

type Report = string | Uint8Array;

/** A text report ends with a newline, whatever the renderer made. */
function endLine(report: Report): Report {
  return typeof report === "string" && !report.endsWith("\n") ? report + "\n" : report;
}

/** Why a write failed, as the CLI says it: the error's code (ENOENT, EACCES...), else its message. */
function writeFailure(err: unknown): string {
  return (err as { code?: string }).code ?? (err as Error).message;
}

/** The reports of one run: each session file the child writes becomes one. */
export interface RunReports {
  /** Renders one session file to -o (numbered in server mode) or stderr; false (said why) when it fails. */
  emit(path: string): Promise<boolean>;
  /** How many reports have been written. */
  written(): number;
}

/** Starts loading the report machinery (wasm core, renderers) while the program runs. */
export function startReports(plan: CliPlan): RunReports {
  const reporting = import("./machinery.ts");
  reporting.catch(() => {}); // reported by emit, once the program has ended
  let reports = 0;
  const emit = async (path: string): Promise<boolean> => {
    let report: Report;
    try {
      const { renderSessionOutput, loadSession } = await reporting;
      const session = loadSession(path);
      keepLastSession(path); // for --load-prev; best effort
      report = endLine(renderSessionOutput(session, plan.report));
    } catch (err) {
      say(`cannot render the profile: ${(err as Error).message ?? err}`);
      return false;
    }
    reports++;
    const outfile = plan.outfile !== undefined && plan.signalToggle
      ? numberedPath(plan.outfile, reports)
      : plan.outfile;
    if (outfile !== undefined) {
      try {
        writeWhole(outfile, report);
      } catch (err) {
        say(`cannot write ${outfile}: ${writeFailure(err)}`);
        return false;
      }
      if (plan.signalToggle) say(`report ${reports} written to ${outfile}`);
    } else if (plan.report.renderer === "html") {
      openHtml(report); // never into the program's stderr
    } else if (typeof report !== "string") {
      say("the renderer module returned bytes: write them to a file with -o FILE"); // never into stderr
      return false;
    } else {
      if (plan.signalToggle) say(`report ${reports}:`);
      process.stderr.write(report);
    }
    return true;
  };
  return { emit, written: () => reports };
}

/** --load / --load-prev: render a saved profile; the report goes to stdout (or -o). */
export async function runLoad(plan: CliPlan): Promise<CliExit> {
  const path = plan.load!;
  if (plan.loadPrev && !existsSync(path)) {
    say(`--load-prev: no previous session (${path} does not exist): profile a program first`);
    return { code: 2 };
  }
  const { renderSessionOutput, loadProfileFile, SessionError } = await import("./machinery.ts");
  let report: Report;
  try {
    report = endLine(renderSessionOutput(loadProfileFile(path), plan.report));
  } catch (err) {
    if (err instanceof SessionError || err instanceof UsageError) say(err.message);
    else say(`${path}: cannot render the profile: ${(err as Error)?.message ?? err}`);
    return { code: 2 };
  }
  return { code: writeReport(plan, report) ? 0 : 2 };
}

/** A saved profile's report to -o, the browser (HTML to a terminal) or stdout; false (said why) when it fails. */
export function writeReport(plan: CliPlan, report: Report): boolean {
  try {
    if (plan.outfile !== undefined) writeWhole(plan.outfile, report);
    else if (plan.report.renderer === "html" && process.stdout.isTTY) openHtml(report);
    else process.stdout.write(report);
  } catch (err) {
    say(`cannot write ${plan.outfile ?? "the report"}: ${writeFailure(err)}`);
    return false;
  }
  return true;
}

/**
 * An HTML report with no -o: written to a temporary file and opened in the browser, as pyinstrument does (with the
 * command in BROWSER if set); the file's path is said either way.
 */
function openHtml(report: Report): void {
  const path = join(tmpdir(), `tsprofile-${Date.now()}-${process.pid}.html`);
  writeWhole(path, report);
  say(`HTML report written to ${path}`);
  launch(openerFor(path));
}
