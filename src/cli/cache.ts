// The user's cache folder, where every CLI run keeps its session for --load-prev and `tsprofile diff`:
// $XDG_CACHE_HOME/tsprofile, else ~/Library/Caches/tsprofile (macOS), %LOCALAPPDATA%\tsprofile (Windows),
// ~/.cache/tsprofile. The last run is last.tsprof, the KEPT runs before it last-1.tsprof ... last-9.tsprof.
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

/** How many runs before the last one are kept. */
export const KEPT = 9;

/** Where the last run's session is kept, or with `back` = n the one n runs before it. */
export function lastSessionPath(e?: Env, back = 0): string {
  return join(cacheDir(e), back === 0 ? "last.tsprof" : `last-${back}.tsprof`);
}

/**
 * A run named as `tsprofile diff` takes it: "last" is the last run, "last~N" the one N runs before it (N up to KEPT),
 * as git names commits; undefined for anything else (a file name).
 */
export function runReference(name: string, e?: Env): string | undefined {
  const m = /^last(?:~([1-9]\d*))?$/.exec(name);
  if (!m) return undefined;
  const back = Number(m[1] ?? 0);
  return back <= KEPT ? lastSessionPath(e, back) : undefined;
}

/** Keeps a session file as the last run's (copied, then renamed into place). Best effort: never throws. */
export function keepLastSession(sessionFile: string): void {
  let tmp = "";
  try {
    const target = lastSessionPath();
    mkdirSync(cacheDir(), { recursive: true });
    tmp = `${target}.${process.pid}.tmp`;
    copyFileSync(sessionFile, tmp);
    // The runs before move back one place each (the oldest is overwritten); a missing one is skipped.
    for (let back = KEPT; back >= 1; back--) {
      try {
        renameSync(lastSessionPath(undefined, back - 1), lastSessionPath(undefined, back));
      } catch {
        // not kept yet
      }
    }
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
