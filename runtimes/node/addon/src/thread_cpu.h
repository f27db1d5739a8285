// Per-sample thread CPU time: V8's samples carry no CPU time, so a companion thread reads the JS thread's CPU
// clock (pthread_getcpuclockid) every `interval` microseconds next to the monotonic clock V8 stamps samples
// with. A sample's CPU time is interpolated between the two readings around it: exact to one reading interval.
// While the thread is idle the readings space out (up to kMaxIdleStepUs), and the CPU time of such a span goes to
// its running samples.
#pragma once
#include <pthread.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tsprofile {

// The widest spacing of readings while the thread is idle (thread_cpu.cc, Run).
constexpr int kMaxIdleStepUs = 50000;

struct CpuReading {
  int64_t time_us;  // CLOCK_MONOTONIC, the clock of V8's sample timestamps (base::TimeTicks on Linux)
  int64_t cpu_ns;   // the JS thread's CPU clock
};

class ThreadCpuClock {
 public:
  ~ThreadCpuClock() { Stop(); }
  // Must be called on the thread to measure. False when the platform has no per-thread CPU clock.
  bool Start(int interval_us);
  void Stop();
  bool running() const { return worker_.joinable(); }
  // A reading now, from any thread.
  bool ReadNow(CpuReading& r) const { return Read(r); }
  // Appends a reading taken now (on any thread) and moves every reading so far into `out`, keeping the
  // newest one so the next batch can interpolate from it.
  void Take(std::vector<CpuReading>& out);

 private:
  bool Read(CpuReading& r) const;
  void Run();

  clockid_t clock_ = 0;
  int interval_us_ = 1000;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<CpuReading> readings_;
};

}  // namespace tsprofile
