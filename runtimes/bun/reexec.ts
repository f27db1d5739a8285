// `bunx tsprofile app.ts` runs our bin under Node when node is on PATH (its shebang is `#!/usr/bin/env node`),
// so the program would be profiled under Node. bunx marks its children (npm_config_user_agent "bun/..."): then
// the CLI runs itself again under Bun, passing stdio, the exit code and signals through.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { basename, dirname, join } from "node:path";
import { detectRuntime } from "../index.ts";

type Relayed = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Set in the re-run CLI: never re-run twice. "0" turns the re-run off. */
const GUARD = "TSPROFILE_REEXEC";

/** The bun executable bunx ran from (next to npm_execpath), else `bun` on PATH. */
export function bunExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const exec = env.npm_execpath ?? "";
  if (exec && /^bunx?(\.exe)?$/.test(basename(exec))) {
    for (const name of ["bun", "bun.exe"]) {
      const candidate = join(dirname(exec), name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return "bun";
}

export function shouldReexecUnderBun(env: NodeJS.ProcessEnv = process.env): boolean {
  return detectRuntime() === "node" && (env.npm_config_user_agent ?? "").startsWith("bun/") && env[GUARD] === undefined;
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
      if (signal === "SIGINT" || signal === "SIGTERM" || signal === "SIGHUP") done({ code: 128 + (constants.signals[signal] ?? 0), signal });
      else done({ code: code ?? 1 });
    });
  });
}
