#!/usr/bin/env bash
# Build the container image with the Dockerfile unchanged and test it, on a
# machine without a Docker engine: Debian's podman with runc, a private podman
# configuration (no system file is edited), and a debian:bookworm-slim base
# image made locally with debootstrap from the configured Debian mirror.
# Traffic goes only to the project's test server on 127.0.0.1.
# Prints a closing "N passed, M failed" line; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
IMAGE=localhost/crawl:test
BASE=docker.io/library/debian:bookworm-slim
pass=0
fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}

need=""
for p in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need >/dev/null \
    || { bad "install$need"; finish; }
fi

WORK=$(mktemp -d /tmp/crawl-container.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  podman rm -f crawl-sigterm >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# Private podman configuration: root here cannot raise the hard open-files
# limit that podman asks for by default, and crun fails on this cgroup setup.
hard=$(ulimit -Hn)
cat > "$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$hard:$hard", "nproc=32768:32768"]
netns = "host"
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"

# The base image, made once and kept in podman's storage.
if ! podman image exists "$BASE"; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
  [ -n "$mirror" ] || { bad "no Debian mirror configured in /etc/apt/sources.list.d/debian.sources"; finish; }
  rootfs="$WORK/rootfs"
  echo "making $BASE with debootstrap (about a minute)"
  if debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    mkdir -p "$rootfs/etc/apt/sources.list.d"
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
    rm -f "$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
    tar --numeric-owner -C "$rootfs" -c . | podman import --change 'CMD ["bash"]' - "$BASE" >/dev/null 2>&1 \
      && ok "base image $BASE made with debootstrap" || { bad "podman import"; finish; }
  else
    tail -5 "$WORK/debootstrap.log"
    bad "debootstrap"
    finish
  fi
fi

# Build with the Dockerfile unchanged.
if podman build --pull=never --network host -t "$IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1; then
  ok "image builds from the Dockerfile"
else
  tail -30 "$WORK/build.log"
  bad "podman build"
  finish
fi

uid=$(podman run --rm --network none --entrypoint id "$IMAGE" -u 2>/dev/null)
[ -n "$uid" ] && [ "$uid" != 0 ] && ok "runs as a non-root user (uid $uid)" || bad "runs as root or id failed ($uid)"
cc=$(podman run --rm --network none --entrypoint sh "$IMAGE" -c 'command -v cc gcc clang c99 || echo none' 2>&1)
[ "$cc" = none ] && ok "no compiler in the runtime image" || bad "compiler found: $cc"
ep=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")
[ "$ep" = '["crawl"]' ] && ok "entrypoint is crawl" || bad "entrypoint is $ep"
podman run --rm --network none "$IMAGE" --version | grep -q '^libcurl' && ok "crawl --version runs" || bad "--version"

# The project's test server, on the host's loopback.
if [ ! -x build/tests/testserver ]; then
  cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target testserver >/dev/null
fi
coproc SRV { exec ./build/tests/testserver; }
SERVER_PID=$SRV_PID
read -r _ port <&"${SRV[0]}"
base="http://127.0.0.1:$port"
data="$WORK/data"
mkdir -p "$data" && chmod 0777 "$data"
for i in 1 2 3 4 5; do echo "$base/page/p$i"; done > "$data/urls.txt"
echo "$base/status/404" >> "$data/urls.txt"
podman run --rm --network host -v "$data:/data" "$IMAGE" -q --retries 0 -i urls.txt -o out.jsonl
rc=$?
[ "$rc" = 8 ] && ok "URL list run exits 8 (one 404 in the list)" || bad "URL list run exit status $rc"
if python3 - "$data/out.jsonl" "$base" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
base = sys.argv[2]
assert len(recs) == 6, len(recs)
by = {r["url"]: r for r in recs}
for i in range(1, 6):
    assert by["%s/page/p%d" % (base, i)]["status"] == 200
assert by[base + "/status/404"]["error"]["kind"] == "http"
PY
then ok "JSON Lines output complete and correct"; else bad "JSON Lines output"; fi

# SIGTERM (what docker stop sends) in the middle of a slower run: crawl is
# PID 1, drains the fetches in flight and leaves complete output.
for i in $(seq 1 40); do echo "$base/delay/400?i=$i"; done > "$data/slow.txt"
podman run -d --name crawl-sigterm --network host -v "$data:/data" "$IMAGE" -q -j 4 -i slow.txt -o slow.jsonl >/dev/null
sleep 1.5
podman stop -t 30 crawl-sigterm >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' crawl-sigterm)
podman rm crawl-sigterm >/dev/null
[ "$code" = 130 ] && ok "SIGTERM: exit status 130" || bad "SIGTERM: exit status $code"
if python3 - "$data/slow.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert 4 <= len(recs) < 40, len(recs)
assert all(r["status"] == 200 for r in recs), "in-flight fetches should have been drained"
assert len({r["url"] for r in recs}) == len(recs)
PY
then ok "SIGTERM: output valid, in-flight fetches finished"; else bad "SIGTERM output"; fi

finish
