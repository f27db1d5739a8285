// `tsprofile diff`: two saved profiles compared (src/diff.ts); the report goes to stdout (or -o), like --load's.
// With --fail-above, the functions that grew past it are said on stderr and the exit code is 1 (for CI).
import { UsageError } from "../../session/errors.ts";
import type { CliPlan } from "./arguments.ts";
import { type CliExit, say, writeReport } from "./output.ts";

export async function runDiff(plan: CliPlan): Promise<CliExit> {
  const { base, next, normalize, failAbove } = plan.diff!;
  const { diffSessions, renderDiff, regressions, loadProfileFile, SessionError } = await import("./machinery.ts");
  let diff;
  let report: string;
  try {
    diff = diffSessions(loadProfileFile(base), loadProfileFile(next), { ...plan.report, normalize });
    report = renderDiff(diff);
  } catch (err) {
    if (err instanceof SessionError || err instanceof UsageError) say(err.message);
    else say(`diff: cannot compare the profiles: ${(err as Error)?.message ?? err}`);
    return { code: 2 };
  }
  if (!writeReport(plan, report)) return { code: 2 };
  if (failAbove === undefined) return { code: 0 };
  const grew = regressions(diff, failAbove);
  for (const r of grew.slice(0, 10)) {
    const growth = r.growth === Infinity ? "new" : `+${r.growth.toFixed(0)}%`;
    const [from, to] = normalize
      ? [`${(r.base * 100).toFixed(1)}%`, `${(r.next * 100).toFixed(1)}%`]
      : [`${r.base.toFixed(3)} s`, `${r.next.toFixed(3)} s`];
    say(
      `${r.function}${
        r.position ? ` (${r.position})` : ""
      }: own time ${growth}, ${from} -> ${to}, above --fail-above ${failAbove}%`,
    );
  }
  if (grew.length > 10) say(`... and ${grew.length - 10} more functions above --fail-above ${failAbove}%`);
  return { code: grew.length > 0 ? 1 : 0 };
}
