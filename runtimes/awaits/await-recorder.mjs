// The await recorder: what instrumented code (runtimes/awaits/instrument.mjs) reports to, installed as
// globalThis.__tspAwaits before the program's first module loads (runtimes/loader/register.mjs on Node,
// runtimes/preload on Deno and Bun). While a wait tracker runs (runtimes/awaits/tracker.ts) it records:
// - per activation (one call of an instrumented async function, or a module's top level): its function's site and
//   the activation that was running when it started (its async caller), whether it ended, and when it last resumed;
// - per await: the activation, the site, when it started and when the activation resumed, and which activations
//   were started by this activation before the await (those it may be waiting on: an await that waits on one of
//   them is covered by that activation's own awaits, see awaitsToWaits).
// "Running" is kept as the activation whose code runs now (0: none of ours): an activation becomes running when it
// starts or resumes and hands back to whoever ran before when it suspends or ends. A resume always comes from the
// microtask queue, so nothing of ours ran before it: that is what makes the state right again after any
// suspension the transform does not see.
// Time is read only for awaits that outlast the microtask checkpoint they began in: the only ones that can hold idle
// time. Most awaits (a settled promise, an async function that did not suspend) resume in the same checkpoint, and
// two clock reads each were two thirds of the recorder's cost (~45 ns a read on Node, ~95 on Deno). A marker
// (see mark()) notes when a checkpoint's awaits have run their course: it stamps the awaits still pending
// with one reading and starts a new epoch. An await that resumes in the epoch it suspended in is short and costs
// no reading; one that resumes later reads the clock for its end, and its start is the marker's stamp: after the
// true suspend by what the thread ran meanwhile (running time, never idle), which is when the thread went idle.
// Nothing here throws into the program; when not recording, each call is a few loads and a return.

/** @typedef {[kind: number, name: string, line: number, col: number]} SiteRow */

/** Shorter awaits are not logged (see close()). */
const MIN_LOGGED_MS = 0.05;

/** How often (ms, at most) the recorder's clock is read beside the tracker's: see start(). */
const CALIBRATE_MS = 50;

/** `then` on it queues the marker (see mark()): a microtask without Node's queueMicrotask bookkeeping (an
 * AsyncResource a call). */
const SETTLED = Promise.resolve();

/** Grows a typed array to hold index i. @template {Float64Array | Int32Array | Uint8Array} T @param {T} a */
function grown(a, /** @type {number} */ i) {
  if (i < a.length) return a;
  const b = /** @type {T} */ (new /** @type {any} */ (a.constructor)(Math.max(a.length * 2, i + 1)));
  b.set(a);
  return b;
}

export class AwaitRecorder {
  constructor() {
    /** @type {(() => number) | null} the tracker's clock while recording; null: not recording */
    this.clock = null;
    /** @type {() => number} */
    this.trackerClock = () => 0;
    /** performance.now() at start(): awaits pending since before are left out (they began unrecorded). */
    this.startedAt = 0;
    /** @type {number[]} pairs of readings (the tracker's clock, performance.now()), in time order */
    this.calibration = [];
    /** @type {(() => number) | null} strict mode and per-request profiles: the async context running now */
    this.context = null;
    /** Sites of every registered file: site id -> [file, kind, name, line, col]. */
    /** @type {string[]} */
    this.siteFile = [];
    /** @type {SiteRow[]} */
    this.siteRow = [];
    this.running = 0;
    this.next = 1;
    this.actSite = new Int32Array(1024);
    this.actParent = new Int32Array(1024);
    /** Who ran before the activation became running (what it hands back to). */
    this.actBefore = new Int32Array(1024);
    /** The activation's next activation id when it last became running: the ones it started are at or above. */
    this.actFrom = new Int32Array(1024);
    /** Its pending await, if any (1): the site, start, the activations it started before ([from, to)), context. */
    this.actPending = new Uint8Array(1024);
    this.pendSite = new Int32Array(1024);
    /** NaN until the marker stamps it (see mark()). */
    this.pendStart = new Float64Array(1024);
    /** The epoch it suspended in. */
    this.pendEpoch = new Int32Array(1024);
    this.pendFrom = new Int32Array(1024);
    this.pendTo = new Int32Array(1024);
    /** @type {number[]} */
    this.pendContext = [];
    this.actDone = new Uint8Array(1024);
    /** When it last resumed from an await that outlasted its epoch (a short one's resume goes unread: its
     * activation ran on within the same checkpoint). */
    this.actLastResume = new Float64Array(1024);
    /** Its run of back-to-back awaits (see close()): where the run began, and its logged wait's index + 1 (0: none). */
    this.actRunStart = new Float64Array(1024);
    this.actRunWait = new Int32Array(1024);
    /** Awaits that ended since start() and lasted at least MIN_LOGGED_MS: index i of each w* array. */
    this.n = 0;
    this.wAct = new Int32Array(4096);
    this.wSite = new Int32Array(4096);
    this.wStart = new Float64Array(4096);
    this.wEnd = new Float64Array(4096);
    /** Activations this activation started before the await: ids in [wFrom, wTo). */
    this.wFrom = new Int32Array(4096);
    this.wTo = new Int32Array(4096);
    /** @type {number[]} */
    this.wContext = [];
    /** Per file path, its module activation. @type {Map<string, number>} */
    this.modules = new Map();
    /** Epochs: see mark(). */
    this.epoch = 0;
    this.markQueued = false;
    /** An await suspended since the marker last ran. */
    this.dirty = false;
    /** Activations that suspended in this epoch, for the marker to stamp (may repeat; see mark()). */
    this.touched = new Int32Array(1024);
    this.nTouched = 0;
    this.marker = () => this.mark();
  }

  /**
   * Starts recording on `clock`; false when another tracker records already. Activation ids go on from the last
   * run's (activations still pending from it resume into this one).
   * @param {() => number} clock
   * @param {(() => number) | null} context
   */
  start(clock, context) {
    if (this.clock !== null) return false;
    this.n = 0;
    this.wContext = [];
    // Times are read from performance.now() (on Node the tracker's clock is hrtime's, a BigInt a read) and put on
    // the tracker's clock at stop. The two need not run at the same rate (on a VM whose clock is being slewed,
    // hrtime and performance.now() may drift apart), so pairs of readings are taken as it goes, at most every
    // CALIBRATE_MS, and times are interpolated between them.
    this.trackerClock = clock;
    this.startedAt = performance.now(); // its first read loads Node's perf_hooks: milliseconds that must not fall inside a pair
    this.calibration = [];
    this.pair();
    this.clock = () => performance.now();
    this.context = context;
    return true;
  }

  /** A pair of readings, if the last one is older than CALIBRATE_MS at `now` (performance.now()). */
  calibrate(/** @type {number} */ now) {
    const cal = this.calibration;
    if (now - cal[cal.length - 1] >= CALIBRATE_MS) this.pair();
  }

  /** Reads both clocks: performance.now() between two readings of the tracker's, paired with their mean. */
  pair() {
    try {
      const c0 = this.trackerClock();
      const p = performance.now();
      const c1 = this.trackerClock();
      this.calibration.push((c0 + c1) / 2, p);
    } catch {
      // A tracker clock that throws: interpolated between the pairs there are.
    }
  }

  /**
   * Stops recording; the log stays readable until the next start(). Returns how to put its times on the tracker's
   * clock.
   * @returns {(t: number) => number}
   */
  stop() {
    if (this.clock !== null) this.stamp(this.clock);
    this.clock = null;
    this.context = null;
    this.pair();
    const cal = this.calibration;
    const pairs = cal.length / 2;
    return (t) => {
      // The pair at or before t (the first pair before it all), and the next one.
      let lo = 0;
      let hi = pairs - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (cal[2 * mid + 1] <= t) lo = mid;
        else hi = mid - 1;
      }
      const i = Math.min(lo, pairs - 2);
      if (i < 0) return pairs === 1 ? cal[0] + (t - cal[1]) : t; // the tracker clock threw: a guess
      const [c0, p0, c1, p1] = [cal[2 * i], cal[2 * i + 1], cal[2 * i + 2], cal[2 * i + 3]];
      const rate = p1 > p0 ? (c1 - c0) / (p1 - p0) : 1;
      return c0 + (t - p0) * rate;
    };
  }

  /**
   * Registers a file's sites; returns the file's helpers (what `__tspH()` gives instrumented code).
   * @param {string} file
   * @param {SiteRow[]} rows
   */
  register(file, rows) {
    const base = this.siteRow.length;
    for (const r of rows) {
      this.siteFile.push(file);
      this.siteRow.push(r);
    }
    /** @param {number} a @param {unknown} v */
    const resumed = (a, v) => {
      this.resume(a);
      return v;
    };
    return {
      e: (/** @type {number} */ k) => this.enter(base + k),
      x: (/** @type {number} */ a) => this.exit(a),
      c: (/** @type {number} */ a) => this.caught(a),
      m: () => this.moduleActivation(file, base + rows.length - 1),
      b: (/** @type {number} */ a, /** @type {number} */ k, /** @type {unknown} */ v) => {
        this.suspend(a, base + k);
        return v;
      },
      a: resumed,
      f: (/** @type {number} */ a, /** @type {number} */ k, /** @type {unknown} */ it) => this.iterate(a, base + k, it),
      s: (/** @type {number} */ a, /** @type {unknown} */ v) => {
        this.yielded(a);
        return v;
      },
      r: resumed,
    };
  }

  /** An instrumented function starts: a new activation, running, called by the one running before. */
  enter(/** @type {number} */ site) {
    if (this.clock === null) return 0;
    const id = this.next++;
    if (id >= this.actSite.length) this.growActivations(id);
    this.actSite[id] = site;
    this.actParent[id] = this.running;
    this.actBefore[id] = this.running;
    this.actFrom[id] = id + 1;
    this.running = id;
    return id;
  }

  /** @param {number} id */
  growActivations(id) {
    this.actSite = grown(this.actSite, id);
    this.actParent = grown(this.actParent, id);
    this.actBefore = grown(this.actBefore, id);
    this.actFrom = grown(this.actFrom, id);
    this.actPending = grown(this.actPending, id);
    this.pendSite = grown(this.pendSite, id);
    this.pendStart = grown(this.pendStart, id);
    this.pendEpoch = grown(this.pendEpoch, id);
    this.pendFrom = grown(this.pendFrom, id);
    this.pendTo = grown(this.pendTo, id);
    this.actDone = grown(this.actDone, id);
    this.actLastResume = grown(this.actLastResume, id);
    this.actRunStart = grown(this.actRunStart, id);
    this.actRunWait = grown(this.actRunWait, id);
  }

  /** A module's top-level activation (created on its first top-level await). */
  moduleActivation(/** @type {string} */ file, /** @type {number} */ site) {
    if (this.clock === null) return 0;
    let id = this.modules.get(file);
    if (id === undefined || id >= this.next) {
      const before = this.running;
      id = this.enter(site);
      this.running = before;
      this.modules.set(file, id);
    }
    // The module's code runs now: activations it starts are its callees.
    if (this.running !== id) {
      this.actBefore[id] = this.running === id ? 0 : this.running;
      this.running = id;
    }
    return id;
  }

  /** Activation a suspends at an await of `site`. */
  suspend(/** @type {number} */ a, /** @type {number} */ site) {
    const clock = this.clock;
    if (clock === null || a <= 0 || a >= this.next) return;
    if (this.actPending[a] !== 0) this.close(a, clock()); // an await left by a throw nobody caught in this function
    this.actPending[a] = 1;
    this.pendSite[a] = site;
    this.pendStart[a] = NaN;
    this.pendEpoch[a] = this.epoch;
    if (this.nTouched >= this.touched.length) this.touched = grown(this.touched, this.nTouched);
    this.touched[this.nTouched++] = a;
    // Set when queueing too: the marker's first run comes before this await's own continuation (queued after it),
    // so it goes round once more.
    this.dirty = true;
    if (!this.markQueued) {
      this.markQueued = true;
      SETTLED.then(this.marker);
    }
    this.pendFrom[a] = this.actFrom[a];
    this.pendTo[a] = this.next;
    if (this.context !== null) this.pendContext[a] = this.context();
    this.running = this.actBefore[a];
  }

  /** @param {number} i */
  growAwaits(i) {
    this.wAct = grown(this.wAct, i);
    this.wSite = grown(this.wSite, i);
    this.wStart = grown(this.wStart, i);
    this.wEnd = grown(this.wEnd, i);
    this.wFrom = grown(this.wFrom, i);
    this.wTo = grown(this.wTo, i);
  }

  /**
   * The marker, a microtask: while awaits suspended since its last run, it goes to the back of the queue again
   * (their continuations run first); otherwise this checkpoint's awaits have run their course (those still pending
   * wait on something else: the event loop, another task), so it stamps them and a new epoch begins. One run a round
   * of continuations, not one an await (20 concurrent chains of awaits: one run a round; a chain of sequential
   * awaits: one an await, ~40 ns against two clock reads). It may conclude before the checkpoint's end (other code's
   * promise chains still running): a stamp is then earlier, and an await resumed after it reads the clock, as all
   * did before. A tick after the drain (process.nextTick from a microtask) would run once a checkpoint, but measured
   * 0.05-0.3 ms after the last await on Node (the runtime's own work after the drain, which is the waiting code's)
   * and 12 ms late the first time on Deno (nextTick loads lazily): stamps there were late, the code before each
   * await took that time.
   */
  mark() {
    if (this.dirty) {
      this.dirty = false;
      if (this.nTouched > 4096) this.compact();
      SETTLED.then(this.marker);
      return;
    }
    this.markQueued = false;
    if (this.clock !== null) this.stamp(this.clock);
    else this.nTouched = 0;
    this.epoch = (this.epoch + 1) | 0;
  }

  /** Gives the awaits of touched activations still pending since this epoch one reading of `clock` (none if there
   * are none). */
  stamp(/** @type {() => number} */ clock) {
    let now = NaN;
    for (let i = 0; i < this.nTouched; i++) {
      const a = this.touched[i];
      if (this.actPending[a] === 0 || this.pendEpoch[a] !== this.epoch || !Number.isNaN(this.pendStart[a])) continue;
      if (Number.isNaN(now)) {
        now = clock();
        this.calibrate(now);
      }
      this.pendStart[a] = now;
    }
    this.nTouched = 0;
  }

  /** Drops from the touched list the activations the marker has nothing left to stamp of. */
  compact() {
    let k = 0;
    for (let i = 0; i < this.nTouched; i++) {
      const a = this.touched[i];
      if (this.actPending[a] !== 0 && Number.isNaN(this.pendStart[a])) this.touched[k++] = a;
    }
    this.nTouched = k;
  }

  /**
   * The pending await of activation a ended at `now`; logged if it lasted long enough to hold idle time (most
   * awaits last microtasks: a settled promise, an async function that did not suspend). Awaits that follow each
   * other back to back (each begins within MIN_LOGGED_MS of the last one's end: a loop awaiting setImmediate, or
   * a stream's buffered chunks) are one run, logged as one wait once the run is long enough: each alone is too
   * short to log, but together they are the function waiting, and the event loop turns between them are idle.
   * @param {number} a @param {number} now
   */
  close(a, now) {
    this.actPending[a] = 0;
    const start = this.pendStart[a];
    const backToBack = start - this.actLastResume[a] <= MIN_LOGGED_MS;
    this.actLastResume[a] = now;
    if (!(start >= this.startedAt)) return; // began before start(), or never stamped (recording stopped meanwhile)
    if (!backToBack) {
      this.actRunStart[a] = start;
      this.actRunWait[a] = 0;
    }
    const j = this.actRunWait[a] - 1;
    if (j >= 0 && j < this.n && this.wAct[j] === a && now - start < MIN_LOGGED_MS) {
      this.wEnd[j] = now; // the run's wait goes on
      this.wTo[j] = this.pendTo[a];
      return;
    }
    const from = now - start < MIN_LOGGED_MS ? Math.max(this.actRunStart[a], this.startedAt) : start;
    if (now - from < MIN_LOGGED_MS) return;
    const i = this.n++;
    if (i >= this.wAct.length) this.growAwaits(i);
    this.wAct[i] = a;
    this.wSite[i] = this.pendSite[a];
    this.wStart[i] = from;
    this.wEnd[i] = now;
    this.wFrom[i] = this.pendFrom[a];
    this.wTo[i] = this.pendTo[a];
    if (this.context !== null) this.wContext[i] = this.pendContext[a] ?? 0;
    this.actRunStart[a] = from;
    this.actRunWait[a] = i + 1;
  }

  /** Activation a runs again (after an await, or a yield). */
  resume(/** @type {number} */ a) {
    const clock = this.clock;
    if (clock === null || a <= 0 || a >= this.next) return;
    if (this.actPending[a] !== 0) {
      if (this.pendEpoch[a] === this.epoch && Number.isNaN(this.pendStart[a])) {
        this.actPending[a] = 0; // short: resumed in the epoch it suspended in
      } else {
        const now = clock();
        this.calibrate(now);
        this.close(a, now);
      }
    }
    // Resumed from the microtask queue: nothing of ours was running.
    this.actBefore[a] = 0;
    this.actFrom[a] = this.next;
    this.running = a;
  }

  /** A catch block of activation a runs: what threw may have been an await (a rejection). */
  caught(/** @type {number} */ a) {
    if (a > 0 && a < this.next && this.actPending[a] !== 0) this.resume(a);
  }

  /** An async generator's activation suspends at a yield. */
  yielded(/** @type {number} */ a) {
    if (this.clock === null || a <= 0 || a >= this.next) return;
    this.running = this.actBefore[a];
  }

  /** Activation a ends (returns or throws). */
  exit(/** @type {number} */ a) {
    const clock = this.clock;
    if (clock === null || a <= 0 || a >= this.next) return;
    // Ended by a rejected await it did not catch: it resumed (to throw) just now.
    if (this.actPending[a] !== 0) {
      this.close(a, clock());
      this.running = a;
      this.actBefore[a] = 0;
    }
    this.actDone[a] = 1;
    if (this.running === a) this.running = this.actBefore[a];
  }

  /**
   * `for await (... of it)`: each next() (and the return() of a loop left early) is an await of `site`.
   * @param {number} a @param {number} site @param {any} it
   */
  iterate(a, site, it) {
    if (it === null || it === undefined || typeof it[Symbol.asyncIterator] !== "function") return it;
    const suspend = () => this.suspend(a, site);
    const resume = () => this.resume(a);
    return {
      [Symbol.asyncIterator]() {
        const inner = it[Symbol.asyncIterator]();
        /** @param {"next" | "return" | "throw"} method @param {unknown[]} args */
        const step = (method, args) => {
          const result = Reflect.apply(inner[method], inner, args);
          suspend();
          return Promise.resolve(result).then(
            (v) => {
              resume();
              return v;
            },
            (e) => {
              resume();
              throw e;
            },
          );
        };
        // The methods the loop may call, those the iterator has (a loop left early calls return() only if it is
        // there).
        /** @type {Record<string, (...args: unknown[]) => Promise<unknown>>} */
        const wrapped = { next: (...args) => step("next", args) };
        if (typeof inner.return === "function") wrapped.return = (...args) => step("return", args);
        if (typeof inner.throw === "function") wrapped.throw = (...args) => step("throw", args);
        return wrapped;
      },
    };
  }
}

/** The recorder this process's instrumented code reports to, installed once (idempotent). */
export function installAwaitRecorder() {
  const g = /** @type {{ __tspAwaits?: AwaitRecorder }} */ (/** @type {unknown} */ (globalThis));
  if (!(g.__tspAwaits instanceof AwaitRecorder)) {
    Object.defineProperty(globalThis, "__tspAwaits", {
      value: new AwaitRecorder(),
      writable: false,
      enumerable: false,
      configurable: true,
    });
  }
  return /** @type {AwaitRecorder} */ (g.__tspAwaits);
}

/** The installed recorder, if instrumented code may run in this process. */
export function awaitRecorder() {
  const r = /** @type {{ __tspAwaits?: unknown }} */ (globalThis).__tspAwaits;
  return r instanceof AwaitRecorder ? r : null;
}
