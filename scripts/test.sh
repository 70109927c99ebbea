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
# The WARC tests validate output with warcio.js (npm), a reader we did not write.
if ! command -v npm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi
(cd tests/warc && npm ci --no-audit --no-fund >/dev/null)
cmake -S . -B "$dir" "${args[@]}"
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure --timeout 600 -j"$(nproc)"
