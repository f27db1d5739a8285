// bun test: one HTML report per test. bun:test's beforeEach/afterEach are not told which test runs (and Bun has
// no expect.getState()), so this hands out wrapped test/it/describe: each test function runs profiled under its
// describe blocks' names and its own. Use them instead of bun:test's in the files to profile.
import * as bunTest from "bun:test";
import { callerSite, TestProfiles, testTitle } from "./per-test.ts";
import type { PerTestOptions } from "./per-test.ts";

type Fn = (this: unknown, ...args: unknown[]) => unknown;

export interface ProfiledTests {
  test: typeof bunTest.test;
  it: typeof bunTest.it;
  describe: typeof bunTest.describe;
  profiles: TestProfiles;
}

/** test.each's "%s"/"%d"/"%p"... placeholders filled from the row, as Bun names the test (near enough). */
function formatRow(title: string, row: unknown[]): string {
  let i = 0;
  return title.replace(/%[sdifjop#%]/g, (p) => {
    if (p === "%%") return "%";
    if (p === "%#") return "";
    const value = row[i++];
    return p === "%s" || p === "%d" || p === "%i" || p === "%f"
      ? String(value)
      : JSON.stringify(value) ?? String(value);
  });
}

/** bun:test's test, it and describe (with .only, .skip, .each, .if, ...), writing <dir>/<file> - <test>.html per test. */
export function profiledTests(options: PerTestOptions = {}): ProfiledTests {
  const profiles = new TestProfiles(options);
  const groups: string[] = []; // the describe blocks being registered, outermost first

  // bun:test's own hooks start and stop the profile, so no frame of tsprofile's is around the test function (its
  // failures read as before); the wrapper only says which test runs, then calls it as its last act: a proper
  // tail call in Bun's strict-mode JavaScriptCore, which leaves the wrapper off the stack too.
  let current: string | undefined;
  const key = {};
  bunTest.beforeEach(() => {
    profiles.begin(key, "");
  });
  bunTest.afterEach(() => {
    if (current === undefined) profiles.discard(key); // a test of bun:test's own test(), not wrapped here
    else profiles.end(key, current);
    current = undefined;
  });
  const profiled = (title: string, fn: Fn): Fn => {
    const wrapper = function (this: unknown, ...args: unknown[]) {
      current = title.includes("%") ? formatRow(title, args) : title;
      return fn.apply(this, args);
    };
    Object.defineProperty(wrapper, "length", { value: fn.length }); // Bun reads the arity (done, .each rows)
    return wrapper;
  };

  // The test API and everything hanging off it (test.only, test.each(rows), test.if(c), ...): a call with a
  // name and a function registers a test, whose function gets profiled; a call that returns a function returns
  // another registrar, wrapped the same way.
  const wrapTests = <T extends object>(api: T, self?: unknown): T =>
    new Proxy(api, {
      apply: (target, _this, args: unknown[]) => {
        if (typeof args[0] === "string" && typeof args[1] === "function") {
          const title = testTitle(callerSite()?.file, [...groups, args[0]]);
          args = [args[0], profiled(title, args[1] as Fn), ...args.slice(2)];
        }
        const out = Reflect.apply(target as Fn, self, args);
        return typeof out === "function" ? wrapTests(out, undefined) : out;
      },
      get: (target, key) => {
        const value = Reflect.get(target, key);
        return typeof value === "function" ? wrapTests(value, target) : value;
      },
    });

  // describe(name, body): the body registers its tests while the block's name is on the stack.
  const wrapGroups = <T extends object>(api: T, self?: unknown): T =>
    new Proxy(api, {
      apply: (target, _this, args: unknown[]) => {
        if (typeof args[0] === "string" && typeof args[1] === "function") {
          const [name, body] = args as [string, Fn];
          args = [name, function (this: unknown, ...a: unknown[]) {
            groups.push(name);
            try {
              return body.apply(this, a);
            } finally {
              groups.pop();
            }
          }, ...args.slice(2)];
        }
        const out = Reflect.apply(target as Fn, self, args);
        return typeof out === "function" ? wrapGroups(out, undefined) : out;
      },
      get: (target, key) => {
        const value = Reflect.get(target, key);
        return typeof value === "function" ? wrapGroups(value, target) : value;
      },
    });

  return { test: wrapTests(bunTest.test), it: wrapTests(bunTest.it), describe: wrapGroups(bunTest.describe), profiles };
}
