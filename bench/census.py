# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the tcp_facts census against what operators use today, on 170,000 sockets.

Run as root from the checkout (scripts/bench.sh does the setup):

    python bench/census.py [--established 100000 --time-wait 60000 --close-wait 5000] [--runs 5]

It makes a throwaway network namespace, fills it with tools/loadgen.py, re-runs itself
inside it and prints medians side by side. TIME_WAIT sockets live 60 s, so every
method is timed once per round, round after round: all see the same sockets.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
AWK_STATES = "awk 'NR>1 {n[$1]++} END {for (s in n) print s, n[s]}'"
NETSTAT_AWK = "awk '/^tcp/ {n[$NF]++} END {for (s in n) print s, n[s]}'"
AWK_HOLDERS = "awk 'NR>1 {split($NF, p, \",\"); n[$1\" \"p[2]]++} END {for (k in n) print k, n[k]}'"


def collections_path():
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    # tests/conftest.py makes the checkout importable as ansible_collections.netops.tcp.
    import conftest  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    os.environ['PYTHONPATH'] = os.environ['ANSIBLE_COLLECTIONS_PATH']
    return os.environ['ANSIBLE_COLLECTIONS_PATH']


def timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def run_process(argv, **kw):
    """Wall time and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status:
        raise SystemExit('%s failed: %s' % (argv[:3], proc.stderr.read().decode()[-2000:]))
    proc.stderr.close()
    return wall, usage.ru_maxrss / 1024.0


def inside(args):
    """The measurements, run inside the namespace."""
    from ansible_collections.netops.tcp.plugins.module_utils.gather import _census as census  # pylint: disable=import-outside-toplevel
    from ansible_collections.netops.tcp.plugins.module_utils.gather import _inet_diag as diag  # pylint: disable=import-outside-toplevel

    def floor():
        buf = bytearray(diag.RECV_BUFFER)
        for family in (socket.AF_INET, socket.AF_INET6):
            sock = diag.open_socket()
            sock.send(diag._request(family, diag.ALL_STATES, 1))  # pylint: disable=protected-access
            while True:  # receive only: stop at the datagram that ends with NLMSG_DONE
                n = sock.recv_into(buf)
                if n >= 20 and buf[n - 16] == diag.NLMSG_DONE and buf[n - 20] == 20:
                    break
            sock.close()

    def in_process():
        census.Census(subsets={'states'}).gather()

    def in_process_default():
        census.Census(subsets=census.DEFAULT_SUBSETS).gather()

    def in_process_processes():
        census.Census(subsets={'processes'}).gather()

    def shell(cmd):
        return lambda: subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)

    def psutil_run():
        import psutil  # pylint: disable=import-outside-toplevel
        psutil.net_connections('tcp')

    args_file = os.path.join(args.workdir, 'args.json')
    with open(args_file, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': {}}, handle)
    module = [sys.executable, '-m', 'ansible_collections.netops.tcp.plugins.modules.tcp_facts', args_file]
    with open(args_file + '.processes', 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': {'gather_subset': ['min', 'processes']}}, handle)
    module_processes = module[:-1] + [args_file + '.processes']

    methods = [
        ('netlink dump, receive only (floor)', floor),
        ('tcp_facts census in-process (states)', in_process),
        ('tcp_facts census in-process (default subsets)', in_process_default),
        ('ss -tan | awk', shell('ss -tan | ' + AWK_STATES)),
        ('netstat -ant | awk', shell('netstat -ant | ' + NETSTAT_AWK)),
        # Who holds the sockets: what operators run today, against the processes subset.
        ('tcp_facts census in-process (processes)', in_process_processes),
        ('ss -tanp | awk (holders per state)', shell('ss -tanp | ' + AWK_HOLDERS)),
    ]
    times = dict((name, []) for name, _f in methods)
    times['tcp_facts module, whole process'] = []
    times['tcp_facts module (processes), whole process'] = []
    times['psutil.net_connections'] = []
    rss = {'tcp_facts module, whole process': [], 'tcp_facts module (processes), whole process': [],
           'psutil.net_connections': []}
    counts = []
    for round_no in range(args.runs):
        counts.append(census.Census(subsets={'states'}).gather()['total'])
        for name, func in methods:
            times[name].append(timed(func))
        for name, argv in (('tcp_facts module, whole process', module),
                           ('tcp_facts module (processes), whole process', module_processes)):
            wall, mem = run_process(argv)
            times[name].append(wall)
            rss[name].append(mem)
        if round_no < args.psutil_runs:
            wall, mem = run_process([sys.executable, '-c', 'import psutil; psutil.net_connections("tcp")'])
            times['psutil.net_connections'].append(wall)
            rss['psutil.net_connections'].append(mem)
    counts.append(census.Census(subsets={'states'}).gather()['total'])
    json.dump({'times': times, 'rss': rss, 'sockets': counts}, sys.stdout)


def ansible_round(ns, workdir, runs):
    """A whole ad-hoc ansible call: tcp_facts versus the shell one-liner, against the namespace host."""
    python = os.path.join(workdir, 'python')
    with open(python, 'w') as handle:
        handle.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (ns, sys.executable))
    os.chmod(python, 0o755)
    inventory = os.path.join(workdir, 'hosts')
    with open(inventory, 'w') as handle:
        handle.write('%s ansible_connection=local ansible_python_interpreter=%s\n' % (ns, python))
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    calls = {
        'ansible -m netops.tcp.tcp_facts': ['-m', 'netops.tcp.tcp_facts'],
        'ansible -m shell -a "ss -tan | awk"': ['-m', 'ansible.builtin.shell', '-a', 'ss -tan | ' + AWK_STATES],
    }
    times = dict((name, []) for name in calls)
    for _i in range(runs):
        for name, extra in calls.items():
            times[name].append(run_process(['ansible', ns, '-i', inventory] + extra, env=env)[0])
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--established', type=int, default=100000)
    parser.add_argument('--time-wait', type=int, default=60000)
    parser.add_argument('--close-wait', type=int, default=5000)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--psutil-runs', type=int, default=3)
    parser.add_argument('--inside', help=argparse.SUPPRESS)
    args = parser.parse_args()
    collections_path()
    if args.inside:
        args.workdir = args.inside
        inside(args)
        return

    ns = 'netops-bench-%s' % uuid.uuid4().hex[:6]
    workdir = tempfile.mkdtemp()
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    loadgen = None
    try:
        # An empty namespace first: the module's memory with no sockets, to show it stays flat.
        args_file = os.path.join(workdir, 'args.json')
        with open(args_file, 'w') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': {}}, handle)
        empty_rss = run_process(['ip', 'netns', 'exec', ns, sys.executable, '-m',
                                 'ansible_collections.netops.tcp.plugins.modules.tcp_facts', args_file])[1]
        start = time.perf_counter()
        loadgen = subprocess.Popen(
            ['ip', 'netns', 'exec', ns, sys.executable, os.path.join(ROOT, 'tools', 'loadgen.py'),
             '--established', str(args.established), '--time-wait', str(args.time_wait),
             '--close-wait', str(args.close_wait)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if not loadgen.stdout.readline():
            raise SystemExit('loadgen failed')
        print('loadgen: %.1f s to open the sockets' % (time.perf_counter() - start), file=sys.stderr)
        ansible_times = ansible_round(ns, workdir, 3)
        out = subprocess.run(['ip', 'netns', 'exec', ns, sys.executable, os.path.abspath(__file__), '--inside', workdir,
                              '--runs', str(args.runs), '--psutil-runs', str(args.psutil_runs)],
                             check=True, capture_output=True, text=True).stdout
        result = json.loads(out)
    finally:
        if loadgen:
            loadgen.stdin.close()
            loadgen.wait()
        subprocess.run(['ip', 'netns', 'del', ns], check=False)
    report(result, ansible_times, empty_rss)


def report(result, ansible_times, empty_rss):
    times = result['times']
    med = dict((name, statistics.median(values)) for name, values in times.items() if values)
    floor = med['netlink dump, receive only (floor)']
    ss_awk = med['ss -tan | awk']
    print('sockets in the namespace during the rounds: %s' % ', '.join(str(n) for n in result['sockets']))
    print('%-48s %10s %9s %9s %9s' % ('method (median of runs)', 'seconds', 'x floor', 'x ss|awk', 'peak MB'))
    for name, value in med.items():
        peak = result['rss'].get(name)
        peak_text = '%.1f' % max(peak) if peak else ''
        print('%-48s %10.3f %9.2f %9.2f %9s' % (name, value, value / floor, value / ss_awk, peak_text))
    for name, values in ansible_times.items():
        print('%-48s %10.3f' % (name, statistics.median(values)))
    census_s = med['tcp_facts census in-process (states)']
    print()
    print('census / floor:              %.2fx (target <= 1.3)' % (census_s / floor))
    print('ss|awk / census:             %.2fx faster (target >= 1.6)' % (ss_awk / census_s))
    print('psutil / census:             %.1fx faster (target >= 10)' % (med['psutil.net_connections'] / census_s))
    print('module process / ss|awk:     %.2fx (target <= 0.85)' % (med['tcp_facts module, whole process'] / ss_awk))
    print('module peak RSS:             %.1f MB with no sockets, %.1f MB with them (target < 40, flat)'
          % (empty_rss, max(result['rss']['tcp_facts module, whole process'])))
    print('processes: census / ss -tanp: %.2fx; module peak RSS %.1f MB'
          % (med['tcp_facts census in-process (processes)'] / med['ss -tanp | awk (holders per state)'],
             max(result['rss']['tcp_facts module (processes), whole process'])))
    names = list(ansible_times)
    print('ansible tcp_facts / shell:   %.2fx (target <= 1.0)'
          % (statistics.median(ansible_times[names[0]]) / statistics.median(ansible_times[names[1]])))


if __name__ == '__main__':
    main()
