#!/usr/bin/env bash
# Benchmarks, on demand (not part of the tests):
#   scripts/bench.sh [census] [options]   tcp_facts against ss, netstat, psutil (bench/census.py)
#   scripts/bench.sh tune [options]       the tune role against an ansible.posix.sysctl loop (bench/tune.py)
#   scripts/bench.sh audit [options]      the fleet audit for 1, 10, 40 hosts against the naive way; --cache N...
#                                         from a fact cache; --ssh N... over SSH against setup (bench/audit.py)
#   scripts/bench.sh namespaces [options] the census of 200 idle namespaces against an nsenter + ss loop
#                                         (bench/namespaces.py)
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
case "${1:-census}" in
  tune) shift; exec python bench/tune.py "$@" ;;
  audit) shift; exec python bench/audit.py "$@" ;;
  namespaces) shift; exec python bench/namespaces.py "$@" ;;
  census) [[ $# -gt 0 ]] && shift; exec python bench/census.py "$@" ;;
  *) exec python bench/census.py "$@" ;;
esac
