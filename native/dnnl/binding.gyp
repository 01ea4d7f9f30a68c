{
  "targets": [
    {
      "target_name": "tunelab_dnnl",
      "sources": ["src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-ffp-contract=off"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "ldflags": ["-Wl,-rpath,'$$ORIGIN'"]
    }
  ]
}
