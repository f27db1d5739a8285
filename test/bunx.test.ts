// runtimes: node20 -- it runs the real bunx, which starts tsprofile's bin under the Node first on PATH
// `bunx tsprofile app.ts` in a project that depends on tsprofile: bunx starts our node-shebang bin under Node;
// the CLI must re-run itself under Bun so the program is profiled on Bun, with output and exit code passed on.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { root } from "./runtime-helpers.ts";

const runtimesBin = join(root, "test", "runtimes", "node_modules", ".bin");

test("bunx tsprofile profiles the program under Bun; stdout and the exit code pass through", () => {
  assert.ok(existsSync(join(runtimesBin, "bunx")), "test/runtimes has bunx");
  if (!existsSync(join(root, "dist", "cli.js"))) {
    const b = spawnSync(process.execPath, [join(root, "scripts", "bundle.mjs")], { cwd: root, encoding: "utf8" });
    assert.is(b.status, 0, b.stderr);
  }
  const project = mkdtempSync(join(tmpdir(), "tsprofile-bunx-"));
  try {
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", dependencies: { tsprofile: "*" } }),
    );
    mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
    symlinkSync(root, join(project, "node_modules", "tsprofile"));
    symlinkSync(join("..", "tsprofile", "dist", "cli.js"), join(project, "node_modules", ".bin", "tsprofile"));
    // The machine's Node first on PATH, as on a user's machine (bunx prefers `node` for a node shebang); from a
    // plain shell and from inside an npm script (whose npm_config_user_agent bunx keeps).
    const path = [dirname(process.execPath), runtimesBin, process.env.PATH ?? ""].join(delimiter);
    const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
    const npmScript = {
      ...shell,
      npm_config_user_agent: "npm/11.0.0 node/v20.0.0 linux x64",
      npm_execpath: "/x/npm-cli.js",
    };
    for (const env of [shell, npmScript]) {
      const r = spawnSync(join(runtimesBin, "bunx"), [
        "tsprofile",
        "--no-color",
        join(root, "test", "fixtures", "bunx-app.ts"),
      ], {
        cwd: project,
        encoding: "utf8",
        env: { ...env, PATH: path, NO_COLOR: "1" },
        timeout: 120_000,
      });
      assert.is(r.status, 4, r.stderr);
      assert.is(r.stdout, "runtime bun\n", env.npm_config_user_agent ?? "plain shell");
      assert.match(r.stderr, /bun \d+\.\d+/, "the report's header names Bun");
      assert.match(r.stderr, /spinHere/);
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test.run();
