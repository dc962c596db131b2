# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures: throwaway network namespaces and the load generator; nothing touches the host's settings."""

import json
import os
import subprocess
import sys
import uuid

import pytest

from ansible_collections.netops.tcp.tests.integration.harness import LOADGEN, IsolatedHost, Namespace, SshFleet, quiet_rollout


def pytest_collection_modifyitems(items):
    if os.geteuid() != 0:
        for item in items:
            if str(item.fspath).startswith(os.path.dirname(__file__)):
                item.add_marker(pytest.mark.xfail(reason='needs root to create network namespaces', run=False, strict=True))


@pytest.fixture
def netns(tmp_path):
    name = 'netops-it-%s' % uuid.uuid4().hex[:8]
    subprocess.run(['ip', 'netns', 'add', name], check=True)
    try:
        ns = Namespace(name, str(tmp_path))
        ns.run('ip', 'link', 'set', 'lo', 'up', check=True)
        yield ns
    finally:
        subprocess.run(['ip', 'netns', 'del', name], check=False)


def start_loadgen(name, procs, **counts):
    """tools/loadgen.py started in the namespace ``name`` (appended to ``procs``); its report."""
    argv = [sys.executable, LOADGEN]
    for key, value in counts.items():
        argv += ['--' + key.replace('_', '-'), str(value)]
    proc = subprocess.Popen(['ip', 'netns', 'exec', name] + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    procs.append(proc)
    line = proc.stdout.readline()
    assert line, 'loadgen failed to start'
    return json.loads(line)


def stop_loadgens(procs):
    for proc in procs:
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.fixture
def loadgen(netns):
    """Start tools/loadgen.py in the namespace; ``start(**counts)`` returns its report."""
    procs = []
    yield lambda **counts: start_loadgen(netns.name, procs, **counts)
    stop_loadgens(procs)


@pytest.fixture
def guests(tmp_path):
    """``make(**counts)`` gives another namespace (a Namespace) with tools/loadgen.py running ``counts`` in it:
    the containers a host runs beside the namespace its modules run in."""
    made, procs = [], []

    def make(**counts):
        name = 'netops-it-%s' % uuid.uuid4().hex[:8]
        subprocess.run(['ip', 'netns', 'add', name], check=True)
        guest = Namespace(name, str(tmp_path))
        made.append(guest)
        guest.run('ip', 'link', 'set', 'lo', 'up', check=True)
        if counts:
            guest.report = start_loadgen(name, procs, **counts)
        return guest

    yield make
    stop_loadgens(procs)
    for guest in made:
        subprocess.run(['ip', 'netns', 'del', guest.name], check=False)


@pytest.fixture
def isolated_hosts(tmp_path):
    """``make(n)`` gives n IsolatedHosts (own network and mount namespaces) in one inventory file."""
    made = []

    def make(count=1):
        hosts = []
        for _i in range(count):
            name = 'netops-it-%s' % uuid.uuid4().hex[:8]
            subprocess.run(['ip', 'netns', 'add', name], check=True)
            host = IsolatedHost(name, str(tmp_path))
            made.append(host)
            host.run('ip', 'link', 'set', 'lo', 'up', check=True)
            hosts.append(host)
        inventory = tmp_path / ('hosts-%s.ini' % hosts[0].name)
        lines = ['%s ansible_connection=local ansible_python_interpreter=%s\n' % (h.name, h.python) for h in hosts]
        inventory.write_text('[tuned]\n' + ''.join(lines) + '[all:vars]\n' + quiet_rollout(tmp_path / 'tcp-tune-report'))
        for host in hosts:
            host.inventory = str(inventory)
        return hosts

    yield make
    for host in made:
        host.close()
        subprocess.run(['ip', 'netns', 'del', host.name], check=False)


@pytest.fixture
def ssh_fleet(isolated_hosts, tmp_path):
    """``make(n)`` gives an SshFleet of n IsolatedHosts, each reached over SSH through its own sshd."""
    fleets = []

    def make(count=1):
        fleet = SshFleet(str(tmp_path), isolated_hosts(count))
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.close()
