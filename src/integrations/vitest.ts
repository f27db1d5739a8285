// vitest: one HTML report per test, through vitest's beforeEach/afterEach, whose context carries the test (its
// task: name, suites, file). Call it in a file listed in the config's test.setupFiles, so every test file gets it.
import { afterEach, beforeEach } from "vitest";
import { TestProfiles, testTitle } from "./per-test.ts";
import type { PerTestOptions } from "./per-test.ts";

interface VitestTask {
  name: string;
  fullTestName?: string; // vitest >= 4: "suite > test"
  file?: { name: string };
}

/** Writes <dir>/<file> - <test>.html for every test of every test file. */
export function profileEachTest(options: PerTestOptions = {}): TestProfiles {
  const profiles = new TestProfiles(options);
  beforeEach(({ task }: { task: VitestTask }) => {
    profiles.begin(task, testTitle(task.file?.name, [(task.fullTestName ?? task.name).replaceAll(" > ", " - ")]));
  });
  // vitest runs after-hooks in reverse order: this one, registered first, stops last, after the test's own.
  afterEach(({ task }: { task: VitestTask }) => {
    profiles.end(task);
  });
  return profiles;
}
