{
  "targets": [
    {
      "target_name": "lopt_native",
      "sources": [
        "native/src/addon.c",
        "native/src/addon_nn.c",
        "native/src/addon_nn_layers.c",
        "native/src/addon_learned.c",
        "native/src/kernels.c",
        "native/src/nn_kernels.c",
        "native/src/learned_kernels.c",
        "native/src/thread_pool.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags": [
        "-O3",
        "-std=gnu11",
        "-fno-math-errno",
        "-ffp-contract=off",
        "-fopenmp-simd",
        "-fvisibility=hidden",
        "-pthread"
      ],
      "ldflags": ["-pthread"],
      "cflags!": ["-O2"],
      "libraries": ["-lopenblas"],
      "include_dirs": [
        "/usr/include/x86_64-linux-gnu/openblas-pthread",
        "/usr/include/aarch64-linux-gnu/openblas-pthread",
        "/usr/include/openblas"
      ]
    }
  ]
}
