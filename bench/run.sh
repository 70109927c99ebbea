#!/usr/bin/env bash
# One command for the fetch benchmark: installs the peers from Debian's
# packages, builds crawl, and runs bench/fetch_bench.py (127.0.0.1 only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
pkgs="nginx-light wrk wget2 aria2 python3-aiohttp curl python3.11-doc python3-scrapy nghttp2-server nghttp2-client"
missing=""
for p in $pkgs; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; fi
cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" >/dev/null
./build/bench/coro_bench
python3 bench/fetch_bench.py "$@"
./build/bench/links_bench
python3 bench/crawl_bench.py
