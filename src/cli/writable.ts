// Where the CLI writes (-o, --stream-to): checked before the program runs, so a long run's report is not lost to a
// typo or a read-only file; and written whole, so a failed write never leaves half a report over the old one.
import { accessSync, chmodSync, constants, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Why `path` cannot be written as a whole new file, or undefined when it can. */
export function whyNotWritable(path: string): string | undefined {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) return `'${dirname(path)}' is not a directory`;
  } catch {
    return `directory '${dirname(path)}' does not exist`;
  }
  let existing;
  try {
    existing = statSync(path);
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (existing.isDirectory()) return `'${path}' is a directory`;
    if (!existing.isFile()) return `'${path}' is not a regular file`;
    // By its mode, not access(): the superuser may write anything, but a read-only file is meant to stay.
    if ((existing.mode & 0o222) === 0) return `'${path}' is read-only`;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return `cannot create files in '${dirname(path)}' (${(err as { code?: string }).code ?? "no access"})`;
  }
  return undefined;
}

/**
 * Writes `bytes` to `path` under a temporary name in the same folder, then renames it over the old file (keeping
 * its mode): a write that fails (disk full, a file too large) leaves the old file as it was and no partial one.
 */
export function writeWhole(path: string, bytes: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    try {
      chmodSync(tmp, statSync(path).mode & 0o7777);
    } catch {
      // no old file: the new one gets the usual mode
    }
    renameSync(tmp, path);
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
