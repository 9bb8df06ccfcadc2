#!/usr/bin/env bash
# Installs what lopt needs on Debian/Ubuntu (OpenBLAS, a C compiler, the Fashion-MNIST package) and
# the npm dependencies, then builds the native addon and the TypeScript. Run from the repository root.
set -euo pipefail
packages=(libopenblas-dev dataset-fashion-mnist g++ make python3)
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
# CIFAR-10 and Tiny ImageNet 16x16 from ../shared/datasets when it is there (else it says where to get them).
node scripts/install-data.mjs
