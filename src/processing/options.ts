// Report options shared by the CLI and the Profiler API: their defaults (colour and unicode detection) and the
// CLI's repeatable -p/--render-option KEY=VALUE. Kept apart from report.ts so they load without the wasm core.
import process from "node:process";
import { UsageError } from "../../session/errors.ts";
import type { AsyncMode, Session } from "../../session/types.ts";
import type { FrameNode } from "./frame-node.ts";

/**
 * A processor written in JavaScript: runs after the core's processing on the plain tree (times in seconds) and
 * returns the new root, or undefined when it changed the tree in place. Tree reports (text, json, html) show its
 * result; the sample formats (speedscope, cpuprofile, collapsed, pprof, tsprof) read samples, not the tree.
 */
export type Processor = (root: FrameNode, options: ReportOptions) => FrameNode | undefined | void;

/**
 * A renderer written in JavaScript: the processed plain tree (null when the session has no samples), the report
 * options and the session, to the report's text or bytes.
 */
export type TreeRenderer = (root: FrameNode | null, options: ReportOptions, session: Session) => string | Uint8Array;

export interface ReportOptions {
  /** A key of RENDERERS (src/renderers/index.ts), or a renderer function of the plain tree. */
  renderer: string | TreeRenderer;
  /** Chronological tree instead of aggregated. */
  timeline: boolean;
  /** Keep runtime internals and tsprofile's frames, no library grouping, no threshold. */
  showAll: boolean;
  /** Nodes under this fraction of the total are dropped. */
  filterThreshold: number;
  flat: boolean;
  flatTime: "self" | "total";
  /** The flat view's rows: the functions with the most time, this many (not filterThreshold). */
  flatLimit: number;
  time: "seconds" | "percent_of_total";
  unicode: boolean;
  color: boolean;
  /** No header. */
  shortMode: boolean;
  /** Text: each node's CPU time beside its wall time, when the session recorded it (the native Node sampler). */
  showCpu: boolean;
  hide: string[];
  hideRegex: string[];
  show: string[];
  showRegex: string[];
  /** How waits are charged (pyinstrument's async_mode): [await] under the awaiting stack unless "disabled". */
  asyncMode: AsyncMode;
  /** Run in order after the core's processing, on every tree the report shows (not on the sample formats). */
  processors: Processor[];
}

export type Env = Record<string, string | undefined>;

function processEnv(): Env {
  try {
    return process.env as Env;
  } catch {
    return {}; // Deno without --allow-env
  }
}

/** Colour: NO_COLOR (non-empty) off; FORCE_COLOR on unless "0"/"false"; TERM=dumb off; else iff a TTY. */
export function detectColor(stream?: { isTTY?: boolean }, env: Env = processEnv()): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return !["0", "false"].includes(env.FORCE_COLOR.toLowerCase());
  if (env.TERM === "dumb") return false;
  return stream?.isTTY === true;
}

/** Unicode unless the locale names a non-UTF-8 charset (C, POSIX, ISO-8859-1, ...) or TERM is dumb/linux. */
export function detectUnicode(env: Env = processEnv()): boolean {
  if (env.TERM === "dumb" || env.TERM === "linux") return false;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  if (locale === "") return true;
  return /utf-?8/i.test(locale);
}

export function defaultReportOptions(stream?: { isTTY?: boolean }, env: Env = processEnv()): ReportOptions {
  return {
    renderer: "text",
    timeline: false,
    showAll: false,
    filterThreshold: 0.01,
    flat: false,
    flatTime: "self",
    flatLimit: 30,
    time: "seconds",
    unicode: detectUnicode(env),
    color: detectColor(stream, env),
    shortMode: false,
    showCpu: false,
    hide: [],
    hideRegex: [],
    show: [],
    showRegex: [],
    asyncMode: "enabled",
    processors: [],
  };
}

type Setter = (options: ReportOptions, value: string, key: string) => void;

function bool(field: "timeline" | "showAll" | "flat" | "unicode" | "color" | "shortMode" | "showCpu"): Setter {
  return (options, value, key) => {
    const v = value.toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) options[field] = true;
    else if (["false", "0", "no", "off"].includes(v)) options[field] = false;
    else throw new UsageError(`-p: ${key} takes true or false, not ${JSON.stringify(value)}`);
  };
}

function oneOf<F extends "flatTime" | "time" | "asyncMode">(
  field: F,
  allowed: readonly ReportOptions[F][],
): Setter {
  return (options, value, key) => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`-p: ${key} is one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`);
    }
    options[field] = value as ReportOptions[F];
  };
}

function list(field: "hide" | "hideRegex" | "show" | "showRegex"): Setter {
  return (options, value) => {
    options[field] = [...options[field], value];
  };
}

const SETTERS: Record<string, Setter> = {
  flat: bool("flat"),
  flat_time: oneOf("flatTime", ["self", "total"]),
  time: oneOf("time", ["seconds", "percent_of_total"]),
  filter_threshold: (options, value, key) => {
    const x = Number(value);
    if (value.trim() === "" || !Number.isFinite(x) || x < 0 || x > 1) {
      throw new UsageError(`-p: ${key} is a fraction between 0 and 1, not ${JSON.stringify(value)}`);
    }
    options.filterThreshold = x;
  },
  show_all: bool("showAll"),
  timeline: bool("timeline"),
  unicode: bool("unicode"),
  color: bool("color"),
  short_mode: bool("shortMode"),
  show_cpu: bool("showCpu"),
  hide: list("hide"),
  hide_regex: list("hideRegex"),
  show: list("show"),
  show_regex: list("showRegex"),
  async_mode: oneOf("asyncMode", ["enabled", "strict", "disabled"]),
  flat_limit: (options, value, key) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < 1) {
      throw new UsageError(`-p: ${key} is a number of rows (1 or more), not ${JSON.stringify(value)}`);
    }
    options.flatLimit = n;
  },
};

/**
 * Applies one -p/--render-option: "KEY=VALUE", or a bare "KEY" for a boolean set to true (as pyinstrument).
 * Processor options may be written pyinstrument's way, "processor_options.filter_threshold=0". Mutates and
 * returns options; throws UsageError with one line for an unknown key or a bad value.
 */
export function applyRenderOption(options: ReportOptions, option: string): ReportOptions {
  const eq = option.indexOf("=");
  let key = (eq < 0 ? option : option.slice(0, eq)).trim();
  let value = eq < 0 ? "true" : option.slice(eq + 1);
  if (key.startsWith("processor_options.")) key = key.slice("processor_options.".length);
  const setter = Object.hasOwn(SETTERS, key) ? SETTERS[key] : undefined;
  if (!setter) {
    throw new UsageError(
      `-p: unknown render option ${JSON.stringify(key)} (known: ${Object.keys(SETTERS).join(", ")})`,
    );
  }
  // pyinstrument parses values as JSON when it can: accept "\"total\"" and true/false the same way.
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      value = String(JSON.parse(value));
    } catch {
      // keep it as written
    }
  }
  setter(options, value, key);
  return options;
}
