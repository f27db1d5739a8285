// node:test: one HTML report per test, through the runner's own beforeEach/afterEach, whose context knows the
// test's name and file. Call it at the top of a test file, or in a module loaded with `node --import` (the hooks
// then apply to every test of every file).
import process from "node:process";
import { afterEach, beforeEach } from "node:test";
import { TestProfiles, testTitle } from "./per-test.ts";
import type { PerTestOptions } from "./per-test.ts";

interface NodeTestContext {
  name: string;
  fullName?: string; // Node >= 22.3: "outer > inner"
  filePath?: string; // Node >= 22.6
}

/** Writes <dir>/<file> - <test>.html for every test run after this call. */
export function profileEachTest(options: PerTestOptions = {}): TestProfiles {
  const profiles = new TestProfiles(options);
  beforeEach((t: NodeTestContext) => {
    // Without filePath (Node 20), the file the process runs: `node --test` runs each file in a process of its own.
    profiles.begin(t, testTitle(t.filePath ?? process.argv[1], [t.fullName?.replaceAll(" > ", " - ") ?? t.name]));
  });
  afterEach((t: NodeTestContext) => {
    profiles.end(t);
  });
  return profiles;
}
