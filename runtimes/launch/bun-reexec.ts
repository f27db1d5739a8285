// `bunx tsprofile app.ts` runs our bin under Node when node is on PATH (its shebang is `#!/usr/bin/env node`),
// so the program would be profiled under Node. bunx marks its children (npm_config_user_agent "bun/..."), but
// keeps a user agent it inherited (bunx inside an npm script); on Linux the parent process tells too. Then the
// CLI runs itself again under Bun, passing stdio, the exit code and signals through.
import { spawn } from "node:child_process";
import { existsSync, readlinkSync } from "node:fs";
import { constants } from "node:os";
import { basename, dirname, join } from "node:path";
import { detectRuntime } from "../shared/runtime.ts";

type Relayed = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Set in the re-run CLI: never re-run twice. "0" turns the re-run off. */
const GUARD = "TSPROFILE_REEXEC";

const BUN_NAME = /^bunx?(\.exe)?$/;

/** The parent process's executable when it is bun or bunx (Linux's /proc; null elsewhere). */
function parentBun(): string | null {
  try {
    const exe = readlinkSync(`/proc/${process.ppid}/exe`);
    return BUN_NAME.test(basename(exe)) ? exe : null;
  } catch {
    return null;
  }
}

/** The bun executable bunx ran from (next to npm_execpath or the parent bunx), else `bun` on PATH. */
export function bunExecutable(env: NodeJS.ProcessEnv = process.env): string {
  for (const exec of [env.npm_execpath ?? "", parentBun() ?? ""]) {
    if (!exec || !BUN_NAME.test(basename(exec))) continue;
    for (const name of ["bun", "bun.exe"]) {
      const candidate = join(dirname(exec), name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return "bun";
}

export function shouldReexecUnderBun(env: NodeJS.ProcessEnv = process.env): boolean {
  if (detectRuntime() !== "node" || env[GUARD] !== undefined) return false;
  return (env.npm_config_user_agent ?? "").startsWith("bun/") || parentBun() !== null;
}

/**
 * When started by bunx under Node: runs this CLI under Bun with the same arguments and resolves to how it ended
 * (the caller exits the same way). Resolves to null when there is nothing to do or Bun cannot be started.
 */
export function reexecUnderBun(argv: string[]): Promise<{ code: number; signal?: Relayed } | null> {
  const entry = process.argv[1];
  if (!shouldReexecUnderBun() || !entry) return Promise.resolve(null);
  return new Promise((done) => {
    const child = spawn(bunExecutable(), [entry, ...argv], { stdio: "inherit", env: { ...process.env, [GUARD]: "1" } });
    // Ctrl-C reaches the whole process group, the child included: this process only waits. A signal sent to
    // this process alone is passed on.
    const relay = (signal: Relayed) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, relay(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const cleanup = () => {
      for (const [s, h] of handlers) process.removeListener(s, h);
    };
    child.once("error", () => {
      cleanup();
      done(null); // no Bun after all: profile under Node
    });
    child.once("exit", (code, signal) => {
      cleanup();
      if (signal === "SIGINT" || signal === "SIGTERM" || signal === "SIGHUP") {
        done({ code: 128 + (constants.signals[signal] ?? 0), signal });
      } else done({ code: code ?? 1 });
    });
  });
}
