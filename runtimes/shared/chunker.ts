// Turns the pieces a streaming sampler converts as it goes (each a small Session with its own frame and stack
// ids: one rotated V8 profile, one drain of bun:jsc) into SessionChunks on session-wide ids (session/types.ts).
// It keeps only what is bounded by the program's code, the distinct frames and stacks; samples pass through.
import { Column, FrameInterner, StackInterner } from "../../session/frames.ts";
import type { FrameInfo, SampleStateValue, Session, SessionChunk, SessionMeta } from "../../session/types.ts";
import { SampleState } from "../../session/types.ts";

export class SessionChunker {
  private readonly frameTable = new FrameInterner();
  private readonly stackTable = new StackInterner();
  private sampleStack = new Column(new Int32Array(1024));
  private sampleTime = new Column(new Float64Array(1024));
  private sampleState = new Column(new Uint8Array(1024));
  private sentFrames = 0;
  private sentStacks = 0;
  /** The last sample time handed on: later pieces never go back in time. */
  lastTime = 0;
  private anySample = false;
  /** meta.startStack of the first piece that had one, on session-wide frame ids. */
  startStack: number[] = [];

  /** The session-wide frames so far, in id order. */
  get frames(): FrameInfo[] {
    return this.frameTable.frames;
  }

  get stackCount(): number {
    return this.stackTable.length;
  }

  /**
   * Adds a piece whose times are `offset` us after the session's start. Its samples at or before the last
   * sample of earlier pieces (the overlap of two rotated profiles) are dropped. A sample of tsprofile's own
   * timer (js with no stack under it) is the program waiting: idle.
   */
  add(piece: Session, offset: number): void {
    const frameMap = piece.frames.map((f) => this.frameTable.frame(f));
    const np = piece.stacks.parent.length;
    const stackMap = new Int32Array(np);
    for (let i = 0; i < np; i++) {
      const p = piece.stacks.parent[i];
      stackMap[i] = this.stackTable.stack(p < 0 ? -1 : stackMap[p], frameMap[piece.stacks.frame[i]]);
    }
    if (this.startStack.length === 0 && piece.meta.startStack.length > 0) {
      this.startStack = piece.meta.startStack.map((f) => frameMap[f]);
    }
    const { stack, time, state } = piece.samples;
    const cut = this.anySample ? this.lastTime : -Infinity;
    for (let i = 0; i < stack.length; i++) {
      const t = time[i] + offset;
      if (t <= cut) continue;
      this.anySample = true;
      const s = stack[i];
      let st = state[i] as SampleStateValue;
      if (s < 0 && st === SampleState.js) st = SampleState.idle;
      this.sampleStack.push(s < 0 ? -1 : stackMap[s]);
      this.sampleTime.push(Math.max(t, this.lastTime));
      this.sampleState.push(st);
      this.lastTime = Math.max(t, this.lastTime);
    }
  }

  /** What was added since the previous take; no later sample comes before its end, the last sample's time. */
  take(): SessionChunk {
    const chunk: SessionChunk = {
      frames: this.frames.slice(this.sentFrames),
      stacks: this.stackTable.tables(this.sentStacks),
      samples: { stack: this.sampleStack.slice(), time: this.sampleTime.slice(), state: this.sampleState.slice() },
      end: this.lastTime,
    };
    this.sentFrames = this.frames.length;
    this.sentStacks = this.stackTable.length;
    this.resetSamples();
    return chunk;
  }

  /** The rest at stop (runtimes/index.ts, Sampler.stop): the whole tables, the samples not taken yet. */
  rest(meta: SessionMeta): Session {
    const session: Session = {
      version: 1,
      meta: { ...meta, duration: Math.max(meta.duration, this.lastTime), startStack: this.startStack },
      frames: this.frames.slice(),
      stacks: this.stackTable.tables(),
      samples: { stack: this.sampleStack.slice(), time: this.sampleTime.slice(), state: this.sampleState.slice() },
    };
    this.resetSamples();
    return session;
  }

  private resetSamples(): void {
    // Fresh small columns: a burst must not keep a large buffer alive for the rest of the run.
    this.sampleStack = new Column(new Int32Array(1024));
    this.sampleTime = new Column(new Float64Array(1024));
    this.sampleState = new Column(new Uint8Array(1024));
  }
}
