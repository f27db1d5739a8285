// Builds the native Node sampler (runtimes/node/addon) for the Node that runs this script, with node-gyp, into
// runtimes/node/addon/bin/tsprofile_sampler-<platform>-<arch>-<ABI>.node (one binary per NODE_MODULE_VERSION:
// the addon calls V8 directly). npm's "install" script runs it; CI runs it again under Node 24.
//
//   node scripts/build-addon.mjs [--force] [--strict]
//
// It never fails an install: when it cannot build (Deno, Bun, no compiler, no Node headers) it prints one line
// and exits 0, and tsprofile samples through node:inspector instead. --strict exits 1 then (CI).
// Offline-safe: node-gyp gets the headers of the running Node when they are on disk (--nodedir); only without
// them does it try to download them (bounded by a timeout).
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const addonDir = join(root, "runtimes", "node", "addon");
const { values } = parseArgs({ options: { force: { type: "boolean" }, strict: { type: "boolean" } } });

/**
 * @param {boolean} ok
 * @param {string} message
 * @returns {never}
 */
function done(ok, message) {
  console.error(`tsprofile: ${message}`);
  process.exit(ok || !values.strict ? 0 : 1);
}

const g = globalThis;
if (g.Deno !== undefined || g.Bun !== undefined || process.versions.bun || process.versions.deno) {
  done(true, "the native sampler is for Node only; skipped");
}
if (process.env.TSPROFILE_NO_ADDON === "1") done(true, "TSPROFILE_NO_ADDON=1: native sampler not built");

const abi = process.versions.modules;
const target = join(addonDir, "bin", `tsprofile_sampler-${process.platform}-${process.arch}-${abi}.node`);
const sources = [
  join(addonDir, "binding.gyp"),
  ...readdirSync(join(addonDir, "src")).map((f) => join(addonDir, "src", f)),
];
if (!values.force && existsSync(target)) {
  const built = statSync(target).mtimeMs;
  if (sources.every((f) => statSync(f).mtimeMs <= built)) {
    done(true, `native sampler for Node ${process.version} (ABI ${abi}) is up to date`);
  }
}

/** A node-gyp to run: a local install, npm's own (npm passes it to scripts), or the one next to this Node's npm. */
function findNodeGyp() {
  const candidates = [];
  try {
    candidates.push(createRequire(join(root, "package.json")).resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // no local node-gyp: the candidates below are tried
  }
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm) candidates.push(fromNpm);
  for (const exe of /** @type {string[]} */ ([process.execPath, process.env.npm_node_execpath].filter(Boolean))) {
    const prefix = dirname(dirname(realpathSync(exe)));
    candidates.push(join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  }
  candidates.push("/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  return candidates.find((c) => c.endsWith(".js") && existsSync(c));
}

/** A folder holding include/node for exactly this Node's version, or undefined. */
function findNodeDir() {
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  const candidates = /** @type {string[]} */ ([
    prefix,
    // The npm package `node` keeps the binary's headers in its platform package.
    join(prefix, "node_modules", `node-${process.platform}-${process.arch}`),
    process.env.npm_config_nodedir,
    join(homedir(), ".cache", "node-gyp", process.versions.node),
  ].filter(Boolean));
  const want = process.versions.node.split(".").map(Number);
  return candidates.find((dir) => {
    try {
      const text = readFileSync(join(dir, "include", "node", "node_version.h"), "utf8");
      const get = (/** @type {string} */ name) => Number(new RegExp(`#define ${name} (\\d+)`).exec(text)?.[1]);
      return get("NODE_MAJOR_VERSION") === want[0] && get("NODE_MINOR_VERSION") === want[1] &&
        get("NODE_PATCH_VERSION") === want[2];
    } catch {
      return false;
    }
  });
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) done(false, "native sampler not built (no node-gyp found); Node will sample through node:inspector");
const nodedir = findNodeDir();
const args = [nodeGyp, "rebuild", "--release", "--loglevel=warn"];
const env = { ...process.env };
// npm passes its own nodedir setting down; it may be another Node's headers, so only a verified one is used.
delete env.npm_config_nodedir;
if (nodedir) args.push(`--nodedir=${nodedir}`);
else args.push(`--target=${process.versions.node}`);
const r = spawnSync(process.execPath, args, { cwd: addonDir, env, encoding: "utf8", timeout: 180_000 });
const log = `${r.stdout ?? ""}${r.stderr ?? ""}`;
const built = join(addonDir, "build", "Release", "tsprofile_sampler.node");
if (r.status !== 0 || !existsSync(built)) {
  mkdirSync(join(addonDir, "build"), { recursive: true });
  const logFile = join(addonDir, "build", "build-addon.log");
  writeFileSync(logFile, log);
  const reason = /** @type {NodeJS.ErrnoException | undefined} */ (r.error)?.code === "ETIMEDOUT"
    ? "node-gyp timed out"
    : (log.split("\n").find((l) => /error|not found|ENOTFOUND|EAI_AGAIN/i.test(l) && !/^gyp (ERR|info)/.test(l)) ??
      log.split("\n").find((l) => l.startsWith("gyp ERR!")) ??
      `node-gyp exited with ${r.status}`).trim();
  done(
    false,
    `native sampler not built (${reason.slice(0, 160)}; log: ${logFile}); Node will sample through node:inspector`,
  );
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(built, target);
done(true, `built the native sampler for Node ${process.version} (ABI ${abi})`);
