#!/usr/bin/env bash
# The one list of Debian packages crawl needs. Used by README, .ci/run and the Dockerfile.
#   scripts/deps.sh            install build + test + lint + fuzz packages (idempotent)
#   scripts/deps.sh --print build|test|lint|fuzz|runtime   print a list, install nothing
set -euo pipefail

# Needed to compile and link crawl.
BUILD_PKGS="build-essential cmake pkg-config libcurl4-openssl-dev libevent-dev libc-ares-dev libjansson-dev libinih-dev libxml2-dev libidn2-dev libpsl-dev zlib1g-dev libssl-dev libsqlite3-dev libmimalloc-dev libxxhash-dev"
# Needed only to run the test suite.
TEST_PKGS="check python3 python3-html5lib groff-base openssl nghttp2-server nghttp2-proxy"
# Needed only by scripts/lint.sh (clang: the compile database clang-tidy reads).
LINT_PKGS="clang-format clang-tidy clang cppcheck shellcheck"
# Needed only by scripts/fuzz.sh (libFuzzer and the sanitizer runtimes for clang).
FUZZ_PKGS="clang libclang-rt-14-dev"
# Shared libraries the installed binary needs at run time (container runtime stage).
RUNTIME_PKGS="libcurl4 libevent-2.1-7 libevent-pthreads-2.1-7 libc-ares2 libjansson4 libinih1 libxml2 libidn2-0 libpsl5 zlib1g libssl3 libsqlite3-0 libmimalloc2.0 libxxhash0 ca-certificates"

case "${1:-}" in
  --print)
    case "${2:-}" in
      build) echo "$BUILD_PKGS" ;;
      test) echo "$TEST_PKGS" ;;
      lint) echo "$LINT_PKGS" ;;
      fuzz) echo "$FUZZ_PKGS" ;;
      runtime) echo "$RUNTIME_PKGS" ;;
      *) echo "usage: $0 --print build|test|lint|fuzz|runtime" >&2; exit 2 ;;
    esac
    exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print build|test|lint|fuzz|runtime]" >&2; exit 2 ;;
esac

want="$BUILD_PKGS $TEST_PKGS $LINT_PKGS $FUZZ_PKGS"
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  # shellcheck disable=SC2086
  $SUDO apt-get install -y --no-install-recommends $missing
fi
