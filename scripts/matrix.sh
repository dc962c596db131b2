#!/usr/bin/env bash
# The controller matrix beyond this machine's ansible-core 2.19 on Python 3.11: ansible-core 2.20
# and 2.21 on Python 3.13, each in its own venv inside a Debian 13 (trixie) root that debootstrap
# builds once from Debian's packages, with wheels from PyPI (tests/matrix/ansible-*.txt). In each:
# ansible-test sanity of that core, the unit tests and one integration pass (the tune lifecycle and
# the fleet audit on namespace hosts).   scripts/matrix.sh [2.20 2.21]
#
# The root is entered with a mount namespace of its own and pivot_root, not chroot: namespace hosts
# made inside it (nsenter -m) then see the root's files, not this machine's. Tests that write
# sysctls do so inside network namespaces, as on the machine itself.
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

CORES=("$@")
((${#CORES[@]})) || CORES=(2.20 2.21)
DEB13="${XDG_CACHE_HOME:-$HOME/.cache}/netops.tcp/debian13-root"
# python3-venv for the venvs, iproute2/procps/mount for the namespace hosts, shellcheck for sanity.
PACKAGES=python3,python3-venv,iproute2,procps,mount,ca-certificates,shellcheck
ARCH="$(uname -m)"

if ! command -v debootstrap >/dev/null; then
  log "installing Debian package: debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
if [[ "$(cat "$DEB13/.netops-packages" 2>/dev/null)" != "$PACKAGES" ]]; then
  log "building the Debian 13 root with debootstrap (once; about 3 minutes)"
  rm -rf "$DEB13" "$DEB13.new"
  mkdir -p "$(dirname "$DEB13")"
  debootstrap --variant=minbase --include="$PACKAGES" trixie "$DEB13.new" >/dev/null
  mkdir -p "$DEB13.new/src" "$DEB13.new/opt/netops"
  echo "$PACKAGES" > "$DEB13.new/.netops-packages"
  mv "$DEB13.new" "$DEB13"  # only a finished root is ever used
fi
# pip inside the root reaches the registry as this machine's does: same configuration, same CA bundle.
[[ -f /etc/pip.conf ]] && cp /etc/pip.conf "$DEB13/etc/pip.conf"
for bundle in "${PIP_CERT:-}" "${SSL_CERT_FILE:-}"; do
  [[ -n "$bundle" && -f "$bundle" ]] && mkdir -p "$DEB13$(dirname "$bundle")" && cp "$bundle" "$DEB13$bundle"
done

# in_root DIR CMD...: CMD inside the root, with the checkout at /src and DIR (a copy for
# ansible-test) at /sanity; a clean environment but for pip's settings.
in_root() {
  local sanity="$1"
  shift
  # shellcheck disable=SC2016  # the script in single quotes is the inner shell's
  env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb CI="${CI:-}" PYTHONDONTWRITEBYTECODE=1 \
    PIP_CERT="${PIP_CERT:-}" SSL_CERT_FILE="${SSL_CERT_FILE:-}" PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-60}" \
    unshare --mount --propagation private --fork -- /bin/sh -ec '
      r=$1; src=$2; sanity=$3; shift 3
      mount --bind "$r" "$r"
      mount -t proc proc "$r/proc"
      mount --rbind /dev "$r/dev"
      mount --rbind /sys "$r/sys"
      mount -t tmpfs tmpfs "$r/run"
      mount -t tmpfs tmpfs "$r/tmp"
      mount --bind "$src" "$r/src"
      mkdir -p "$r/sanity" && mount --bind "$sanity" "$r/sanity"
      cd "$r" && mkdir -p .oldroot && pivot_root . .oldroot
      exec /usr/sbin/chroot . /bin/sh -ec "umount -l /.oldroot; cd /src; exec \"\$@\"" sh "$@"
    ' sh "$DEB13" "$ROOT" "$sanity" "$@"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for core in "${CORES[@]}"; do
  requirements="tests/matrix/ansible-$core.txt"
  venv="/opt/netops/ansible-$core"
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ "$(cat "$DEB13$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
    log "ansible-core $core: wheels for Python 3.13 from PyPI, then a venv in the root"
    rm -rf "$DEB13$venv" "$DEB13/opt/netops/wheels-$core"
    pip download -q --disable-pip-version-check --only-binary=:all: --python-version 3.13 --implementation cp \
      --platform "manylinux2014_$ARCH" --platform "manylinux_2_17_$ARCH" --platform "manylinux_2_28_$ARCH" \
      --platform "manylinux_2_34_$ARCH" --platform any -r "$requirements" -d "$DEB13/opt/netops/wheels-$core"
    in_root "$work" sh -c "python3 -m venv $venv && $venv/bin/pip install -q --no-index \
      --find-links /opt/netops/wheels-$core -r /src/$requirements"
    pip_standin "$DEB13$venv" "$DEB13/root/.ansible/test/cache"
    echo "$want" > "$DEB13$venv/.requirements.sha256"
  fi
  sanity="$work/$core"
  copy_collection "$sanity"
  log "ansible-core $core (Python 3.13, Debian 13): ansible-test sanity"
  in_root "$sanity" sh -c "cd /sanity/ansible_collections/netops/tcp && PATH=$venv/bin:\$PATH \
    ansible-test sanity --venv --python 3.13 --color no"
  log "ansible-core $core (Python 3.13, Debian 13): unit tests, tune lifecycle, audit, metrics and other namespaces in namespace hosts"
  in_root "$sanity" "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit \
    tests/integration/test_tune_netns.py::test_check_mode_changes_nothing_then_absent_restores \
    tests/integration/test_tune_netns.py::test_upgrade_v1_to_v2_restores_dropped_keys \
    tests/integration/test_audit_netns.py \
    tests/integration/test_metrics_netns.py::test_check_mode_writes_nothing_and_bad_input_fails_naming_it \
    tests/integration/test_metrics_netns.py::test_an_audit_writes_the_same_findings_as_metrics \
    tests/integration/test_hostile_netns.py::test_no_command_line_leaves_the_host \
    tests/integration/test_hostile_netns.py::test_what_the_exporter_account_plants_is_refused \
    tests/integration/test_hostile_netns.py::test_the_audit_report_destination \
    tests/integration/test_namespaces_netns.py::test_each_namespace_is_counted_as_ss_counts_it_inside \
    tests/integration/test_namespaces_netns.py::test_the_thread_enters_and_the_process_stays
done
