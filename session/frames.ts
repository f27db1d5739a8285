// The one interner of frames and stacks: every sampler and converter that builds a Session's tables (the V8
// profile conversion, the Bun sampler, the stream chunker, the wait resolver, combineSessions) goes through it.
import type { FrameInfo, StackTable } from "./types.ts";

/** A frame's identity: frames with equal keys are one frame. */
export function frameKey(f: FrameInfo): string {
  return `${f.name}\u0000${f.file}\u0000${f.line}\u0000${f.col}\u0000${f.kind}`;
}

/**
 * The root of a stack the engine cut short. V8 keeps only a sampled stack's innermost 255 frames, so the outermost
 * frame left would otherwise pass for the real entry point: such a stack starts at this frame instead. It is a
 * frame of the table like any other, so every report and sample format shows it and all cut stacks share one
 * root; classification never hides it nor folds it into a library (src/processing/classify.ts).
 */
export const TRUNCATED_FRAME: Readonly<FrameInfo> = { name: "[truncated]", file: "", line: 0, col: 0, kind: "native" };

export function isTruncatedFrame(f: FrameInfo): boolean {
  return f.name === TRUNCATED_FRAME.name && f.file === "" && f.line === 0 && f.kind === TRUNCATED_FRAME.kind;
}

/** A growable typed column; `data` past `length` is spare room. */
export class Column<T extends Float64Array | Int32Array | Uint32Array | Uint8Array> {
  length = 0;
  constructor(public data: T) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(Math.max(16, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  slice(from = 0): T {
    return this.data.slice(from, this.length) as T;
  }
}

/** Frames by identity (frameKey): equal frames get one id, in order of first appearance. */
export class FrameInterner {
  private readonly ids = new Map<string, number>();

  /**
   * `frames` is the table interned into: new frames are appended to this very array (a session's own, when its
   * table is extended in place). Frames already in it keep their ids; of equal ones, the first answers.
   */
  constructor(readonly frames: FrameInfo[] = []) {
    for (let i = 0; i < frames.length; i++) {
      const k = frameKey(frames[i]);
      if (!this.ids.has(k)) this.ids.set(k, i);
    }
  }

  get length(): number {
    return this.frames.length;
  }

  /** The id of `f`'s frame; `f` itself is appended when no equal frame is there yet. */
  frame(f: FrameInfo): number {
    const k = frameKey(f);
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push(f);
      this.ids.set(k, id);
    }
    return id;
  }

  /** The id of a frame equal to `f`, or -1. */
  find(f: FrameInfo): number {
    return this.ids.get(frameKey(f)) ?? -1;
  }
}

/** Empty slot of the hash table. */
const EMPTY = -1;

/**
 * Stacks as a prefix tree (session/types.ts StackTable): stack(parent, frame) is the id of `frame` called from
 * stack `parent` (-1: from the root), the same id for the same pair. The rows live in growable typed columns and
 * are found through an open-addressing hash table of row ids, so a lookup allocates nothing and is exact for any
 * ids (the ad hoc keys it replaces were strings, or numbers that collided past 2^21 frames).
 */
export class StackInterner {
  private parents: Int32Array;
  private frameIds: Uint32Array;
  private rows = 0;
  /** Row ids by hash of (parent, frame), linear probing; at most half full. */
  private table: Int32Array;
  private mask: number;

  constructor(capacity = 256) {
    const size = Math.max(16, capacity);
    this.parents = new Int32Array(size);
    this.frameIds = new Uint32Array(size);
    let slots = 32;
    while (slots < 2 * size) slots *= 2;
    this.table = new Int32Array(slots).fill(EMPTY);
    this.mask = slots - 1;
  }

  /** An interner holding `stacks` as they are, every row at its id; of equal rows, the first answers. */
  static of(stacks: { parent: ArrayLike<number>; frame: ArrayLike<number> }): StackInterner {
    const n = stacks.parent.length;
    const out = new StackInterner(n);
    for (let i = 0; i < n; i++) {
      const p = stacks.parent[i];
      const f = stacks.frame[i];
      const slot = out.slot(p, f);
      out.append(p, f);
      if (out.table[slot] === EMPTY) out.insert(slot, i);
    }
    return out;
  }

  get length(): number {
    return this.rows;
  }

  /** The id of `frame` called from stack `parent` (-1: the root), added when new. */
  stack(parent: number, frame: number): number {
    const slot = this.slot(parent, frame);
    const id = this.table[slot];
    if (id !== EMPTY) return id;
    const row = this.rows;
    this.append(parent, frame);
    this.insert(slot, row);
    return row;
  }

  parentAt(id: number): number {
    return this.parents[id];
  }

  frameAt(id: number): number {
    return this.frameIds[id];
  }

  /** The rows from `from` on, copied. */
  tables(from = 0): StackTable {
    return { parent: this.parents.slice(from, this.rows), frame: this.frameIds.slice(from, this.rows) };
  }

  /** The slot holding the row (parent, frame), or the empty slot where it would go. */
  private slot(parent: number, frame: number): number {
    let h = Math.imul(parent ^ Math.imul(frame, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const { table, mask, parents, frameIds } = this;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const id = table[i];
      if (id === EMPTY || (parents[id] === parent && frameIds[id] === frame)) return i;
    }
  }

  private append(parent: number, frame: number): void {
    if (this.rows === this.parents.length) {
      const parents = new Int32Array(this.rows * 2);
      parents.set(this.parents);
      this.parents = parents;
      const frameIds = new Uint32Array(this.rows * 2);
      frameIds.set(this.frameIds);
      this.frameIds = frameIds;
    }
    this.parents[this.rows] = parent;
    this.frameIds[this.rows] = frame;
    this.rows++;
  }

  /** Fills an empty slot (from slot()) with `row`; doubles the table once it is half full. */
  private insert(slot: number, row: number): void {
    this.table[slot] = row;
    if (2 * this.rows <= this.table.length) return;
    const table = new Int32Array(this.table.length * 2).fill(EMPTY);
    this.table = table;
    this.mask = table.length - 1;
    // Re-placed in row order, so the first of equal rows (StackInterner.of) still answers.
    const old = this.rows;
    for (let r = 0; r < old; r++) {
      const s = this.slot(this.parents[r], this.frameIds[r]);
      if (table[s] === EMPTY) table[s] = r;
    }
  }
}
