// The CLI's JavaScript extensions: -r PATH (a renderer module) and -p processor=PATH (processor modules), each
// module's default export. Loaded and checked before the program runs, so a typo or a module that does not load
// fails in one line at once, not after a long run whose report would then be lost.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../../session/errors.ts";
import { thrownMessage } from "../processing/frame-tree.ts";
import type { Processor, TreeRenderer } from "../processing/options.ts";
import type { CliPlan } from "./arguments.ts";

/** A module's default export, which must be a function; its name becomes the path, for messages. */
async function defaultFunction(option: string, path: string): Promise<(...args: never[]) => unknown> {
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(resolve(path)).href);
  } catch (err) {
    throw new UsageError(`${option} ${path}: cannot load it (${thrownMessage(err)})`);
  }
  const fn = module.default;
  if (fn === undefined) throw new UsageError(`${option} ${path}: the module has no default export`);
  if (typeof fn !== "function") throw new UsageError(`${option} ${path}: its default export is not a function`);
  return fn as (...args: never[]) => unknown;
}

/** Named after its module, so report.ts's messages say which one failed. */
function named<F extends (...args: never[]) => unknown>(fn: F, path: string): F {
  const wrapper = ((...args: never[]) => fn(...args)) as F;
  Object.defineProperty(wrapper, "name", { value: path });
  return wrapper;
}

/** Puts the plan's modules into its report options: processors after any given, the renderer function. */
export async function loadModules(plan: CliPlan): Promise<void> {
  for (const path of plan.processorModules ?? []) {
    const fn = await defaultFunction("-p processor", path);
    plan.report.processors = [...plan.report.processors, named(fn as Processor, path)];
  }
  if (plan.rendererModule !== undefined) {
    const fn = await defaultFunction("--renderer", plan.rendererModule);
    plan.report.renderer = named(fn as TreeRenderer, plan.rendererModule);
  }
}
