// tsprofile's native Node sampler: V8's CpuProfiler driven directly, for what node:inspector cannot give:
//  - rotation: a new profile starts before the old one stops, so samples leave V8 while the program runs (the
//    inspector's stop/start cycle costs 11-40 ms and re-logs all code; this keeps logging on);
//  - rotation without the program's help: a thread of ours asks for one every `rotateMs` through
//    Isolate::RequestInterrupt (served at V8's next interrupt check, even inside a synchronous loop) and a libuv
//    async handle (served by an idle event loop, where no JavaScript runs to check interrupts). Either way the
//    rotation runs on the JS thread, as V8's profiler API requires, and stays in C++ (0.2-0.4 ms): the pieces wait
//    in an outbox for drain()/stop() on the JS thread or take() on any thread (a stream writer's worker);
//  - each sample's VM state (JS, GC, EXTERNAL, IDLE, ...), which the inspector folds into its node tree
//    (a sample in a native callback is charged to the calling JS function there);
//  - each sample's thread CPU time (thread_cpu.h).
// Profile nodes are merged across rotations into one tree, keyed by (parent, function), and each piece hands
// JavaScript only the nodes it has not seen yet plus the samples as typed arrays.
// Not ABI-stable: it calls V8 directly, so it is built per NODE_MODULE_VERSION (Node-API only carries the
// JavaScript-facing part). The JavaScript loader picks the binary built for the running Node.
// node.h before napi.h: node_version.h sets NAPI_VERSION, which napi.h would otherwise default first.
#include <node.h>
#include <node_version.h>
#include <napi.h>
#include <uv.h>
#include <v8-profiler.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sampler_priority.h"
#include "thread_cpu.h"

namespace tsprofile {

namespace {

template <typename T, typename Array>
Array MakeTyped(Napi::Env env, const std::vector<T>& v) {
  Array a = Array::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

template <typename T>
void Append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// One rotated profile, in merged node ids: the nodes first seen in it and its samples.
struct Piece {
  double start_time = 0, end_time = 0;
  int32_t first_node = 0;
  std::vector<int32_t> parent, script, line, col;
  std::vector<std::string> name, url;
  std::vector<int32_t> node;
  std::vector<double> time;
  std::vector<uint8_t> state;
  std::vector<double> cpu;
};

// Pieces not handed to JavaScript yet. Filled on the JS thread; emptied there (drain/stop) or by take() on a
// stream writer's thread, which waits on `ready`.
struct Outbox {
  std::mutex mutex;
  std::condition_variable ready;
  std::vector<Piece> pieces;
  bool closed = false;
  bool cpu = false;
};

// Outboxes by sampler id, for take() from another thread (its Sampler object is not reachable there).
std::mutex g_outbox_mutex;
std::unordered_map<int32_t, std::shared_ptr<Outbox>> g_outboxes;
std::atomic<int32_t> g_next_id{1};

// The pieces as one RawPiece object (runtimes/node/addon-sampler.ts): nodes and samples concatenated in order.
Napi::Object PiecesToJs(Napi::Env env, std::vector<Piece>& pieces, bool cpu) {
  Piece all;
  if (!pieces.empty()) {
    all.start_time = pieces.front().start_time;
    all.end_time = pieces.back().end_time;
    all.first_node = pieces.front().first_node;
  }
  for (Piece& p : pieces) {
    Append(all.parent, p.parent), Append(all.script, p.script), Append(all.line, p.line), Append(all.col, p.col);
    for (auto& n : p.name) all.name.push_back(std::move(n));
    for (auto& u : p.url) all.url.push_back(std::move(u));
    Append(all.node, p.node), Append(all.time, p.time), Append(all.state, p.state), Append(all.cpu, p.cpu);
  }
  pieces.clear();
  Napi::Object out = Napi::Object::New(env);
  out.Set("startTime", all.start_time);
  out.Set("endTime", all.end_time);
  out.Set("firstNode", all.first_node);
  out.Set("parent", MakeTyped<int32_t, Napi::Int32Array>(env, all.parent));
  out.Set("scriptId", MakeTyped<int32_t, Napi::Int32Array>(env, all.script));
  out.Set("line", MakeTyped<int32_t, Napi::Int32Array>(env, all.line));
  out.Set("col", MakeTyped<int32_t, Napi::Int32Array>(env, all.col));
  Napi::Array names = Napi::Array::New(env, all.name.size());
  Napi::Array urls = Napi::Array::New(env, all.url.size());
  for (size_t k = 0; k < all.name.size(); k++) {
    names.Set(uint32_t(k), all.name[k]);
    urls.Set(uint32_t(k), all.url[k]);
  }
  out.Set("name", names);
  out.Set("url", urls);
  out.Set("node", MakeTyped<int32_t, Napi::Int32Array>(env, all.node));
  out.Set("time", MakeTyped<double, Napi::Float64Array>(env, all.time));
  out.Set("state", MakeTyped<uint8_t, Napi::Uint8Array>(env, all.state));
  if (cpu) out.Set("cpu", MakeTyped<double, Napi::Float64Array>(env, all.cpu));
  return out;
}

}  // namespace

class Sampler : public Napi::ObjectWrap<Sampler> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Sampler",
                       {InstanceMethod<&Sampler::Start>("start"), InstanceMethod<&Sampler::Drain>("drain"),
                        InstanceMethod<&Sampler::Stop>("stop"), InstanceMethod<&Sampler::RotateEvery>("rotateEvery"),
                        StaticMethod<&Sampler::Take>("take")});
  }

  // new Sampler(intervalUs, cpuIntervalUs, rotateMs): cpuIntervalUs 0 records no CPU time; rotateMs 0 rotates
  // only when drained.
  explicit Sampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sampler>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "new Sampler(intervalUs, cpuIntervalUs, rotateMs)").ThrowAsJavaScriptException();
      return;
    }
    interval_us_ = info[0].As<Napi::Number>().Int32Value();
    cpu_interval_us_ = info[1].As<Napi::Number>().Int32Value();
    rotate_ms_ = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
    if (interval_us_ < 1) interval_us_ = 1;
    if (rotate_ms_ < 0) rotate_ms_ = 0;
    isolate_ = v8::Isolate::GetCurrent();
    env_ = env;
    id_ = g_next_id++;
    {
      std::lock_guard<std::mutex> lock(g_outbox_mutex);
      g_outboxes[id_] = outbox_;
    }
    // A sampler still running when the environment ends (no stop()) has its threads joined and profiler freed.
    hooked_ = napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok;
  }

  ~Sampler() override {
    Shutdown();
    if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    std::lock_guard<std::mutex> lock(g_outbox_mutex);
    g_outboxes.erase(id_);
  }

 private:
  // start(): begins sampling. Returns {startTime: monotonic us, cpuTime: the thread's CPU us then, or -1, id: for
  // take()}.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (profiler_ != nullptr || stopped_) {
      Napi::Error::New(env, "the native sampler was already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    profiler_ = v8::CpuProfiler::New(isolate_, v8::kDebugNaming, v8::kLazyLogging);
    profiler_->SetSamplingInterval(interval_us_);
    if (cpu_interval_us_ > 0) cpu_on_ = cpu_.Start(cpu_interval_us_);
    {
      std::lock_guard<std::mutex> lock(outbox_->mutex);
      outbox_->cpu = cpu_on_;
    }
    v8::CpuProfilingResult r = [&] {
      TightTimerSlackForNewThreads slack;  // for the sampling thread Start() makes (sampler_priority.h)
      return profiler_->Start(v8::CpuProfilingOptions(v8::kLeafNodeLineNumbers));
    }();
    if (r.status == v8::CpuProfilingStatus::kErrorTooManyProfilers) {
      Shutdown();
      Napi::Error::New(env, "V8 refused to start another CPU profile").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    current_ = r.id;
    last_time_ = INT64_MIN;
    RaiseSamplingThreads();  // so that it samples right after a wake-up (sampler_priority.h)
    // Read after Start(), which re-logs all code first (ms in a large program): the session begins once the
    // profiler samples, and its CPU time is counted from the same moment.
    CpuReading now{MonotonicNowUs(), -1000};
    if (cpu_on_ && !cpu_.ReadNow(now)) now.cpu_ns = -1000;
    if (rotate_ms_ > 0) StartRotator(env);
    Napi::Object out = Napi::Object::New(env);
    out.Set("startTime", double(now.time_us));
    out.Set("cpuTime", double(now.cpu_ns) / 1000);
    out.Set("id", id_);
    return out;
  }

  // drain(): the samples since the last drain or take, while sampling goes on, as RawPiece[].
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (profiler_ == nullptr) {
      Napi::Error::New(env, "the native sampler is not running").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!Rotate(false)) {
      Napi::Error::New(env, "V8 returned no CPU profile").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return TakeAll(env);
  }

  // stop(keep): the last samples, as RawPiece[]; the profiler is disposed. keep: they stay in the outbox for
  // take() (which then reports it closed) and stop returns undefined.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (profiler_ == nullptr) {
      Napi::Error::New(env, "the native sampler is not running").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const bool keep = info.Length() > 0 && info[0].ToBoolean().Value();
    StopRotator();
    const bool ok = Rotate(true);
    Shutdown();
    if (!ok) {
      Napi::Error::New(env, "V8 returned no CPU profile").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return keep ? env.Undefined() : TakeAll(env);
  }

  // rotateEvery(ms): the rotation period from now on (a started sampler that rotates on its own).
  Napi::Value RotateEvery(const Napi::CallbackInfo& info) {
    const int ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    if (ms > 0) {
      std::lock_guard<std::mutex> lock(rotator_mutex_);
      rotate_ms_ = ms;
    }
    rotator_wake_.notify_all();
    return info.Env().Undefined();
  }

  // Sampler.take(id, timeoutMs), on any thread: waits up to timeoutMs for pieces of sampler `id`, then
  // {closed, piece: RawPiece | null}; closed once its stop() ran and every piece was taken. Null: no such sampler.
  static Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int32_t id = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
    const int64_t timeout = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : 0;
    std::shared_ptr<Outbox> box;
    {
      std::lock_guard<std::mutex> lock(g_outbox_mutex);
      auto it = g_outboxes.find(id);
      if (it != g_outboxes.end()) box = it->second;
    }
    if (!box) return env.Null();
    std::vector<Piece> pieces;
    bool closed, cpu;
    {
      std::unique_lock<std::mutex> lock(box->mutex);
      if (timeout > 0) {
        box->ready.wait_for(lock, std::chrono::milliseconds(timeout),
                            [&] { return !box->pieces.empty() || box->closed; });
      }
      pieces.swap(box->pieces);
      closed = box->closed, cpu = box->cpu;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("closed", closed);
    out.Set("piece", pieces.empty() ? env.Null() : Napi::Value(PiecesToJs(env, pieces, cpu)));
    return out;
  }

  static void OnEnvCleanup(void* self) {
    auto* sampler = static_cast<Sampler*>(self);
    sampler->hooked_ = false;
    sampler->Shutdown();
  }

  static int64_t MonotonicNowUs() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  }

  // ---- rotation on our own clock ----

  // Samplers by id for the interrupt and the async handle, which may fire after their sampler is gone; both run
  // on the sampler's own JS thread, where it is also destroyed, so a sampler found here lives through the call.
  static std::mutex& RotatingMutex() {
    static std::mutex m;
    return m;
  }
  static std::unordered_map<int32_t, Sampler*>& Rotating() {
    static std::unordered_map<int32_t, Sampler*> m;
    return m;
  }
  static void RotateById(int32_t id) {
    Sampler* s = nullptr;
    {
      std::lock_guard<std::mutex> lock(RotatingMutex());
      auto it = Rotating().find(id);
      if (it != Rotating().end()) s = it->second;
    }
    if (s == nullptr || !s->rotation_asked_.exchange(false)) return;  // the other route served it already
    v8::HandleScope scope(s->isolate_);
    s->Rotate(false);
  }
  static void OnInterrupt(v8::Isolate*, void* data) { RotateById(int32_t(reinterpret_cast<intptr_t>(data))); }
  static void OnAsync(uv_async_t* handle) { RotateById(int32_t(reinterpret_cast<intptr_t>(handle->data))); }

  void StartRotator(Napi::Env env) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return;
    async_ = new uv_async_t;
    if (uv_async_init(loop, async_, OnAsync) != 0) {
      delete async_;
      async_ = nullptr;
      return;
    }
    async_->data = reinterpret_cast<void*>(intptr_t(id_));
    uv_unref(reinterpret_cast<uv_handle_t*>(async_));  // never keeps the program alive
    {
      std::lock_guard<std::mutex> lock(RotatingMutex());
      Rotating()[id_] = this;
    }
    rotator_stopping_ = false;
    rotator_ = std::thread([this] { RunRotator(); });
  }

  void RunRotator() {
    std::unique_lock<std::mutex> lock(rotator_mutex_);
    auto last = std::chrono::steady_clock::now();
    while (!rotator_stopping_) {
      // rotate_ms_ may change meanwhile (rotateEvery): the wait ends at the new deadline.
      const auto due = [this, &last] { return last + std::chrono::milliseconds(rotate_ms_); };
      rotator_wake_.wait_until(lock, due());
      if (rotator_stopping_) break;
      if (std::chrono::steady_clock::now() < due()) continue;
      last = std::chrono::steady_clock::now();
      // One request in flight: a JS thread stuck in a long native call is asked once, not once a second.
      if (rotation_asked_.exchange(true)) continue;
      isolate_->RequestInterrupt(OnInterrupt, reinterpret_cast<void*>(intptr_t(id_)));
      uv_async_send(async_);
    }
  }

  void StopRotator() {
    if (rotator_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(rotator_mutex_);
        rotator_stopping_ = true;
      }
      rotator_wake_.notify_all();
      rotator_.join();
    }
    {
      std::lock_guard<std::mutex> lock(RotatingMutex());
      Rotating().erase(id_);
    }
    if (async_ != nullptr) {
      uv_close(reinterpret_cast<uv_handle_t*>(async_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
      async_ = nullptr;
    }
  }

  // ---- profiles ----

  void Shutdown() {
    StopRotator();
    cpu_.Stop();
    if (profiler_ != nullptr) {
      profiler_->Dispose();  // stops any profile still running
      profiler_ = nullptr;
      stopped_ = true;
    }
    {
      std::lock_guard<std::mutex> lock(outbox_->mutex);
      outbox_->closed = true;
    }
    outbox_->ready.notify_all();
  }

  // Moves the current profile into the outbox; unless last, the next one starts first, so a sample lands in one
  // or both, never in neither. False when V8 gave no profile.
  bool Rotate(bool last) {
    if (profiler_ == nullptr) return true;
    v8::ProfilerId next = 0;
    bool started = false;
    if (!last) {
      v8::CpuProfilingResult r = profiler_->Start(v8::CpuProfilingOptions(v8::kLeafNodeLineNumbers));
      // Refused (too many profiles): the current one goes on, and is collected next time.
      if (r.status == v8::CpuProfilingStatus::kErrorTooManyProfilers) return true;
      next = r.id, started = true;
    }
    v8::CpuProfile* profile = profiler_->Stop(current_);
    if (started) current_ = next;
    if (profile == nullptr) return false;
    Piece piece;
    Collect(profile, piece);
    {
      std::lock_guard<std::mutex> lock(outbox_->mutex);
      outbox_->pieces.push_back(std::move(piece));
    }
    outbox_->ready.notify_all();
    return true;
  }

  // Every piece in the outbox, one RawPiece each (in order): converted one by one, a long run's stop never
  // holds more than one piece's JavaScript columns beside the session.
  Napi::Value TakeAll(Napi::Env env) {
    std::vector<Piece> pieces;
    {
      std::lock_guard<std::mutex> lock(outbox_->mutex);
      pieces.swap(outbox_->pieces);
    }
    Napi::Array out = Napi::Array::New(env, pieces.size());
    for (size_t k = 0; k < pieces.size(); k++) {
      std::vector<Piece> one;
      one.push_back(std::move(pieces[k]));
      out.Set(uint32_t(k), PiecesToJs(env, one, cpu_on_));
    }
    return out;
  }

  // Merged id of the child `node` of merged node `parent`; new ones are appended to the piece's node columns.
  int32_t Intern(int32_t parent, const v8::CpuProfileNode* node, Piece& piece) {
    const char* name = node->GetFunctionNameStr();
    const char* url = node->GetScriptResourceNameStr();
    key_.clear();
    key_.append(reinterpret_cast<const char*>(&parent), sizeof parent);
    const int ints[3] = {node->GetScriptId(), node->GetLineNumber(), node->GetColumnNumber()};
    key_.append(reinterpret_cast<const char*>(ints), sizeof ints);
    key_.append(name ? name : "").push_back('\0');
    key_.append(url ? url : "");
    auto it = merged_.find(key_);
    if (it != merged_.end()) return it->second;
    const int32_t id = int32_t(merged_.size());
    merged_.emplace(key_, id);
    piece.parent.push_back(parent);
    piece.script.push_back(ints[0]);
    piece.line.push_back(ints[1]);
    piece.col.push_back(ints[2]);
    piece.name.emplace_back(name ? name : "");
    piece.url.emplace_back(url ? url : "");
    return id;
  }

  void Collect(v8::CpuProfile* profile, Piece& piece) {
    piece.first_node = int32_t(merged_.size());
    // Profile node id -> merged id, walking the tree iteratively (stacks can be thousands deep).
    std::vector<int32_t> merged_of;
    std::vector<std::pair<const v8::CpuProfileNode*, int32_t>> work;
    work.emplace_back(profile->GetTopDownRoot(), -1);
    while (!work.empty()) {
      auto [node, parent] = work.back();
      work.pop_back();
      const int32_t id = Intern(parent, node, piece);
      const unsigned nid = node->GetNodeId();
      if (nid >= merged_of.size()) merged_of.resize(nid + 1, -1);
      merged_of[nid] = id;
      for (int i = node->GetChildrenCount() - 1; i >= 0; i--) work.emplace_back(node->GetChild(i), id);
    }

    const int count = profile->GetSamplesCount();
    piece.node.reserve(count), piece.time.reserve(count), piece.state.reserve(count);
    // A sample taken while two profiles overlapped (inside a rotation) is in both: keep the first copy.
    int i = 0;
    while (i < count && profile->GetSampleTimestamp(i) <= last_time_) i++;
    for (; i < count; i++) {
      const v8::CpuProfileNode* node = profile->GetSample(i);
      const unsigned nid = node ? node->GetNodeId() : 0;
      piece.node.push_back(nid < merged_of.size() ? merged_of[nid] : -1);
      const int64_t t = profile->GetSampleTimestamp(i);
      piece.time.push_back(double(t));
      piece.state.push_back(uint8_t(profile->GetSampleState(i)));
      if (t > last_time_) last_time_ = t;
    }
    piece.start_time = double(profile->GetStartTime());
    piece.end_time = double(profile->GetEndTime());
    profile->Delete();
    if (cpu_on_) piece.cpu = CpuAt(piece.time, piece.state);
  }

  // The JS thread's CPU time (us, since its start) at each sample, between the readings around it. The CPU used
  // from one reading to the next is spread over that span's running time: the parts of it where the sample
  // before was not idle (a sample's span runs to the next sample, SPEC.md "CPU time"); a span with no running
  // part is spread evenly in time. Readings 1 ms apart make either exact to a reading; after an idle stretch,
  // where readings space out (thread_cpu.cc), an even split would hand the work's CPU to the idle samples.
  std::vector<double> CpuAt(const std::vector<double>& times, const std::vector<uint8_t>& states) {
    readings_.clear();
    cpu_.Take(readings_);
    std::vector<double> out(times.size(), 0);
    if (readings_.empty()) return out;
    size_t j = 0;
    size_t k = 0;
    // Whether the thread runs in the span that ends at sample i (the span of the sample before it).
    auto runs_before = [&](size_t i) { return (i == 0 ? last_state_ : states[i - 1]) != v8::IDLE; };
    while (k < times.size()) {
      while (j + 1 < readings_.size() && double(readings_[j + 1].time_us) <= times[k]) j++;
      const CpuReading& a = readings_[j];
      const double cpu_a = double(a.cpu_ns) / 1000;
      if (j + 1 >= readings_.size() || times[k] <= double(a.time_us)) {
        out[k++] = cpu_a;
        continue;
      }
      // Samples k..end-1 lie in (a, b): running time from a to each of them, and to b.
      const CpuReading& b = readings_[j + 1];
      const double ta = double(a.time_us), tb = double(b.time_us);
      size_t end = k;
      while (end < times.size() && times[end] < tb) end++;
      double run = 0, prev = ta;
      for (size_t i = k; i < end; i++) {
        if (runs_before(i)) run += times[i] - prev;
        out[i] = run;  // for now: running time from a
        prev = times[i];
      }
      const double total = run + (states[end - 1] != v8::IDLE ? tb - prev : 0);
      const double used = double(b.cpu_ns - a.cpu_ns) / 1000;
      for (; k < end; k++) {
        const double share = total > 0 ? out[k] / total : (times[k] - ta) / (tb - ta);
        out[k] = cpu_a + used * share;
      }
    }
    if (!states.empty()) last_state_ = states.back();
    return out;
  }

  napi_env env_ = nullptr;
  bool hooked_ = false;
  int32_t id_ = 0;
  v8::Isolate* isolate_ = nullptr;
  v8::CpuProfiler* profiler_ = nullptr;
  bool stopped_ = false;
  v8::ProfilerId current_ = 0;
  int interval_us_ = 1000;
  int cpu_interval_us_ = 0;
  int rotate_ms_ = 0;
  bool cpu_on_ = false;
  int64_t last_time_ = INT64_MIN;
  uint8_t last_state_ = 0;  // the last sample's V8 state, for the span before the next piece's first sample
  ThreadCpuClock cpu_;
  std::vector<CpuReading> readings_;
  std::shared_ptr<Outbox> outbox_ = std::make_shared<Outbox>();

  std::thread rotator_;
  std::mutex rotator_mutex_;
  std::condition_variable rotator_wake_;
  bool rotator_stopping_ = false;
  std::atomic<bool> rotation_asked_{false};
  uv_async_t* async_ = nullptr;

  std::unordered_map<std::string, int32_t> merged_;
  std::string key_;
};

}  // namespace tsprofile

static Napi::Object InitSampler(Napi::Env env, Napi::Object exports) {
  exports.Set("Sampler", tsprofile::Sampler::Define(env));
  // The ABI this binary was built for; the loader checks it against process.versions.modules.
  exports.Set("moduleVersion", Napi::Number::New(env, NODE_MODULE_VERSION));
  return exports;
}

NODE_API_MODULE(tsprofile_sampler, InitSampler)
