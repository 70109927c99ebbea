#!/usr/bin/env bash
# Install what the build and tests need, build, and run the whole suite.
#   scripts/test.sh              release build in build/
#   scripts/test.sh --sanitize   ASan + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
dir=build
args=(-DCRAWL_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  args+=(-DCRAWL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$dir" "${args[@]}"
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure --timeout 600
