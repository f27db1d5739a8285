// Loaded before the program by bench/await-mechanisms.ts's children (Node: --import, Deno and Bun: --preload): sets
// up one candidate mechanism of await attribution, named by TSPROFILE_AWM_MECH, so the program itself is unchanged
// (or, for "awaits", pre-transformed by the bench). At exit it writes what the mechanism learned to the file named by
// TSPROFILE_AWM_INFO (one JSON object): the bench prints it as a sample of the information each mechanism yields.
//   awaits          the runtime of candidate 1: the transformed program calls the helpers below around each await;
//                   each records a kind, an activation id, a site id (or parent) and a timestamp into typed arrays
//   awaits-noclock  the same with no clock read (time 0): how much of candidate 1 is performance.now()
//   awaits-state    the same transform, no record: each activation's pending site and parent in typed arrays (the
//                   current state only, for a sampler thread to read with each stack)
//   ph-trivial      v8.promiseHooks.createHook with four empty callbacks (candidate 2's floor)
//   ph-record       the same, recording (event, promise id, parent id, timestamp) into typed arrays
//   als             AsyncLocalStorage.enterWith at the program's start: every promise carries the context (candidate 3)
import { writeFileSync } from "node:fs";

const mech = process.env.TSPROFILE_AWM_MECH ?? "";
const infoFile = process.env.TSPROFILE_AWM_INFO;
let info: () => unknown = () => ({});

// One ring for every mechanism that records: 2M events (a real recorder would be drained with the sampler's
// chunks; here it is large enough that the 300k-await program does not wrap: ~1.1M events).
const N = 1 << 21;
const MASK = N - 1;
const K_ENTER = 1; // act, arg = parent activation; site in `site`
const K_BEFORE = 2; // act, site, time: an await starts
const K_AFTER = 3; // act, time: the awaiting function resumed
const K_CLOSE = 4; // act, time: an await that threw (catch entry or exit with one open)
const K_EXIT = 5; // act

if (mech === "awaits" || mech === "awaits-noclock") {
  const kind = new Int8Array(N);
  const act = new Int32Array(N);
  const arg = new Int32Array(N);
  const time = new Float64Array(N);
  // Per activation (id & mask): the activation that was current before it was entered or resumed, to restore when
  // it suspends or exits, and whether an await of it is open (so a throwing await is closed where it lands).
  const back = new Int32Array(N);
  const open = new Uint8Array(N);
  let w = 0;
  let next = 0;
  let cur = 0;
  const sites: { file: string; kind: string; name: string; line: number; text: string }[] = [];
  const clock = mech === "awaits" ? () => performance.now() : () => 0;
  const api = {
    /** A module's site table: returns the base its site numbers are offset by. */
    reg(file: string, table: [string, string, number, string][]): number {
      const base = sites.length;
      for (const [k, name, line, text] of table) sites.push({ file, kind: k, name, line, text });
      return base;
    },
    /** An async function's activation starts (its body, or an async generator's first next()). */
    e(fnSite: number): number {
      const a = ++next;
      const i = w++ & MASK;
      kind[i] = K_ENTER;
      act[i] = a;
      arg[i] = cur;
      time[i] = fnSite; // the enter record keeps the function's site where the others keep a time
      back[a & MASK] = cur;
      cur = a;
      return a;
    },
    /** The activation returns or throws (a finally around its body). */
    x(a: number): void {
      const j = a & MASK;
      if (open[j]) api.c(a);
      const i = w++ & MASK;
      kind[i] = K_EXIT;
      act[i] = a;
      cur = back[j];
    },
    /** Before `await v` suspends (v already evaluated): returns v unchanged. */
    b<T>(a: number, site: number, v: T): T {
      const i = w++ & MASK;
      kind[i] = K_BEFORE;
      act[i] = a;
      arg[i] = site;
      time[i] = clock();
      const j = a & MASK;
      open[j] = 1;
      cur = back[j];
      return v;
    },
    /** After the awaiting function resumed with value v: returns v unchanged. */
    a<T>(a: number, v: T): T {
      const i = w++ & MASK;
      kind[i] = K_AFTER;
      act[i] = a;
      time[i] = clock();
      const j = a & MASK;
      open[j] = 0;
      back[j] = cur;
      cur = a;
      return v;
    },
    /** A catch block of the activation starts: an await that threw ends here. */
    c(a: number): void {
      const j = a & MASK;
      if (!open[j]) return;
      open[j] = 0;
      const i = w++ & MASK;
      kind[i] = K_CLOSE;
      act[i] = a;
      time[i] = clock();
      back[j] = cur;
      cur = a;
    },
    /** for await / yield*: the async iterable, wrapped so each next() is timed as an await of the site. */
    f<T>(a: number, site: number, iterable: T): T {
      const src = iterable as unknown as AsyncIterable<unknown>;
      if (src == null || typeof src[Symbol.asyncIterator] !== "function") return iterable; // sync: not timed
      const wrapped = {
        [Symbol.asyncIterator]() {
          const it = src[Symbol.asyncIterator]();
          return {
            next(v?: unknown) {
              api.b(a, site, 0);
              return it.next(v).then(
                (r) => api.a(a, r),
                (e) => {
                  api.c(a);
                  throw e;
                },
              );
            },
            return: it.return ? (v?: unknown) => it.return!(v) : undefined,
            throw: it.throw ? (e?: unknown) => it.throw!(e) : undefined,
          };
        },
      };
      return wrapped as unknown as T;
    },
  };
  (globalThis as Record<string, unknown>).__tspAwaits = api;
  info = () => {
    // Replay the events into (parent, function, pending await) per activation, up to the moment chosen: half a
    // millisecond into the last await of a timer (the program is idle there, waiting), and name the chain.
    const n = Math.min(w, N);
    let pick = -1;
    for (let i = n - 1; i >= 0 && pick < 0; i--) {
      if (kind[i] === K_BEFORE && /setTimeout/.test(sites[arg[i]]?.text ?? "")) pick = i;
    }
    const parent = new Map<number, number>();
    const fn = new Map<number, number>();
    const pending = new Map<number, number>();
    let resumedAt = NaN;
    for (let i = 0; i <= pick; i++) {
      const k = kind[i];
      if (k === K_ENTER) (parent.set(act[i], arg[i]), fn.set(act[i], time[i]));
      else if (k === K_BEFORE) pending.set(act[i], arg[i]);
      else pending.delete(act[i]);
    }
    for (let i = pick + 1; i < n; i++) {
      if (act[i] === act[pick] && kind[i] !== K_ENTER) {
        resumedAt = time[i];
        break;
      }
    }
    const chain: string[] = [];
    for (let a = pick >= 0 ? act[pick] : 0; a; a = parent.get(a) ?? 0) {
      const f = sites[fn.get(a) ?? -1];
      const s = sites[pending.get(a) ?? -1];
      chain.push(`${f?.name ?? "?"} (line ${f?.line}) awaiting ${s ? `\`${s.text}\` (line ${s.line})` : "nothing"}`);
      if (chain.length > 20) break;
    }
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[kind[i]]++;
    return {
      events: w,
      activations: counts[K_ENTER],
      awaits: counts[K_BEFORE],
      resumed: counts[K_AFTER],
      closedByThrow: counts[K_CLOSE],
      sites: sites.length,
      pendingChain: chain,
      pendingFor: mech === "awaits" && pick >= 0 ? `${(resumedAt - time[pick]).toFixed(2)} ms` : undefined,
    };
  };
} else if (mech === "awaits-state") {
  // Candidate 1 with no record at all: each activation's pending site and parent kept in typed arrays indexed by
  // activation id, current state only. A native sampler thread could read these (a SharedArrayBuffer) with each
  // stack it takes; nothing is written per await but two array slots, and no clock is read.
  const sab = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer : ArrayBuffer;
  const pend = new Int32Array(new sab(4 * N));
  const parentOf = new Int32Array(new sab(4 * N));
  const fnOf = new Int32Array(N);
  const back = new Int32Array(N);
  let next = 0;
  let cur = 0;
  const sites: { kind: string; name: string; line: number; text: string }[] = [];
  const api = {
    reg(_file: string, table: [string, string, number, string][]): number {
      const base = sites.length;
      for (const [kind, name, line, text] of table) sites.push({ kind, name, line, text });
      return base;
    },
    e(fnSite: number): number {
      const a = ++next;
      const j = a & MASK;
      parentOf[j] = cur;
      fnOf[j] = fnSite;
      back[j] = cur;
      cur = a;
      return a;
    },
    x(a: number): void {
      const j = a & MASK;
      pend[j] = 0;
      cur = back[j];
    },
    b<T>(a: number, site: number, v: T): T {
      const j = a & MASK;
      pend[j] = site + 1;
      cur = back[j];
      return v;
    },
    a<T>(a: number, v: T): T {
      const j = a & MASK;
      pend[j] = 0;
      back[j] = cur;
      cur = a;
      return v;
    },
    c(a: number): void {
      const j = a & MASK;
      if (!pend[j]) return;
      pend[j] = 0;
      back[j] = cur;
      cur = a;
    },
    f<T>(a: number, site: number, iterable: T): T {
      const src = iterable as unknown as AsyncIterable<unknown>;
      if (src == null || typeof src[Symbol.asyncIterator] !== "function") return iterable;
      return {
        [Symbol.asyncIterator]() {
          const it = src[Symbol.asyncIterator]();
          return {
            next(v?: unknown) {
              api.b(a, site, 0);
              return it.next(v).then((r) => api.a(a, r), (e) => (api.c(a), Promise.reject(e)));
            },
            return: it.return ? (v?: unknown) => it.return!(v) : undefined,
          };
        },
      } as unknown as T;
    },
  };
  (globalThis as Record<string, unknown>).__tspAwaits = api;
  // What a sampler would read at one moment: every 20 ms until the table shows a timer's await pending (a scan of
  // the activations so far, ~9k here).
  const snapshot: string[] = [];
  let pendingThen = 0;
  const timer = setInterval(() => {
    let pick = 0;
    let pending = 0;
    for (let j = 1; j <= Math.min(next, MASK); j++) {
      if (!pend[j]) continue;
      pending++;
      if (/setTimeout/.test(sites[pend[j] - 1]?.text ?? "")) pick = j;
    }
    if (!pick) return;
    clearInterval(timer);
    pendingThen = pending;
    for (let a = pick; a && snapshot.length < 20; a = parentOf[a & MASK]) {
      const f = sites[fnOf[a & MASK]];
      const st = sites[pend[a & MASK] - 1];
      snapshot.push(`${f?.name} (line ${f?.line}) awaiting ${st ? `\`${st.text}\` (line ${st.line})` : "nothing"}`);
    }
  }, 20);
  (timer as { unref?: () => void }).unref?.();
  info = () => ({ activations: next, pendingInSnapshot: pendingThen, pendingChain: snapshot });
} else if (mech === "ph-trivial" || mech === "ph-record") {
  const v8 = (await import("node:v8")).default as unknown as {
    promiseHooks?: { createHook(h: Record<string, (p: object, parent?: object) => void>): () => void };
  };
  if (mech === "ph-trivial") {
    v8.promiseHooks!.createHook({ init() {}, before() {}, after() {}, settled() {} });
  } else {
    const kind = new Int8Array(N);
    const id = new Int32Array(N);
    const arg = new Int32Array(N);
    const time = new Float64Array(N);
    const ID = Symbol("tsprofile.promise");
    type P = { [ID]?: number };
    let w = 0;
    let next = 0;
    const rec = (k: number, p: P, parent: number) => {
      const i = w++ & MASK;
      kind[i] = k;
      id[i] = p[ID] ?? 0;
      arg[i] = parent;
      time[i] = performance.now();
    };
    v8.promiseHooks!.createHook({
      init(p: P, parent?: P) {
        p[ID] = ++next;
        rec(1, p, parent?.[ID] ?? 0);
      },
      before: (p: P) => rec(2, p, 0),
      after: (p: P) => rec(3, p, 0),
      settled: (p: P) => rec(4, p, 0),
    });
    info = () => {
      const c = [0, 0, 0, 0, 0];
      let withParent = 0;
      for (let i = 0; i < Math.min(w, N); i++) {
        c[kind[i]]++;
        if (kind[i] === 1 && arg[i]) withParent++;
      }
      return { events: w, init: c[1], initWithParent: withParent, before: c[2], after: c[3], settled: c[4] };
    };
  }
} else if (mech === "als") {
  const { AsyncLocalStorage } = await import("node:async_hooks");
  const als = new AsyncLocalStorage<{ task: string }>();
  // The program enters the context itself (bench/await-mechanisms.ts gives it a first line calling this): an
  // enterWith here, or an import inside als.run(), reaches the main module on Node and Deno but not on Bun, whose
  // module evaluation runs outside the importer's context.
  (globalThis as Record<string, unknown>).__tspAlsEnter = () => als.enterWith({ task: "main" });
  // Whether the context reached the program's timers (the workloads' real waits): 1000 calls at most.
  let calls = 0;
  let withStore = 0;
  const original = globalThis.setTimeout;
  globalThis.setTimeout = function (this: unknown, ...args: Parameters<typeof setTimeout>) {
    calls++;
    if (als.getStore()?.task === "main") withStore++;
    return original.apply(this, args);
  } as typeof setTimeout;
  info = () => ({ setTimeoutCalls: calls, seeingTheContext: withStore });
}

if (infoFile) process.on("exit", () => writeFileSync(infoFile, JSON.stringify({ mech, ...(info() as object) })));
