export const SKIP_PATH: RegExp;
export function mayHaveAwaits(source: string): boolean;
export interface Site {
  kind: number;
  name: string;
  line: number;
  col: number;
}
export interface Instrumented {
  code: string;
  sites: Site[];
  edits: [number, string][];
}
export function instrumentAwaits(
  source: string,
  file: string,
  options?: { script?: boolean; sourceSites?: boolean; typescript?: boolean },
): Instrumented | null;
export function parseModule(source: string, typescript: boolean): unknown;
export function shiftsOf(source: string, edits: [number, string][]): Map<number, number[]>;
export function unshift(shifts: Map<number, number[]>, line: number, col: number): number;
export function isProgramFile(file: string): boolean;
export function instrumentFile(file: string, code: string, script: boolean): string | null;
export function awaitShiftsFor(
  file: string,
  code: string,
  script: boolean,
): { unshift(line: number, col: number): number } | null;
