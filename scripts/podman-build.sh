#!/usr/bin/env bash
# Prove the Dockerfile builds without any container registry: make a Debian 12
# root with debootstrap (from the Debian mirror apt uses here), import it into
# podman as debian:bookworm-slim, build with chroot isolation and --pull=never,
# then export the image root and run the built binaries from it.  The last line
# printed is the image's `sluiced --version`.  Needs root; not run in CI.
#
# Idempotent: the debootstrap tarball is cached under $SLUICE_PODMAN_WORK
# (default /var/tmp/sluice-podman) and the base image is imported once, so a
# second run only redoes what the layer cache cannot reuse.
#   SLUICE_DEBIAN_MIRROR=URL   Debian mirror (default: the one in apt's sources)
#   SLUICE_PODMAN_DRIVER=vfs   storage driver; anything other than podman's
#                              default uses a private store under the work dir
#                              (podman pins one driver per store).  If podman's
#                              default store does not work, vfs is used.
#   SLUICE_PODMAN_REFRESH=1    re-debootstrap and re-import the base image
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 2; }
start=$SECONDS
say() { printf '==> %s\n' "$*" >&2; }

missing=()
for p in podman debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

work=${SLUICE_PODMAN_WORK:-/var/tmp/sluice-podman}
mkdir -p "$work"

# --- Debian mirrors: the ones apt uses on this machine ----------------------
# Print the first URI that apt's sources list for suite $1 (one-line .list and
# deb822 .sources formats).
apt_uri() {
  local suite=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    if [[ $f == *.sources ]]; then
      awk -v s="$suite" '
        function flush() { if (deb && hit && uri != "") { print uri; found = 1; exit } deb = hit = 0; uri = "" }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        tolower($1) == "types:"  { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
        tolower($1) == "uris:"   { uri = $2 }
        tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
        END { if (!found) flush() }' "$f"
    else
      awk -v s="$suite" '
        $1 != "deb" { next }
        { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } }
        $(i + 1) == s { print $i; exit }' "$f"
    fi
  done | head -n1
}
mirror=${SLUICE_DEBIAN_MIRROR:-$(apt_uri bookworm)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(apt_uri bookworm-security)
security=${security:-${mirror%/debian}/debian-security}
say "Debian mirror $mirror (security: $security)"

# --- podman storage -----------------------------------------------------------
# A private store (own root, runroot and database) for a non-default driver,
# since podman refuses to open its default store with another driver.
driver=${SLUICE_PODMAN_DRIVER:-}
if [ -z "$driver" ] && ! podman info >/dev/null 2>&1; then
  say "podman's default storage does not work here; using vfs"
  driver=vfs
fi
pod=(podman)
if [ -n "$driver" ] && [ "$driver" != "$(podman info --format '{{.Store.GraphDriverName}}' 2>/dev/null)" ]; then
  pod+=(--storage-driver "$driver" --root "$work/storage-$driver" --runroot "$work/run-$driver")
fi
# Resolve the short name debian:bookworm-slim locally, whatever the host's
# registries.conf says (an alias, and no registry is ever contacted).
cat >"$work/registries.conf" <<'CONF'
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
[aliases]
"debian" = "docker.io/library/debian"
CONF
export CONTAINERS_REGISTRIES_CONF="$work/registries.conf"

# --- base image: debootstrap -> tarball (cached) -> podman import ------------
base=docker.io/library/debian:bookworm-slim
tarball=$work/debian-bookworm-minbase.tar
if [ "${SLUICE_PODMAN_REFRESH:-0}" = 1 ]; then
  rm -f "$tarball"
  "${pod[@]}" rmi -f "$base" localhost/debian:bookworm-slim >/dev/null 2>&1 || true
fi
if ! "${pod[@]}" image exists "$base"; then
  if [ ! -f "$tarball" ]; then
    rootfs=$work/rootfs
    rm -rf "$rootfs"
    say "debootstrap bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    # Like the official image: deb822 sources with updates and security, and
    # the -slim dpkg excludes (no docs, man pages or locales).
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
DPKG
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/*
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  say "importing $tarball as $base"
  "${pod[@]}" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$tarball" "$base" >/dev/null
  # Also under localhost/, which podman tries for short names with any config.
  "${pod[@]}" tag "$base" localhost/debian:bookworm-slim
fi

# --- build ---------------------------------------------------------------------
say "podman build (chroot isolation, no pulls)"
"${pod[@]}" build --isolation=chroot --pull=never --layers -f Dockerfile -t localhost/sluice:dev .

# --- export the image root and run its binaries ----------------------------------
root=$work/image-root
rm -rf "$root" && mkdir -p "$root"
cid=$("${pod[@]}" create localhost/sluice:dev)
trap '"${pod[@]}" rm -f "$cid" >/dev/null 2>&1 || true' EXIT
"${pod[@]}" export "$cid" | tar --numeric-owner -C "$root" -xf -
"${pod[@]}" rm -f "$cid" >/dev/null
trap - EXIT

for b in sluiced sluice-proxy; do
  [ -x "$root/usr/local/bin/$b" ] || { echo "image lacks /usr/local/bin/$b" >&2; exit 1; }
  if chroot "$root" ldd "/usr/local/bin/$b" | grep 'not found'; then
    echo "$b: missing runtime libraries in the image" >&2; exit 1
  fi
done
chroot "$root" /usr/local/bin/sluice-proxy --help
# sluiced, as the image's user, must find sluice-proxy beside itself (it
# resolves /proc/self/exe, hence a private /proc).
log=$(timeout -s TERM 3 unshare --mount --pid --fork --mount-proc --root="$root" \
        setpriv --reuid=sluice --regid=sluice --init-groups \
        /usr/local/bin/sluiced --listen 127.0.0.1:"${SLUICE_SMOKE_PORT:-17070}" \
        --data-dir /var/lib/sluice 2>&1 || true)
if ! grep -q 'supervise: started /usr/local/bin/sluice-proxy' <<<"$log"; then
  printf '%s\n' "$log" >&2
  echo "sluiced in the image did not start its sluice-proxy" >&2; exit 1
fi
say "sluiced started /usr/local/bin/sluice-proxy as user sluice"
say "image localhost/sluice:dev built and checked in $((SECONDS - start))s"
chroot "$root" /usr/local/bin/sluiced --version
