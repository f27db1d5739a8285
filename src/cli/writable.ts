// Where the CLI writes (-o, --stream-to): checked before the program runs, so a long run's report is not lost to a
// typo or a read-only file; and written whole, so a failed write never leaves half a report over the old one.
import {
  accessSync,
  chmodSync,
  constants,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Why `path` cannot be written as a whole new file, or undefined when it can. With `devices`, a device or a FIFO
 * that exists (-o /dev/stdout) is fine too: it is written in place.
 */
export function whyNotWritable(path: string, devices = false): string | undefined {
  let existing;
  try {
    existing = statSync(path); // through a symlink: its target is what gets written
  } catch {
    existing = undefined;
  }
  if (existing && !existing.isFile()) {
    if (existing.isDirectory()) return `'${path}' is a directory`;
    return devices ? undefined : `'${path}' is not a regular file`;
  }
  // By its mode, not access(): the superuser may write anything, but a read-only file is meant to stay.
  if (existing && (existing.mode & 0o222) === 0) return `'${path}' is read-only`;
  const dir = dirname(target(path));
  try {
    if (!statSync(dir).isDirectory()) return `'${dirname(path)}' is not a directory`;
  } catch {
    return `directory '${dirname(path)}' does not exist`;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return `cannot create files in '${dirname(path)}' (${(err as { code?: string }).code ?? "no access"})`;
  }
  return undefined;
}

/** The file a write to `path` replaces: a symlink's target (the link stays), else the path itself. */
function target(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Writes `bytes` to `path` under a temporary name in the same folder, then renames it over the old file (keeping
 * its mode): a write that fails (disk full, a file too large) leaves the old file as it was and no partial one.
 * A device or a FIFO (-o /dev/stdout) is written in place.
 */
export function writeWhole(path: string, bytes: string | Uint8Array): void {
  let mode: number | undefined;
  try {
    const st = statSync(path);
    // By the name given: /dev/stdout's own target is a pipe or a terminal with no name to write to.
    if (!st.isFile()) return writeFileSync(path, bytes);
    mode = st.mode & 0o7777;
  } catch {
    // no old file: the new one gets the usual mode
  }
  const file = target(path);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw err;
  }
}

/** FILE.EXT -> FILE.<n>.EXT: the n-th report of --signal-toggle. */
export function numberedPath(path: string, n: number): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}.${n}${path.slice(dot)}` : `${path}.${n}`;
}
