// Candidate 1 of "await truth for every await" as a prototype transform (bench/await-mechanisms.ts measures it):
// parse a JavaScript module with acorn, and in every async function of the file rewrite the await points so each
// records a static site id and two timestamps through the helpers of bench/await-mechanisms-preload.ts. No stack is
// captured: a function's async callers come from the activation ids (each activation records the activation that
// was current when it started, i.e. the caller whose await is then pending on it).
//
// What it does to the code, per async function (declaration, expression, arrow, method, async generator) that has
// an await point of its own (the others are left as they are: they never suspend, so they are never pending):
//   body          { const __tspA = __tsp.e(FN); try { <body> } finally { __tsp.x(__tspA); } }   (an expression
//                 arrow body becomes `{ ...; try { return (<expr>); } finally {...} }`); directives stay first.
//                 The finally runs on return and throw alike and changes neither (it returns nothing).
//   await x       __tsp.a(__tspA, await __tsp.b(__tspA, SITE, x)): x is evaluated first (the callee's synchronous
//                 part is not waiting), b returns x itself, so `await` sees the same value or thenable; a returns the
//                 resumed value unchanged. If the awaited promise rejects, `await` throws before a is called: the
//                 exception propagates untouched, and the open await is closed by the first catch block of the same
//                 function (each catch body starts with __tsp.c(__tspA)) or, failing that, by the finally (x).
//   for await     for await (... of __tsp.f(__tspA, SITE, iterable)): each next() is timed as an await of SITE (one
//                 .then more per iteration). A sync iterable is passed through (not timed).
//   yield*        in an async generator: yield* __tsp.f(__tspA, SITE, inner), likewise.
//   top level     awaits at module top level use a module activation (FN = the module).
// Return values are untouched (`return x` is not an await point: the caller's await of the call covers it).
// Not done: plain `yield` in async generators (the consumer's await covers the time), awaits in code the transform
// is not given (node_modules unless the loader passes them too, runtime internals).
import { parse } from "acorn";

type Node = { type: string; start: number; end: number; [k: string]: unknown };
type Site = [kind: string, name: string, line: number, text: string];

/** Returns the instrumented source and its site table; `helpers` is the expression giving the helper object. */
export function instrumentAwaits(
  source: string,
  file: string,
  helpers = "globalThis.__tspAwaits",
): { code: string; sites: Site[]; awaits: number } {
  const ast = parse(source, {
    ecmaVersion: "latest",
    sourceType: "module",
    preserveParens: true,
    allowHashBang: true,
    locations: false,
  }) as unknown as Node;
  const lineStarts = [0];
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const lineOf = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const sites: Site[] = [];
  const site = (kind: string, name: string, node: Node) => {
    const text = source.slice(node.start, Math.min(node.end, node.start + 60)).replace(/\s+/g, " ");
    sites.push([kind, name, lineOf(node.start), text]);
    return `__tspB + ${sites.length - 1}`;
  };
  // Insertions: [position, order, text]. At one position, closing parts go before opening ones, closing parts of
  // inner nodes before outer ones and opening parts of outer nodes before inner ones (order = +-depth).
  const edits: [number, number, string][] = [];
  const open = (pos: number, depth: number, text: string) => edits.push([pos, 1e6 + depth, text]);
  const close = (pos: number, depth: number, text: string) => edits.push([pos, -depth, text]);
  let awaits = 0;
  let moduleActivation = false;

  // fn: the innermost function's activation variable if it is async, "" if it is a plain function, "__tspM" at the
  // module's top level.
  // frame: the innermost async function's (or the module's) count of await points and its catch blocks, which are
  // instrumented only if it has await points.
  type Frame = { n: number; catches: [number, number][] };
  const walk = (
    node: Node,
    fn: string,
    frame: Frame,
    asyncGen: boolean,
    name: string,
    depth: number,
    parent?: Node,
  ) => {
    const t = node.type;
    if (t === "FunctionDeclaration" || t === "FunctionExpression" || t === "ArrowFunctionExpression") {
      const fnName = (node.id as Node & { name?: string })?.name ??
        (parent && (parent.type === "VariableDeclarator" || parent.type === "AssignmentPattern")
          ? String(((parent.id ?? parent.left) as { name?: string })?.name ?? "(anonymous)")
          : parent && (parent.type === "Property" || parent.type === "MethodDefinition")
          ? String((parent.key as { name?: string; value?: string })?.name ?? "(computed)")
          : "(anonymous)");
      const body = node.body as Node & { body?: Node[] };
      for (const p of (node.params as Node[]) ?? []) walk(p, "", frame, false, fnName, depth + 1, node);
      const own: Frame = { n: 0, catches: [] };
      walk(body, node.async ? "__tspA" : "", own, Boolean(node.async && node.generator), fnName, depth + 1, node);
      // An async function with no await point of its own (one that never suspends, or only returns a promise) is
      // left alone: it is never pending, and async functions it calls link to its caller instead.
      if (node.async && own.n > 0) {
        for (const [at, d] of own.catches) open(at, d, " __tsp.c(__tspA);");
        const fnSite = site("fn", fnName, node);
        const enter = `const __tspA = __tsp.e(${fnSite}); try {`;
        const exit = `} finally { __tsp.x(__tspA); }`;
        if (body.type === "BlockStatement") {
          let at = body.start + 1;
          for (const s of body.body ?? []) {
            if ((s as { directive?: string }).directive === undefined) break;
            at = s.end;
          }
          open(at, depth, ` ${enter}`);
          close(body.end - 1, depth, `${exit} `);
        } else {
          open(body.start, depth, `{ ${enter} return (`);
          close(body.end, depth, `); ${exit} }`);
        }
      }
      return;
    }
    if (t === "AwaitExpression" && fn) {
      if (fn === "__tspM") moduleActivation = true;
      awaits++;
      frame.n++;
      const arg = node.argument as Node;
      open(node.start, depth, `__tsp.a(${fn}, `);
      open(arg.start, depth + 1, `__tsp.b(${fn}, ${site("await", name, node)}, `);
      close(arg.end, depth + 1, ")");
      close(node.end, depth, ")");
    } else if (t === "ForOfStatement" && node.await && fn) {
      if (fn === "__tspM") moduleActivation = true;
      awaits++;
      frame.n++;
      const right = node.right as Node;
      open(right.start, depth + 1, `__tsp.f(${fn}, ${site("for-await", name, node)}, `);
      close(right.end, depth + 1, ")");
    } else if (t === "YieldExpression" && node.delegate && asyncGen && fn) {
      awaits++;
      frame.n++;
      const arg = node.argument as Node;
      open(arg.start, depth + 1, `__tsp.f(${fn}, ${site("yield*", name, node)}, `);
      close(arg.end, depth + 1, ")");
    } else if (t === "CatchClause" && fn === "__tspA") {
      frame.catches.push([(node.body as Node).start + 1, depth]);
    }
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c.type === "string") walk(c, fn, frame, asyncGen, name, depth + 1, node);
      } else if (v && typeof (v as Node).type === "string") walk(v as Node, fn, frame, asyncGen, name, depth + 1, node);
    }
  };
  walk(ast, "__tspM", { n: 0, catches: [] }, false, "(module)", 0);

  if (!sites.length) return { code: source, sites, awaits };
  edits.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: string[] = [];
  let last = 0;
  for (const [pos, , text] of edits) {
    out.push(source.slice(last, pos), text);
    last = pos;
  }
  out.push(source.slice(last));
  // The prelude goes on the first line so line numbers stay those of the input.
  const moduleSite = moduleActivation ? sites.push(["fn", "(module)", 1, file]) - 1 : -1;
  const prelude = `const __tsp = ${helpers}, __tspB = __tsp.reg(${JSON.stringify(file)}, ${JSON.stringify(sites)})` +
    (moduleActivation ? `, __tspM = __tsp.e(__tspB + ${moduleSite});` : ";");
  // After the directive prologue ("use strict" must stay first to count) and a hashbang.
  let at = source.startsWith("#!") ? source.indexOf("\n") + 1 : 0;
  for (const s of (ast.body as Node[]) ?? []) {
    if ((s as { directive?: string }).directive === undefined) break;
    at = s.end;
  }
  const head = out.join("");
  const shift = edits.filter(([pos]) => pos < at).reduce((n, [, , text]) => n + text.length, 0);
  return { code: head.slice(0, at + shift) + prelude + head.slice(at + shift), sites, awaits };
}
