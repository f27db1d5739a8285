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
  writeAllWhole([[path, bytes]]);
}

/**
 * writeWhole for files that belong together (a .cpuprofile and its workers'): every one is written under its
 * temporary name before any is renamed, so a write that fails leaves none of them new and no partial one.
 */
export function writeAllWhole(files: readonly (readonly [path: string, bytes: string | Uint8Array])[]): void {
  const staged: { tmp: string; file: string }[] = [];
  try {
    for (const [path, bytes] of files) {
      let st;
      try {
        st = statSync(path);
      } catch {
        st = undefined; // no old file: the new one gets the usual mode
      }
      // By the name given: /dev/stdout's own target is a pipe or a terminal with no name to write to. Outside the
      // try above, so that a failed write is said, not taken for a missing file.
      if (st && !st.isFile()) {
        writeFileSync(path, bytes);
        continue;
      }
      const mode = st ? st.mode & 0o7777 : undefined;
      const file = target(path);
      const tmp = `${file}.${process.pid}.tmp`;
      staged.push({ tmp, file });
      writeFileSync(tmp, bytes);
      if (mode !== undefined) chmodSync(tmp, mode);
    }
    for (const { tmp, file } of staged) renameSync(tmp, file);
  } catch (err) {
    for (const { tmp } of staged) {
      try {
        unlinkSync(tmp);
      } catch {
        // never created, or already renamed
      }
    }
    throw err;
  }
}

/** Whether `path` is a device or a FIFO (-o /dev/stdout), written in place: no file beside it belongs there. */
export function isDevice(path: string): boolean {
  try {
    return !statSync(path).isFile();
  } catch {
    return false;
  }
}

/** FILE.EXT -> FILE.<n>.EXT: the n-th report of --signal-toggle. */
export function numberedPath(path: string, n: number): string {
  return taggedPath(path, String(n));
}

/** FILE.EXT -> FILE.<tag>.EXT (FILE -> FILE.<tag>): a file that goes with -o's, named after it. */
export function taggedPath(path: string, tag: string): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}.${tag}${path.slice(dot)}` : `${path}.${tag}`;
}
