// `tsprofile [options] script [args...]`: runs the script in a child process of the same runtime with the
// sampler preloaded, then renders the session the child wrote. The child owns stdin, stdout and stderr; the
// report goes to stderr (or --outfile) so the program's stdout stays byte-identical to an unprofiled run.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { UsageError } from "../../session/errors.ts";
import { childLaunch } from "../../runtimes/launch/launch.ts";
import { reexecUnderBun } from "../../runtimes/launch/bun-reexec.ts";
// Only the option parsing loads up front; the report machinery (wasm core, renderers) loads while the program runs.
import { applyRenderOption, defaultReportOptions } from "../processing/options.ts";
import type { ReportOptions } from "../processing/options.ts";
import { VERSION } from "../../session/version.ts";
import { MIN_INTERVAL } from "../../session/types.ts";
import { keepLastSession, lastSessionPath } from "./cache.ts";
import { BINARY_RENDERERS, RENDERER_NAMES, rendererForPath } from "../renderers/names.ts";

const USAGE = "Usage: tsprofile [options] scriptfile [arg] ...";
const MORE_USAGE = `       tsprofile [options] --from-path program [arg] ...
       tsprofile [options] -c code [arg] ...
       tsprofile [options] --load FILE | --load-prev`;

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
                        sampling interval in seconds (default 0.001, minimum
                        0.0001)
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
                        is not a terminal)
  -p KEY=VALUE, --render-option=KEY=VALUE
                        a renderer option (repeatable), e.g. -p flat=true,
                        -p time=percent_of_total, -p filter_threshold=0.02,
                        -p show_all=true, -p short_mode=true, -p show_cpu=true
                        (each node's CPU time, where it was recorded)
  --stream-to=FILE      write the session to FILE while the program runs, so
                        a run that is killed (even with kill -9) still
                        leaves a profile: tsprofile --load FILE renders what
                        was recorded. Streams on Bun and Node >= 24.12; on
                        Node 20-24.11 and Deno FILE is written at the end
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
  /** --stream-to: the appendable session file the child writes as it goes (session/stream.ts). */
  streamTo?: string;
  /** --duration: seconds after which profiling stops (the program goes on). */
  duration?: number;
  /** --signal-toggle: SIGUSR2 starts and stops profiling, each stop writes a report. */
  signalToggle?: boolean;
  /** -c: the code to run instead of script. */
  code?: string;
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

/** Parses the command line; throws UsageError for anything the user got wrong. */
export function parseCommandLine(
  argv: string[],
  stream: { isTTY?: boolean } = process.stderr,
  stdout: { isTTY?: boolean } = process.stdout,
): CliPlan {
  const { options: optionArgs, at } = splitAtScript(argv);
  let tokens;
  try {
    ({ tokens } = parseArgs({ args: optionArgs, options: OPTIONS, strict: true, allowPositionals: false, tokens: true }));
  } catch (err) {
    throw new UsageError(parseArgsMessage(err));
  }
  const defaults = defaultReportOptions(stream);
  const report: ReportOptions = {
    ...defaults,
    // Copies: the pattern lists are appended to below.
    hide: [...defaults.hide],
    hideRegex: [...defaults.hideRegex],
    show: [...defaults.show],
    showRegex: [...defaults.showRegex],
  };
  const plan: CliPlan = { script: "", args: [], interval: 1000, report };
  let fileReport = false;
  let fromPath = false;
  let rendererGiven = false;
  let color: boolean | undefined;
  const renderOptions: string[] = [];
  // Tokens in command-line order, so the last of --color/--no-color (etc.) wins.
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const value = token.value ?? "";
    switch (token.name) {
      case "help":
        plan.message = HELP;
        return plan;
      case "version":
        plan.message = `tsprofile ${VERSION}\n`;
        return plan;
      case "interval": {
        const seconds = value.trim() === "" ? NaN : Number(value);
        if (!Number.isFinite(seconds)) throw new UsageError(`--interval: '${value}' is not a number of seconds`);
        if (seconds < MIN_INTERVAL) throw new UsageError(`--interval: ${value} is below the minimum, ${MIN_INTERVAL} seconds`);
        plan.interval = Math.round(seconds * 1e6);
        break;
      }
      case "outfile":
        if (value === "") throw new UsageError("--outfile: needs a file name");
        plan.outfile = value;
        fileReport = true;
        break;
      case "renderer":
        if (!RENDERERS.includes(value)) {
          throw new UsageError(`--renderer: unknown renderer '${value}' (one of: ${RENDERERS.join(", ")})`);
        }
        plan.report.renderer = value as ReportOptions["renderer"];
        rendererGiven = true;
        break;
      case "load":
        if (value === "") throw new UsageError("--load: needs a file name");
        if (plan.loadPrev) throw new UsageError("--load and --load-prev: give one of them");
        plan.load = value;
        break;
      case "stream-to":
        if (value === "") throw new UsageError("--stream-to: needs a file name");
        plan.streamTo = value;
        break;
      case "duration": {
        const seconds = value.trim() === "" ? NaN : Number(value);
        if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--duration: '${value}' is not a positive number of seconds`);
        // setTimeout's limit (about 24.8 days).
        if (seconds > 2_000_000) throw new UsageError(`--duration: ${value} seconds is too long (at most 2000000)`);
        plan.duration = seconds;
        break;
      }
      case "code":
        plan.code = value;
        break;
      case "from-path":
        fromPath = true;
        break;
      case "signal-toggle":
        if (process.platform === "win32") throw new UsageError("--signal-toggle: Windows has no SIGUSR2");
        plan.signalToggle = true;
        break;
      case "load-prev":
        if (plan.load !== undefined) throw new UsageError("--load and --load-prev: give one of them");
        plan.load = lastSessionPath();
        plan.loadPrev = true;
        break;
      case "render-option":
        renderOptions.push(value);
        break;
      case "timeline":
        plan.report.timeline = true;
        break;
      case "async-mode":
        renderOptions.push(`async_mode=${value}`); // checked (and applied in order) with the -p options
        break;
      case "hide":
        plan.report.hide.push(value);
        break;
      case "hide-regex":
        plan.report.hideRegex.push(checkRegex("--hide-regex", value));
        break;
      case "show":
        plan.report.show.push(value);
        break;
      case "show-regex":
        plan.report.showRegex.push(checkRegex("--show-regex", value));
        break;
      case "show-all":
        plan.report.showAll = true;
        break;
      case "unicode":
      case "no-unicode":
        plan.report.unicode = token.name === "unicode";
        break;
      case "color":
      case "no-color":
        color = token.name === "color";
        break;
    }
  }
  // Without -r, -o's extension picks the format (run.tsprof, x.speedscope.json, ...); text otherwise.
  if (!rendererGiven && plan.outfile !== undefined) {
    plan.report.renderer = (rendererForPath(plan.outfile) ?? "text") as ReportOptions["renderer"];
  }
  // A report written to a file gets no colour unless asked for: stderr's terminal is not the file's reader.
  // A loaded profile's report goes to stdout: its terminal decides.
  if (fileReport) plan.report.color = defaultReportOptions({ isTTY: false }).color;
  else if (plan.load !== undefined) plan.report.color = defaultReportOptions(stdout).color;
  if (color !== undefined) plan.report.color = color;
  // -p comes last so an explicit render option overrides the flags above.
  for (const option of renderOptions) plan.report = applyRenderOption(plan.report, option) ?? plan.report;

  // Found out now, not after a long run whose report would then be lost.
  if (plan.outfile !== undefined && !isDirectory(dirname(resolve(plan.outfile)))) {
    throw new UsageError(`--outfile: directory '${dirname(plan.outfile)}' does not exist`);
  }
  if (plan.outfile === undefined && BINARY_RENDERERS.has(plan.report.renderer)) {
    // Bytes never go to the program's stderr, nor to a terminal.
    if (plan.load === undefined || stdout.isTTY) {
      throw new UsageError(`the ${plan.report.renderer} format is binary: write it to a file with -o FILE`);
    }
  }
  if (plan.streamTo !== undefined) {
    if (!isDirectory(dirname(resolve(plan.streamTo)))) {
      throw new UsageError(`--stream-to: directory '${dirname(plan.streamTo)}' does not exist`);
    }
    if (plan.signalToggle) throw new UsageError("--stream-to and --signal-toggle: give one of them (a stream is one profiling period)");
  }
  if (plan.load !== undefined) {
    for (const [given, flag] of [[plan.streamTo, "--stream-to"], [plan.duration, "--duration"], [plan.signalToggle, "--signal-toggle"]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} is for running a program, not for ${plan.loadPrev ? "--load-prev" : "--load"}`);
    }
    if (plan.code !== undefined || fromPath) {
      throw new UsageError(`${plan.code !== undefined ? "-c" : "--from-path"} runs a program: not with ${plan.loadPrev ? "--load-prev" : "--load"}`);
    }
    if (at < argv.length) {
      throw new UsageError(`${plan.loadPrev ? "--load-prev" : "--load"} renders a saved profile: give no script ('${argv[at]}')`);
    }
    return plan;
  }
  if (plan.code !== undefined) {
    if (fromPath) throw new UsageError("-c and --from-path: give one of them");
    plan.args = argv.slice(at);
    return plan;
  }
  if (at >= argv.length) throw new UsageError(`no script given (${USAGE.slice(7)}; see --help)`);
  plan.script = fromPath ? findOnPath(argv[at]) : argv[at];
  plan.args = argv.slice(at + 1);
  let isFile = false;
  try {
    isFile = statSync(plan.script).isFile();
  } catch {}
  if (!isFile) {
    throw new UsageError(
      existsSync(plan.script) ? `can't run '${plan.script}': not a file` : `can't open file '${plan.script}': no such file`,
    );
  }
  return plan;
}

/**
 * --from-path: the program's file, from the nearest node_modules/.bin up from the working directory, then PATH;
 * symlinks followed (npm's bins are links to the package's script). It must be a script the runtime can run.
 */
function findOnPath(name: string): string {
  if (name.includes("/") || name.includes("\\")) throw new UsageError(`--from-path: give a program's name, not a path ('${name}')`);
  const dirs: string[] = [];
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
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
    throw new UsageError(`--from-path: '${candidate}' is not a JavaScript program (a native executable or a shell script)`);
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

function checkRegex(flag: string, value: string): string {
  try {
    new RegExp(value);
  } catch (err) {
    throw new UsageError(`${flag}: bad regular expression '${value}' (${(err as Error).message})`);
  }
  return value;
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

/** The preload the child loads first: next to the bundle (dist/), or in the source tree. */
function preloadPath(): string {
  for (const candidate of ["./preload.mjs", "../../runtimes/preload/preload.mjs"]) {
    const url = new URL(candidate, import.meta.url);
    if (url.protocol === "file:" && existsSync(fileURLToPath(url))) return fileURLToPath(url);
  }
  throw new Error("cannot find preload.mjs next to the CLI (is the package built? run `npm run build`)");
}

/** How the program is spelled in the report's header. */
function programLine(script: string, args: string[]): string {
  return [script, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function say(message: string): void {
  process.stderr.write(`tsprofile: ${message.split("\n")[0]}\n`);
}

/** How the CLI ends: an exit code, or (as the program did) death by a polite signal, re-raised on itself. */
export interface CliExit {
  code: number;
  signal?: "SIGINT" | "SIGTERM" | "SIGHUP";
}

const RERAISED = new Set(["SIGINT", "SIGTERM", "SIGHUP"]);

/** FILE.EXT -> FILE.<n>.EXT: the n-th report of --signal-toggle. */
export function numberedPath(path: string, n: number): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}.${n}${path.slice(dot)}` : `${path}.${n}`;
}

/** How often the CLI looks for the sessions a server-mode child writes mid-run. */
const REPORT_POLL_MS = 200;

/** Runs the plan; resolves to how the CLI should end. */
export async function run(plan: CliPlan): Promise<CliExit> {
  const dir = mkdtempSync(join(tmpdir(), "tsprofile-"));
  const sessionPath = join(dir, "session.tsprof");
  const streamPath = plan.streamTo !== undefined ? resolve(plan.streamTo) : undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  try {
    // Listeners go in before the child exists so an early Ctrl-C cannot kill the parent first.
    let child: ReturnType<typeof spawn> | undefined;
    const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
    const forward = (signal: string) => {
      if (alive()) child!.kill(signal as "SIGTERM");
    };
    // Ctrl-C goes to the whole process group: the child's preload writes its session and dies by the signal;
    // the parent must outlive it to print the report. A SIGTERM/SIGHUP sent to the parent alone is forwarded.
    // JavaScript handles a signal only when the program yields, so a program stuck in a synchronous loop
    // cannot answer the first Ctrl-C: a second one stops it for good (its profile is lost).
    let interrupts = 0;
    const interrupt = () => {
      if (++interrupts >= 2 && alive()) child!.kill("SIGKILL");
    };
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", forward);
    process.on("SIGHUP", forward);
    // Server mode: the user may signal tsprofile (the pid they started) rather than the program. By pid: Deno's
    // ChildProcess.kill() sends one signal per child, then reports the child's exit as killed by it.
    if (plan.signalToggle) {
      process.on("SIGUSR2", () => {
        try {
          if (alive()) process.kill(child!.pid!, "SIGUSR2");
        } catch {}
      });
    }
    const launch = childLaunch({ preload: preloadPath(), script: plan.script, code: plan.code, args: plan.args, interval: plan.interval });
    child = spawn(launch.command, launch.args, {
      stdio: "inherit",
      env: {
        ...process.env,
        ...launch.env,
        TSPROFILE_CHILD: JSON.stringify({
          interval: plan.interval,
          sessionPath,
          program: plan.code !== undefined ? programLine("-c", [plan.code, ...plan.args]) : programLine(plan.script, plan.args),
          // "disabled" records nothing: no wrappers in the program at all.
          asyncMode: plan.report.asyncMode,
          ...(streamPath !== undefined ? { streamPath } : {}),
          ...(plan.duration !== undefined ? { duration: plan.duration } : {}),
          ...(plan.signalToggle ? { toggleSignal: true } : {}),
        }),
      },
    });
    const started = child;
    const reporting = Promise.all([import("../report.ts"), import("../../session/session.ts")]);
    reporting.catch(() => {}); // reported below, once the program has ended

    // Renders one session file to -o (numbered in server mode) or stderr; false (said why) when it fails.
    let reports = 0;
    const emit = async (path: string): Promise<boolean> => {
      let report: string | Uint8Array;
      try {
        const [{ renderSessionOutput }, { loadSession }] = await reporting;
        const session = loadSession(path);
        keepLastSession(path); // for --load-prev; best effort
        report = renderSessionOutput(session, plan.report);
        if (typeof report === "string" && !report.endsWith("\n")) report += "\n";
      } catch (err) {
        say(`cannot render the profile: ${(err as Error).message ?? err}`);
        return false;
      }
      reports++;
      const outfile = plan.outfile !== undefined && plan.signalToggle ? numberedPath(plan.outfile, reports) : plan.outfile;
      if (outfile !== undefined) {
        try {
          writeFileSync(outfile, report);
        } catch (err) {
          say(`cannot write ${outfile}: ${(err as { code?: string }).code ?? (err as Error).message}`);
          return false;
        }
        if (plan.signalToggle) say(`report ${reports} written to ${outfile}`);
      } else {
        if (plan.signalToggle) say(`report ${reports}:`);
        process.stderr.write(report);
      }
      return true;
    };
    // Sessions of periods that ended mid-run (SIGUSR2, --duration) appear as session.tsprof.<n>, whole.
    let nextPeriod = 1;
    let emitting = Promise.resolve();
    const collect = (): Promise<void> =>
      (emitting = emitting.then(async () => {
        while (existsSync(`${sessionPath}.${nextPeriod}`)) await emit(`${sessionPath}.${nextPeriod++}`);
      }));
    if (streamPath === undefined && (plan.signalToggle || plan.duration !== undefined)) {
      poller = setInterval(() => void collect(), REPORT_POLL_MS);
    }

    const outcome = await new Promise<{ code: number | null; signal: string | null } | Error>((done) => {
      started.once("error", done);
      started.once("exit", (code, signal) => done({ code, signal }));
    });
    if (poller) clearInterval(poller);
    if (outcome instanceof Error) {
      say(`cannot start ${launch.command}: ${outcome.message}`);
      return { code: 2 };
    }
    await collect();
    const forced = interrupts >= 2 && outcome.signal === "SIGKILL";
    const signal = forced ? "SIGINT" : outcome.signal;
    const programCode =
      signal !== null ? 128 + ((osConstants.signals as Record<string, number>)[signal] ?? 0) : outcome.code ?? 1;
    const programExit: CliExit =
      signal !== null && RERAISED.has(signal) ? { code: programCode, signal: signal as CliExit["signal"] } : { code: programCode };
    // A tsprofile failure ends with 2, unless the program itself failed: then its code wins.
    const failed = (): CliExit => (programCode !== 0 ? programExit : { code: 2 });
    // A stream survives a second Ctrl-C (or any kill): what reached the file is rendered.
    if (forced && streamPath === undefined) {
      say("stopped by a second Ctrl-C: the program was busy and never yielded to the first, so no profile was recorded");
      return failed();
    }
    const final = streamPath ?? sessionPath;
    if (!existsSync(final)) {
      if (reports > 0) return programExit; // server mode: its reports are out; profiling was off at the end
      if (plan.signalToggle) {
        say(`no profile was recorded: profiling was never started (send SIGUSR2 to tsprofile, pid ${process.pid}, or to the program)`);
        return failed();
      }
      say(
        `no profile was recorded: the program ended (${outcome.signal ?? `exit code ${outcome.code}`}) without writing its session`,
      );
      return failed();
    }
    if (!(await emit(final))) return failed();
    return programExit;
  } finally {
    if (poller) clearInterval(poller);
    if (plan.signalToggle) process.removeAllListeners("SIGUSR2");
    rmSync(dir, { recursive: true, force: true });
  }
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

export async function main(argv: string[]): Promise<CliExit> {
  const viaBun = await reexecUnderBun(argv); // `bunx tsprofile` started us under Node: profile under Bun
  if (viaBun) return viaBun;
  let plan: CliPlan;
  try {
    plan = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      say(err.message);
      return { code: 2 };
    }
    throw err;
  }
  if (plan.message !== undefined) {
    process.stdout.write(plan.message);
    return { code: 0 };
  }
  return plan.load !== undefined ? runLoad(plan) : run(plan);
}

/** True when this module is the program (source, bundle, or npm's node_modules/.bin symlink to it). */
function isMain(): boolean {
  const meta = import.meta as { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const entry = process.argv[1];
  if (!entry || import.meta.url.slice(0, 5) !== "file:") return false;
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Run when executed, not when imported by tests or the API.
if (isMain()) {
  main(process.argv.slice(2)).then(
    (exit) => {
      process.removeAllListeners("SIGINT").removeAllListeners("SIGTERM").removeAllListeners("SIGHUP");
      process.exitCode = exit.code;
      // Die by the program's signal, as a shell expects (a loop around `tsprofile` stops on Ctrl-C).
      if (exit.signal) process.kill(process.pid, exit.signal);
    },
    (err) => {
      say(`internal error: ${(err as Error)?.message ?? err}`);
      process.exitCode = 2;
    },
  );
}
