#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan + UBSan + coverage) and run each one
# for SECONDS (default 45) from its seed corpus in tests/fuzz/corpus/TARGET.
# New inputs go to a scratch corpus (build-fuzz/corpus/TARGET), never into the
# checked-in seeds. Any crash stops the script with the crashing input kept in
# build-fuzz/crashes/; turn each finding into a unit test.
#   scripts/fuzz.sh                 every target, 45 s each (what CI runs)
#   scripts/fuzz.sh 3600 fuzz_url   one target for an hour
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-45}"
shift || true
dir=build-fuzz
bash scripts/deps.sh # clang and libFuzzer come with the FUZZ list
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCRAWL_FUZZ=ON -DCRAWL_TESTS=OFF -DCRAWL_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=()
  for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
mkdir -p "$dir/crashes"
for t in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/${t#fuzz_}"
  work="$dir/corpus/${t#fuzz_}"
  mkdir -p "$work"
  echo "fuzz: $t for ${secs}s"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
    "$dir/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$dir/crashes/$t-" -print_final_stats=1 "$work" "$seeds" 2>"$dir/$t.log" ||
    { tail -50 "$dir/$t.log"; echo "fuzz: $t found a crash (input in $dir/crashes/)"; exit 1; }
  grep -E "stat::number_of_executed_units|cov:" "$dir/$t.log" | tail -2 | sed "s/^/  /"
done
echo "fuzz: ${#targets[@]} targets, no crash"
