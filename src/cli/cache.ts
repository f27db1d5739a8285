// The user's cache folder, where every CLI run keeps its session for --load-prev: $XDG_CACHE_HOME/tsprofile,
// else ~/Library/Caches/tsprofile (macOS), %LOCALAPPDATA%\tsprofile (Windows), ~/.cache/tsprofile.
import { copyFileSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import process from "node:process";

type Env = Record<string, string | undefined>;

function env(): Env {
  try {
    return process.env as Env;
  } catch {
    return {}; // Deno without --allow-env
  }
}

export function cacheDir(e: Env = env(), platform: string = process.platform): string {
  if (e.XDG_CACHE_HOME && isAbsolute(e.XDG_CACHE_HOME)) return join(e.XDG_CACHE_HOME, "tsprofile");
  if (platform === "win32" && e.LOCALAPPDATA) return join(e.LOCALAPPDATA, "tsprofile");
  const home = e.HOME || e.USERPROFILE || homedir();
  if (platform === "darwin") return join(home, "Library", "Caches", "tsprofile");
  return join(home, ".cache", "tsprofile");
}

/** Where the last run's session is kept. */
export function lastSessionPath(e?: Env): string {
  return join(cacheDir(e), "last.tsprof");
}

/** Keeps a session file as the last run's (copied, then renamed into place). Best effort: never throws. */
export function keepLastSession(sessionFile: string): void {
  let tmp = "";
  try {
    const target = lastSessionPath();
    mkdirSync(cacheDir(), { recursive: true });
    tmp = `${target}.${process.pid}.tmp`;
    copyFileSync(sessionFile, tmp);
    renameSync(tmp, target);
    tmp = "";
  } catch {
    // A read-only home or a full disk must not fail the run.
  } finally {
    if (tmp) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // the temporary file stays behind; the cache works without it
      }
    }
  }
}
