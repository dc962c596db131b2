#!/usr/bin/env bash
# Run the tests of netops.tcp, every stage in order or the ones named:
#   lint      ruff, yamllint, mypy (the typed core of module_utils), changelog fragments,
#             ansible-lint (production profile)
#   docs      antsibull-docs lint and the documentation site
#   sanity    ansible-test sanity (ansible-core 2.19, Python 3.11)
#   molecule  Molecule scenarios in podman containers
#   pytest    the unit, fault-injection and network-namespace integration tests in one pytest run
#   matrix    the controller matrix (ansible-core 2.20, 2.21 on Python 3.13)
#   vm        the VM tier (tests/vm: real kernels 5.10 to 7.3 in QEMU, real reboots)
#   unit      the unit tests alone (the inner loop, seconds; not part of a full run: pytest has them)
#
#   scripts/test.sh                      every stage but unit, in the order above (CI: .ci/run)
#   scripts/test.sh lint unit            those stages, in the order given
#   scripts/test.sh pytest -- -k tune    arguments after -- go to pytest (pytest and unit stages);
#   scripts/test.sh -x                   so do arguments that start with "-" before any stage
#   scripts/test.sh --list               the stages, one a line
# Needs root (namespaces); never changes this machine's own settings.
set -euo pipefail

ALL=(lint docs sanity molecule pytest matrix vm)
KNOWN=("${ALL[@]}" unit)

stages=()
while (($#)) && [[ "$1" != -* ]]; do stages+=("$1"); shift; done
case "${1:-}" in
  --list) printf '%s\n' "${KNOWN[@]}"; exit 0 ;;
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
  --) shift ;;
esac
pytest_args=("$@")
for stage in "${stages[@]}"; do
  if [[ " ${KNOWN[*]} " != *" $stage "* ]]; then
    printf 'scripts/test.sh: unknown stage "%s"; the stages are: %s (scripts/test.sh --help)\n' "$stage" "${KNOWN[*]}" >&2
    exit 2
  fi
done
((${#stages[@]})) || stages=("${ALL[@]}")

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

stage_lint() {
  log "ruff (settings in pyproject.toml)"
  ruff check --no-cache .
  log "yamllint (settings in .yamllint)"
  yamllint --strict .
  log "mypy: the typed core of module_utils (common, gather, model; settings in pyproject.toml)"
  MYPYPATH="$COLLECTIONS" mypy --no-incremental
  log "changelog fragments"
  antsibull-changelog lint
  log "ansible-lint (production profile)"
  ansible-lint --offline --nocolor
}

stage_docs() {
  log "documentation: antsibull-docs lint and the site"
  bash "$ROOT/scripts/docs.sh"
}

scratch=()
trap 'rm -rf ${scratch[@]+"${scratch[@]}"}' EXIT

stage_sanity() {
  log "ansible-test sanity (ansible-core 2.19, Python 3.11)"
  local sanity
  sanity="$(mktemp -d)"
  scratch+=("$sanity")
  copy_collection "$sanity"
  (cd "$sanity/ansible_collections/netops/tcp" && ansible-test sanity --venv --python 3.11 --color no)
}

stage_molecule() {
  log "molecule scenarios in podman containers"
  bash "$ROOT/scripts/molecule.sh"
}

stage_pytest() {
  # The namespace tests run real podman containers beside the hosts (tests/integration/test_namespaces_netns.py);
  # the AWX tests run jobs in the execution environment, built from this checkout (tests/integration/test_ee_runner.py).
  # shellcheck source=scripts/podman.sh
  source "$ROOT/scripts/podman.sh"
  podman_ready
  image localhost/netops-tcp-deb12:latest bookworm
  bash "$ROOT/scripts/ee.sh"
  log "unit, fault-injection and integration tests"
  python -m pytest tests/unit tests/faults tests/integration -p no:cacheprovider ${pytest_args[@]+"${pytest_args[@]}"}
}

stage_matrix() {
  log "the controller matrix: ansible-core 2.20 and 2.21 on Python 3.13, Debian 13"
  bash "$ROOT/scripts/matrix.sh"
}

stage_vm() {
  log "the VM tier: Debian's kernels 5.10, 6.1, 6.12 and 7.3 in QEMU, reached over SSH (two VMs at a time)"
  bash "$ROOT/scripts/vm.sh"
}

stage_unit() {
  log "unit tests"
  python -m pytest tests/unit -p no:cacheprovider ${pytest_args[@]+"${pytest_args[@]}"}
}

for stage in "${stages[@]}"; do
  "stage_$stage"
done
