// How a node's change between two runs reads (tsprofile diff): "+0.120 s +35%", or with normalize the change of
// its share of each run, "+5.1 pts +35%"; [new] and [gone] for a node only one run has; and whether it grew,
// shrank or barely moved. Browser code that the text diff (renderers/diff.ts) uses too, so the report and the
// page say the same thing of every row.
import { DiffSide } from "../../../session/types.ts";

/** What a change is, for its colour: growth, shrinkage, too small to look at, or a node only one run has. */
export type ChangeKind = "grew" | "shrank" | "small" | "new" | "gone";

/** The runs' root times (us) and whether changes are of shares of each run rather than of time. */
export interface ChangeScale {
  next: number;
  base: number;
  normalize: boolean;
}

/** A change under half a percent (of the larger run's time, or with normalize half a point of share) is small. */
const SMALL = 0.005;

/** "+0.120 s +35%" (times in us), or with normalize "+5.1 pts +35%"; the relative part only when base > 0. */
export function changeText(next: number, base: number, scale: ChangeScale): string {
  const [a, b] = scale.normalize ? [share(base, scale.base), share(next, scale.next)] : [base, next];
  const delta = b - a;
  const sign = delta >= 0 ? "+" : "-";
  const abs = scale.normalize
    ? `${sign}${(Math.abs(delta) * 100).toFixed(1)} pts`
    : `${sign}${(Math.abs(delta) / 1e6).toFixed(3)} s`;
  const relative = a > 0 ? ` ${sign}${Math.abs((delta / a) * 100).toFixed(0)}%` : "";
  return abs + relative;
}

/** One node's change: its text and kind, from both runs' times (us) and its DiffSide bits. */
export function nodeChange(next: number, base: number, side: number, scale: ChangeScale): {
  text: string;
  kind: ChangeKind;
} {
  if (side === DiffSide.new) return { text: "[new]", kind: "new" };
  if (side === DiffSide.base) return { text: `[gone: ${(base / 1e6).toFixed(3)} s in base]`, kind: "gone" };
  const delta = scale.normalize ? share(next, scale.next) - share(base, scale.base) : next - base;
  const small = Math.abs(delta) < SMALL * (scale.normalize ? 1 : Math.max(scale.next, scale.base));
  return { text: changeText(next, base, scale), kind: small ? "small" : delta > 0 ? "grew" : "shrank" };
}

/** A time as a share of its run's total (0 when the run has none). */
function share(us: number, total: number): number {
  return total > 0 ? us / total : 0;
}
