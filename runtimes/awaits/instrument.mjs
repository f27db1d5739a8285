// Load-time await instrumentation (core-rs/SPEC.md, "Await attribution"; docs/ARCHITECTURE.md): the program's own
// JavaScript (after esbuild for TypeScript) is rewritten so that each await point reports to the await recorder
// (runtimes/awaits/await-recorder.mjs) which activation waits on which static site, from when to when, and each
// activation which activation called it. No stack is captured; the logical stack is the chain of activations.
//
// Per async function (declaration, expression, arrow, method, async generator) with an await point of its own:
//   body      `{ const __tspF = __tspH(), __tspA = __tspF.e(FN); try { <body> } finally { __tspF.x(__tspA); } }`
//             (an expression arrow body: `{ ...; try { return (<expr>); } finally {...} }`); directives stay first.
//   await x   `__tspF.a(__tspA, await __tspF.b(__tspA, SITE, x))`: x is evaluated first, b returns it unchanged
//             (the same value or thenable reaches `await`), a returns the resumed value unchanged. A rejection
//             throws out of `await` before a runs and propagates untouched; the function's catch blocks (each
//             starts with `__tspF.c(__tspA);`) or its finally close the await.
//   for await `for await (... of __tspF.f(__tspA, SITE, iterable))`: each next() (and return()) is an await of SITE.
//   yield     in an instrumented async generator, `yield v` and `yield* v` suspend it: `__tspF.r(__tspA, yield
//             __tspF.s(__tspA, v))` keeps the recorder's notion of the running activation right (the consumer's
//             own await is what is charged for the time in between).
//   top level an await or for await at module top level uses the file's module activation (`__tspF.m()`).
// Async functions with no await point of their own are left alone: they never suspend, so they are never pending,
// and what they call links to their caller. Values, `this`, `arguments`, thenables, rejections and return values
// are untouched.
//
// Positions: only insertions, never inside a line break, so every line keeps its number and a column moves only
// after an insertion on its line. The helper function `__tspH` (hoisted, so it exists before any code of the file
// runs, import cycles included) goes after the last line; it registers the file's sites with the recorder on first
// use. The map comment becomes the input's own map (esbuild's for TypeScript, a build's inline one) with every
// mapping moved by the insertions, or without one each token mapped to itself: what Node applies to stacks when
// source maps are on. With them off (the usual case), session/source/sourcemaps.ts redoes the transform and applies
// `shiftsOf`'s exact inverse (generated column -> input column) before the input's map, and
// runtimes/awaits/stack-columns.mjs puts error stacks' columns back the same way.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const requireHere = createRequire(import.meta.url);
/** @type {typeof import("acorn") | null} */
let acornModule = null;
const acorn = () => (acornModule ??= /** @type {typeof import("acorn")} */ (requireHere("acorn")));
/** acorn with TypeScript syntax (Bun, which can require its ES module; only Bun instruments TypeScript source). */
let tsParser = /** @type {{ parse(input: string, options: object): unknown } | null} */ (null);
const typescriptParser =
  () => (tsParser ??= acorn().Parser.extend(requireHere("@sveltejs/acorn-typescript").tsPlugin()));

/** An ES module's AST (acorn's; with TypeScript syntax if asked); throws if it does not parse. */
export function parseModule(/** @type {string} */ source, /** @type {boolean} */ typescript) {
  const options = { ecmaVersion: /** @type {const} */ ("latest"), sourceType: /** @type {const} */ ("module") };
  return typescript
    ? typescriptParser().parse(source, { ...options, locations: true })
    : acorn().parse(source, options);
}

/** Files the transform never touches: dependencies and tsprofile's own code. */
export const SKIP_PATH = /[\\/]node_modules[\\/]|^(?:node|bun|ext|deno|data|https?):/;

/** tsprofile's own folders (session/root.ts again: this module also runs on Node's loader thread, before any
 * TypeScript support). */
const OWN_DIRS = (() => {
  try {
    for (let dir = dirname(fileURLToPath(import.meta.url));; dir = dirname(dir)) {
      try {
        if (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name === "tsprofile") {
          return ["session", "runtimes", "wasm", "src", "dist"].map((d) => join(dir, d) + sep);
        }
      } catch {
        // no readable package.json here: keep walking up
      }
      if (dirname(dir) === dir) return [];
    }
  } catch {
    return [];
  }
})();

/** Whether a file (a path) is the program's own code, which the transform instruments. */
export function isProgramFile(/** @type {string} */ file) {
  if (SKIP_PATH.test(file)) return false;
  for (const d of OWN_DIRS) if (file.startsWith(d)) return false;
  return true;
}

/**
 * The code to run instead of `code` (the JavaScript of `file`), or null to run it as it is.
 * @param {string} file @param {string} code @param {boolean} script
 */
export function instrumentFile(file, code, script) {
  if (!isProgramFile(file)) return null;
  return instrumentAwaits(code, file, { script })?.code ?? null;
}

/**
 * The inverse of what instrumentFile did to `code` (deterministic: the same input gives the same edits), for
 * session/source/sourcemaps.ts; null when it left the file alone.
 * @param {string} file @param {string} code @param {boolean} script
 */
export function awaitShiftsFor(file, code, script) {
  if (!isProgramFile(file)) return null;
  const r = instrumentAwaits(code, file, { script });
  if (!r) return null;
  const shifts = shiftsOf(code, r.edits);
  return { unshift: (/** @type {number} */ line, /** @type {number} */ col) => unshift(shifts, line, col) };
}

/** The cheap test before any parse: a file with neither word has no await point. */
export function mayHaveAwaits(source) {
  return source.includes("await") || source.includes("yield");
}

/**
 * @typedef {{ kind: number, name: string, line: number, col: number }} Site
 * kind: 0 a function (its body's start), 1 an await, 2 a for await, 3 the module; line/col: 1-based, in the
 * generated code (what the engine reports).
 * @typedef {{ code: string, sites: Site[], edits: [number, string][] }} Instrumented
 */

/**
 * Instruments `source` (JavaScript); null when there is nothing to instrument or it does not parse (then the file
 * runs as it is). `script`: CommonJS or a classic script (no import/export, no top-level await). `sourceSites`:
 * sites at their positions in the input, through its inline map if it has one (the original source), for runtimes
 * whose stacks are in those coordinates (Deno, Bun); else in the generated code. `typescript`: the source is
 * TypeScript (instrumented as written, for a runtime that transpiles the result itself: Bun), and gets no map
 * comment.
 * @param {string} source
 * @param {string} file
 * @param {{ script?: boolean, sourceSites?: boolean, typescript?: boolean }} [options]
 * @returns {Instrumented | null}
 */
export function instrumentAwaits(source, file, options = {}) {
  if (!mayHaveAwaits(source)) return null;
  /** @type {any} */
  let ast;
  /** Token starts (offsets): the mapped positions of a file that has no map of its own. @type {number[]} */
  const tokens = [];
  try {
    ast = (options.typescript ? typescriptParser() : acorn()).parse(source, {
      onToken: (/** @type {{ start: number }} */ t) => void tokens.push(t.start),
      locations: options.typescript === true, // the TypeScript plugin needs them
      ecmaVersion: "latest",
      sourceType: options.script ? "script" : "module",
      allowHashBang: true,
      allowReturnOutsideFunction: options.script === true,
      allowAwaitOutsideFunction: options.script !== true,
    });
  } catch {
    return null;
  }
  /** @type {Site[]} */
  const sites = [];
  // Insertions [position, order, text]; at one position closing parts of inner nodes go first, then closing parts
  // of outer ones, then opening parts of outer nodes, then inner ones (order = -depth / 1e6 + depth).
  /** @type {[number, number, string][]} */
  const edits = [];
  const open = (/** @type {number} */ pos, /** @type {number} */ depth, /** @type {string} */ text) =>
    edits.push([pos, 1e6 + depth, text]);
  const close = (/** @type {number} */ pos, /** @type {number} */ depth, /** @type {string} */ text) =>
    edits.push([pos, -depth, text]);
  let moduleAt = -1;
  /** A site at input offset `pos`; its generated position is set once the edits are known. */
  const site = (/** @type {number} */ kind, /** @type {string} */ name, /** @type {number} */ pos) => {
    sites.push({ kind, name, line: 0, col: pos });
    return sites.length - 1;
  };

  /**
   * @param {any} node
   * @param {string} act the activation variable in scope: "__tspA" in an async function, "" in a plain one,
   *   "M" at module top level
   * @param {{ n: number, catches: [number, number][], gen: boolean }} frame the innermost async function's
   * @param {string} name the innermost function's name
   * @param {number} depth
   * @param {any} parent
   */
  const walk = (node, act, frame, name, depth, parent) => {
    const t = node.type;
    if (t === "FunctionDeclaration" || t === "FunctionExpression" || t === "ArrowFunctionExpression") {
      const fnName = functionName(node, parent);
      for (const p of node.params) walk(p, "", frame, fnName, depth + 1, node);
      const own = { n: 0, catches: /** @type {[number, number][]} */ ([]), gen: Boolean(node.async && node.generator) };
      const body = node.body;
      if (!body) return; // a TypeScript signature without a body (an abstract method)
      walk(body, node.async ? "__tspA" : "", own, fnName, depth + 1, node);
      if (!node.async || own.n === 0) return;
      for (const [at, d] of own.catches) open(at, d, "__tspF.c(__tspA);");
      const fn = site(0, fnName, body.type === "BlockStatement" ? body.start + 1 : body.start);
      const enter = `const __tspF = __tspH(), __tspA = __tspF.e(${fn}); try {`;
      const exit = `} finally { __tspF.x(__tspA); }`;
      if (body.type === "BlockStatement") {
        let at = body.start + 1;
        for (const s of body.body) {
          if (s.directive === undefined) break;
          at = s.end;
        }
        open(at, depth, enter);
        close(body.end - 1, depth, exit);
      } else {
        open(body.start, depth, `{ ${enter} return (`);
        close(body.end, depth, `); ${exit} }`);
      }
      return;
    }
    // Class field initializers and static blocks are functions of their own (no await allowed in them).
    if (t === "PropertyDefinition" || t === "StaticBlock") act = "";
    const f = act === "M" ? "__tspH()" : "__tspF";
    const a = act === "M" ? "__tspH().m()" : act;
    if (act === "M" && moduleAt < 0 && (t === "AwaitExpression" || (t === "ForOfStatement" && node.await))) {
      moduleAt = node.start;
    }
    if (t === "AwaitExpression" && act) {
      frame.n++;
      const s = site(1, name, node.start);
      open(node.start, depth, `${f}.a(${a}, `);
      open(node.argument.start, depth + 1, `${f}.b(${a}, ${s}, `);
      close(node.argument.end, depth + 1, ")");
      close(node.end, depth, ")");
    } else if (t === "ForOfStatement" && node.await && act) {
      frame.n++;
      const s = site(2, name, node.start);
      open(node.right.start, depth + 1, `${f}.f(${a}, ${s}, `);
      close(node.right.end, depth + 1, ")");
    } else if (t === "YieldExpression" && frame.gen && act === "__tspA") {
      // Counted as an await point: the generator's activation must know when it runs.
      frame.n++;
      open(node.start, depth, "__tspF.r(__tspA, ");
      if (node.argument) {
        open(node.argument.start, depth + 1, "__tspF.s(__tspA, ");
        close(node.argument.end, depth + 1, ")");
        close(node.end, depth, ")");
      } else close(node.end, depth, " __tspF.s(__tspA, undefined))"); // `yield` alone yields undefined
    } else if (t === "CatchClause" && act === "__tspA") {
      frame.catches.push([node.body.start + 1, depth]);
    }
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c.type === "string") walk(c, act, frame, name, depth + 1, node);
      } else if (v && typeof v.type === "string") walk(v, act, frame, name, depth + 1, node);
    }
  };
  /** @type {{ n: number, catches: [number, number][], gen: boolean }} */
  const top = { n: 0, catches: [], gen: false };
  walk(ast, "M", top, "", 0, null);
  if (!sites.length) return null;
  // The module's own activation is the last site, at its first top-level await.
  if (moduleAt >= 0) site(3, "", moduleAt);

  edits.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  /** @type {string[]} */
  const out = [];
  /** @type {[number, string][]} */
  const flat = [];
  let last = 0;
  for (const [pos, , text] of edits) {
    out.push(source.slice(last, pos), text);
    flat.push([pos, text]);
    last = pos;
  }
  out.push(source.slice(last));
  // Sites' generated positions: a site sits at an input offset, after every insertion made at or before it (an
  // await's own opening text included: the site is then the `await` keyword's new place).
  const lineStarts = lineStartsOf(source);
  let shift = 0;
  let e = 0;
  const order = sites.map((_, i) => i).sort((x, y) => sites[x].col - sites[y].col);
  let lineShiftAt = 0;
  for (const i of order) {
    const pos = sites[i].col;
    const line = lineAt(lineStarts, pos);
    if (line !== lineShiftAt) {
      // Shifts restart with each line: count only the insertions on this line before pos.
      lineShiftAt = line;
      shift = 0;
      e = 0;
      while (e < flat.length && flat[e][0] < lineStarts[line - 1]) e++;
    }
    while (e < flat.length && flat[e][0] <= pos) shift += flat[e++][1].length;
    sites[i].line = line;
    sites[i].col = pos - lineStarts[line - 1] + (options.sourceSites ? 0 : shift) + 1;
  }
  if (options.sourceSites) toSource(sites, source);
  const tail = `\nvar __tspR; function __tspH() { return __tspR ||= (globalThis.__tspAwaits ?? ${NOOP}).register(` +
    `${JSON.stringify(file)}, ${JSON.stringify(sites.map((s) => [s.kind, s.name, s.line, s.col]))}); }\n`;
  const code = out.join("");
  const m = MAP_COMMENT.exec(code);
  const body = (m ? code.slice(0, m.index) : code).replace(/\n?$/, "");
  // The map comment: the input's own map (esbuild's, a build's) composed with the insertions, or one of the
  // insertions alone; Node applies it to stack traces (source maps are on while it instruments).
  let map = null;
  try {
    if (!options.typescript) map = composedMap(source, file, flat, tokens, lineStarts);
  } catch {
    map = null;
  }
  const comment = map
    ? `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`
    : m
    ? m[0].trimStart()
    : "";
  return { code: body + tail + comment, sites, edits: flat };
}

/** Sites at input positions (1-based) -> through the input's inline map, where it maps them. */
function toSource(/** @type {Site[]} */ sites, /** @type {string} */ source) {
  let lines = null;
  try {
    const own = inputMap(source);
    if (own) lines = decodeMappings(own.mappings ?? "");
  } catch {
    lines = null;
  }
  if (!lines) return;
  for (const s of sites) {
    // The last mapping at or before the site on its line (the token it starts).
    let best = null;
    for (const seg of lines[s.line - 1] ?? []) {
      if (seg[0] > s.col - 1) break;
      if (seg.length >= 4) best = seg;
    }
    if (best) {
      s.line = best[2] + 1;
      s.col = best[3] + 1;
    }
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Source map "mappings" -> per line, segments [genCol, source, line, col, name?] (absolute, 0-based). */
function decodeMappings(/** @type {string} */ mappings) {
  /** @type {number[][][]} */
  const lines = [];
  const state = [0, 0, 0, 0, 0];
  for (const lineText of mappings.split(";")) {
    /** @type {number[][]} */
    const segs = [];
    state[0] = 0;
    if (lineText) {
      for (const segText of lineText.split(",")) {
        if (!segText) continue;
        /** @type {number[]} */
        const seg = [];
        let value = 0;
        let shift = 0;
        for (const ch of segText) {
          const d = B64_INDEX.get(ch);
          if (d === undefined) throw new Error("bad mappings");
          value += (d & 31) << shift;
          if (d & 32) shift += 5;
          else {
            const v = value & 1 ? -(value >>> 1) : value >>> 1;
            const i = seg.length;
            state[i] += v;
            seg.push(state[i]);
            value = 0;
            shift = 0;
          }
        }
        segs.push(seg);
      }
    }
    lines.push(segs);
  }
  return lines;
}

function encodeMappings(/** @type {number[][][]} */ lines) {
  const state = [0, 0, 0, 0, 0];
  const vlq = (/** @type {number} */ v) => {
    let x = v < 0 ? (-v << 1) | 1 : v << 1;
    let out = "";
    do {
      let d = x & 31;
      x >>>= 5;
      if (x > 0) d |= 32;
      out += B64[d];
    } while (x > 0);
    return out;
  };
  return lines.map((segs) => {
    state[0] = 0;
    return segs.map((seg) => {
      let out = "";
      for (let i = 0; i < seg.length; i++) {
        out += vlq(seg[i] - state[i]);
        state[i] = seg[i];
      }
      return out;
    }).join(",");
  }).join(";");
}

/** The input's own map (a data: URL in its last map comment), or null. */
function inputMap(/** @type {string} */ source) {
  const m = MAP_COMMENT.exec(source);
  if (!m) return null;
  const url = m[0].trim().slice("//# sourceMappingURL=".length);
  if (!url.startsWith("data:")) return undefined; // a map in a file of its own: not composed, left out
  const comma = url.indexOf(",");
  const head = url.slice(5, comma);
  const data = url.slice(comma + 1);
  return JSON.parse(head.endsWith(";base64") ? Buffer.from(data, "base64").toString("utf8") : decodeURIComponent(data));
}

/**
 * The map of the instrumented code: every mapping of the input's own map (or, without one, every token of the
 * input mapped to itself) moved right by what was inserted before it on its line. Lines are unchanged.
 * @param {string} source @param {string} file @param {[number, string][]} edits @param {number[]} tokens
 * @param {number[]} lineStarts
 */
function composedMap(source, file, edits, tokens, lineStarts) {
  const own = inputMap(source);
  if (own === undefined) return null;
  // Per line (0-based), [input column, total inserted at or before it] in order.
  /** @type {Map<number, number[]>} */
  const shifts = new Map();
  let line = -1;
  let total = 0;
  for (const [pos, text] of edits) {
    const l = lineAt(lineStarts, pos) - 1;
    if (l !== line) {
      line = l;
      total = 0;
    }
    total += text.length;
    let list = shifts.get(l);
    if (!list) shifts.set(l, list = []);
    list.push(pos - lineStarts[l], total);
  }
  const shiftAt = (/** @type {number} */ l, /** @type {number} */ col) => {
    const list = shifts.get(l);
    let t = 0;
    if (list) { for (let i = 0; i < list.length && list[i] <= col; i += 2) t = list[i + 1]; }
    return t;
  };
  /** @type {number[][][]} */
  let lines;
  if (own) {
    lines = decodeMappings(own.mappings ?? "");
    lines.forEach((segs, l) => {
      for (const seg of segs) seg[0] += shiftAt(l, seg[0]);
    });
  } else {
    lines = lineStarts.map(() => []);
    for (const t of tokens) {
      const l = lineAt(lineStarts, t) - 1;
      const col = t - lineStarts[l];
      lines[l].push([col + shiftAt(l, col), 0, l, col]);
    }
  }
  const base = own ?? { version: 3, sources: [pathToFileURL(file).href], names: [] };
  return { ...base, mappings: encodeMappings(lines) };
}

/** What runs when the recorder is not installed (a worker thread, code loaded without the preload). */
const NOOP = "{ register: () => { const p = (a, v) => v; return { e: () => 0, x() {}, c() {}, m: () => 0, a: p, " +
  "b: (a, s, v) => v, f: (a, s, v) => v, r: p, s: p }; } }";

const MAP_COMMENT = /\n?\/\/[#@] sourceMappingURL=\S+\s*$/;

/** @param {string} text */
function lineStartsOf(text) {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line of offset pos. @param {number[]} starts @param {number} pos */
function lineAt(starts, pos) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** The name a function is known by (its own, or the binding it is assigned to), "" when anonymous. */
function functionName(/** @type {any} */ node, /** @type {any} */ parent) {
  if (node.id?.name) return node.id.name;
  if (!parent) return "";
  const key = (
    /** @type {any} */ k,
  ) => (k?.type === "Identifier" ? k.name : typeof k?.value === "string" ? k.value : "");
  if (parent.type === "VariableDeclarator" && parent.id?.type === "Identifier") return parent.id.name;
  if (parent.type === "AssignmentPattern" && parent.left?.type === "Identifier") return parent.left.name;
  if (parent.type === "AssignmentExpression" && parent.left?.type === "Identifier") return parent.left.name;
  if (parent.type === "AssignmentExpression" && parent.left?.type === "MemberExpression") {
    return parent.left.computed ? "" : key(parent.left.property);
  }
  if (parent.type === "Property" || parent.type === "MethodDefinition" || parent.type === "PropertyDefinition") {
    return parent.computed ? "" : key(parent.key);
  }
  return "";
}

/**
 * Per generated line (1-based index), the insertions on it as [generated column where the original text resumes
 * (1-based), total length inserted up to there]: generated column c maps to c - (the last entry's total with
 * column <= c), or into the insertion it falls inside. Lines are never added, so lines map to themselves.
 * @param {string} source the input
 * @param {[number, string][]} edits instrumentAwaits' edits
 * @returns {Map<number, number[]>} line -> flat [resumeCol, total, resumeCol, total, ...]
 */
export function shiftsOf(source, edits) {
  const starts = lineStartsOf(source);
  /** @type {Map<number, number[]>} */
  const lines = new Map();
  let line = 0;
  let total = 0;
  for (const [pos, text] of edits) {
    const l = lineAt(starts, pos);
    if (l !== line) {
      line = l;
      total = 0;
    }
    total += text.length;
    let list = lines.get(l);
    if (!list) lines.set(l, list = []);
    const col = pos - starts[l - 1] + total + 1;
    if (list.length && list[list.length - 2] === col - text.length) {
      list[list.length - 2] = col;
      list[list.length - 1] = total;
    } else list.push(col, total);
  }
  return lines;
}

/**
 * A generated position (1-based) -> the input's. A position inside inserted text goes to where it was inserted.
 * @param {Map<number, number[]>} shifts
 * @param {number} line
 * @param {number} col
 */
export function unshift(shifts, line, col) {
  const list = shifts.get(line);
  if (!list) return col;
  let total = 0;
  for (let i = 0; i < list.length; i += 2) {
    const resume = list[i];
    if (resume > col) {
      // Inside the i-th insertion: it starts at resume - (its length); map to its input position.
      const before = i > 0 ? list[i - 1] : 0;
      const len = list[i + 1] - before;
      if (col >= resume - len) return resume - list[i + 1];
      break;
    }
    total = list[i + 1];
  }
  return col - total;
}
