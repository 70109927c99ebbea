#!/usr/bin/env bash
# Allocation-failure torture: build crawl without mimalloc plus the
# allocfail shim in build-torture/, then fail each allocation in turn in a
# small fetch, a small recursive crawl and a --state crawl (see
# tests/torture/torture.py). Extra arguments go to torture.py, e.g.
#   scripts/torture.sh --every 1      every allocation, not a sample
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-torture
cmake -S . -B "$dir" -DCRAWL_MIMALLOC=OFF -DCRAWL_TORTURE=ON -DCRAWL_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" --target crawl testserver allocfail >/dev/null
python3 tests/torture/torture.py --build "$dir" "$@"
