// Deno's side of runtimes/node/addon/src/sampler_priority.h: V8's sampling thread ("v8:ProfEvntProc"), woken
// onto the JS thread's core right after the JS thread leaves the event loop, waits out the JS thread's slice, so
// bursts of a few milliseconds after each wait go unsampled (Deno 2.9, Linux 6.18: 23 of 150 bursts of 3 ms).
// Raised, it preempts at once. It is also made with a 1 ns timer slack, so that its sleep between samples ends on
// time. Deno has no addon: libc through Deno's FFI, only where --allow-ffi and --allow-read were granted (no
// prompt), on Linux with glibc. Nothing here throws but the sampler's own start.

interface DenoFfi {
  build: { os: string; arch: string };
  permissions: { querySync(d: { name: string; path?: string }): { state: string } };
  readDirSync(path: string): Iterable<{ name: string }>;
  readTextFileSync(path: string): string;
  dlopen(path: string, symbols: Record<string, { parameters: string[]; result: string }>): {
    symbols: Record<string, (...args: unknown[]) => number | bigint>;
    close(): void;
  };
}

const SCHED_OTHER = 0;
const PR_SET_TIMERSLACK = 29;
const PR_GET_TIMERSLACK = 30;
const PRIO_PROCESS = 0;
const SYS_SCHED_SETATTR = 314n; // on x86_64 only (sched_setattr is tried there only)
const SLICE_NS = 100_000n;

/**
 * Calls `start` (Profiler.start, which makes V8's sampling thread on this thread) so that the new thread inherits a
 * 1 ns timer slack (this thread's own is restored after), then raises every V8 sampling thread of this process as
 * far as allowed: nice -5 with a 0.1 ms slice, else nice -5, else the slice alone (not SCHED_FIFO: see
 * runtimes/node/addon/src/sampler_priority.cc). Where FFI is not allowed, just calls `start`. Opening libc takes
 * milliseconds: whatever must be read as the sampler starts is read in `start`, not before this call.
 */
export function startSamplingThread(start: () => void): void {
  const libc = openLibc();
  if (libc === null) return start();
  const setSlack = (ns: number): boolean => {
    try {
      return libc.symbols.prctl(PR_SET_TIMERSLACK, BigInt(ns), 0n, 0n, 0n) === 0;
    } catch {
      return false;
    }
  };
  try {
    let previous = -1;
    try {
      previous = Number(libc.symbols.prctl(PR_GET_TIMERSLACK, 0n, 0n, 0n, 0n));
    } catch {
      // sampled with the default slack
    }
    const tightened = previous > 0 && setSlack(1);
    try {
      start();
    } finally {
      if (tightened) setSlack(previous);
    }
    raise(libc);
  } finally {
    libc.close();
  }
}

type Libc = ReturnType<DenoFfi["dlopen"]>;

function deno(): DenoFfi | undefined {
  return (globalThis as unknown as { Deno?: DenoFfi }).Deno;
}

/** libc where FFI and reading /proc/self/task are granted on Linux, else null. */
function openLibc(): Libc | null {
  const d = deno();
  try {
    if (d === undefined || d.build.os !== "linux") return null;
    const granted = (p: { name: string; path?: string }) => d.permissions.querySync(p).state === "granted";
    if (!granted({ name: "ffi" }) || !granted({ name: "read", path: "/proc/self/task" })) return null;
    return d.dlopen("libc.so.6", {
      prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
      setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
      syscall: { parameters: ["i64", "i64", "buffer", "i64"], result: "i64" },
    });
  } catch {
    return null; // no glibc, an FFI that refuses: sampled as before
  }
}

function raise(libc: Libc): void {
  const d = deno()!;
  try {
    const tids: number[] = [];
    for (const e of d.readDirSync("/proc/self/task")) {
      const comm = d.readTextFileSync(`/proc/self/task/${e.name}/comm`);
      if (comm.startsWith("v8:ProfEvntProc")) tids.push(Number(e.name));
    }
    // struct sched_attr: size, policy (u32), flags (u64), nice (i32), priority (u32), runtime (u64), ...
    const setAttr = (tid: number, nice: number): boolean => {
      if (d.build.arch !== "x86_64") return false;
      const attr = new DataView(new ArrayBuffer(48));
      attr.setUint32(0, 48, true);
      attr.setUint32(4, SCHED_OTHER, true);
      attr.setInt32(16, nice, true);
      attr.setBigUint64(24, SLICE_NS, true);
      return libc.symbols.syscall(SYS_SCHED_SETATTR, BigInt(tid), new Uint8Array(attr.buffer), 0n) === 0n;
    };
    for (const tid of tids) {
      if (setAttr(tid, -5)) continue;
      if (libc.symbols.setpriority(PRIO_PROCESS, tid, -5) === 0) continue;
      setAttr(tid, 0);
    }
  } catch {
    // sampled as before
  }
}
