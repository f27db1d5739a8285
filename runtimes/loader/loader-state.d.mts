/** What runtimes/loader/register.mjs tells session/source/sourcemaps.ts (globalThis[Symbol.for("tsprofile.loader")]). */
export interface LoaderState {
  cjs: Set<string>;
  awaits?: (file: string, code: string, script: boolean) => { unshift(line: number, col: number): number } | null;
  scripts?: Set<string>;
}
