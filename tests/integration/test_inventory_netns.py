# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example inventory: TCP facts in gather_facts, a jsonfile cache, the tcp_groups source's groups from it."""

import os
import pathlib
import subprocess

from ansible_collections.netops.tcp.tests.integration.harness import cached_example_fleet


def test_groups_from_cached_facts(isolated_hosts, tmp_path):
    web, lb = isolated_hosts(2)
    inventory, env = cached_example_fleet(web, lb, str(tmp_path))
    inventory = pathlib.Path(inventory)
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
    assert groups['tcp_profile_web_frontend_v2'] == [web.name]
    assert groups['tcp_profile_lb_backend_v2'] == [lb.name]
    assert groups['tcp_drifted'] == [lb.name]
    assert 'tcp_unmanaged' not in groups and 'tcp_trouble' not in groups
