#!/usr/bin/env bash
# Build a tiny processor image from the host's busybox-static, without any registry.
#   deploy/scripts/build-busybox-image.sh [IMAGE]      (default localhost/radswift-busybox:latest)
# Needs: podman, busybox-static (Debian). About 2 MB and 0.3 s. Used by the podman tests as
# the "user's processor" and as an example of how to make a processor image locally.
set -euo pipefail
image="${1:-localhost/radswift-busybox:latest}"
busybox="$(command -v busybox || true)"
if [[ -z "$busybox" ]] || ldd "$busybox" >/dev/null 2>&1; then  # ldd fails on static binaries
  echo "build-busybox-image: need a static busybox (apt-get install busybox-static)" >&2
  exit 1
fi
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,tmp,share}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do  # relative links: --install -s writes host paths
  [[ "$applet" == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nprocessor:x:1001:0:processor:/tmp:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nprocessor:x:1001:\n' > "$rootfs/etc/group"
tar -C "$rootfs" -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "$image"
