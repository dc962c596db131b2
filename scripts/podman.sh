#!/usr/bin/env bash
# Sourced by molecule.sh and test.sh: podman, runc and debootstrap installed when missing, the
# project's containers.conf, and `image NAME SUITE`, which builds a minimal local Debian image once
# (no image registry is reachable here). Needs bootstrap.sh sourced first (ROOT, log).

podman_ready() {
  local missing=() pair
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
}

# image NAME SUITE: a minimal Debian SUITE with what the targets need (python3, ip, sysctl).
image() {
  podman image exists "$1" && return
  log "building $1 with debootstrap (once; a minute or three)"
  local rootfs
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase --include=python3,iproute2,procps "$2" "$rootfs" >/dev/null
  tar -C "$rootfs" -c . | podman import - "$1" >/dev/null
  rm -rf "$rootfs"
}
