# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the census of every network namespace against the loop operators write today.

Run as root from the checkout (scripts/bench.sh namespaces does the setup):

    python bench/namespaces.py [--namespaces 200] [--runs 3]

It makes N idle network namespaces the way a container host has them (an ``ip netns`` name and
one process inside each), then times, round after round, on the same namespaces:

- tcp_facts with ``namespaces: [all]`` run as Ansible runs it (python -m, module arguments on
  stdin), less the same run without namespaces: the cost of the namespaces;
- the same census as audit_facts gathers it (each namespace's settings too);
- ``for pid; do nsenter -t PID -n ss -tan | awk ...; done``: states only, the naive loop.

Every namespace found on the machine is counted (podman's, other tests'), so the figures say how
many there were. Nothing is changed but the namespaces it makes and removes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NAIVE = ("for pid in %s; do nsenter -t $pid -n ss -tan | awk 'NR>1 {n[$1]++} END {for (s in n) print s, n[s]}'; "
         "done >/dev/null")


def collections_path():
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    # tests/conftest.py makes the checkout importable as ansible_collections.netops.tcp.
    import conftest  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    return os.environ['ANSIBLE_COLLECTIONS_PATH']


def module(name, args, path):
    """(seconds, result) of one module run as AnsiballZ runs it: a fresh python, arguments on stdin."""
    env = dict(os.environ, PYTHONPATH=path)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, '-m', 'ansible_collections.netops.tcp.plugins.modules.' + name],
                          input=json.dumps({'ANSIBLE_MODULE_ARGS': args}), capture_output=True, text=True, env=env,
                          check=True)
    return time.perf_counter() - start, json.loads(proc.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--namespaces', type=int, default=200)
    parser.add_argument('--runs', type=int, default=3)
    opts = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit('run as root: it makes network namespaces')
    path = collections_path()
    prefix = 'netops-bench-%s-' % uuid.uuid4().hex[:6]
    names = [prefix + str(n) for n in range(opts.namespaces)]
    holders = []
    try:
        made = time.perf_counter()
        for name in names:
            subprocess.run(['ip', 'netns', 'add', name], check=True)
            holders.append(subprocess.Popen(['ip', 'netns', 'exec', name, 'sleep', '3600']))
        time.sleep(0.5)
        print('%d namespaces made in %.1f s (an ip netns name and a sleep process in each)'
              % (len(names), time.perf_counter() - made))
        pids = ' '.join(str(p.pid) for p in holders)
        times = {'host': [], 'facts': [], 'audit': [], 'naive': []}
        found = size = 0
        for _run in range(opts.runs):
            times['host'].append(module('tcp_facts', {}, path)[0])
            seconds, result = module('tcp_facts', {'namespaces': ['all']}, path)
            times['facts'].append(seconds)
            namespaces = result['ansible_facts']['tcp']['namespaces']
            found, size = len(namespaces['items']), len(json.dumps(namespaces))
            assert sum(1 for item in namespaces['items'] if (item['owner'].get('netns') or '').startswith(prefix)) \
                == len(names), 'not every namespace was gathered'
            times['audit'].append(module('audit_facts', {'namespaces': ['all']}, path)[0]
                                  - module('audit_facts', {}, path)[0])
            start = time.perf_counter()
            subprocess.run(['bash', '-c', NAIVE % pids], check=True)
            times['naive'].append(time.perf_counter() - start)
        host, facts, audit, naive = (statistics.median(times[k]) for k in ('host', 'facts', 'audit', 'naive'))
        ours = facts - host
        print('namespaces gathered: %d (%d made here); their facts: %d bytes of JSON, %d a namespace'
              % (found, len(names), size, size // max(found, 1)))
        print('%-58s %8s %12s' % ('median of %d runs' % opts.runs, 'seconds', 'ms/namespace'))
        print('%-58s %8.2f' % ('tcp_facts, the host alone', host))
        print('%-58s %8.2f %12.2f' % ('tcp_facts namespaces=[all], less the host alone', ours, 1000 * ours / found))
        print('%-58s %8.2f %12.2f' % ('audit_facts namespaces=[all] (with settings), less alone', audit,
                                      1000 * audit / found))
        print('%-58s %8.2f %12.2f' % ('for pid; nsenter -t PID -n ss -tan | awk (states only)', naive,
                                      1000 * naive / len(names)))
        print('naive loop / tcp_facts namespaces: %.1fx (the loop reads %d namespaces, ours %d, with listeners, '
              'counters, sockstat, ports and owners)' % (naive / ours, len(names), found))
    finally:
        for proc in holders:
            proc.kill()
            proc.wait()
        for name in names:
            subprocess.run(['ip', 'netns', 'del', name], check=False)


if __name__ == '__main__':
    main()
