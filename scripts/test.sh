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
(cd "$COLLECTIONS/ansible_collections/netops/tcp" && ansible-test sanity --venv --python 3.11 --color no)

log "unit and integration tests"
python -m pytest tests/unit tests/integration -p no:cacheprovider "$@"
