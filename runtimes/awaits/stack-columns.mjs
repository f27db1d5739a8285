// Error stacks of instrumented code (runtimes/awaits/instrument.mjs) at the user's columns. A line holding an await
// holds more than the user wrote, so the engine's columns on it are past the user's; with source maps on, Node maps
// them through each instrumented file's own map (composed with esbuild's for TypeScript). Source maps cannot be
// turned on for the program's sake alone (Node would then read every map comment of every file, a library's
// /dev/zero or FIFO included), so when they are off, stacks are formatted as Node's own Error.prepareStackTrace does
// (its first line, then "\n    at " and each call site's text) with the user's column in each site's text. A
// program that sets its own Error.prepareStackTrace replaces this, and sees the engine's columns. Bun's is used the
// same way (runtimes/awaits/load-hooks.mjs).
import { fileURLToPath } from "node:url";

/**
 * @param {(file: string) => { unshift(line: number, col: number): number } | null} shiftsOf the instrumentation's
 *   shifts of a file it instrumented (a path), else null
 */
export function installStackColumns(shiftsOf) {
  const original = Error.prepareStackTrace;
  // Node's own (named so since Node 20): anything else is the program's, or a tool's that maps positions itself.
  if (process.sourceMapsEnabled || typeof original !== "function" || original.name !== "ErrorPrepareStackTrace") return;
  /** @type {Map<string, { unshift(line: number, col: number): number } | null>} */
  const files = new Map();
  const shiftsFor = (/** @type {string} */ name) => {
    let s = files.get(name);
    if (s === undefined) {
      try {
        s = shiftsOf(name.startsWith("file:") ? fileURLToPath(name) : name);
      } catch {
        s = null;
      }
      files.set(name, s);
    }
    return s;
  };
  /** @param {NodeJS.CallSite} site */
  const frame = (site) => {
    // Bun's call sites leave out the "async " its own stacks give an async frame.
    const raw = String(site);
    const text = site.isAsync?.() && !raw.startsWith("async ") ? `async ${raw}` : raw;
    try {
      const name = site.getFileName();
      const line = site.getLineNumber();
      const col = site.getColumnNumber();
      if (!name || !line || !col) return text;
      const shifts = shiftsFor(name);
      const to = shifts ? shifts.unshift(line, col) : col;
      if (to === col) return text;
      const at = `${name}:${line}:${col}`;
      const i = text.lastIndexOf(at);
      return i < 0 ? text : `${text.slice(0, i)}${name}:${line}:${to}${text.slice(i + at.length)}`;
    } catch {
      return text;
    }
  };
  /** @param {Error} error @param {NodeJS.CallSite[]} trace */
  const ErrorPrepareStackTrace = (error, trace) => {
    // The first line as Node writes it (an error of Node's own has its code in it), then each site as its text.
    const head = Reflect.apply(original, Error, [error, []]);
    if (trace.length === 0) return head;
    /** @type {string[]} */
    let lines;
    try {
      lines = trace.map(frame);
    } catch {
      return Reflect.apply(original, Error, [error, trace]);
    }
    return `${head}\n    at ${lines.join("\n    at ")}`;
  };
  Error.prepareStackTrace = ErrorPrepareStackTrace;
}
