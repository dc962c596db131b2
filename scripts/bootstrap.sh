#!/usr/bin/env bash
# Install everything the demo and the tests need on a fresh machine (Debian 12, root).
# Idempotent: a second run only checks. Sourced by demo.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# Outside the checkout, so tools walking the tree do not loop through the link back into it.
COLLECTIONS="${XDG_CACHE_HOME:-$HOME/.cache}/netops.tcp/$(printf %s "$ROOT" | sha1sum | cut -c1-10)/collections"

log() { printf '== %s\n' "$*" >&2; }

# copy_collection DIR: the files git tracks or would track, in DIR/ansible_collections/netops/tcp.
# ansible-test wants the real working directory there (a link is resolved away).
copy_collection() {
  mkdir -p "$1/ansible_collections/netops/tcp"
  (cd "$ROOT" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done \
    | tar -cf - --null -T - | tar -xf - -C "$1/ansible_collections/netops/tcp")
}

# apt_need COMMAND:PACKAGE...: install the Debian packages whose command is missing.
apt_need() {
  local missing=() pair
  for pair in "$@"; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Debian packages: ip/ss/nstat (iproute2), nft (SYN_RECV in tests), netstat (bench), sysctl (procps),
# unshare, shellcheck (ansible-test sanity skips its shell check without it), chromium (renders the
# audit's HTML report in a test), strace (injects faults at system calls in tests/faults).
apt_need ip:iproute2 ss:iproute2 nstat:iproute2 nft:nftables netstat:net-tools sysctl:procps unshare:util-linux \
  shellcheck:shellcheck chromium:chromium strace:strace
# sshd for the test hosts reached over SSH (each runs its own, inside its namespaces) and TuneD's
# profiles and tuned-adm (tests read what it would write; its daemon never runs, it would tune this
# machine). The packages must not start a daemon here: policy-rc.d refuses every start meanwhile.
daemons=()
[[ -x /usr/sbin/sshd ]] || daemons+=(openssh-server)
[[ -x /usr/sbin/tuned-adm ]] || daemons+=(tuned)
if ((${#daemons[@]})); then
  log "installing Debian packages: ${daemons[*]} (no service started)"
  export DEBIAN_FRONTEND=noninteractive
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${daemons[@]}" >/dev/null || { rm -f /usr/sbin/policy-rc.d; exit 1; }
  rm -f /usr/sbin/policy-rc.d
fi
export PATH="$PATH:/usr/sbin:/sbin"

# Debian's node_exporter (the metrics tests run it inside namespace hosts) and promtool (the rules
# tests, `promtool check metrics`): their binaries only, taken out of the packages into the cache,
# so no service of theirs is installed or enabled on this machine.
PROMETHEUS_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/netops.tcp/prometheus-bin"
if [[ ! -x "$PROMETHEUS_BIN/promtool" || ! -x "$PROMETHEUS_BIN/prometheus-node-exporter" ]]; then
  log "extracting promtool and prometheus-node-exporter from Debian's packages into $PROMETHEUS_BIN"
  debs="$(mktemp -d)" && chmod 0755 "$debs"  # apt-get download drops to _apt
  (cd "$debs" && apt-get update -qq && apt-get download -qq prometheus prometheus-node-exporter)
  mkdir -p "$PROMETHEUS_BIN"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$debs/root"; done
  install -m 0755 "$debs/root/usr/bin/promtool" "$debs/root/usr/bin/prometheus-node-exporter" "$PROMETHEUS_BIN/"
  rm -rf "$debs"
fi
export PATH="$PATH:$PROMETHEUS_BIN"

# Python tools in a project venv, reinstalled when the requirement files change.
# venv_for DIR REQUIREMENTS [MORE...]: a venv with REQUIREMENTS installed, made again when
# REQUIREMENTS or the files it includes (MORE) change.
venv_for() {
  local dir="$1" requirements="$2" stamp="$1/.requirements.sha256" want
  want="$(cat "${@:2}" | sha256sum | cut -d' ' -f1)"
  if [[ ! -x "$dir/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    log "creating $dir"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
  fi
}
venv_for "$VENV" "$ROOT/requirements-test.txt" "$ROOT/requirements.txt"

# The checkout as an installed collection: ansible finds netops.tcp here, ansible-test needs
# the path to end in ansible_collections/netops/tcp.
mkdir -p "$COLLECTIONS/ansible_collections/netops"
ln -sfn "$ROOT" "$COLLECTIONS/ansible_collections/netops/tcp"
# Next to tune-tcp.yml, so `ansible-playbook tune-tcp.yml` in a checkout finds netops.tcp by itself
# (ansible searches <playbook dir>/collections); git ignores it.
mkdir -p "$ROOT/collections/ansible_collections/netops"
ln -sfn ../../.. "$ROOT/collections/ansible_collections/netops/tcp"

# ansible-test bootstraps pip in its sanity venvs with a script it downloads from a host this
# machine cannot reach. pip_standin VENV CACHE: a stand-in with the same name, for the pip that
# VENV's ansible-test pins, runs pip's own installer from the wheel (CACHE is ~/.ansible/test/cache).
pip_standin() {
  local version
  version="$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" "$1"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)"
  [[ -f "$2/get_pip_${version//./_}.py" ]] && return
  log "preparing the offline pip $version bootstrap for ansible-test"
  mkdir -p "$2"
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$2" "pip==$version"
  cat > "$2/get_pip_${version//./_}.py" <<PY
# Stand-in for get-pip.py (written by netops.tcp scripts/bootstrap.sh): install from the local wheel.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pip-${version}-py3-none-any.whl'))
from pip._internal.cli.main import main
sys.exit(main(['install'] + [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]))
PY
}
pip_standin "$VENV" "$HOME/.ansible/test/cache"

export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export PATH="$VENV/bin:$PATH"
