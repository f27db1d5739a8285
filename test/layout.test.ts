// The rules of the house for imports (docs/ARCHITECTURE.md, "The layers"): every import of the shipped code goes one
// way, bottom to top, and there is no cycle between files or between folders. Type-only imports count too: a
// layer that needs another's types depends on it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { root } from "./runtime-helpers.ts";

/** The layers, bottom first: a file may import its own layer and those below it, never one above. */
const LAYERS: [string, number][] = [
  ["session", 0],
  ["runtimes", 1],
  ["wasm", 1],
  ["src/processing", 2],
  ["src/renderers", 3],
  ["src", 4],
  ["src/cli", 5],
  ["src/integrations", 5],
];
const SHIPPED = ["session", "runtimes", "wasm", "src"];

function layerOf(file: string): number {
  let best: [string, number] | undefined;
  for (const l of LAYERS) {
    if ((file === l[0] || file.startsWith(l[0] + "/")) && (!best || l[0].length > best[0].length)) best = l;
  }
  if (!best) throw new Error(`${file} is in no layer`);
  return best[1];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && entry.name !== "bin" && entry.name !== "build") {
        out.push(...sourceFiles(rel));
      }
    } else if (/\.(ts|mts|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.mts")) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:^|[\s;])(?:import|export)(?:[\s\w{},*]*?\sfrom)?\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** file -> the project files it imports (paths relative to the root). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of SHIPPED.flatMap(sourceFiles)) {
    const text = readFileSync(join(root, file), "utf8").replace(/^\s*\/\/.*$/gm, "");
    const targets: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      let target = relative(root, resolve(root, dirname(file), m[1])).split("\\").join("/");
      if (target.endsWith(".d.mts")) target = target.slice(0, -".d.mts".length) + ".mjs";
      targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** The strongly connected components with more than one member (Tarjan, iterative enough for this size). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)?.has(v)) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const graph = importGraph();

test("the layout test sees the project's files and their imports", () => {
  assert.ok(graph.size > 50, `only ${graph.size} files found`);
  assert.ok((graph.get("src/report.ts") ?? []).includes("wasm/core.ts"));
  assert.ok((graph.get("runtimes/preload/preload.mjs") ?? []).includes("runtimes/preload/preload.ts"));
});

test("every import resolves to a file of the project", () => {
  const known = new Set(graph.keys());
  const missing = [...graph].flatMap(([f, ts]) => ts.filter((t) => !known.has(t)).map((t) => `${f} -> ${t}`));
  assert.equal(missing, []);
});

test("imports go one way: no file imports a layer above its own", () => {
  const up = [...graph].flatMap(([f, ts]) => ts.filter((t) => layerOf(t) > layerOf(f)).map((t) => `${f} -> ${t}`));
  assert.equal(up, []);
});

test("no cycle between files", () => {
  const edges = new Map([...graph].map(([f, ts]) => [f, new Set(ts)]));
  assert.equal(cycles(edges), []);
});

test("no cycle between folders", () => {
  const edges = new Map<string, Set<string>>();
  for (const [f, ts] of graph) {
    const from = dirname(f);
    if (!edges.has(from)) edges.set(from, new Set());
    for (const t of ts) if (dirname(t) !== from) edges.get(from)!.add(dirname(t));
  }
  assert.equal(cycles(edges), []);
});

test.run();
