// uvu: one HTML report per test of a suite, through the suite's before.each/after.each hooks, whose context
// uvu fills with the suite's and the test's names (__suite__, __test__). uvu does not say which file a test is
// in: the file that called profileEachTest() is used.
import { callerSite, TestProfiles, testTitle } from "./per-test.ts";
import type { PerTestOptions } from "./per-test.ts";

interface UvuContext {
  __suite__?: string;
  __test__?: string;
}

/** The part of an uvu suite (uvu's `test`, or `suite("name")`) used here. */
interface UvuSuite {
  before: { each(hook: (context: UvuContext) => unknown): void };
  after: { each(hook: (context: UvuContext) => unknown): void };
}

/** Writes <dir>/<file> - <suite> - <test>.html for every test of `suite` (register it before suite.run()). */
export function profileEachTest(suite: UvuSuite, options: PerTestOptions = {}): TestProfiles {
  const profiles = new TestProfiles(options);
  const file = callerSite()?.file;
  // uvu runs a suite's tests one after another, sharing one context object: the suite is the key.
  suite.before.each((context) => {
    profiles.begin(suite, testTitle(file, [context.__suite__, context.__test__]));
  });
  suite.after.each(() => {
    profiles.end(suite);
  });
  return profiles;
}
