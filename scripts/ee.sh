#!/usr/bin/env bash
# The execution environment (execution-environment.yml) built with ansible-builder and podman on a
# machine that reaches no image registry: against a local Debian 13 base made with debootstrap,
# with netops.tcp from a tarball of this checkout. Skips the build when nothing it reads changed.
#   scripts/ee.sh                  build if needed; prints the image name and its size
#   scripts/ee.sh --print-image    print the image name only (builds nothing)
# NETOPS_TCP_EE_IMAGE names the image (two checkouts on one machine each build their own).
set -euo pipefail
IMAGE="${NETOPS_TCP_EE_IMAGE:-localhost/netops-tcp-ee:latest}"
BASE=localhost/netops-tcp-ee-base:trixie
if [[ "${1:-}" == --print-image ]]; then echo "$IMAGE"; exit 0; fi

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# shellcheck source=scripts/podman.sh
source "$ROOT/scripts/podman.sh"
cd "$ROOT"
podman_ready

# The base, for ansible-builder's scripts, which were written for Fedora/RHEL bases:
# - pip_install runs `$PYCMD -m ensurepip --root /`, which Debian refuses for its system python:
#   PYCMD is a venv's python (/opt/ee, first on PATH), where ensurepip is allowed;
# - they call `$PKGMGR install -y PKGS` and `$PKGMGR clean all` (under set -e): PKGMGR is a small
#   apt-get wrapper that refreshes the lists first, never asks, and empties them when cleaning.
# The image carries a hash of this function: changing the recipe rebuilds it.
base_image() {
  local rootfs
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates trixie "$rootfs" >/dev/null
  chroot "$rootfs" /usr/bin/python3 -m venv --without-pip /opt/ee
  printf '%s\n' 'deb http://deb.debian.org/debian trixie-updates main' \
    'deb http://deb.debian.org/debian-security trixie-security main' >> "$rootfs/etc/apt/sources.list"
  cat > "$rootfs/usr/local/sbin/ee-apt" <<'SH'
#!/bin/sh
# PKGMGR for ansible-builder on Debian (netops.tcp scripts/ee.sh).
set -e
export DEBIAN_FRONTEND=noninteractive
case "$1" in
  install) shift; apt-get update -qq; exec apt-get install -y --no-install-recommends "$@" ;;
  clean) apt-get clean; rm -rf /var/lib/apt/lists/* ;;
  *) exec apt-get "$@" ;;
esac
SH
  chmod 0755 "$rootfs/usr/local/sbin/ee-apt"
  # debootstrap copies this machine's name and resolver; podman provides both at run time.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
  tar -C "$rootfs" -c . | podman import -q \
    --change 'ENV PATH=/opt/ee/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
    --change "LABEL netops.tcp.recipe=$1" - "$BASE" >/dev/null
  rm -rf "$rootfs"
}
label() { podman image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null || true; }

recipe="$(declare -f base_image | sha256sum | cut -c1-16)"
if [[ "$(label "$BASE" netops.tcp.recipe)" != "$recipe" ]]; then
  log "building $BASE with debootstrap (once; 30 s to 3 minutes)"
  base_image "$recipe"
fi

# The collection as users get it (galaxy.yml's build_ignore applies), under the fixed name the
# definition names. Its FILES.json lists every file's checksum: the content hash, without mtimes.
mkdir -p build/ee
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ansible-galaxy collection build --force --output-path "$tmp" >/dev/null
mv "$tmp"/netops-tcp-*.tar.gz build/ee/netops-tcp.tar.gz

# The local base instead of the public one. pip inside the RUN steps reaches PyPI as this machine's
# does: host network, and its CA bundle over the base's for the build only (pip trusts the system
# store). No pip.conf mount: podman 4.3 leaves an empty file at a mount point the image lacks.
build_args=(--build-arg "EE_BASE_IMAGE=$BASE" --build-arg PYCMD=/opt/ee/bin/python3
  --build-arg PKGMGR=/usr/local/sbin/ee-apt)
podman_args="--network host -v ${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}:/etc/ssl/certs/ca-certificates.crt:ro"
inputs="$( { cat execution-environment.yml; tar -xzOf build/ee/netops-tcp.tar.gz MANIFEST.json FILES.json
  podman image inspect --format '{{.Id}}' "$BASE"; echo "${build_args[*]} $podman_args"; } | sha256sum | cut -c1-16)"

if [[ "$(label "$IMAGE" netops.tcp.inputs)" == "$inputs" ]]; then
  log "$IMAGE is current (inputs $inputs)"
else
  log "building $IMAGE with ansible-builder (inputs $inputs)"
  ansible-builder build -f execution-environment.yml --context build/ee/context -t "$IMAGE" \
    --container-runtime podman "${build_args[@]}" --extra-build-cli-args "$podman_args --label netops.tcp.inputs=$inputs"
  # Untagged leftovers of ours (the image this one replaces, the galaxy and builder stages): they all
  # carry the base's label. Never a cache worth keeping: whatever triggers a build changes them.
  # One a running job still uses (another checkout's, CI's) stays, until the next build.
  podman image prune -f --filter label=netops.tcp.recipe >/dev/null 2>&1 || log "some leftover images are in use: kept"
fi
echo "$IMAGE $(( $(podman image inspect --format '{{.Size}}' "$IMAGE") / 1000000 )) MB"
