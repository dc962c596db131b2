#!/usr/bin/env bash
# Molecule scenarios in podman containers: installs podman, runc and debootstrap, builds the local
# Debian image once (no image registry is reachable), takes containers.podman from the ansible
# wheel, then runs `molecule test` for every scenario (or the ones named: scripts/molecule.sh default).
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

IMAGE=localhost/netops-tcp-deb12:latest
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/netops.tcp"

missing=()
for pair in podman:podman runc:runc debootstrap:debootstrap; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export CONTAINERS_CONF="$ROOT/molecule/containers.conf"
[[ -t 1 ]] || export NO_COLOR=1 ANSIBLE_NOCOLOR=1

if ! podman image exists "$IMAGE"; then
  log "building $IMAGE with debootstrap (once; about a minute)"
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase --include=python3,iproute2,procps bookworm "$rootfs" >/dev/null
  tar -C "$rootfs" -c . | podman import - "$IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

# containers.podman (the driver's connection and modules) from the ansible wheel: Galaxy is unreachable.
podman_collection="$CACHE/ansible-wheel-collections"
if [[ ! -d "$podman_collection/ansible_collections/containers/podman" ]]; then
  log "extracting containers.podman from the ansible wheel"
  mkdir -p "$CACHE/wheel"
  pip download -q --disable-pip-version-check --no-deps -d "$CACHE/wheel" ansible==12.3.0
  python - "$CACHE/wheel" "$podman_collection" <<'PY'
import os, sys, zipfile
wheels, target = sys.argv[1:]
wheel = [os.path.join(wheels, f) for f in os.listdir(wheels) if f.startswith('ansible-') and f.endswith('.whl')][0]
with zipfile.ZipFile(wheel) as archive:
    archive.extractall(target, [n for n in archive.namelist() if n.startswith('ansible_collections/containers/podman/')])
PY
fi
export ANSIBLE_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH:$podman_collection"
export MOLECULE_IMAGE="$IMAGE"

if (($#)); then
  for scenario in "$@"; do molecule test -s "$scenario"; done
else
  molecule test --all
fi
