#!/usr/bin/env bash
# The main job against a throwaway target: a fresh network namespace (with a private mount
# namespace for /etc and /var/lib) holding a small known mix of connections. It shows the host's
# TCP facts beside ss, then runs tune-tcp.yml in check mode and for real (measured and gated under
# a steady connection rate), and shows the before/after values, the rollout report, the drop-in
# file and the host's record, then the metrics it would give Prometheus. Nothing outside that
# namespace is changed; it is removed at the end.
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

ns="netops-demo-$$"
work="$(mktemp -d)"
profile="${1:-web_frontend}"
cleanup() {
  set +e  # every step runs, whatever the one before returned
  exec 3>&-
  [[ -n "${lg_pid:-}" ]] && { kill "$lg_pid"; wait "$lg_pid"; } 2>/dev/null
  [[ -n "${holder:-}" ]] && { kill "$holder"; wait "$holder"; } 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

log "creating the throwaway host: network namespace $ns, /etc and /var/lib as overlays on a tmpfs"
ip netns add "$ns"
mkdir -p "$work/mnt"
# shellcheck disable=SC2016  # expanded by the inner shell
ip netns exec "$ns" unshare -m --propagation private sh -c '
  set -e; s=$1; mount -t tmpfs tmpfs "$s"
  for d in etc var/lib; do n=$(echo $d | tr / _); mkdir -p "$s/$n-up" "$s/$n-work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$s/$n-up,workdir=$s/$n-work" "/$d"; done
  ip link set lo up; echo ready; exec sleep 100000' sh "$work/mnt" > "$work/holder.out" 2>&1 &
holder=$!
for _ in $(seq 50); do grep -q ready "$work/holder.out" 2>/dev/null && break; sleep 0.1; done
in_host() { nsenter -t "$holder" -n -m "$@"; }

mkfifo "$work/hold"
in_host python3 "$ROOT/tools/loadgen.py" --established 400 --time-wait 150 --close-wait 40 --syn-recv 20 --queued 12 \
  --rate 50 --burst 20 --burst-every 0.5 < "$work/hold" > "$work/loadgen.json" &
lg_pid=$!
exec 3> "$work/hold"   # loadgen holds its sockets until this closes
for _ in $(seq 100); do [[ -s "$work/loadgen.json" ]] && break; sleep 0.2; done
[[ -s "$work/loadgen.json" ]] || { echo "loadgen did not start" >&2; exit 1; }

printf '#!/bin/sh\nexec nsenter -t %s -n -m %s "$@"\n' "$holder" "$(command -v python3)" > "$work/python"
chmod +x "$work/python"
printf '[demo]\n%s ansible_connection=local ansible_python_interpreter=%s\n' "$ns" "$work/python" > "$work/hosts"
export ANSIBLE_NOCOLOR=1

log "TCP facts of $ns (playbooks/gather_tcp_facts.yml)"
ansible-playbook -i "$work/hosts" playbooks/gather_tcp_facts.yml
log "ground truth: ss -tan inside $ns"
in_host ss -tanH | awk '{n[$1]++} END {for (s in n) printf "  %-11s %d\n", s, n[s]}' | sort

keys=(net.ipv4.tcp_fin_timeout net.ipv4.tcp_keepalive_time net.ipv4.tcp_tw_reuse net.core.somaxconn
      net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_max_tw_buckets)
log "before: $(in_host sysctl -n "${keys[@]}" | tr '\n' ' ')"
log "ansible-playbook tune-tcp.yml --check --diff  (profile $profile: nothing changes)"
ansible-playbook -i "$work/hosts" tune-tcp.yml --check --diff -e "tcp_tune_profile=$profile"
log "still: $(in_host sysctl -n "${keys[@]}" | tr '\n' ' ')"
log "ansible-playbook tune-tcp.yml  (for real: a 5 s baseline window, the change, a 5 s window after it, the gate)"
ansible-playbook -i "$work/hosts" tune-tcp.yml -e "tcp_tune_profile=$profile" -e tcp_tune_soak=5 \
  -e "tcp_tune_report_dir=$work/tcp-tune-report"
log "after:  $(in_host sysctl -n "${keys[@]}" | tr '\n' ' ')"
log "the rollout report ($work/tcp-tune-report/rollout.md)"
cat "$work/tcp-tune-report/rollout.md"
log "the drop-in file and the host's record"
in_host cat /etc/sysctl.d/60-netops-tcp.conf
in_host cat /etc/ansible/facts.d/netops_tcp.fact
log "second run: nothing to change"
ansible-playbook -i "$work/hosts" tune-tcp.yml -e "tcp_tune_profile=$profile" -e "tcp_tune_report_dir=$work/tcp-tune-report" | tail -3
log "metrics-tcp.yml: what node_exporter's textfile collector would serve (non-zero series of netops_tcp.prom)"
ansible-playbook -i "$work/hosts" metrics-tcp.yml -e "tcp_metrics_expected_profile=$profile" | tail -3
in_host grep -v -e '^#' -e ' 0$' /var/lib/prometheus/node-exporter/netops_tcp.prom
