# Built by scripts/build-addon.mjs (node-gyp) once per Node ABI; see runtimes/node/addon-sampler.ts.
# Optimised for size, stripped, only its entry point exported: the package ships a build per Node line
# (prebuilt.mjs), and the addon's own code runs on its threads, not the sampled one.
{
  "targets": [
    {
      "target_name": "tsprofile_sampler",
      "sources": ["src/sampler.cc", "src/thread_cpu.cc", "src/sampler_priority.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": [
        "-Os", "-fvisibility=hidden", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wno-unused-parameter"
      ],
      "ldflags": ["-Wl,--gc-sections", "-s"],
      "libraries": ["-lpthread"]
    }
  ]
}
