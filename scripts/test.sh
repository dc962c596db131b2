#!/usr/bin/env bash
# Run every test of netops.tcp: changelog lint, ansible-lint (production profile), the docs lint
# and site build, ansible-test sanity, Molecule, the unit, fault and network-namespace integration
# tests in one pytest run (ansible-core 2.19, Python 3.11), the controller matrix (2.20, 2.21), then
# the VM tier (tests/vm: real kernels 5.10 to 7.3 in QEMU, real reboots).
# Needs root (namespaces); never changes this machine's own settings.
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

log "changelog fragments"
antsibull-changelog lint

log "ansible-lint (production profile)"
ansible-lint --offline --nocolor

log "documentation: antsibull-docs lint and the site"
bash "$ROOT/scripts/docs.sh"

log "ansible-test sanity (ansible-core 2.19, Python 3.11)"
sanity="$(mktemp -d)"
trap 'rm -rf "$sanity"' EXIT
copy_collection "$sanity"
(cd "$sanity/ansible_collections/netops/tcp" && ansible-test sanity --venv --python 3.11 --color no)

log "molecule scenarios in podman containers"
bash "$ROOT/scripts/molecule.sh"

log "unit, fault-injection and integration tests"
python -m pytest tests/unit tests/faults tests/integration -p no:cacheprovider "$@"

log "the controller matrix: ansible-core 2.20 and 2.21 on Python 3.13, Debian 13"
bash "$ROOT/scripts/matrix.sh"

log "the VM tier: Debian's kernels 5.10, 6.1, 6.12 and 7.3 in QEMU, reached over SSH (two VMs at a time)"
bash "$ROOT/scripts/vm.sh"
