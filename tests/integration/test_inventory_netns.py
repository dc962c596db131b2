# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example inventory: TCP facts in gather_facts, a jsonfile cache, constructed groups from it."""

import os
import shutil
import subprocess

from ansible_collections.netops.tcp.tests.integration.harness import ROOT

EXAMPLE = os.path.join(ROOT, 'examples', 'inventory')


def test_constructed_groups_from_cached_facts(isolated_hosts, tmp_path):
    web, lb = isolated_hosts(2)
    for host, profile in ((web, 'web_frontend'), (lb, 'lb_backend')):
        proc = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '--limit', host.name, '-e', 'tcp_tune_profile=' + profile)
        assert proc.returncode == 0, proc.stdout[-3000:]
    lb.run('sysctl', '-qw', 'net.ipv4.tcp_keepalive_time=7000', check=True)  # drift by hand
    inventory = tmp_path / 'inventory'
    shutil.copytree(EXAMPLE, str(inventory))
    shutil.copy(web.inventory, str(inventory / 'hosts.yml'))  # our two namespace hosts instead of the examples
    play = tmp_path / 'gather.yml'
    play.write_text('- hosts: all\n  gather_facts: true\n  tasks: []\n')
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    gather = subprocess.run(['ansible-playbook', str(play)], cwd=str(inventory), env=env, capture_output=True,
                            text=True, check=False)
    assert gather.returncode == 0, gather.stdout[-3000:] + gather.stderr[-2000:]
    cached = os.listdir(str(inventory / 'facts-cache'))
    assert all(any(f.endswith(h.name) for f in cached) for h in (web, lb)), cached
    graph = subprocess.run(['ansible-inventory', '--graph'], cwd=str(inventory), env=env, capture_output=True,
                           text=True, check=True).stdout
    groups = {}
    current = None
    for line in graph.splitlines():
        name = line.replace('|', ' ').replace('--', ' ').strip()
        if name.startswith('@'):
            current = name[1:-1]
            groups[current] = []
        elif current:
            groups[current].append(name)
    assert groups['tcp_profile_web_frontend_v1'] == [web.name]
    assert groups['tcp_profile_lb_backend_v1'] == [lb.name]
    assert groups['tcp_drifted'] == [lb.name]
    assert 'tcp_unmanaged' not in groups and 'tcp_trouble' not in groups
