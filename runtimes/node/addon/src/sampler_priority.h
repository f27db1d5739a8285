// V8's sampling thread ("v8:ProfEvntProc") sends the JS thread a signal each interval. Measured on Linux 6.18
// (EEVDF, 2 cores): right after the JS thread wakes from the event loop it keeps its core for up to its whole
// slice, and the sampling thread, woken onto that core, waits: 15-30 of 200 bursts of 3 ms after a 7 ms wait got
// no sample at all (the same under `node --cpu-prof`). Raised, the sampling thread preempts the JS thread at
// once: none with SCHED_FIFO, 2 with nice -5, 7 with a 100 us slice (FIFO is not used: see Raise()).
#pragma once

namespace tsprofile {

// Raises every V8 sampling thread of this process as far as allowed: nice -5 with a 0.1 ms slice (Linux 6.12+),
// else nice -5 (a kernel without sched_setattr), else the slice alone. Does nothing where none is allowed, or off
// Linux.
void RaiseSamplingThreads();

// While alive, a thread this thread creates (V8's sampling thread, made by CpuProfiler::Start) inherits a 1 ns
// timer slack instead of the default 50 us: its sleep between samples ends on time, so the interval achieved is
// nearer the one asked (Linux 6.18, 1 ms asked, median of a busy run: 1.12 ms -> 1.07 ms). Setting it on another
// thread needs CAP_SYS_NICE; inherited, it needs nothing. This thread's own slack is restored after. Off Linux, a
// no-op.
class TightTimerSlackForNewThreads {
 public:
  TightTimerSlackForNewThreads();
  ~TightTimerSlackForNewThreads();
  TightTimerSlackForNewThreads(const TightTimerSlackForNewThreads&) = delete;
  TightTimerSlackForNewThreads& operator=(const TightTimerSlackForNewThreads&) = delete;

 private:
  long previous_ = -1;
};

}  // namespace tsprofile
