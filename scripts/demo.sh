#!/usr/bin/env bash
# The main job against a throwaway target: a fresh network namespace holding a small known
# mix of connections, its TCP and sysctl facts gathered through ansible and shown beside ss.
# Nothing outside that namespace is changed; it is removed at the end.
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

ns="netops-demo-$$"
work="$(mktemp -d)"
cleanup() {
  exec 3>&- 2>/dev/null || true
  [[ -n "${lg_pid:-}" ]] && kill "$lg_pid" 2>/dev/null && wait "$lg_pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log "creating network namespace $ns with a known mix of connections"
ip netns add "$ns"
mkfifo "$work/hold"
ip netns exec "$ns" python3 tools/loadgen.py --established 400 --time-wait 150 --close-wait 40 \
  --syn-recv 20 --queued 12 < "$work/hold" > "$work/loadgen.json" &
lg_pid=$!
exec 3> "$work/hold"   # loadgen holds its sockets until this closes
for _ in $(seq 100); do [[ -s "$work/loadgen.json" ]] && break; sleep 0.2; done
[[ -s "$work/loadgen.json" ]] || { echo "loadgen did not start" >&2; exit 1; }

printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$(command -v python3)" > "$work/python"
chmod +x "$work/python"
printf '[demo]\n%s ansible_connection=local ansible_python_interpreter=%s\n' "$ns" "$work/python" > "$work/hosts"

log "ansible-playbook playbooks/gather_tcp_facts.yml (inside $ns)"
ANSIBLE_HOST_KEY_CHECKING=false ansible-playbook -i "$work/hosts" playbooks/gather_tcp_facts.yml

log "ground truth: ss -tan inside $ns"
ip netns exec "$ns" ss -tanH | awk '{n[$1]++} END {for (s in n) printf "  %-11s %d\n", s, n[s]}' | sort
