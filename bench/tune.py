# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: applying a 20-key profile with the tune role versus a loop of ansible.posix.sysctl.

Run as root from the checkout (scripts/bench.sh tune does the setup):

    python bench/tune.py [--rounds 3]

Each round makes fresh throwaway hosts (a network namespace with a private mount namespace,
as in the integration tests), times the first apply and the idempotent rerun of each way,
and prints medians. ansible.posix comes from the ``ansible`` PyPI wheel, for this benchmark
only (it is not a dependency of netops.tcp).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))
# tests/conftest.py makes the checkout importable as ansible_collections.netops.tcp.
import conftest  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from ansible_collections.netops.tcp.tests.integration.harness import IsolatedHost  # noqa: E402  pylint: disable=wrong-import-position

ANSIBLE_WHEEL = 'ansible==12.3.0'
# Twenty keys every network namespace can set, so both ways write the same twenty. No value is below
# what a recent kernel has by default (tcp_rmem's maximum is 32 MiB since Linux 6.17): the tune role
# would keep such a capacity limit (a profile only raises it) and the loop would lower it.
SETTINGS = {
    'net.core.somaxconn': 16384, 'net.ipv4.tcp_fin_timeout': 30, 'net.ipv4.tcp_keepalive_time': 600,
    'net.ipv4.tcp_keepalive_intvl': 15, 'net.ipv4.tcp_keepalive_probes': 3, 'net.ipv4.tcp_max_syn_backlog': 16384,
    'net.ipv4.tcp_max_tw_buckets': 262144, 'net.ipv4.tcp_retries2': 8, 'net.ipv4.tcp_rmem': [4096, 131072, 33554432],
    'net.ipv4.tcp_wmem': [4096, 16384, 16777216], 'net.ipv4.tcp_syn_retries': 3, 'net.ipv4.tcp_synack_retries': 2,
    'net.ipv4.tcp_syncookies': 1, 'net.ipv4.tcp_tw_reuse': 1, 'net.ipv4.tcp_timestamps': 1,
    'net.ipv4.ip_local_port_range': [15000, 65000], 'net.ipv4.tcp_abort_on_overflow': 0,
    'net.ipv4.tcp_slow_start_after_idle': 0, 'net.ipv4.ip_local_reserved_ports': [[9100, 9100]],
    'net.ipv4.ip_unprivileged_port_start': 1024,
}


def posix_collection(cache):
    """ansible.posix extracted from the ansible wheel into ``cache`` (once)."""
    target = os.path.join(cache, 'ansible_collections', 'ansible', 'posix')
    if os.path.isdir(target):
        return cache
    wheels = os.path.join(cache, 'wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '-d', wheels, ANSIBLE_WHEEL], check=True)
    wheel = [os.path.join(wheels, f) for f in os.listdir(wheels) if f.endswith('.whl')][0]
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(cache, [n for n in archive.namelist() if n.startswith('ansible_collections/ansible/posix/')])
    return cache


def text(value):
    if isinstance(value, list):
        return ','.join('%d-%d' % tuple(v) if v[0] != v[1] else str(v[0]) for v in value) if isinstance(value[0], list) \
            else ' '.join(str(v) for v in value)
    return str(value)


def write_playbooks(workdir):
    profiles = os.path.join(workdir, 'profiles', 'bench')
    os.makedirs(profiles)
    with open(os.path.join(profiles, 'v1.yml'), 'w') as handle:
        json.dump({'name': 'bench', 'version': 1, 'description': 'twenty keys',
                   'settings': dict((k, {'value': v, 'rationale': 'benchmark'}) for k, v in SETTINGS.items())}, handle)
    posix = os.path.join(workdir, 'posix.yml')
    with open(posix, 'w') as handle:
        json.dump([{
            'name': 'The same keys with a loop of ansible.posix.sysctl', 'hosts': 'all', 'gather_facts': False,
            'tasks': [{
                'name': 'Set one key', 'loop': [{'key': k, 'value': text(v)} for k, v in SETTINGS.items()],
                'ansible.posix.sysctl': {'name': '{{ item.key }}', 'value': '{{ item.value }}', 'sysctl_set': True,
                                         'reload': True, 'sysctl_file': '/etc/sysctl.d/60-netops-tcp.conf'},
            }],
        }], handle)
    return os.path.join(workdir, 'profiles'), posix


def timed_playbook(host, playbook, env, *extra):
    start = time.perf_counter()
    proc = subprocess.run(['ansible-playbook', '-i', host.inventory, playbook] + list(extra),
                          capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit('%s failed:\n%s' % (playbook, proc.stdout[-3000:]))
    return wall


def new_host(workdir):
    name = 'netops-bench-%s' % uuid.uuid4().hex[:6]
    subprocess.run(['ip', 'netns', 'add', name], check=True)
    host = IsolatedHost(name, workdir)
    host.run('ip', 'link', 'set', 'lo', 'up', check=True)
    host.inventory = os.path.join(workdir, 'hosts-%s' % name)
    with open(host.inventory, 'w') as handle:
        handle.write('%s ansible_connection=local ansible_python_interpreter=%s\n' % (name, host.python))
    return host


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp()
    cache = posix_collection(os.path.join(os.path.expanduser('~'), '.cache', 'netops.tcp', 'bench-ansible-posix'))
    profiles, posix = write_playbooks(workdir)
    env = dict(os.environ, ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_PATH=os.environ['ANSIBLE_COLLECTIONS_PATH'] + os.pathsep + cache)
    # The apply itself: no rollout windows (tcp_tune_soak waits, it does not work).
    role_vars = ['-e', json.dumps({'tcp_tune_profile': 'bench', 'tcp_tune_profile_paths': [profiles], 'tcp_tune_soak': 0})]
    times = {'tune role: first apply': [], 'tune role: rerun': [],
             'ansible.posix.sysctl loop: first apply': [], 'ansible.posix.sysctl loop: rerun': []}
    hosts = []
    try:
        for _round in range(args.rounds):
            tuned, looped = new_host(workdir), new_host(workdir)
            hosts += [tuned, looped]
            for label, host, playbook, extra in (('tune role', tuned, os.path.join(ROOT, 'tune-tcp.yml'), role_vars),
                                                 ('ansible.posix.sysctl loop', looped, posix, [])):
                times[label + ': first apply'].append(timed_playbook(host, playbook, env, *extra))
                times[label + ': rerun'].append(timed_playbook(host, playbook, env, *extra))
            for key, value in SETTINGS.items():  # both ways end with the same live values
                assert tuned.sysctl(key) == looped.sysctl(key) == text(value).replace(',', ',').strip(), key
    finally:
        for host in hosts:
            host.close()
            subprocess.run(['ip', 'netns', 'del', host.name], check=False)
    med = dict((k, statistics.median(v)) for k, v in times.items())
    print('%d keys, median of %d rounds (whole ansible-playbook runs)' % (len(SETTINGS), args.rounds))
    for name, value in med.items():
        print('%-42s %7.2f s' % (name, value))
    for phase in ('first apply', 'rerun'):
        print('tune role is %.1fx faster on the %s (target >= 5)'
              % (med['ansible.posix.sysctl loop: ' + phase] / med['tune role: ' + phase], phase))


if __name__ == '__main__':
    main()
