// tsprofile's native Node sampler: V8's CpuProfiler driven directly, for what node:inspector cannot give:
//  - rotation: Drain() starts a new profile and stops the old one, so samples leave V8 while the program runs
//    (the inspector's stop/start cycle costs 11-40 ms and re-logs all code; this keeps logging on);
//  - each sample's VM state (JS, GC, EXTERNAL, IDLE, ...), which the inspector folds into its node tree
//    (a sample in a native callback is charged to the calling JS function there);
//  - each sample's thread CPU time (thread_cpu.h).
// Profile nodes are merged across rotations into one tree, keyed by (parent, function), and each drain hands
// JavaScript only the nodes it has not seen yet plus the samples as typed arrays.
// Not ABI-stable: it calls V8 directly, so it is built per NODE_MODULE_VERSION (Node-API only carries the
// JavaScript-facing part). The JavaScript loader picks the binary built for the running Node.
// node.h before napi.h: node_version.h sets NAPI_VERSION, which napi.h would otherwise default first.
#include <node.h>
#include <node_version.h>
#include <napi.h>
#include <v8-profiler.h>

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "thread_cpu.h"

namespace tsprofile {

namespace {

template <typename T, typename Array>
Array MakeTyped(Napi::Env env, const std::vector<T>& v) {
  Array a = Array::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

}  // namespace

class Sampler : public Napi::ObjectWrap<Sampler> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Sampler",
                       {InstanceMethod<&Sampler::Start>("start"), InstanceMethod<&Sampler::Drain>("drain"),
                        InstanceMethod<&Sampler::Stop>("stop")});
  }

  // new Sampler(intervalUs, cpuIntervalUs): cpuIntervalUs 0 records no CPU time.
  explicit Sampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sampler>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "new Sampler(intervalUs, cpuIntervalUs)").ThrowAsJavaScriptException();
      return;
    }
    interval_us_ = info[0].As<Napi::Number>().Int32Value();
    cpu_interval_us_ = info[1].As<Napi::Number>().Int32Value();
    if (interval_us_ < 1) interval_us_ = 1;
    isolate_ = v8::Isolate::GetCurrent();
    env_ = env;
    // A sampler still running when the environment ends (no stop()) has its thread joined and profiler freed.
    hooked_ = napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok;
  }

  ~Sampler() override {
    Shutdown();
    if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
  }

 private:
  // start(): begins sampling. Returns {startTime: monotonic us, cpuTime: the thread's CPU us then, or -1}.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (profiler_ != nullptr) {
      Napi::Error::New(env, "the native sampler is already running").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    profiler_ = v8::CpuProfiler::New(isolate_, v8::kDebugNaming, v8::kLazyLogging);
    profiler_->SetSamplingInterval(interval_us_);
    if (cpu_interval_us_ > 0) cpu_on_ = cpu_.Start(cpu_interval_us_);
    v8::CpuProfilingResult r = profiler_->Start(v8::CpuProfilingOptions(v8::kLeafNodeLineNumbers));
    if (r.status == v8::CpuProfilingStatus::kErrorTooManyProfilers) {
      Shutdown();
      Napi::Error::New(env, "V8 refused to start another CPU profile").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    current_ = r.id;
    last_time_ = INT64_MIN;
    // Read after Start(), which re-logs all code first (ms in a large program): the session begins once the
    // profiler samples, and its CPU time is counted from the same moment.
    CpuReading now{MonotonicNowUs(), -1000};
    if (cpu_on_ && !cpu_.ReadNow(now)) now.cpu_ns = -1000;
    Napi::Object out = Napi::Object::New(env);
    out.Set("startTime", double(now.time_us));
    out.Set("cpuTime", double(now.cpu_ns) / 1000);
    return out;
  }

  // drain(): the samples since the last drain, while sampling goes on.
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (profiler_ == nullptr) {
      Napi::Error::New(env, "the native sampler is not running").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    // Start the next profile before stopping this one: a sample then lands in one or both, never in neither.
    v8::CpuProfilingResult next = profiler_->Start(v8::CpuProfilingOptions(v8::kLeafNodeLineNumbers));
    v8::CpuProfile* profile = profiler_->Stop(current_);
    current_ = next.id;
    return Collect(env, profile);
  }

  // stop(): the last samples; the profiler is disposed.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (profiler_ == nullptr) {
      Napi::Error::New(env, "the native sampler is not running").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    v8::CpuProfile* profile = profiler_->Stop(current_);
    Napi::Value out = Collect(env, profile);
    Shutdown();
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

  void Shutdown() {
    cpu_.Stop();
    if (profiler_ != nullptr) {
      profiler_->Dispose();  // stops any profile still running
      profiler_ = nullptr;
    }
  }

  // Merged id of the child `node` of merged node `parent`; new ones are appended to the new_* columns.
  int32_t Intern(int32_t parent, const v8::CpuProfileNode* node) {
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
    new_parent_.push_back(parent);
    new_script_.push_back(ints[0]);
    new_line_.push_back(ints[1]);
    new_col_.push_back(ints[2]);
    new_name_.emplace_back(name ? name : "");
    new_url_.emplace_back(url ? url : "");
    return id;
  }

  Napi::Value Collect(Napi::Env env, v8::CpuProfile* profile) {
    if (profile == nullptr) {
      Napi::Error::New(env, "V8 returned no CPU profile").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int32_t first_new = int32_t(merged_.size());
    new_parent_.clear(), new_script_.clear(), new_line_.clear(), new_col_.clear();
    new_name_.clear(), new_url_.clear();

    // Profile node id -> merged id, walking the tree iteratively (stacks can be thousands deep).
    std::vector<int32_t> merged_of;
    std::vector<std::pair<const v8::CpuProfileNode*, int32_t>> work;
    work.emplace_back(profile->GetTopDownRoot(), -1);
    while (!work.empty()) {
      auto [node, parent] = work.back();
      work.pop_back();
      const int32_t id = Intern(parent, node);
      const unsigned nid = node->GetNodeId();
      if (nid >= merged_of.size()) merged_of.resize(nid + 1, -1);
      merged_of[nid] = id;
      for (int i = node->GetChildrenCount() - 1; i >= 0; i--) work.emplace_back(node->GetChild(i), id);
    }

    const int count = profile->GetSamplesCount();
    std::vector<int32_t> sample_node;
    std::vector<double> sample_time;
    std::vector<uint8_t> sample_state;
    sample_node.reserve(count), sample_time.reserve(count), sample_state.reserve(count);
    // A sample taken while two profiles overlapped (inside Drain) is in both: keep the first copy.
    int i = 0;
    while (i < count && profile->GetSampleTimestamp(i) <= last_time_) i++;
    for (; i < count; i++) {
      const v8::CpuProfileNode* node = profile->GetSample(i);
      const unsigned nid = node ? node->GetNodeId() : 0;
      sample_node.push_back(nid < merged_of.size() ? merged_of[nid] : -1);
      const int64_t t = profile->GetSampleTimestamp(i);
      sample_time.push_back(double(t));
      sample_state.push_back(uint8_t(profile->GetSampleState(i)));
      if (t > last_time_) last_time_ = t;
    }

    Napi::Object out = Napi::Object::New(env);
    out.Set("startTime", double(profile->GetStartTime()));
    out.Set("endTime", double(profile->GetEndTime()));
    profile->Delete();

    out.Set("firstNode", first_new);
    out.Set("parent", MakeTyped<int32_t, Napi::Int32Array>(env, new_parent_));
    out.Set("scriptId", MakeTyped<int32_t, Napi::Int32Array>(env, new_script_));
    out.Set("line", MakeTyped<int32_t, Napi::Int32Array>(env, new_line_));
    out.Set("col", MakeTyped<int32_t, Napi::Int32Array>(env, new_col_));
    Napi::Array names = Napi::Array::New(env, new_name_.size());
    Napi::Array urls = Napi::Array::New(env, new_url_.size());
    for (size_t k = 0; k < new_name_.size(); k++) {
      names.Set(uint32_t(k), new_name_[k]);
      urls.Set(uint32_t(k), new_url_[k]);
    }
    out.Set("name", names);
    out.Set("url", urls);
    out.Set("node", MakeTyped<int32_t, Napi::Int32Array>(env, sample_node));
    out.Set("time", MakeTyped<double, Napi::Float64Array>(env, sample_time));
    out.Set("state", MakeTyped<uint8_t, Napi::Uint8Array>(env, sample_state));
    if (cpu_on_) out.Set("cpu", MakeTyped<double, Napi::Float64Array>(env, CpuAt(sample_time)));
    return out;
  }

  // The JS thread's CPU time (us, since its start) at each sample time, interpolated between readings.
  std::vector<double> CpuAt(const std::vector<double>& times) {
    readings_.clear();
    cpu_.Take(readings_);
    std::vector<double> out(times.size(), 0);
    if (readings_.empty()) return out;
    size_t j = 0;
    for (size_t k = 0; k < times.size(); k++) {
      const double t = times[k];
      while (j + 1 < readings_.size() && double(readings_[j + 1].time_us) <= t) j++;
      const CpuReading& a = readings_[j];
      double cpu = double(a.cpu_ns) / 1000;
      if (j + 1 < readings_.size() && t > double(a.time_us)) {
        const CpuReading& b = readings_[j + 1];
        const double span = double(b.time_us - a.time_us);
        if (span > 0) cpu += (double(b.cpu_ns - a.cpu_ns) / 1000) * (t - double(a.time_us)) / span;
      }
      out[k] = cpu;
    }
    return out;
  }

  napi_env env_ = nullptr;
  bool hooked_ = false;
  v8::Isolate* isolate_ = nullptr;
  v8::CpuProfiler* profiler_ = nullptr;
  v8::ProfilerId current_ = 0;
  int interval_us_ = 1000;
  int cpu_interval_us_ = 0;
  bool cpu_on_ = false;
  int64_t last_time_ = INT64_MIN;
  ThreadCpuClock cpu_;
  std::vector<CpuReading> readings_;

  std::unordered_map<std::string, int32_t> merged_;
  std::string key_;
  std::vector<int32_t> new_parent_, new_script_, new_line_, new_col_;
  std::vector<std::string> new_name_, new_url_;
};

}  // namespace tsprofile

static Napi::Object InitSampler(Napi::Env env, Napi::Object exports) {
  exports.Set("Sampler", tsprofile::Sampler::Define(env));
  // The ABI this binary was built for; the loader checks it against process.versions.modules.
  exports.Set("moduleVersion", Napi::Number::New(env, NODE_MODULE_VERSION));
  return exports;
}

NODE_API_MODULE(tsprofile_sampler, InitSampler)
