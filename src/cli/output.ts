// What the CLI writes besides a run's report: a saved profile's report (--load, --load-prev: to stdout or -o), its
// own one-line messages, and the exit it ends with.
import { existsSync, writeFileSync } from "node:fs";
import { UsageError } from "../../session/errors.ts";
import type { CliPlan } from "./arguments.ts";

/** How the CLI ends: an exit code, or (as the program did) death by a polite signal, re-raised on itself. */
export interface CliExit {
  code: number;
  signal?: "SIGINT" | "SIGTERM" | "SIGHUP";
}

export function say(message: string): void {
  process.stderr.write(`tsprofile: ${message.split("\n")[0]}\n`);
}

/** FILE.EXT -> FILE.<n>.EXT: the n-th report of --signal-toggle. */
export function numberedPath(path: string, n: number): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}.${n}${path.slice(dot)}` : `${path}.${n}`;
}

/** --load / --load-prev: render a saved profile; the report goes to stdout (or -o). */
export async function runLoad(plan: CliPlan): Promise<CliExit> {
  const path = plan.load!;
  if (plan.loadPrev && !existsSync(path)) {
    say(`--load-prev: no previous session (${path} does not exist): profile a program first`);
    return { code: 2 };
  }
  const [{ renderSessionOutput }, { loadProfile }, { SessionError }] = await Promise.all([
    import("../report.ts"),
    import("../profile-file.ts"),
    import("../../session/session.ts"),
  ]);
  let report: string | Uint8Array;
  try {
    report = renderSessionOutput(loadProfile(path), plan.report);
    if (typeof report === "string" && !report.endsWith("\n")) report += "\n";
  } catch (err) {
    if (err instanceof SessionError || err instanceof UsageError) say(err.message);
    else say(`${path}: cannot render the profile: ${(err as Error)?.message ?? err}`);
    return { code: 2 };
  }
  try {
    if (plan.outfile !== undefined) writeFileSync(plan.outfile, report);
    else process.stdout.write(report);
  } catch (err) {
    say(`cannot write ${plan.outfile ?? "the report"}: ${(err as { code?: string }).code ?? (err as Error).message}`);
    return { code: 2 };
  }
  return { code: 0 };
}
