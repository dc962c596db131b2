#!/usr/bin/env bash
# Molecule scenarios in podman containers: installs podman, runc and debootstrap, builds the local
# Debian 12 and 13 images once (no image registry is reachable), takes containers.podman from the
# ansible wheel, then runs `molecule test` for every scenario on Debian 12 and the default scenario
# on Debian 13 too (or the ones named, on Debian 12: scripts/molecule.sh default).
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

IMAGE=localhost/netops-tcp-deb12:latest
IMAGE13=localhost/netops-tcp-deb13:latest
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/netops.tcp"

# shellcheck source=scripts/podman.sh
source "$ROOT/scripts/podman.sh"
podman_ready
[[ -t 1 ]] || export NO_COLOR=1 ANSIBLE_NOCOLOR=1

image "$IMAGE" bookworm

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
  image "$IMAGE13" trixie
  log "the default scenario on Debian 13"
  MOLECULE_IMAGE="$IMAGE13" molecule test -s default
fi
