# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the fleet audit for 1, 10 and 40 hosts against the naive way.

Run as root from the checkout (scripts/bench.sh audit):

    python bench/audit.py [--sizes 1 10 40]
    python bench/audit.py --cache 500 1000 5000
    python bench/audit.py --ssh 1 10 40


Each host is a throwaway network namespace with a private mount namespace, tuned with
web_frontend first (not timed). Timed, with ansible's default forks (5): audit-tcp.yml, and
the naive way - setup, then `ss -tan | awk` and `sysctl -a` in a shell task, compared with
the profile in Jinja.

With --cache: two namespace hosts (one drifted by hand) fill a jsonfile fact cache through the
example inventory's fact gathering; their cache entries are copied to N inventory hosts (one in
ten drifted) whose interpreter is /bin/false, so nothing can be contacted; then audit-tcp.yml with
tcp_audit_source=cache is timed, whole, with its peak memory (the largest process's RSS), beside
two plays with one meta: noop (the hosts file alone, then the example inventory with its
tcp_groups source): what ansible-playbook costs before the audit's first task. The collection's own
cost per host is the audit less the noop over the same inventory. --keep DIR keeps the work.

With --ssh: namespace hosts each running their own sshd, reached over SSH from a hub namespace
(as tests/integration/test_ssh_netns.py), forks 10; audit-tcp.yml against `ansible -m setup` on
the same hosts in the same run, with ansible's defaults, with pipelining and under Mitogen. Each
round times setup then the audit, back to back; the figures are the medians over --rounds rounds
(one round swings by 20 % on this 2-core machine), each run with a cold SSH connection, after one
untimed pair. Python writes its bytecode caches as on a user's controller (PYTHONDONTWRITEBYTECODE,
which some sandboxes export, is dropped; --no-bytecode keeps it): ansible-core's files come
compiled from pip, a collection's are compiled on their first import.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
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
from ansible_collections.netops.tcp.tests.integration.harness import IsolatedHost, SshFleet, mitogen  # noqa: E402  pylint: disable=wrong-import-position

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


def cache_templates(workdir):
    """Two real cache entries, [(file prefix, text)]: the example inventory's fact gathering on two
    namespace hosts tuned with web_frontend, the second drifted by hand. Returns (inventory dir, templates)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    hosts = []
    inventory = os.path.join(workdir, 'inventory')
    shutil.copytree(os.path.join(ROOT, 'examples', 'inventory'), inventory)
    try:
        for _i in range(2):
            name = 'netops-bench-%s' % uuid.uuid4().hex[:6]
            subprocess.run(['ip', 'netns', 'add', name], check=True)
            host = IsolatedHost(name, workdir)
            host.run('ip', 'link', 'set', 'lo', 'up', check=True)
            hosts.append(host)
        with open(os.path.join(inventory, 'hosts.yml'), 'w') as handle:
            handle.writelines('%s ansible_connection=local ansible_python_interpreter=%s\n' % (h.name, h.python)
                              for h in hosts)
        subprocess.run(['ansible-playbook', '-i', os.path.join(inventory, 'hosts.yml'), os.path.join(ROOT, 'tune-tcp.yml'),
                        '-e', 'tcp_tune_profile=web_frontend', '-e', 'tcp_tune_soak=0'], env=env, check=True, capture_output=True)
        hosts[1].run('sysctl', '-qw', 'net.ipv4.tcp_fin_timeout=45', check=True)
        play = os.path.join(workdir, 'gather.yml')
        with open(play, 'w') as handle:
            handle.write('- hosts: all\n  gather_facts: true\n  tasks: []\n')
        subprocess.run(['ansible-playbook', play], cwd=inventory, env=env, check=True, capture_output=True)
        cache = os.path.join(inventory, 'facts-cache')
        templates = []
        for host in hosts:
            found = [f for f in os.listdir(cache) if f.endswith(host.name)][0]
            with open(os.path.join(cache, found)) as handle:
                templates.append((found[:-len(host.name)], handle.read()))
    finally:
        for host in hosts:
            host.close()
            subprocess.run(['ip', 'netns', 'del', host.name], check=False)
    return inventory, templates


def write_fleet(inventory, size, templates):
    """N inventory hosts (one in ten drifted) with the templates' cache entries; their interpreter is
    /bin/false, so nothing can be contacted."""
    cache = os.path.join(inventory, 'facts-cache')
    shutil.rmtree(cache, ignore_errors=True)
    os.mkdir(cache)
    names = ['host-%05d' % i for i in range(size)]
    for i, name in enumerate(names):
        prefix, text = templates[1 if i % 10 == 0 else 0]
        with open(os.path.join(cache, prefix + name), 'w') as handle:
            handle.write(text)
    with open(os.path.join(inventory, 'hosts.yml'), 'w') as handle:
        handle.write('[fleet]\n')
        handle.writelines('%s ansible_connection=local ansible_python_interpreter=/bin/false\n' % n for n in names)


def timed(argv, cwd):
    """(wall seconds, peak RSS MB of the largest process, the finished process) of one ansible-playbook run."""
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    start = time.perf_counter()
    proc = subprocess.run(['/usr/bin/time', '-f', 'peak_kb=%M'] + argv, cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit('%s failed:\n%s\n%s' % (' '.join(argv), proc.stdout[-3000:], proc.stderr[-2000:]))
    return wall, int(re.search(r'peak_kb=(\d+)', proc.stderr).group(1)) / 1024.0, proc


def cache_bench(sizes, keep=None):
    """Audits from a fact cache of N copied hosts; returns [(N, (ini noop s, MB), (noop s, MB), (audit s, MB), drifted)].
    A noop is a play with one meta: noop: over the hosts file alone (ansible-playbook and its
    inventory), then over the example inventory (with its tcp_groups source, which reads every host's
    cache entry): what the run costs before the audit's first task."""
    workdir = keep or tempfile.mkdtemp()
    inventory, templates = cache_templates(tempfile.mkdtemp(dir=workdir))
    noop = os.path.join(workdir, 'noop.yml')
    with open(noop, 'w') as handle:
        handle.write('- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.meta: noop\n')
    rows = []
    for size in sizes:
        write_fleet(inventory, size, templates)
        ini = timed(['ansible-playbook', '-i', 'hosts.yml', noop], inventory)[:2]
        base = timed(['ansible-playbook', noop], inventory)[:2]
        report_dir = os.path.join(workdir, 'report-%d' % size)
        shutil.rmtree(report_dir, ignore_errors=True)
        wall, peak, _proc = timed(['ansible-playbook', os.path.join(ROOT, 'audit-tcp.yml'), '-e', 'tcp_audit_source=cache',
                                   '-e', 'tcp_audit_report_dir=' + report_dir], inventory)
        with open(os.path.join(report_dir, 'report.json')) as handle:  # one host a line, then the summary
            hosts = [line for line in handle if line.startswith('"') and not line.startswith('"summary": ')]
        assert len(hosts) == size, len(hosts)
        drifted = sum(1 for line in hosts if '"kind": "drift"' in line)
        rows.append((size, ini, base, (wall, peak), drifted))
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def ssh_bench(sizes, rounds):
    """[(hosts, config, setup s, audit s)] over SSH, forks 10: medians over the rounds."""
    workdir = tempfile.mkdtemp()
    configs = (('defaults', {}), ('pipelining', {'pipelining': True}), ('mitogen', dict(mitogen(), pipelining=True)))
    rows = []
    for size in sizes:
        hosts = []
        for _i in range(size):
            name = 'netops-bench-%s' % uuid.uuid4().hex[:6]
            subprocess.run(['ip', 'netns', 'add', name], check=True)
            host = IsolatedHost(name, workdir)
            host.run('ip', 'link', 'set', 'lo', 'up', check=True)
            hosts.append(host)
        fleet = SshFleet(workdir, hosts)
        try:
            tune = fleet.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-f', '10', '-e', 'tcp_tune_profile=web_frontend', '-e', 'tcp_tune_soak=0',
                                  pipelining=True)
            if tune.returncode:
                raise SystemExit('tuning the bench hosts failed:\n' + tune.stdout[-3000:])
            for label, kw in configs:
                kw = dict(kw)
                pipelining = kw.pop('pipelining', False)
                times = {'setup': [], 'audit': []}
                for _round in range(rounds + 1):
                    for what, run, argv in (
                            ('setup', fleet.ansible, ('-f', '10', '-m', 'ansible.builtin.setup')),
                            ('audit', fleet.playbook, (os.path.join(ROOT, 'audit-tcp.yml'), '-f', '10', '-e',
                                                       'tcp_audit_report_dir=%s/report-%d-%s' % (workdir, size, label)))):
                        start = time.perf_counter()
                        proc = run(*argv, pipelining=pipelining, **kw)
                        if _round:  # round 0 warms the caches, as a controller's earlier runs have
                            times[what].append(time.perf_counter() - start)
                        if proc.returncode:
                            raise SystemExit('%s (%s, %d hosts) failed:\n%s' % (what, label, size, proc.stdout[-3000:]))
                rows.append((size, label, statistics.median(times['setup']), statistics.median(times['audit'])))
        finally:
            fleet.close()
            for host in hosts:
                host.close()
                subprocess.run(['ip', 'netns', 'del', host.name], check=False)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1, 10, 40])
    parser.add_argument('--cache', type=int, nargs='+', help='audit this many hosts from a fact cache instead')
    parser.add_argument('--keep', help='with --cache: work in this directory and keep it (the inventory, cache, reports)')
    parser.add_argument('--ssh', type=int, nargs='+', help='over SSH, against ansible -m setup, for these fleet sizes')
    parser.add_argument('--rounds', type=int, default=5, help='with --ssh: rounds per size and config (medians)')
    parser.add_argument('--no-bytecode', action='store_true', help='with --ssh: keep PYTHONDONTWRITEBYTECODE if set')
    args = parser.parse_args()
    if args.ssh:
        if not args.no_bytecode:
            os.environ.pop('PYTHONDONTWRITEBYTECODE', None)
        print('%6s %12s %10s %10s %14s' % ('hosts', 'config', 'setup s', 'audit s', 'audit / setup'))
        for size, label, setup_s, audit_s in ssh_bench(args.ssh, args.rounds):
            print('%6d %12s %10.2f %10.2f %14.2f' % (size, label, setup_s, audit_s, audit_s / setup_s))
        return
    if args.cache:
        print('%6s %14s %14s %14s %12s %12s %8s' % (
            'hosts', 'ini noop s/MB', 'noop s/MB', 'audit s/MB', 'own ms/host', 'own KB/host', 'drifted'))
        for size, ini, base, audit, drifted in cache_bench(args.cache, args.keep):
            print('%6d %7.2f %6.0f %7.2f %6.0f %7.2f %6.0f %12.2f %12.1f %8d' % (
                size, ini[0], ini[1], base[0], base[1], audit[0], audit[1], (audit[0] - base[0]) / size * 1000,
                (audit[1] - base[1]) * 1024 / size, drifted))
        return
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
                            '-e', 'tcp_tune_profile=web_frontend', '-e', 'tcp_tune_soak=0'], env=env, check=True, capture_output=True)
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
