// JSC stamps its samples with CLOCK_MONOTONIC (seconds since boot); Bun's performance.now(), hrtime and
// nanoseconds() all count from the process start, and the wait tracker uses performance.now(). Bun exposes no
// absolute monotonic clock, so this reads clock_gettime once through bun:ffi, between two performance.now() calls.
// Measured: with this offset samples land on the right side of 3 ms phase changes (0-4 of ~850 off), where the
// polling calibration (runtimes/bun/sampler.ts) is 100-300 us late: a trace becomes visible to a drain only some
// time after its timestamp, so "taken after the previous poll began" does not hold.
import { createRequire } from "node:module";

/** CLOCK_MONOTONIC's number on the platforms whose libc we know. */
const LIBC: Partial<Record<string, { path: string; monotonic: number }>> = {
  linux: { path: "libc.so.6", monotonic: 1 },
  darwin: { path: "/usr/lib/libSystem.B.dylib", monotonic: 6 },
};

/** CLOCK_MONOTONIC (ms) minus performance.now() (ms), to ~10 us; null where it cannot be read. */
export function monotonicMinusPerformanceNow(): number | null {
  const libc = LIBC[process.platform];
  if (!libc) return null;
  try {
    const ffi = createRequire(import.meta.url)("bun:ffi");
    const clockGettime = { args: [ffi.FFIType.i32, ffi.FFIType.ptr], returns: ffi.FFIType.i32 };
    const lib = ffi.dlopen(libc.path, { clock_gettime: clockGettime });
    try {
      const ts = new BigInt64Array(2);
      const at = ffi.ptr(ts);
      let best: number | null = null;
      let bestSpan = Infinity;
      // The tightest of a few readings: a preemption between the calls only widens the span.
      for (let i = 0; i < 8; i++) {
        const before = performance.now();
        if (lib.symbols.clock_gettime(libc.monotonic, at) !== 0) return null;
        const after = performance.now();
        if (after - before < bestSpan) {
          bestSpan = after - before;
          best = Number(ts[0]) * 1000 + Number(ts[1]) / 1e6 - (before + after) / 2;
        }
      }
      return best;
    } finally {
      lib.close();
    }
  } catch {
    return null;
  }
}
