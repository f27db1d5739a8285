export type SiteRow = [kind: number, name: string, line: number, col: number];
export class AwaitRecorder {
  clock: (() => number) | null;
  context: (() => number) | null;
  siteFile: string[];
  siteRow: SiteRow[];
  running: number;
  next: number;
  actSite: Int32Array;
  actParent: Int32Array;
  actDone: Uint8Array;
  actLastResume: Float64Array;
  n: number;
  wAct: Int32Array;
  wSite: Int32Array;
  wStart: Float64Array;
  wEnd: Float64Array;
  wFrom: Int32Array;
  wTo: Int32Array;
  wContext: number[];
  start(clock: () => number, context: (() => number) | null): boolean;
  stop(): (t: number) => number;
  register(file: string, rows: SiteRow[]): Record<string, (...args: never[]) => unknown>;
}
export function installAwaitRecorder(): AwaitRecorder;
export function awaitRecorder(): AwaitRecorder | null;
