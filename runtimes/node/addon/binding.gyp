# Built by scripts/build-addon.mjs (node-gyp) once per Node ABI; see runtimes/node/addon-sampler.ts.
{
  "targets": [
    {
      "target_name": "tsprofile_sampler",
      "sources": ["src/sampler.cc", "src/thread_cpu.cc", "src/sampler_priority.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-Wall", "-Wno-unused-parameter"],
      "libraries": ["-lpthread"]
    }
  ]
}
