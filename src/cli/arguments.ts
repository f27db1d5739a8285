// The command line: the options, the usage text, and parseCommandLine, which reads argv into a CliPlan and throws a
// UsageError (one line, said by main.ts) for anything the user got wrong, before any program runs.
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../../session/errors.ts";
import { VERSION } from "../../session/version.ts";
import { MIN_INTERVAL } from "../../session/types.ts";
// Only the option parsing loads up front; the report machinery (wasm core, renderers) loads while the program runs.
import { applyRenderOption, defaultReportOptions } from "../processing/options.ts";
import type { ReportOptions } from "../processing/options.ts";
import { BINARY_RENDERERS, RENDERER_NAMES, rendererForPath } from "../renderers/names.ts";
import { lastSessionPath, runReference } from "./cache.ts";
import { numberedPath, whyNotWritable } from "./writable.ts";

const USAGE = "Usage: tsprofile [options] scriptfile [arg] ...";
const MORE_USAGE = `       tsprofile [options] --from-path program [arg] ...
       tsprofile [options] -c code [arg] ...
       tsprofile [options] --load FILE | --load-prev
       tsprofile diff [options] [BASE NEW]   (see tsprofile diff --help)`;

const HELP = `${USAGE}
${MORE_USAGE}

Runs scriptfile (JavaScript or TypeScript) and prints where the wall-clock time
went as a call tree. The program's stdin, stdout, stderr and exit code pass
through; the report goes to stderr. With --load or --load-prev no program runs:
the report of a saved profile goes to stdout.

Options:
  --version             show program's version number and exit
  -h, --help            show this help message and exit
  -i SECONDS, --interval=SECONDS
                        sampling interval in seconds (default 0.001; from
                        0.0001 to 1)
  -c CODE               profile CODE, given as a string (JavaScript; Deno and
                        Bun take TypeScript too), instead of a scriptfile
  --from-path           find the program on PATH, nearest node_modules/.bin
                        first (tsprofile --from-path vitest run)
  --load=FILE           render a saved profile instead of running a program:
                        a .tsprof session (-o run.tsprof) or a .cpuprofile
                        from node/deno/bun --cpu-prof or DevTools
  --load-prev           render the last run's session again (kept in the
                        user's cache folder)
  -o OUTFILE, --outfile=OUTFILE
                        save the report to <outfile> instead of printing it.
                        Without -r its extension picks the format: .tsprof,
                        .json, .speedscope.json, .cpuprofile, .collapsed,
                        .pb.gz (pprof), .html, .txt
  -r RENDERER, --renderer=RENDERER
                        how the report should be rendered. One of: 'text',
                        'json', 'html', 'speedscope', 'cpuprofile',
                        'collapsed', 'pprof', 'tsprof'. pprof and tsprof are
                        binary: they need -o (or, with --load, a stdout that
                        is not a terminal). Or a module's path (./r.mjs, or
                        any name ending .js .mjs .cjs .ts): its default
                        export takes the processed tree and the options and
                        returns the report (a string or a Uint8Array)
  -p KEY=VALUE, --render-option=KEY=VALUE
                        a renderer option (repeatable), e.g. -p flat=true,
                        -p time=percent_of_total, -p filter_threshold=0.02,
                        -p show_all=true, -p short_mode=true, -p show_cpu=true
                        (each node's CPU time, where it was recorded)
  -p processor=PATH     a processor module (repeatable, run in order after
                        tsprofile's own): its default export takes the tree
                        and the options and returns the tree (or changes it
                        and returns nothing). The tree reports (text, json,
                        html, a renderer module) show its result; the sample
                        formats (speedscope, cpuprofile, collapsed, pprof,
                        tsprof) do not use the tree
  --stream-to=FILE      write the session to FILE while the program runs, so
                        a run that is killed (even with kill -9) still
                        leaves a profile: tsprofile --load FILE renders what
                        was recorded. Streams on Bun and Node >= 24.12; on
                        Node 20-24.11 and Deno FILE is written at the end
  --runtime-arg=OPTION  an option for the runtime that runs the program
                        (repeatable): --runtime-arg=--max-old-space-size=6000
                        on Node, --runtime-arg=--unstable-kv on Deno. The
                        program runs on the runtime tsprofile runs on
  --duration=SECONDS    stop profiling after SECONDS; the program keeps
                        running and the report is written at once (with
                        --stream-to: when the program ends)
  --signal-toggle       server mode: profiling starts off; SIGUSR2 (sent to
                        tsprofile or to the program) starts it and the next
                        SIGUSR2 stops it and writes a report (to -o FILE as
                        FILE.1.EXT, FILE.2.EXT, ..., else to stderr). With
                        --duration, each period also stops after SECONDS
  --async-mode=MODE     how time spent awaiting is shown: 'enabled' (default:
                        charged as [await] to the code that awaited),
                        'strict' (the Profiler API's own async context only;
                        the CLI's program is one context) or 'disabled' (no
                        tracking; waiting is [idle])
  -t, --timeline        render as a timeline - preserve ordering and don't
                        condense repeated calls
  --hide=EXPR           glob-style pattern matching the file paths whose
                        frames to hide (repeatable). Library code
                        (node_modules, runtime internals) is hidden by default.
  --hide-regex=REGEX    regex matching the file paths whose frames to hide.
                        Useful if --hide doesn't give enough control.
  --show=EXPR           glob-style pattern matching the file paths whose
                        frames to show, regardless of --hide or --hide-regex.
                        For example, use --show '*/node_modules/express/*' to
                        show frames within a library that would otherwise be
                        hidden.
  --show-regex=REGEX    regex matching the file paths whose frames to always
                        show. Useful if --show doesn't give enough control.
  --show-all            show everything
  --unicode             (text renderer only) force unicode text output
  --no-unicode          (text renderer only) force ascii text output
  --color               (text renderer only) force ansi color text output
  --no-color            (text renderer only) force no color text output

Options end at scriptfile: everything after it is passed to the script
untouched (\`tsprofile app.ts --help\` passes --help to app.ts). \`--\` also ends
the options.
`;

/** The longest sampling interval, seconds: samplers take it in microseconds as a 32-bit integer, and a profile
 * sampled less than once a second says little. */
const MAX_INTERVAL = 1;

const OPTIONS = {
  interval: { type: "string", short: "i" },
  outfile: { type: "string", short: "o" },
  load: { type: "string" },
  "load-prev": { type: "boolean" },
  renderer: { type: "string", short: "r" },
  "render-option": { type: "string", short: "p", multiple: true },
  timeline: { type: "boolean", short: "t" },
  "async-mode": { type: "string" },
  code: { type: "string", short: "c" },
  "from-path": { type: "boolean" },
  "stream-to": { type: "string" },
  "runtime-arg": { type: "string", multiple: true },
  duration: { type: "string" },
  "signal-toggle": { type: "boolean" },
  hide: { type: "string", multiple: true },
  "hide-regex": { type: "string", multiple: true },
  show: { type: "string", multiple: true },
  "show-regex": { type: "string", multiple: true },
  "show-all": { type: "boolean" },
  unicode: { type: "boolean" },
  "no-unicode": { type: "boolean" },
  color: { type: "boolean" },
  "no-color": { type: "boolean" },
  version: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

// The names live in src/renderers/names.ts (with the -o extension map), beside the renderers' registry.
const RENDERERS: readonly string[] = RENDERER_NAMES;

export interface CliPlan {
  /** Set when --help or --version was asked for: print it, exit 0. */
  message?: string;
  script: string;
  args: string[];
  /** Sampling interval, microseconds. */
  interval: number;
  outfile?: string;
  report: ReportOptions;
  /** Render this saved profile (--load FILE, or the cache's last session for --load-prev) instead of running. */
  load?: string;
  /** The load came from --load-prev (its "missing" error says so). */
  loadPrev?: boolean;
  /** --runtime-arg, in order: options for the runtime that runs the program, before the preload and script. */
  runtimeArgs?: string[];
  /** --stream-to: the appendable session file the child writes as it goes (session/stream.ts). */
  streamTo?: string;
  /** --duration: seconds after which profiling stops (the program goes on). */
  duration?: number;
  /** --signal-toggle: SIGUSR2 starts and stops profiling, each stop writes a report. */
  signalToggle?: boolean;
  /** -c: the code to run instead of script. */
  code?: string;
  /** -r PATH: a renderer module (its default export), loaded before the program runs (src/cli/modules.ts). */
  rendererModule?: string;
  /** -p processor=PATH, in order: processor modules (their default exports), loaded before the program runs. */
  processorModules?: string[];
  /** `tsprofile diff`: compare two saved profiles instead of running a program. */
  diff?: DiffPlan;
}

export interface DiffPlan {
  /** The profiles' files (a run reference such as last~1 resolved to its file in the cache). */
  base: string;
  next: string;
  normalize: boolean;
  /** --fail-above: exit 1 when a function's own time grew by more than this many percent. */
  failAbove?: number;
}

/** The plan as the options build it, with what they said that the checks after them need. */
interface Reading {
  plan: CliPlan;
  fromPath: boolean;
  /** -r was given: -o's extension does not pick the format. */
  rendererGiven: boolean;
  /** --color / --no-color, the last one given. */
  color?: boolean;
  /** -p and --async-mode, in command-line order, applied after the flags. */
  renderOptions: string[];
}

/** Parses the command line; throws UsageError for anything the user got wrong. */
export function parseCommandLine(
  argv: string[],
  stream: { isTTY?: boolean } = process.stderr,
  stdout: { isTTY?: boolean } = process.stdout,
): CliPlan {
  const { tokens, at } = readOptions(argv);
  const reading = newReading(stream);
  const plan = reading.plan;
  // Tokens in command-line order, so the last of --color/--no-color (etc.) wins and the first mistake is the one told.
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    if (token.name === "help" || token.name === "version") {
      plan.message = token.name === "help" ? HELP : `tsprofile ${VERSION}\n`;
      return plan;
    }
    const value = token.value ?? "";
    if (!readRunOption(reading, token.name, value) && !readOutputOption(reading, token.name, value)) {
      readReportOption(reading, token.name, value);
    }
  }
  settleReport(reading, stdout);
  checkOutput(plan, stdout);
  checkStream(plan);
  if (plan.load !== undefined) checkLoad(reading, argv, at);
  else programToRun(reading, argv, at);
  return plan;
}

/** The option tokens, and where the program's part of argv begins. */
function readOptions(argv: string[]) {
  const { options, at } = splitAtScript(argv);
  try {
    const parsed = parseArgs({ args: options, options: OPTIONS, strict: true, allowPositionals: false, tokens: true });
    return { tokens: parsed.tokens, at };
  } catch (err) {
    throw new UsageError(parseArgsMessage(err));
  }
}

/**
 * Splits argv where the options end (at the script, or after `--`): parseArgs alone would read options after
 * the script too. A value-taking option takes the next argument whatever it looks like (`-i -1` is a bad
 * interval, not a missing one), so those pairs are rewritten as `--name=value` for parseArgs.
 */
function splitAtScript(argv: string[]): { options: string[]; at: number } {
  const spec = OPTIONS as Record<string, { type: string; short?: string }>;
  const takesValue = (name: string | undefined) => name !== undefined && spec[name]?.type === "string";
  const shortToLong = new Map<string, string>();
  for (const [name, o] of Object.entries(spec)) if (o.short) shortToLong.set(o.short, name);
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") return { options, at: i + 1 };
    if (arg.startsWith("--")) {
      if (!arg.includes("=") && takesValue(arg.slice(2)) && i + 1 < argv.length) options.push(`${arg}=${argv[++i]}`);
      else options.push(arg);
    } else if (arg.startsWith("-") && arg.length > 1) {
      // A short group like -tr json or -tri0.01: a value-taking letter takes the rest, or the next argument.
      let j = 1;
      while (j < arg.length && !takesValue(shortToLong.get(arg[j]))) j++;
      if (j >= arg.length) options.push(arg);
      else {
        if (j > 1) options.push(arg.slice(0, j));
        const name = shortToLong.get(arg[j])!;
        if (j + 1 < arg.length) options.push(`--${name}=${arg.slice(j + 1)}`);
        else if (i + 1 < argv.length) options.push(`--${name}=${argv[++i]}`);
        else options.push(`--${name}`); // parseArgs reports the missing value
      }
    } else return { options, at: i };
  }
  return { options, at: argv.length };
}

/** parseArgs errors are multi-sentence with advice meant for programmers; keep the first sentence. */
function parseArgsMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = String(e.message ?? err);
  // "Option '-i, --interval <value>' argument missing": name the long form.
  const quoted = /'(-[^']*)'/.exec(message)?.[1] ?? "";
  const option = /--[\w-]+/.exec(quoted)?.[0] ?? (quoted || /--?[\w-]+/.exec(message)?.[0]);
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${option ?? message}' (see --help)`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /argument missing/.test(message) || /requires/.test(message)
        ? `option '${option}' needs a value`
        : `option '${option}' takes no value`;
    default:
      return message.split("\n")[0];
  }
}

/** The plan before any option: the defaults for a report to `stream`. */
function newReading(stream: { isTTY?: boolean }): Reading {
  const defaults = defaultReportOptions(stream);
  const report: ReportOptions = {
    ...defaults,
    // Copies: the pattern lists are appended to by the options.
    hide: [...defaults.hide],
    hideRegex: [...defaults.hideRegex],
    show: [...defaults.show],
    showRegex: [...defaults.showRegex],
  };
  return {
    plan: { script: "", args: [], interval: 1000, report },
    fromPath: false,
    rendererGiven: false,
    renderOptions: [],
  };
}

/** The options about the program and how it is profiled; false when `name` is not one of them. */
function readRunOption(reading: Reading, name: string, value: string): boolean {
  const plan = reading.plan;
  switch (name) {
    case "interval": {
      // Decimal only: Number() would also take 0x10 (16 s), 1e9 and Infinity.
      if (!/^(\d+\.?\d*|\.\d+)$/.test(value)) {
        throw new UsageError(`--interval: '${value}' is not a number of seconds (a decimal such as 0.001)`);
      }
      const seconds = Number(value);
      if (seconds < MIN_INTERVAL || seconds > MAX_INTERVAL) {
        throw new UsageError(
          `--interval: ${value} is out of range (from ${MIN_INTERVAL} to ${MAX_INTERVAL} seconds)`,
        );
      }
      plan.interval = Math.round(seconds * 1e6);
      return true;
    }
    case "code":
      plan.code = value;
      return true;
    case "from-path":
      reading.fromPath = true;
      return true;
    case "stream-to":
      if (value === "") throw new UsageError("--stream-to: needs a file name");
      plan.streamTo = value;
      return true;
    case "runtime-arg":
      // The runtime's own options only: a script or its arguments there would change what runs.
      if (!value.startsWith("-")) {
        throw new UsageError(`--runtime-arg: '${value}' is not an option of the runtime (they start with -)`);
      }
      (plan.runtimeArgs ??= []).push(value);
      return true;
    case "duration": {
      const seconds = value.trim() === "" ? NaN : Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new UsageError(`--duration: '${value}' is not a positive number of seconds`);
      }
      // setTimeout's limit (about 24.8 days).
      if (seconds > 2_000_000) throw new UsageError(`--duration: ${value} seconds is too long (at most 2000000)`);
      plan.duration = seconds;
      return true;
    }
    case "signal-toggle":
      if (process.platform === "win32") throw new UsageError("--signal-toggle: Windows has no SIGUSR2");
      plan.signalToggle = true;
      return true;
    default:
      return false;
  }
}

/** The options about where the report goes and what it is made from; false when `name` is not one of them. */
function readOutputOption(reading: Reading, name: string, value: string): boolean {
  const plan = reading.plan;
  switch (name) {
    case "outfile":
      if (value === "") throw new UsageError("--outfile: needs a file name");
      plan.outfile = value;
      return true;
    case "renderer":
      if (isModulePath(value)) {
        plan.rendererModule = moduleFile("--renderer", value);
        reading.rendererGiven = true;
        return true;
      }
      if (!RENDERERS.includes(value)) {
        throw new UsageError(`--renderer: unknown renderer '${value}' (one of: ${RENDERERS.join(", ")})`);
      }
      plan.report.renderer = value as ReportOptions["renderer"];
      reading.rendererGiven = true;
      return true;
    case "load":
      if (value === "") throw new UsageError("--load: needs a file name");
      if (plan.loadPrev) throw new UsageError("--load and --load-prev: give one of them");
      plan.load = value;
      return true;
    case "load-prev":
      if (plan.load !== undefined) throw new UsageError("--load and --load-prev: give one of them");
      plan.load = lastSessionPath();
      plan.loadPrev = true;
      return true;
    default:
      return false;
  }
}

/** The options about what the report shows and how. */
function readReportOption(reading: Reading, name: string, value: string): void {
  const report = reading.plan.report;
  switch (name) {
    case "render-option":
      reading.renderOptions.push(value);
      break;
    case "async-mode":
      reading.renderOptions.push(`async_mode=${value}`); // checked (and applied in order) with the -p options
      break;
    case "timeline":
      report.timeline = true;
      break;
    case "hide":
      report.hide.push(value);
      break;
    case "hide-regex":
      report.hideRegex.push(checkRegex("--hide-regex", value));
      break;
    case "show":
      report.show.push(value);
      break;
    case "show-regex":
      report.showRegex.push(checkRegex("--show-regex", value));
      break;
    case "show-all":
      report.showAll = true;
      break;
    case "unicode":
    case "no-unicode":
      report.unicode = name === "unicode";
      break;
    case "color":
    case "no-color":
      reading.color = name === "color";
      break;
  }
}

function checkRegex(flag: string, value: string): string {
  try {
    new RegExp(value);
  } catch (err) {
    throw new UsageError(`${flag}: bad regular expression '${value}' (${(err as Error).message})`);
  }
  return value;
}

/** What depends on several options: the format -o picks, the colour, then the -p options over them all. */
function settleReport(reading: Reading, stdout: { isTTY?: boolean }): void {
  const plan = reading.plan;
  // Without -r, -o's extension picks the format (run.tsprof, x.speedscope.json, ...); text otherwise.
  if (!reading.rendererGiven && plan.outfile !== undefined) {
    plan.report.renderer = (rendererForPath(plan.outfile) ?? "text") as ReportOptions["renderer"];
  }
  // A report written to a file gets no colour unless asked for: stderr's terminal is not the file's reader.
  // A loaded profile's report goes to stdout: its terminal decides.
  if (plan.outfile !== undefined) plan.report.color = defaultReportOptions({ isTTY: false }).color;
  else if (plan.load !== undefined) plan.report.color = defaultReportOptions(stdout).color;
  if (reading.color !== undefined) plan.report.color = reading.color;
  // -p comes last so an explicit render option overrides the flags above.
  for (const option of reading.renderOptions) {
    const processor = /^\s*processor\s*=(.*)$/s.exec(option);
    if (processor) (plan.processorModules ??= []).push(moduleFile("-p processor", processor[1]));
    else plan.report = applyRenderOption(plan.report, option) ?? plan.report;
  }
}

/** -r takes a module when its value is a path: ./x, ../x, /x (C:\\x), or a JavaScript or TypeScript file name. */
export function isModulePath(value: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|[A-Za-z]:[\\/])/.test(value) || /\.[cm]?[jt]s$/i.test(value);
}

/** A module option's file, there now: a typo fails before the program runs, not after. */
function moduleFile(option: string, path: string): string {
  if (path === "") throw new UsageError(`${option}: needs a module's path`);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // missing or unreadable: said below
  }
  if (!isFile) {
    throw new UsageError(`${option}: ${existsSync(path) ? `'${path}' is not a file` : `no such file '${path}'`}`);
  }
  return path;
}

/** The report can be written where it goes: found out now, not after a long run whose report would then be lost. */
function checkOutput(plan: CliPlan, stdout: { isTTY?: boolean }): void {
  if (plan.outfile !== undefined) {
    // Server mode writes FILE.1.EXT, FILE.2.EXT...: the first stands for them.
    const why = whyNotWritable(plan.signalToggle ? numberedPath(plan.outfile, 1) : plan.outfile, true);
    if (why !== undefined) throw new UsageError(`--outfile: ${why}`);
  }
  const renderer = plan.report.renderer;
  if (plan.outfile === undefined && typeof renderer === "string" && BINARY_RENDERERS.has(renderer)) {
    // Bytes never go to the program's stderr, nor to a terminal.
    if (plan.load === undefined || stdout.isTTY) {
      throw new UsageError(`the ${renderer} format is binary: write it to a file with -o FILE`);
    }
  }
}

function checkStream(plan: CliPlan): void {
  if (plan.streamTo === undefined) return;
  if (!isDirectory(dirname(resolve(plan.streamTo)))) {
    throw new UsageError(`--stream-to: directory '${dirname(plan.streamTo)}' does not exist`);
  }
  if (plan.signalToggle) {
    throw new UsageError("--stream-to and --signal-toggle: give one of them (a stream is one profiling period)");
  }
}

/** --load and --load-prev run no program: no option for running one, and no script. */
function checkLoad(reading: Reading, argv: string[], at: number): void {
  const plan = reading.plan;
  const load = plan.loadPrev ? "--load-prev" : "--load";
  const running = [
    [plan.streamTo, "--stream-to"],
    [plan.duration, "--duration"],
    [plan.signalToggle, "--signal-toggle"],
    [plan.runtimeArgs, "--runtime-arg"],
  ] as const;
  for (const [given, flag] of running) {
    if (given !== undefined) throw new UsageError(`${flag} is for running a program, not for ${load}`);
  }
  if (plan.code !== undefined || reading.fromPath) {
    throw new UsageError(`${plan.code !== undefined ? "-c" : "--from-path"} runs a program: not with ${load}`);
  }
  if (at < argv.length) throw new UsageError(`${load} renders a saved profile: give no script ('${argv[at]}')`);
}

/** The program and its arguments: -c's code, or a script file (found on PATH with --from-path). */
function programToRun(reading: Reading, argv: string[], at: number): void {
  const plan = reading.plan;
  if (plan.code !== undefined) {
    if (reading.fromPath) throw new UsageError("-c and --from-path: give one of them");
    plan.args = argv.slice(at);
    return;
  }
  if (at >= argv.length) throw new UsageError(`no script given (${USAGE.slice(7)}; see --help)`);
  plan.script = reading.fromPath ? findOnPath(argv[at]) : argv[at];
  plan.args = argv.slice(at + 1);
  let isFile = false;
  try {
    isFile = statSync(plan.script).isFile();
  } catch {
    // missing or unreadable: isFile stays false and the line below says so
  }
  if (!isFile) {
    const script = plan.script;
    throw new UsageError(
      existsSync(script) ? `can't run '${script}': not a file` : `can't open file '${script}': no such file`,
    );
  }
}

/**
 * --from-path: the program's file, from the nearest node_modules/.bin up from the working directory, then PATH;
 * symlinks followed (npm's bins are links to the package's script). It must be a script the runtime can run.
 */
function findOnPath(name: string): string {
  if (name.includes("/") || name.includes("\\")) {
    throw new UsageError(`--from-path: give a program's name, not a path ('${name}')`);
  }
  const dirs: string[] = [];
  for (let dir = process.cwd();; dir = dirname(dir)) {
    dirs.push(join(dir, "node_modules", ".bin"));
    if (dirname(dir) === dir) break;
  }
  dirs.push(...(process.env.PATH ?? "").split(delimiter).filter(Boolean));
  for (const dir of dirs) {
    const candidate = join(dir, name);
    let file: string;
    try {
      if (!statSync(candidate).isFile()) continue;
      file = realpathSync(candidate);
    } catch {
      continue;
    }
    if (/\.[cm]?[jt]sx?$/.test(file) || /^#!.*\b(node|deno|bun|tsx|ts-node)\b/.test(firstLine(file))) return file;
    throw new UsageError(
      `--from-path: '${candidate}' is not a JavaScript program (a native executable or a shell script)`,
    );
  }
  throw new UsageError(`--from-path: no program '${name}' in node_modules/.bin or on PATH`);
}

function firstLine(file: string): string {
  try {
    const fd = openSync(file, "r");
    try {
      const buf = Buffer.alloc(256);
      const n = readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString("utf8").split("\n")[0];
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The reports tsprofile diff writes. */
export const DIFF_RENDERER_NAMES = ["text", "json", "html"];

const DIFF_HELP = `Usage: tsprofile diff [options] [BASE NEW]

Compares two profiles of a program: NEW's call tree, each row with its change
against BASE (+0.120 s +35%; [new] and [gone] for functions only one run has).
BASE and NEW are .tsprof sessions (-o run.tsprof), .cpuprofile files, or the
runs kept in the cache: last (the last run), last~1 (the one before), up to
last~9. Without BASE and NEW: last~1 against last. The report goes to stdout.
A function is the same in both runs if its name and file are (not its line).

Options:
  -h, --help            show this help message and exit
  -o OUTFILE, --outfile=OUTFILE
                        save the report to <outfile> instead of printing it
  -r RENDERER, --renderer=RENDERER
                        one of: ${DIFF_RENDERER_NAMES.map((r) => `'${r}'`).join(", ")}
  -p KEY=VALUE, --render-option=KEY=VALUE
                        as for a run: -p flat=true (functions by the size of
                        their change in own time; -p flat_time=total, -p
                        flat_limit=N), -p filter_threshold=0.02 (a node shows
                        when it is above it in either run), -p show_all=true
  --normalize           compare each function's share of its run, not its
                        seconds (two runs of different lengths)
  --fail-above=PCT      exit 1 when a function's own time grew by more than
                        PCT percent (for CI): functions under the threshold
                        share of NEW, and changes within 3 standard errors of
                        the sampling, do not count
  --async-mode, --hide, --hide-regex, --show, --show-regex, --show-all,
  --unicode, --no-unicode, --color, --no-color
                        as for a run (both profiles are processed alike)
`;

const DIFF_OPTIONS = {
  outfile: OPTIONS.outfile,
  renderer: OPTIONS.renderer,
  "render-option": OPTIONS["render-option"],
  "async-mode": OPTIONS["async-mode"],
  hide: OPTIONS.hide,
  "hide-regex": OPTIONS["hide-regex"],
  show: OPTIONS.show,
  "show-regex": OPTIONS["show-regex"],
  "show-all": OPTIONS["show-all"],
  unicode: OPTIONS.unicode,
  "no-unicode": OPTIONS["no-unicode"],
  color: OPTIONS.color,
  "no-color": OPTIONS["no-color"],
  normalize: { type: "boolean" },
  "fail-above": { type: "string" },
  help: OPTIONS.help,
} as const;

/** `tsprofile diff ...` (argv without "diff"); throws UsageError for anything the user got wrong. */
export function parseDiffCommandLine(argv: string[], stdout: { isTTY?: boolean } = process.stdout): CliPlan {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: DIFF_OPTIONS, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError(`diff: ${parseArgsMessage(err).replace("see --help", "see tsprofile diff --help")}`);
  }
  const reading = newReading(stdout);
  const plan = reading.plan;
  const diff: DiffPlan = { base: "", next: "", normalize: false };
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const value = token.value ?? "";
    switch (token.name) {
      case "help":
        plan.message = DIFF_HELP;
        return plan;
      case "normalize":
        diff.normalize = true;
        break;
      case "fail-above": {
        const pct = value.trim() === "" ? NaN : Number(value);
        if (!Number.isFinite(pct) || pct < 0) {
          throw new UsageError(`diff --fail-above: '${value}' is not a percentage (a number >= 0, e.g. 20)`);
        }
        diff.failAbove = pct;
        break;
      }
      case "renderer":
        if (!DIFF_RENDERER_NAMES.includes(value)) {
          throw new UsageError(
            `diff --renderer: '${value}' is not a diff report (one of: ${DIFF_RENDERER_NAMES.join(", ")})`,
          );
        }
        plan.report.renderer = value;
        reading.rendererGiven = true;
        break;
      default:
        if (!readOutputOption(reading, token.name, value)) readReportOption(reading, token.name, value);
    }
  }
  const names = parsed.positionals.length === 0 ? ["last~1", "last"] : parsed.positionals;
  if (names.length !== 2) {
    throw new UsageError(`diff takes two profiles, BASE and NEW (got ${names.length}; see tsprofile diff --help)`);
  }
  [diff.base, diff.next] = names.map((name, i) => profileToCompare(name, i === 0 ? "BASE" : "NEW"));
  plan.diff = diff;
  plan.load = diff.next; // a saved profile's report: to stdout, coloured for its terminal
  settleReport(reading, stdout);
  if (!reading.rendererGiven && plan.outfile !== undefined) {
    const byExtension = rendererForPath(plan.outfile);
    plan.report.renderer = byExtension && DIFF_RENDERER_NAMES.includes(byExtension) ? byExtension : "text";
  }
  checkOutput(plan, stdout);
  return plan;
}

/** A profile file, or a run kept in the cache (last, last~N). */
function profileToCompare(name: string, which: string): string {
  if (existsSync(name)) {
    if (!isFile(name)) throw new UsageError(`diff: ${which} '${name}' is not a file`);
    return name;
  }
  const kept = runReference(name);
  if (kept === undefined) throw new UsageError(`diff: can't open ${which} '${name}': no such file`);
  if (!existsSync(kept)) {
    throw new UsageError(`diff: no run '${name}' is kept yet (${kept} does not exist): profile a program first`);
  }
  return kept;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
