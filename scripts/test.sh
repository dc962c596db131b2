#!/usr/bin/env bash
# Run every test of netops.tcp: changelog lint, ansible-lint (production profile),
# ansible-test sanity, then unit and network-namespace integration tests in one pytest run.
# Needs root (namespaces); never changes this machine's own settings.
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

log "changelog fragments"
antsibull-changelog lint

log "ansible-lint (production profile)"
ansible-lint --offline --nocolor

log "ansible-test sanity"
# ansible-test wants the real working directory under ansible_collections/netops/tcp (a link is
# resolved away), so it runs on a copy of the files git tracks or would track.
sanity="$(mktemp -d)"
trap 'rm -rf "$sanity"' EXIT
mkdir -p "$sanity/ansible_collections/netops/tcp"
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done \
  | tar -cf - --null -T - | tar -xf - -C "$sanity/ansible_collections/netops/tcp"
(cd "$sanity/ansible_collections/netops/tcp" && ansible-test sanity --venv --python 3.11 --color no)

log "molecule scenarios in podman containers"
bash "$ROOT/scripts/molecule.sh"

log "unit, fault-injection and integration tests"
python -m pytest tests/unit tests/faults tests/integration -p no:cacheprovider "$@"
