#!/usr/bin/env bash
# The VM tier: Debian's real kernels (5.10, 6.1, 6.12, 7.3) in QEMU virtual machines, reached by
# Ansible over SSH (tests/vm). Builds the image first when missing (scripts/vm-image.sh). Two VMs
# run at once (two pytest processes, each taking its kernels in turn); software emulation unless
# /dev/kvm really runs a stock kernel (tests/vm/harness.py says which).
#   scripts/vm.sh              all four kernels
#   scripts/vm.sh 6.1          one kernel (any subset: scripts/vm.sh 5.10 7.3)
# Extra pytest arguments after --, e.g. scripts/vm.sh 7.3 -- -k catalog
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
bash "$ROOT/scripts/vm-image.sh"

lines=()
while (($#)) && [[ "$1" != "--" ]]; do lines+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift
# Each group reboots once: 5.10 and 7.3 keep their tuning across a reboot, 6.1 and 6.12 test the
# audit's predictions across one.
((${#lines[@]})) || lines=(5.10 7.3 6.1 6.12)
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
pids=()
for group in 0 1; do
  args=()
  for ((i = group; i < ${#lines[@]}; i += 2)); do args+=(--kernel "${lines[$i]}"); done
  ((${#args[@]})) || continue
  log "VM tier: ${args[*]}"
  python -m pytest tests/vm "${args[@]}" -p no:cacheprovider -v --durations=0 "$@" > "$logs/$group.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
cat "$logs"/*.log
exit "$status"
