#!/usr/bin/env bash
# Set-up, configure and build, each step only when needed, so a second run is fast.
# R2S_PRESET picks the CMake preset (default: release, with CUDA when nvcc is found).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
preset="${R2S_PRESET:-release}"
if [[ ! -f "build/${preset}/CMakeCache.txt" ]]; then
  cmake --preset "${preset}" >/dev/null
fi
cmake --build --preset "${preset}" -- -j"$(nproc)"
