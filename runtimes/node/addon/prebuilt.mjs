// The native sampler's prebuilt binaries: one archive per platform (prebuilds/<platform>-<arch>.br) holding a
// binary per Node ABI, so that neither an install script nor a compiler is needed where one fits. Brotli with a
// window larger than the archive: the three builds of one source share most of their bytes, and compressed apart
// they would cost more than twice as much in the package (79 kB against 33 kB).
//
// Plain JavaScript: scripts/build-addon.mjs imports it at install (no TypeScript loader then) and addon-sampler.ts
// when the program starts (an install with scripts disabled, or `bun add`, never ran that script).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";

/**
 * The Nodes the package ships a binary for: the first release of each supported line (package.json engines), whose
 * headers later releases of the line stay compatible with. `abi` is that line's NODE_MODULE_VERSION.
 */
export const PREBUILT_TARGETS = [
  { abi: "115", node: "20.19.0" },
  { abi: "127", node: "22.12.0" },
  { abi: "137", node: "24.0.0" },
];

const MAGIC = "tsprofile-prebuilds 2\n";

/** @param {string} addonDir runtimes/node/addon */
export const archivePath = (addonDir, platform = process.platform, arch = process.arch) =>
  join(addonDir, "prebuilds", `${platform}-${arch}.br`);

/**
 * What a binary is built from: binding.gyp and src/ (none in a package whose sources were left out).
 * @param {string} addonDir
 */
export function addonSources(addonDir) {
  const src = join(addonDir, "src");
  if (!existsSync(src)) return [];
  return [join(addonDir, "binding.gyp"), ...readdirSync(src).sort().map((f) => join(src, f))];
}

/**
 * The sources as one hash. A checkout whose sources changed since its archive was built needs a build (file times
 * cannot say: package managers set them as they like).
 * @param {string} addonDir
 */
export function sourcesHash(addonDir) {
  const files = addonSources(addonDir);
  if (files.length === 0) return "no sources";
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file.slice(addonDir.length)}\0`).update(readFileSync(file));
  return hash.digest("hex");
}

/**
 * @typedef {{ abi: string, node: string, bytes: Uint8Array }} Prebuilt
 * @typedef {{ sources: string, binaries: Prebuilt[] }} Archive
 */

/**
 * The archive's bytes: MAGIC, one JSON line { sources, binaries: [{ abi, node, size }] }, then the binaries.
 * @param {Archive} archive
 */
export function packArchive({ sources, binaries }) {
  const index = JSON.stringify({
    sources,
    binaries: binaries.map(({ abi, node, bytes }) => ({ abi, node, size: bytes.length })),
  });
  const raw = Buffer.concat([Buffer.from(`${MAGIC}${index}\n`), ...binaries.map((b) => b.bytes)]);
  return brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

/**
 * What an archive file holds, or undefined when it is missing or not one.
 * @param {string} path
 * @returns {Archive | undefined}
 */
export function readArchive(path) {
  let raw;
  try {
    raw = brotliDecompressSync(readFileSync(path));
  } catch {
    return undefined;
  }
  if (raw.subarray(0, MAGIC.length).toString() !== MAGIC) return undefined;
  const end = raw.indexOf(10, MAGIC.length);
  /** @type {{ sources: string, binaries: { abi: string, node: string, size: number }[] }} */
  const index = JSON.parse(raw.subarray(MAGIC.length, end).toString());
  let at = end + 1;
  const binaries = index.binaries.map(({ abi, node, size }) => ({ abi, node, bytes: raw.subarray(at, at += size) }));
  return { sources: index.sources, binaries };
}

/**
 * The prebuilt binary for this platform and `abi`, written where it can be loaded from: `target` (the addon's own
 * bin/, as a build would put it) when that folder is writable, else the user's cache, named by its content. The
 * path, or undefined when no prebuilt fits (or none is shipped, or it was built from other sources than these).
 * @param {string} addonDir runtimes/node/addon
 * @param {string} abi
 * @param {string} target
 * @returns {string | undefined}
 */
export function extractPrebuilt(addonDir, abi, target) {
  const archive = readArchive(archivePath(addonDir));
  const bytes = archive?.binaries.find((b) => b.abi === abi)?.bytes;
  if (!bytes || archive?.sources !== sourcesHash(addonDir)) return undefined;
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "tsprofile");
  for (
    const path of [target, join(cache, `tsprofile_sampler-${process.platform}-${process.arch}-${abi}-${hash}.node`)]
  ) {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      // A file there already is this binary (the cache's is named by its content) or one built for this ABI.
      if (existsSync(path)) return path;
      mkdirSync(dirname(path), { recursive: true });
      // Written whole under another name, then renamed: a concurrent run never loads half a file.
      writeFileSync(tmp, bytes, { mode: 0o755 });
      renameSync(tmp, path);
      return path;
    } catch {
      // not writable: the next place (and no half-written file left here, if there is a here)
      try {
        rmSync(tmp, { force: true });
      } catch {
        // no such folder
      }
    }
  }
  return undefined;
}
