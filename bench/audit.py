# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the fleet audit for 1, 10 and 40 hosts against the naive way.

Run as root from the checkout (scripts/bench.sh audit):

    python bench/audit.py [--sizes 1 10 40]

Each host is a throwaway network namespace with a private mount namespace, tuned with
web_frontend first (not timed). Timed, with ansible's default forks (5): audit-tcp.yml, and
the naive way - setup, then `ss -tan | awk` and `sysctl -a` in a shell task, compared with
the profile in Jinja.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))
# tests/conftest.py makes the checkout importable as ansible_collections.netops.tcp.
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from ansible_collections.netops.tcp.tests.integration.harness import IsolatedHost  # noqa: E402  pylint: disable=wrong-import-position

NAIVE = [{
    'name': 'The naive audit', 'hosts': 'all', 'gather_facts': True,
    'vars': {'expected': "{{ lookup('netops.tcp.tcp_profile', 'web_frontend').settings }}"},
    'tasks': [
        {'name': 'States and sysctls', 'register': 'raw', 'changed_when': False,
         'ansible.builtin.shell': "ss -tan | awk 'NR>1 {n[$1]++} END {for (s in n) print s, n[s]}'; sysctl -a 2>/dev/null"},
        {'name': 'Compare in Jinja', 'ansible.builtin.set_fact': {
            'live': "{{ dict(raw.stdout_lines | select('search', ' = ') | map('split', ' = ') | list) }}"}},
        {'name': 'Drifted keys', 'ansible.builtin.set_fact': {
            'drift': "{{ expected | dict2items | rejectattr('key', 'in', live) | list | length }}"}},
        {'name': 'Report', 'run_once': True, 'delegate_to': 'localhost', 'ansible.builtin.copy': {
            'content': "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'drift'))) | to_json }}",
            'dest': '{{ report }}', 'mode': '0644'}},
    ],
}]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1, 10, 40])
    args = parser.parse_args()
    workdir = tempfile.mkdtemp()
    naive = os.path.join(workdir, 'naive.yml')
    with open(naive, 'w') as handle:
        json.dump(NAIVE, handle)
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    hosts = []
    rows = []
    try:
        for size in args.sizes:
            while len(hosts) < size:
                name = 'netops-bench-%s' % uuid.uuid4().hex[:6]
                subprocess.run(['ip', 'netns', 'add', name], check=True)
                host = IsolatedHost(name, workdir)
                host.run('ip', 'link', 'set', 'lo', 'up', check=True)
                hosts.append(host)
            inventory = os.path.join(workdir, 'hosts-%d' % size)
            with open(inventory, 'w') as handle:
                handle.writelines('%s ansible_connection=local ansible_python_interpreter=%s\n' % (h.name, h.python)
                                  for h in hosts[:size])
            subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'tune-tcp.yml'),
                            '-e', 'tcp_tune_profile=web_frontend'], env=env, check=True, capture_output=True)
            timings = {}
            for label, cmd in (
                    ('audit-tcp.yml', ['ansible-playbook', '-i', inventory, os.path.join(ROOT, 'audit-tcp.yml'),
                                       '-e', 'tcp_audit_report_dir=%s/report-%d' % (workdir, size)]),
                    ('naive', ['ansible-playbook', '-i', inventory, naive, '-e', 'report=%s/naive-%d.json' % (workdir, size)])):
                start = time.perf_counter()
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                timings[label] = time.perf_counter() - start
                if proc.returncode:
                    raise SystemExit('%s failed:\n%s' % (label, proc.stdout[-3000:]))
            rows.append((size, timings['audit-tcp.yml'], timings['naive']))
    finally:
        for host in hosts:
            host.close()
            subprocess.run(['ip', 'netns', 'del', host.name], check=False)
    print('%6s %16s %10s %16s %10s' % ('hosts', 'audit-tcp.yml s', 'per host', 'naive s', 'per host'))
    for size, audit, naive_s in rows:
        print('%6d %16.2f %10.2f %16.2f %10.2f' % (size, audit, audit / size, naive_s, naive_s / size))


if __name__ == '__main__':
    main()
