#!/usr/bin/env bash
# Static checks, run by .ci/run before the tests (about a minute on 2 cores):
#   - clang-format on the C lines changed since BASE: the tree is not
#     reformatted wholesale; .clang-format describes the code as written, and
#     what a change touches must follow it
#   - cppcheck on the C files git tracks in src/, tests/ and bench/
#   - clang-tidy on src/ (the checks in .clang-tidy)
#   - shellcheck (warnings and errors) on scripts/*.sh and .ci/run
# Findings we accept are listed in scripts/lint-accepted.txt ("TOOL ID PATH").
#
#   scripts/lint.sh [BASE]   BASE: a git revision; default: the merge base with
#                            origin/main if that differs from HEAD, else HEAD~1;
#                            with neither (a one-commit clone), every C file.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
accepted=scripts/lint-accepted.txt
failed=0
fail() { echo "lint: $*" >&2; failed=1; }
for tool in clang-format git-clang-format cppcheck clang-tidy shellcheck; do
  command -v "$tool" >/dev/null || { echo "lint: $tool missing (bash scripts/deps.sh installs it)" >&2; exit 2; }
done

# ---- clang-format -------------------------------------------------------------------
base="${1:-}"
if [ -z "$base" ]; then
  if git rev-parse -q --verify origin/main >/dev/null &&
     [ "$(git rev-parse origin/main)" != "$(git rev-parse HEAD)" ]; then
    base=$(git merge-base origin/main HEAD)
  elif git rev-parse -q --verify HEAD~1 >/dev/null; then
    base=HEAD~1
  fi
fi
if [ -n "$base" ]; then
  echo "lint: clang-format on lines changed since $(git rev-parse --short "$base")"
  out=$(git clang-format --binary clang-format --extensions c,h --diff "$base" -- src include tests bench 2>&1)
  case "$out" in
    ""|"no modified files to format"|"clang-format did not modify any files") ;;
    *) echo "$out"; fail "clang-format: format the lines above (git clang-format $base)" ;;
  esac
else
  # A one-commit (shallow) clone: nothing to compare with. The tree as a whole
  # is not formatted by clang-format, so this only reports.
  echo "lint: clang-format on every C file (no base revision; a report, not a failure)"
  git ls-files 'src/*.[ch]' 'include/*.h' 'tests/*.[ch]' 'bench/*.[ch]' | while read -r f; do
    clang-format "$f" | cmp -s - "$f" || echo "lint: clang-format would change $f"
  done
fi

# ---- cppcheck -----------------------------------------------------------------------
sup=$(mktemp)
trap 'rm -f "$sup"' EXIT
awk '$1 == "cppcheck" { print $2 ":" $3 }' "$accepted" > "$sup"
echo "lint: cppcheck"
mapfile -t cfiles < <(git ls-files 'src/*.c' 'tests/*.c' 'bench/*.c') # not ignored trees such as node_modules
cppcheck -q -j2 --std=c11 --enable=warning,performance,portability --inline-suppr \
  --suppressions-list="$sup" -D_GNU_SOURCE -Isrc -Iinclude --error-exitcode=1 \
  "${cfiles[@]}" ||
  fail "cppcheck: findings above (fix them, or list them in $accepted)"

# ---- clang-tidy ---------------------------------------------------------------------
echo "lint: clang-tidy"
tidy_build=$(mktemp -d)
trap 'rm -f "$sup"; rm -rf "$tidy_build"' EXIT
cmake -S . -B "$tidy_build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_C_COMPILER=clang \
  -DCRAWL_TESTS=OFF -DCRAWL_BENCH=OFF >/dev/null || fail "cmake (for clang-tidy) failed"
findings=$(git ls-files 'src/*.c' | xargs -P2 -n4 clang-tidy -p "$tidy_build" --quiet 2>/dev/null |
  grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' | sed "s|^$PWD/||" | sort -u)
new=$(echo "$findings" | awk -v acc="$accepted" '
  BEGIN { while ((getline l < acc) > 0) { split(l, f, " "); if (f[1] == "clang-tidy") ok[f[3] " " f[2]] = 1 } }
  NF { file = $1; sub(/:.*/, "", file); id = $NF; gsub(/[][]/, "", id); if (!((file " " id) in ok)) print }')
if [ -n "$new" ]; then
  echo "$new"
  fail "clang-tidy: findings above (fix them, or list them in $accepted)"
fi

# ---- shellcheck ---------------------------------------------------------------------
echo "lint: shellcheck"
shellcheck -S warning scripts/*.sh .ci/run || fail "shellcheck: findings above"

[ "$failed" = 0 ] && echo "lint: clean"
exit "$failed"
