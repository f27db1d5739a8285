// deno test: one HTML report per test. Deno.test's own beforeEach/afterEach hooks are not told which test runs,
// so this wraps Deno.test (and Deno.test.only/.ignore) instead: each test function runs profiled under its
// TestContext's name and file. Call it at the top of a test file, or in a module given to `deno test --preload`.
import { callerSite, TestProfiles, testTitle } from "./per-test.ts";
import type { PerTestOptions } from "./per-test.ts";

interface DenoTestContext {
  name: string;
  origin: string; // the test file's URL
}
type TestFn = (this: unknown, t: DenoTestContext) => unknown;
type Register = (...args: unknown[]) => unknown;

const WRAPPED = Symbol.for("tsprofile.denoTestWrapped");
const LOCATION = Symbol.for("Deno.test.location");

/** Profiles every test registered with Deno.test after this call: writes <dir>/<file> - <test>.html. */
export function profileEachTest(options: PerTestOptions = {}): TestProfiles {
  const profiles = new TestProfiles(options);
  const deno = (globalThis as unknown as { Deno?: { test: Register & Record<PropertyKey, unknown> } }).Deno;
  if (!deno) throw new Error("tsprofile: deno-test's profileEachTest() runs under `deno test` only");
  if (deno.test[WRAPPED]) return profiles; // once: a second call (a preload and a file) would profile twice
  const original = deno.test;

  // Deno.test's own hooks (Deno >= 2.5) start and stop the profile, so the only frame of tsprofile's around a
  // test function, in its failures' stack traces, is the wrapper that says which test runs. Older Deno: run().
  const hooks = original as unknown as { beforeEach?: (fn: () => void) => void; afterEach?: (fn: () => void) => void };
  let current: string | undefined;
  const key = {};
  if (typeof hooks.beforeEach === "function" && typeof hooks.afterEach === "function") {
    hooks.beforeEach(() => profiles.begin(key, ""));
    hooks.afterEach(() => {
      if (current === undefined) profiles.discard(key); // a test registered before profileEachTest()
      else profiles.end(key, current);
      current = undefined;
    });
  }
  const profiled = (fn: TestFn): TestFn => {
    const wrapper = hooks.afterEach
      ? function (this: unknown, t: DenoTestContext) {
        current = testTitle(t.origin, [t.name]);
        return fn.call(this, t);
      }
      : function (this: unknown, t: DenoTestContext) {
        return profiles.run(testTitle(t.origin, [t.name]), () => fn.call(this, t));
      };
    Object.defineProperty(wrapper, "name", { value: fn.name }); // Deno.test(function name() {}) names the test
    // Deno reports a test at the place that called Deno.test, which is now here: give it the user's call instead,
    // through the symbol Deno reads for test helpers (deno >= 2.7; older versions show this file).
    const site = callerSite();
    if (site) (wrapper as unknown as Record<symbol, string>)[LOCATION] = `${site.file}:${site.line}:${site.column}`;
    return wrapper;
  };
  // Deno.test(name, fn) | (name, options, fn) | (fn) | (options, fn) | ({ name, fn, ... }): wrap whichever is fn.
  const wrapArgs = (args: unknown[]): unknown[] => {
    const i = args.findIndex((a) => typeof a === "function");
    if (i >= 0) return args.map((a, j) => (j === i ? profiled(a as TestFn) : a));
    const definition = args[0] as { fn?: unknown } | undefined;
    if (typeof definition?.fn === "function") {
      return [{ ...definition, fn: profiled(definition.fn as TestFn) }, ...args.slice(1)];
    }
    return args; // not a shape Deno knows: Deno says so itself
  };
  const wrap = (register: Register): Register => (...args) => register(...wrapArgs(args));
  deno.test = new Proxy(original, {
    apply: (target, self, args) => Reflect.apply(target, self, wrapArgs(args)),
    get: (target, key) => {
      if (key === WRAPPED) return true;
      const value = Reflect.get(target, key);
      return (key === "only" || key === "ignore") && typeof value === "function" ? wrap(value.bind(target)) : value;
    },
  }) as Register & Record<PropertyKey, unknown>;
  return profiles;
}
