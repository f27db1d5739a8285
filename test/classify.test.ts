import { test } from "uvu";
import * as assert from "uvu/assert";
import { classifyFrames, globToRegExp, nodeModulesPackage, shortPath } from "../src/processing/classify.ts";
import { UsageError } from "../session/errors.ts";
import { FrameFlag, NO_LIBRARY } from "../session/types.ts";
import type { FrameInfo } from "../session/types.ts";

const f = (file: string, name = "fn", kind: FrameInfo["kind"] = "js"): FrameInfo => ({
  name,
  file,
  line: 1,
  col: 1,
  kind,
});

function one(frame: FrameInfo, options: Parameters<typeof classifyFrames>[1] = { cwd: "/app" }) {
  const c = classifyFrames([frame], options);
  return { flags: c.flags[0], library: c.library[0] === NO_LIBRARY ? null : c.libraryNames[c.library[0]] };
}

test("application code has no flags", () => {
  assert.equal(one(f("/app/src/main.ts")), { flags: 0, library: null });
  assert.equal(one(f("file:///app/src/main.ts")), { flags: 0, library: null });
});

test("node_modules: the innermost package, scoped or not", () => {
  assert.equal(one(f("/app/node_modules/express/lib/router/index.js")), {
    flags: FrameFlag.library,
    library: "express",
  });
  assert.equal(one(f("/app/node_modules/@babel/core/lib/x.js")), { flags: FrameFlag.library, library: "@babel/core" });
  assert.equal(one(f("/app/node_modules/a/node_modules/@s/b/x.js")).library, "@s/b");
  assert.equal(one(f("file:///app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/lodash.js")).library, "lodash");
  assert.equal(one(f("C:\\app\\node_modules\\chalk\\index.js")).library, "chalk");
  assert.is(nodeModulesPackage("/home/u/.cache/deno/npm/registry.npmjs.org/chalk/5.3.0/source/index.js"), "chalk");
});

test("node:internal is internal, public node: modules are library code and the runtime's own (builtin)", () => {
  assert.equal(one(f("node:internal/modules/esm/loader")), { flags: FrameFlag.internal, library: null });
  assert.equal(one(f("internal/timers.js")).flags, FrameFlag.internal);
  assert.equal(one(f("node:fs")), { flags: FrameFlag.library, library: "node:fs" });
  assert.equal(one(f("node:fs/promises")).library, "node:fs");
  // As samplers name them (kind runtime): the runtime's work where no frame of the program calls them.
  assert.equal(one(f("node:net", "Socket._write", "runtime")), {
    flags: FrameFlag.library | FrameFlag.builtin,
    library: "node:net",
  });
});

test("Deno and Bun internals", () => {
  for (
    const file of [
      "ext:core/01_core.js",
      "ext:deno_web/02_timers.js",
      "ext:runtime/98_global_scope.js",
      "bun:main",
      "builtin://bun/x",
      "internal:streams",
    ]
  ) {
    assert.is(one(f(file)).flags, FrameFlag.internal, file);
  }
});

test("Deno remote modules are libraries named by package", () => {
  assert.is(one(f("https://jsr.io/@std/path/1.0.8/join.ts")).library, "@std/path");
  assert.is(one(f("https://deno.land/std@0.200.0/fmt/colors.ts")).library, "std");
  assert.is(one(f("https://deno.land/x/oak@v12.6.1/mod.ts")).library, "oak");
  assert.is(one(f("https://esm.sh/preact@10.19.0/hooks")).library, "preact");
});

test("frames without a file are native library code (builtins); module-loading glue is internal", () => {
  assert.equal(one(f("", "JSON.parse", "native")), {
    flags: FrameFlag.library | FrameFlag.builtin,
    library: "native",
  });
  assert.is(one(f("[native code]", "parse", "native")).flags, FrameFlag.library | FrameFlag.builtin);
  assert.equal(one(f("", "evaluate", "native")).flags, FrameFlag.internal);
  assert.equal(one(f("", "(program)", "native")).flags, FrameFlag.internal);
  assert.equal(one(f("", "whatever", "runtime")).flags, FrameFlag.internal);
  // The microtask runners that resume awaiting code (V8, Deno, Bun's unnamed host function), Deno's worker
  // start-up; a program's own anonymous function has a file.
  for (const name of ["runMicrotasks", "op_run_microtasks", "(anonymous)", "op_worker_maybe_wait_for_debugger"]) {
    assert.equal(one(f("", name, "native")).flags, FrameFlag.internal, name);
  }
  assert.equal(one(f("/app/main.ts", "(anonymous)")).flags, 0);
});

test("a program inside a package in node_modules (--from-path tsc): that package is the application", () => {
  const program = "/p/node_modules/typescript/bin/tsc -p .";
  const opts = { cwd: "/p", program };
  assert.equal(one(f("/p/node_modules/typescript/lib/tsc.js"), opts), { flags: 0, library: null });
  assert.equal(one(f("file:///p/node_modules/typescript/lib/tsc.js"), opts).flags, 0);
  assert.equal(one(f("/p/node_modules/other/index.js"), opts).library, "other");
  // --hide still says otherwise; a program of its own keeps node_modules as libraries; an argument is no script.
  assert.equal(
    one(f("/p/node_modules/typescript/lib/tsc.js"), { ...opts, hide: ["*typescript*"] }).flags,
    FrameFlag.library,
  );
  assert.equal(
    one(f("/p/node_modules/typescript/lib/tsc.js"), { cwd: "/p", program: "/p/app.js" }).library,
    "typescript",
  );
  const arg = { cwd: "/p", program: "/p/app.js /p/node_modules/typescript/lib/tsc.js" };
  assert.equal(one(f("/p/node_modules/typescript/lib/tsc.js"), arg).library, "typescript");
});

test("tsprofile's own frames are hidden; its tests and dependencies are not", () => {
  const opts = { cwd: "/app", ownRoot: "/pkg/tsprofile" };
  assert.is(one(f("/pkg/tsprofile/src/profiler.ts"), opts).flags, FrameFlag.hidden);
  assert.is(one(f("/pkg/tsprofile/runtimes/node/sampler.ts"), opts).flags, FrameFlag.hidden);
  assert.is(one(f("file:///pkg/tsprofile/dist/cli.js"), opts).flags, FrameFlag.hidden);
  assert.is(one(f("/pkg/tsprofile/test/x.test.ts"), opts).flags, 0);
  assert.is(one(f("/pkg/tsprofile-other/src/x.ts"), opts).flags, 0);
  assert.is(one(f("/pkg/tsprofile/node_modules/uvu/run.js"), opts).library, "uvu");
});

test("--hide makes library code, --show wins over --hide and over the defaults", () => {
  const gen = f("/app/generated/schema.ts");
  assert.equal(one(gen, { cwd: "/app", hide: ["*/generated/*"] }), { flags: FrameFlag.library, library: "generated" });
  assert.equal(one(gen, { cwd: "/app", hide: ["*/generated/*"], show: ["/app/**/schema.ts"] }), {
    flags: 0,
    library: null,
  });
  assert.equal(one(gen, { cwd: "/app", hideRegex: ["generated"], showRegex: ["schema\\.ts$"] }), {
    flags: 0,
    library: null,
  });
  assert.equal(one(gen, { cwd: "/app", hideRegex: ["generated"], show: ["*nothing*"] }).flags, FrameFlag.library);
  const express = f("/app/node_modules/express/lib/router.js");
  assert.equal(one(express, { cwd: "/app", show: ["*/node_modules/express/*"] }), { flags: 0, library: null });
  assert.equal(one(express, { cwd: "/app", showRegex: ["express"] }).flags, 0);
  assert.equal(one(f("node:internal/x"), { cwd: "/app", showRegex: ["^node:internal"] }).flags, 0);
});

test("globs: fnmatch semantics over the full path", () => {
  assert.ok(globToRegExp("*/lib/*").test("/usr/lib/x/y.js"));
  assert.ok(globToRegExp("**/a?.ts").test("/x/y/ab.ts"));
  assert.not.ok(globToRegExp("**/a?.ts").test("/x/y/abc.ts"));
  assert.ok(globToRegExp("/x/[ab].ts").test("/x/a.ts"));
  assert.not.ok(globToRegExp("/x/[!ab].ts").test("/x/a.ts"));
  assert.not.ok(globToRegExp("lib").test("/usr/lib"), "anchored at both ends");
  assert.ok(globToRegExp("a.b(c)+").test("a.b(c)+"), "regex characters are literal");
});

test("a bad regex is a UsageError with one line", () => {
  for (const key of ["hideRegex", "showRegex"] as const) {
    try {
      classifyFrames([f("/app/x.ts")], { cwd: "/app", [key]: ["(unclosed"] });
      assert.unreachable("should throw");
    } catch (err) {
      assert.instance(err, UsageError);
      const message = (err as Error).message;
      assert.not.ok(message.includes("\n"));
      assert.ok(message.startsWith(key === "hideRegex" ? "--hide-regex: " : "--show-regex: "), message);
      assert.ok(message.includes('"(unclosed"'), message);
    }
  }
});

test("classification is per unique frame; library names are deduplicated", () => {
  const c = classifyFrames(
    [
      f("/app/node_modules/a/x.js", "x"),
      f("/app/node_modules/a/y.js", "y"),
      f("/app/node_modules/b/x.js"),
      f("/app/m.ts"),
    ],
    { cwd: "/app" },
  );
  assert.equal(c.libraryNames, ["a", "b"]);
  assert.equal(Array.from(c.library), [0, 0, 1, NO_LIBRARY]);
});

test("shortPath", () => {
  assert.is(shortPath("/app/src/main.ts", "/app"), "src/main.ts");
  assert.is(shortPath("/app/src/main.ts", "/app/"), "src/main.ts");
  assert.is(shortPath("file:///app/src/main.ts", "/app"), "src/main.ts");
  assert.is(shortPath("/app/node_modules/a/node_modules/b/x.js", "/app"), "node_modules/b/x.js");
  assert.is(shortPath("/elsewhere/node_modules/@s/p/x.js", "/app"), "node_modules/@s/p/x.js");
  assert.is(shortPath("/application/x.ts", "/app"), "/application/x.ts");
  assert.is(shortPath("node:fs", "/app"), "node:fs");
  assert.is(shortPath("ext:core/01_core.js", "/app"), "ext:core/01_core.js");
  assert.is(shortPath("https://jsr.io/@std/path/1.0.8/join.ts", "/app"), "https://jsr.io/@std/path/1.0.8/join.ts");
  assert.is(shortPath("", "/app"), "");
});

test.run();
