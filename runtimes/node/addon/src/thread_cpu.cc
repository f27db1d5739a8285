#include "thread_cpu.h"

#include <time.h>

#include <algorithm>

namespace tsprofile {

bool ThreadCpuClock::Start(int interval_us) {
  Stop();
  if (pthread_getcpuclockid(pthread_self(), &clock_) != 0) return false;
  interval_us_ = interval_us < 100 ? 100 : interval_us;
  readings_.clear();
  CpuReading first;
  if (!Read(first)) return false;
  readings_.push_back(first);
  stopping_ = false;
  worker_ = std::thread([this] { Run(); });
  return true;
}

void ThreadCpuClock::Stop() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

bool ThreadCpuClock::Read(CpuReading& r) const {
  timespec mono, cpu;
  // The CPU clock first: the monotonic stamp then never precedes the CPU time it is paired with.
  if (clock_gettime(clock_, &cpu) != 0 || clock_gettime(CLOCK_MONOTONIC, &mono) != 0) return false;
  r.time_us = int64_t(mono.tv_sec) * 1000000 + mono.tv_nsec / 1000;
  r.cpu_ns = int64_t(cpu.tv_sec) * 1000000000 + cpu.tv_nsec;
  return true;
}

void ThreadCpuClock::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto base = std::chrono::microseconds(interval_us_);
  // While the thread barely runs, readings space out (doubling up to kMaxIdleStepUs): an idle program then costs
  // what V8's own sampler costs, not a thousand wake-ups a second more. The first reading that sees the thread
  // run again returns to the base interval; the CPU time in between goes to the non-idle samples of that span
  // (sampler.cc, CpuAt), so little is lost by the wider step.
  const auto max_step = std::chrono::microseconds(kMaxIdleStepUs > interval_us_ ? kMaxIdleStepUs : interval_us_);
  auto step = base;
  auto next = std::chrono::steady_clock::now() + step;
  CpuReading last = readings_.empty() ? CpuReading{0, 0} : readings_.back();
  while (!stopping_) {
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
    CpuReading r;
    if (Read(r)) {
      readings_.push_back(r);
      const int64_t wall_ns = (r.time_us - last.time_us) * 1000;
      const bool idle = wall_ns > 0 && (r.cpu_ns - last.cpu_ns) * 8 < wall_ns;
      step = idle ? std::min(step * 2, max_step) : base;
      last = r;
    }
    next += step;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + step;  // starved: resume the rhythm instead of catching up in a burst
  }
}

void ThreadCpuClock::Take(std::vector<CpuReading>& out) {
  CpuReading now;
  const bool fresh = Read(now);
  std::lock_guard<std::mutex> lock(mutex_);
  if (fresh) readings_.push_back(now);
  out.insert(out.end(), readings_.begin(), readings_.end());
  if (!readings_.empty()) readings_.erase(readings_.begin(), readings_.end() - 1);
}

}  // namespace tsprofile
