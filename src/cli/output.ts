// What the CLI writes: a run's reports (to -o, numbered under --signal-toggle, or stderr), a saved profile's report
// (--load, --load-prev: to stdout or -o), its own one-line messages, and the exit it ends with.
import { existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../session/errors.ts";
import type { Session } from "../../session/types.ts";
import { launch, openerFor } from "../browser.ts";
import type { CliPlan } from "./arguments.ts";
import { keepLastSession } from "./cache.ts";
import { type Progress, startProgress } from "./progress.ts";
import { isDevice, numberedPath, taggedPath, whyNotWritable, writeAllWhole, writeWhole } from "./writable.ts";

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

/** A report, and the workers' own profiles that go with it (renderOutput). */
export interface Output {
  report: Report;
  /** Each worker's .cpuprofile and the file beside -o's it goes to. */
  workers: (readonly [path: string, report: Report])[];
  /** Workers whose .cpuprofile has no file to go to (no -o, or a device): a note says how to get them. */
  unwritten: number;
}

/**
 * The report for a session. A .cpuprofile holds one thread (DevTools and --load read one), so with workers each
 * worker's goes to a file of its own beside -o's, as `node --cpu-prof` writes one per worker: FILE.worker-<id>.EXT,
 * rendered as the main thread's is. With no file to put them beside (stdout, stderr, a device) the report is the
 * main thread's alone, as the library's is.
 */
function renderOutput(
  render: typeof import("./machinery.ts").renderSessionOutput,
  session: Session,
  plan: CliPlan,
  outfile: string | undefined,
  progress: Progress,
): Output {
  progress.phase(`rendering ${session.samples.stack.length} samples`);
  const report = endLine(render(session, plan.report));
  const threads = plan.report.renderer === "cpuprofile" ? session.threads ?? [] : [];
  if (threads.length === 0 || outfile === undefined || isDevice(outfile)) {
    return { report, workers: [], unwritten: threads.length };
  }
  const tags = new Set<string>();
  const workers = threads.map((thread, i) => {
    const id = thread.meta.thread?.id ?? i + 1;
    let tag = `worker-${id}`;
    for (let n = 2; tags.has(tag); n++) tag = `worker-${id}-${n}`; // combined runs may repeat an id
    tags.add(tag);
    return [taggedPath(outfile, tag), endLine(render(thread, plan.report))] as const;
  });
  return { report, workers, unwritten: 0 };
}

/**
 * The report to -o with its workers' files, all of them or none, said in one line (a file, not a device such as
 * /dev/stdout); false (said why) when it fails.
 */
function writeOutfile(outfile: string, { report, workers }: Output, label = "report"): boolean {
  for (const [path] of workers) {
    const why = whyNotWritable(path); // a read-only file stays, as -o's own (checked before the run)
    if (why !== undefined) {
      say(`cannot write the workers' profiles: ${why}; nothing written`);
      return false;
    }
  }
  try {
    writeAllWhole([[outfile, report], ...workers]);
  } catch (err) {
    say(`cannot write ${outfile}${workers.length > 0 ? " and its workers' profiles" : ""}: ${writeFailure(err)}`);
    return false;
  }
  const beside = workers.length > 0 ? `, its worker threads' to ${workers.map(([path]) => path).join(", ")}` : "";
  if (!isDevice(outfile)) say(`${label} written to ${outfile}${beside}`);
  return true;
}

/** Says how to get the workers' profiles a report to a stream left out. */
function noteUnwritten({ unwritten }: Output): void {
  if (unwritten === 0) return;
  const whose = unwritten === 1 ? "its worker thread's profile" : `its ${unwritten} worker threads' profiles`;
  say(`the .cpuprofile holds the main thread only: -o FILE.cpuprofile writes ${whose} beside it`);
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
    const outfile = plan.outfile !== undefined && plan.signalToggle
      ? numberedPath(plan.outfile, reports + 1)
      : plan.outfile;
    let out: Output;
    const progress = startProgress();
    try {
      const { renderSessionOutput, loadSession } = await reporting;
      progress.phase("loading the profile");
      const session = loadSession(path);
      keepLastSession(path); // for --load-prev; best effort
      out = renderOutput(renderSessionOutput, session, plan, outfile, progress);
    } catch (err) {
      progress.done();
      say(`cannot render the profile: ${(err as Error).message ?? err}`);
      return false;
    }
    progress.done();
    reports++;
    const { report } = out;
    if (outfile !== undefined) {
      if (!writeOutfile(outfile, out, plan.signalToggle ? `report ${reports}` : "report")) return false;
    } else if (plan.report.renderer === "html") {
      openHtml(report); // never into the program's stderr
    } else if (typeof report !== "string") {
      say("the renderer module returned bytes: write them to a file with -o FILE"); // never into stderr
      return false;
    } else {
      if (plan.signalToggle) say(`report ${reports}:`);
      process.stderr.write(report);
    }
    noteUnwritten(out);
    return true;
  };
  return { emit, written: () => reports };
}

/** A profile file this big takes a second or more to load: said at once (a 12 s load said nothing). */
const BIG_FILE = 32 * 1024 * 1024;

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // loadProfileFile says why
  }
}

/** --load / --load-prev: render a saved profile; the report goes to stdout (or -o). */
export async function runLoad(plan: CliPlan): Promise<CliExit> {
  const path = plan.load!;
  if (plan.loadPrev && !existsSync(path)) {
    say(`--load-prev: no previous session (${path} does not exist): profile a program first`);
    return { code: 2 };
  }
  const { renderSessionOutput, loadProfileFile, SessionError } = await import("./machinery.ts");
  let out: Output;
  const progress = startProgress();
  try {
    progress.phase(`loading ${path}`, fileSize(path) >= BIG_FILE);
    out = renderOutput(renderSessionOutput, loadProfileFile(path), plan, plan.outfile, progress);
  } catch (err) {
    progress.done();
    if (err instanceof SessionError || err instanceof UsageError) say(err.message);
    else say(`${path}: cannot render the profile: ${(err as Error)?.message ?? err}`);
    return { code: 2 };
  }
  progress.done();
  return { code: writeReport(plan, out) ? 0 : 2 };
}

/** A saved profile's report to -o, the browser (HTML to a terminal) or stdout; false (said why) when it fails. */
export function writeReport(plan: CliPlan, report: Report | Output): boolean {
  const out = typeof report === "string" || report instanceof Uint8Array
    ? { report, workers: [], unwritten: 0 }
    : report;
  if (plan.outfile !== undefined) {
    if (!writeOutfile(plan.outfile, out)) return false;
  } else {
    try {
      if (plan.report.renderer === "html" && process.stdout.isTTY) openHtml(out.report);
      else process.stdout.write(out.report);
    } catch (err) {
      say(`cannot write the report: ${writeFailure(err)}`);
      return false;
    }
  }
  noteUnwritten(out);
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
