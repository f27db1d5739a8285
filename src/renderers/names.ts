// The renderer names and the file extensions that pick one, without loading any renderer: the CLI reads this
// while parsing its options (the renderers and the wasm core load later, while the program runs).

/** Every -r/--renderer name. The modules are in RENDERERS (./index.ts); a name here must have one there. */
export const RENDERER_NAMES = [
  "text",
  "json",
  "html",
  "speedscope",
  "cpuprofile",
  "collapsed",
  "pprof",
  "tsprof",
] as const;

/**
 * The formats that render the processed tree, so processors (ReportOptions.processors) change them; the others
 * write the samples (or the session) and are the same with or without processors.
 */
export const TREE_RENDERERS: ReadonlySet<string> = new Set(["text", "json", "html"]);

/** Formats whose output is bytes, not text: never written to a terminal. */
export const BINARY_RENDERERS: ReadonlySet<string> = new Set(["pprof", "tsprof"]);

/** -o's extension -> renderer, when -r is not given. Longest suffix first; matched case-insensitively. */
export const EXTENSION_RENDERERS: readonly (readonly [string, string])[] = [
  [".speedscope.json", "speedscope"],
  [".cpuprofile", "cpuprofile"],
  [".collapsed", "collapsed"],
  [".folded", "collapsed"],
  [".pb.gz", "pprof"],
  [".pprof", "pprof"],
  [".tsprof", "tsprof"],
  [".html", "html"],
  [".htm", "html"],
  [".json", "json"],
  [".txt", "text"],
];

/** The renderer an output file's name asks for, or undefined (then the default, text). */
export function rendererForPath(path: string): string | undefined {
  const lower = path.toLowerCase();
  for (const [ext, renderer] of EXTENSION_RENDERERS) if (lower.endsWith(ext)) return renderer;
  return undefined;
}
