#!/usr/bin/env bash
# Sets lopt up on Debian/Ubuntu with Node 20, from the repository root, reaching nothing but Debian's
# packages and the npm registry:
#   1. apt: OpenBLAS, a C compiler, the Fashion-MNIST package, and what the tests need (redis-server for
#      the distributed tests, chromium for the report and browser tests, clang-14, lld-14 and wasi-libc
#      for the check that wasm/lopt_kernels.wasm rebuilds from its sources); LOPT_SETUP_TESTS=0 leaves
#      those out;
#   2. Node's own headers for native builds (ours and better-sqlite3's), so node-gyp downloads nothing;
#   3. npm ci (builds the native addon and the TypeScript), then a check that the native parts load;
#   4. the data sets from ../shared/datasets when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*" >&2; }

packages=(libopenblas-dev dataset-fashion-mnist g++ make python3)
if [ "${LOPT_SETUP_TESTS:-1}" != 0 ]; then packages+=(redis-server chromium clang-14 lld-14 wasi-libc); fi
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} with apt"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node-gyp builds against these headers instead of downloading them (it could not: no other host is
# reachable). Official and NodeSource builds of Node keep them beside the binary (PREFIX/include/node).
node_prefix=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
if [ -z "${npm_config_nodedir:-}" ]; then
  if [ ! -f "$node_prefix/include/node/node_api.h" ]; then
    say "Node.js headers not found in $node_prefix/include/node: install the headers of your Node $(node -v) there (for Debian's own nodejs: apt-get install libnode-dev), or set npm_config_nodedir=DIR to a folder with include/node, then run this again"
    exit 1
  fi
  export npm_config_nodedir=$node_prefix
fi

npm ci --no-audit --no-fund

# The optional native dependency of `lopt study` and `lopt report`: say so in one line if it did not build.
if ! node -e 'require("better-sqlite3")' >/dev/null 2>&1; then
  say "better-sqlite3 did not build, so lopt study and lopt report cannot run (the rest works): check that g++, make and python3 are installed, then run: npm_config_nodedir=$npm_config_nodedir npm rebuild better-sqlite3"
fi

# CIFAR-10 and Tiny ImageNet 16x16 from ../shared/datasets when it is there (else it says where to get them).
node scripts/install-data.mjs
