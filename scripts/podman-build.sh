#!/usr/bin/env bash
# Prove the Dockerfile builds without any registry: make a Debian 12 root with
# debootstrap (from Debian's mirror), import it into podman as
# debian:bookworm-slim, build with chroot isolation, then run the built
# `sluiced --version` from the exported image root.  Needs root; not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 2; }
for p in podman debootstrap buildah; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -n "${missing[*]:-}" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

work=${SLUICE_PODMAN_WORK:-/var/tmp/sluice-podman}
mkdir -p "$work"
if ! podman image exists docker.io/library/debian:bookworm-slim; then
  if [ ! -f "$work/rootfs.tar" ]; then
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian
    tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
  fi
  podman import "$work/rootfs.tar" docker.io/library/debian:bookworm-slim
fi
podman build --isolation=chroot --pull=never -t localhost/sluice:dev .
rm -rf "$work/image-root" && mkdir -p "$work/image-root"
cid=$(podman create localhost/sluice:dev)
podman export "$cid" | tar -C "$work/image-root" -xf -
podman rm "$cid" >/dev/null
chroot "$work/image-root" /usr/local/bin/sluiced --version
echo "image localhost/sluice:dev builds and its sluiced runs"
