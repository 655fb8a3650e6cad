#!/usr/bin/env bash
# Build the radswift image with podman, here, without a container registry.
#
#   deploy/scripts/build-image.sh [-t IMAGE] [--base IMAGE]
#
# IMAGE defaults to localhost/radswift:<version>. Without --base, the base is
# localhost/radswift-base:bookworm, made once from Debian's archive with
#   debootstrap --variant=minbase --include=python3,python3-venv bookworm
# (about 60-90 s the first time; the trimmed root filesystem is cached as a tar under
# ${XDG_CACHE_HOME:-~/.cache}/radswift, so later builds only `podman import` it).
# With a registry, `--base docker.io/library/python:3.11-slim-bookworm` skips all that.
#
# Needs (Debian): podman runc catatonit debootstrap gcc libc6-dev, and root (rootful podman).
# Environment: PYTHON (the Python that builds the wheels, default .venv/bin/python of the
# repo, else python3; it must be the image's Python minor version, 3.11), CONTAINERS_CONF.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image=""
base=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t|--tag) image="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$repo/.venv/bin/python" ]]; then python="$repo/.venv/bin/python"; else python=python3; fi
fi
version="$("$python" -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["project"]["version"])' "$repo/pyproject.toml")"
image="${image:-localhost/radswift:$version}"

log() { echo "build-image: $*" >&2; }

debian_base() {
  local name=localhost/radswift-base:bookworm
  if podman image exists "$name"; then echo "$name"; return; fi
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/radswift"
  local tarball="$cache/bookworm-python3-rootfs.tar"
  if [[ ! -s "$tarball" ]]; then
    command -v debootstrap >/dev/null || { log "needs debootstrap (apt-get install debootstrap)"; exit 1; }
    mkdir -p "$cache"
    local rootfs; rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
    log "debootstrap of Debian 12 with python3 into $rootfs (once; cached)"
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$rootfs" \
      http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
      || { log "debootstrap failed, see $cache/debootstrap.log"; rm -rf "$rootfs"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc \
      "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/locale
    tar -C "$rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' "$tarball" "$name" >/dev/null
  echo "$name"
}

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
log "wheels of radswift and its dependencies ($python)"
"$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$context/wheels" "$repo" \
  >"$context/pip.log" 2>&1 || { cat "$context/pip.log" >&2; exit 1; }
log "compiling the static radswift-emissary"
PYTHONPATH="$repo/src" "$python" -c 'import sys; from pathlib import Path
from radswift.podcontract.emissary import build_emissary; build_emissary(Path(sys.argv[1]))' \
  "$context/radswift-emissary"
cp "$repo/deploy/image/Containerfile" "$context/Containerfile"
base="${base:-$(debian_base)}"
log "podman build $image from $base"
podman build --quiet --network host --pull=never --build-arg "BASE=$base" \
  --label "io.radswift.version=$version" -t "$image" -f "$context/Containerfile" "$context" >/dev/null
echo "$image"
