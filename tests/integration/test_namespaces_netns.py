# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's other network namespaces: plain ones (ip netns) and real podman containers beside a
host, counted against ss run inside each, named, and audited with their own limits."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.gather import _netns as netns_mod
from ansible_collections.netops.tcp.plugins.module_utils.gather._host import DEFAULT_FACT
from ansible_collections.netops.tcp.tests.integration.harness import ROOT

IMAGE = 'localhost/netops-tcp-deb12:latest'
PODMAN_ENV = dict(os.environ, CONTAINERS_CONF=os.path.join(ROOT, 'molecule', 'containers.conf'))


def pids_of(guest):
    out = subprocess.run(['ip', 'netns', 'pids', guest.name], capture_output=True, text=True, check=True).stdout
    return sorted(int(p) for p in out.split())


def run_module(namespace, module, args):
    """A module of the collection run in ``namespace`` as AnsiballZ runs it (its result, warnings as text)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.environ['ANSIBLE_COLLECTIONS_PATH']] + sys.path))
    proc = subprocess.run(['ip', 'netns', 'exec', namespace.name, sys.executable, '-m',
                           'ansible_collections.netops.tcp.plugins.modules.' + module],
                          input=json.dumps({'ANSIBLE_MODULE_ARGS': args}), capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    result = json.loads(proc.stdout)
    # ansible-core 2.19 returns warnings as structured events, earlier ones as strings
    result['warnings'] = [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]
    return result


def nstat(namespace):
    """{counter: value} as nstat prints them inside ``namespace`` (Tcp and TcpExt prefixed)."""
    out = namespace.run('nstat', '-asz', check=True).stdout
    return dict((k, int(v)) for k, v in re.findall(r'^(\w+)\s+(\d+)', out, re.M))


def sysctl_text(namespace, key):
    return ' '.join(namespace.run('sysctl', '-n', key, check=True).stdout.split())


def inode_of(guest):
    return os.stat('/run/netns/' + guest.name).st_ino


def test_each_namespace_is_counted_as_ss_counts_it_inside(netns, guests):
    piling = guests(time_wait=150, established=20)
    leaking = guests(close_wait=40)
    leaking.run('sysctl', '-qw', 'net.core.somaxconn=777', check=True)
    args = {'gather_subset': ['all', 'processes'], 'namespaces': [piling.name, leaking.name, 'no-such-namespace']}
    for _attempt in range(3):
        before = [guest.ss_states() for guest in (piling, leaking)]
        counters = nstat(piling)
        result = run_module(netns, 'audit_facts', args)
        if [guest.ss_states() for guest in (piling, leaking)] == before and nstat(piling) == counters:
            break
    else:
        pytest.fail('the namespaces kept changing while facts were gathered')
    tcp = result['ansible_facts']['tcp']
    items = dict((item['owner']['netns'], item) for item in tcp['namespaces']['items'])
    assert sorted(items) == sorted([piling.name, leaking.name])
    assert [items[piling.name]['states'], items[leaking.name]['states']] == before
    assert before[0]['TIME_WAIT'] == 150 and before[1]['CLOSE_WAIT'] == 40
    assert tcp['states'] == netns.ss_states()  # the module's own namespace holds none of theirs
    # Each namespace's own counters, as nstat reads them inside it (and not the host's).
    mine = items[piling.name]['counters']
    assert mine['ActiveOpens'] == counters['TcpActiveOpens'] >= 150 and mine['TW'] == counters['TcpExtTW']
    assert mine['ActiveOpens'] != tcp['counters']['ActiveOpens']
    leak = items[leaking.name]
    assert leak['id'] == 'net:[%d]' % inode_of(leaking) and leak['inode'] == inode_of(leaking)
    assert leak['owner']['kind'] == 'netns' and leak['owner']['label'] == 'netns ' + leaking.name
    assert leak['owner']['pid'] == pids_of(leaking)[0] and leak['members'] == len(pids_of(leaking))
    # The process walk read the namespace's own processes: loadgen holds every CLOSE_WAIT socket.
    holders = leak['processes']['CLOSE_WAIT']
    assert [(p['pid'], p['sockets']) for p in holders] == [(pids_of(leaking)[-1], 40)]
    # Settings: only those that differ from the namespace the module runs in, as sysctl reads them inside each.
    keys = tcp['namespaces']['keys']
    for guest in (piling, leaking):
        differ = [k for k in keys if sysctl_text(guest, k) != sysctl_text(netns, k)]
        assert sorted(items[guest.name]['sysctls']) == differ
        for key, value in items[guest.name]['sysctls'].items():
            assert (' '.join(str(v) for v in value) if isinstance(value, list) else str(value)) == sysctl_text(guest, key)
    assert leak['sysctls']['net.core.somaxconn'] == 777  # set above; loadgen sets its port range and tw_reuse
    assert 'net.core.somaxconn' in tcp['namespaces']['keys'] and 'net.ipv4.tcp_mem' not in tcp['namespaces']['keys']
    tcp_line = [line.split() for line in leaking.run('cat', '/proc/net/sockstat').stdout.splitlines() if line.startswith('TCP:')]
    assert leak['sockstat']['tcp']['inuse'] == int(tcp_line[0][2])
    assert 'orphan' not in leak['sockstat']['tcp']  # a host-wide figure: the host's own facts have it
    assert "namespaces: no network namespace on this host matches 'no-such-namespace'" in result['warnings']
    # Every one: ours are among them, and the module's own namespace is not.
    every = netns.ansible('netops.tcp.tcp_facts', {'namespaces': ['all']})['ansible_facts']['tcp']['namespaces']
    ids = [item['id'] for item in every['items']]
    assert {'net:[%d]' % inode_of(piling), 'net:[%d]' % inode_of(leaking)} <= set(ids)
    assert every['found'] == len(ids) and 'net:[%d]' % os.stat('/run/netns/' + netns.name).st_ino not in ids
    assert 'sysctls' not in every['items'][0]  # tcp_facts ships without the catalog: settings are audit_facts'


def test_a_bad_selector_fails_naming_it(netns):
    result = netns.ansible('netops.tcp.tcp_facts', {'namespaces': [' web']}, expect_failure=True)
    assert result['msg'] == ("namespaces: ' web' is not a name: give all, or namespaces by id (net:[inode]), pid, path, "
                             "ip netns name, container name or id, pod or systemd unit")
    result = netns.ansible('netops.tcp.tcp_facts', {'namespaces': ['all'], 'proc_path': '/tmp'}, expect_failure=True)
    assert result['msg'] == ("namespaces: the census of other network namespaces enters those of this host's processes; "
                             "it needs proc_path=/proc, not /tmp")


def test_the_thread_enters_and_the_process_stays(tmp_path):
    """run_in moves a helper thread only; a namespace that ended is said to be gone."""
    own = os.readlink('/proc/thread-self/ns/net')
    holder = subprocess.Popen(['unshare', '-n', 'sleep', '60'])
    try:
        for _wait in range(50):
            if os.readlink('/proc/%d/ns/net' % holder.pid) != own:
                break
            time.sleep(0.05)
        found = [ns for ns in netns_mod.discover()[0] if holder.pid in ns.pids]
        assert len(found) == 1
        seen = netns_mod.run_in(found[0], lambda: os.readlink('/proc/thread-self/ns/net'))
        assert seen == 'net:[%d]' % found[0].inode != own
        assert os.readlink('/proc/thread-self/ns/net') == own
    finally:
        holder.kill()
        holder.wait()
    with pytest.raises(netns_mod.NamespaceError, match='^it is gone: no process or name holds it any more$'):
        netns_mod.run_in(found[0], lambda: None)


# Run inside the containers as their only process (python3 of the Debian image): the leaking one accepts
# connections and never closes them, so each sits in CLOSE_WAIT once its client closed; the piling one
# closes client-first, so each connection leaves a TIME_WAIT socket in the container's own table.
LEAKING = '''
import socket, time
server = socket.socket(); server.bind(("127.0.0.1", 8080)); server.listen(128)
held = []
for _ in range(%d):
    client = socket.create_connection(("127.0.0.1", 8080)); conn, _peer = server.accept(); held.append(conn)
    client.close()
print("ready", flush=True); time.sleep(600)
'''
PILING = '''
import socket, time
server = socket.socket(); server.bind(("127.0.0.1", 8081)); server.listen(128)
for _ in range(%d):
    client = socket.create_connection(("127.0.0.1", 8081)); conn, _peer = server.accept()
    client.close(); conn.recv(1); conn.close()
print("ready", flush=True); time.sleep(600)
'''


@pytest.fixture
def containers():
    """``run(name_prefix, script, *podman_args)``: a podman container running ``script``, ready; its name."""
    names = []

    def run(prefix, script, *args):
        name = '%s-%s' % (prefix, uuid.uuid4().hex[:6])
        names.append(name)
        subprocess.run(['podman', 'run', '-d', '--name', name] + list(args) + [IMAGE, 'python3', '-c', script],
                       env=PODMAN_ENV, check=True, capture_output=True, timeout=120)
        for _wait in range(100):
            logs = subprocess.run(['podman', 'logs', name], env=PODMAN_ENV, capture_output=True, text=True, check=False)
            if 'ready' in logs.stdout:
                return name
            time.sleep(0.1)
        pytest.fail('container %s did not come up: %s' % (name, logs.stdout + logs.stderr))

    yield run
    if names:
        subprocess.run(['podman', 'rm', '-f', '-t', '0'] + names, env=PODMAN_ENV, capture_output=True, check=False)


def podman_inspect(name, template):
    return subprocess.run(['podman', 'inspect', '-f', template, name], env=PODMAN_ENV, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_two_containers_leaking_and_piling_are_found_and_named(isolated_hosts, containers, tmp_path):
    host = isolated_hosts()[0]
    tune = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', 'tcp_tune_profile=web_frontend')
    assert tune.returncode == 0, tune.stdout[-3000:]
    leaking = containers('leaking', LEAKING % 60)
    piling = containers('piling', PILING % 300, '--sysctl', 'net.ipv4.tcp_max_tw_buckets=200')
    report_dir = tmp_path / 'report'
    audit = host.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
        'tcp_audit_namespaces': [leaking, piling], 'tcp_audit_thresholds': {'close_wait': 50},
        'tcp_audit_report_dir': str(report_dir), 'tcp_audit_metrics': True}))
    assert audit.returncode == 0, audit.stdout[-3000:]
    entry = json.loads((report_dir / 'report.json').read_text())['hosts'][host.name]
    ids = dict((name, 'net:[%d]' % os.stat('/proc/%s/ns/net' % podman_inspect(name, '{{.State.Pid}}')).st_ino)
               for name in (leaking, piling))
    short = dict((name, podman_inspect(name, '{{.Id}}')[:12]) for name in (leaking, piling))
    mine = dict((f['kind'], f) for f in entry['findings'] if f.get('namespace') or f['kind'] == 'namespace_settings')
    assert mine['close_wait']['namespace'] == ids[leaking]
    assert mine['close_wait']['message'].startswith(
        'In podman container %s (%s): 60 sockets in CLOSE_WAIT: the peer closed and the application never called '
        'close(). Fix the code that leaks them: python3 (pid ' % (leaking, ids[leaking]))
    assert 'podman:%s, 60 sockets)' % short[leaking] in mine['close_wait']['message']
    assert mine['time_wait']['namespace'] == ids[piling]
    assert mine['time_wait']['message'].startswith(
        'In podman container %s (%s): 200 timewait sockets (TIME_WAIT and orphaned FIN_WAIT2; 200 in TIME_WAIT) against '
        'tcp_max_tw_buckets=200' % (piling, ids[piling]))
    assert mine['time_wait']['message'].endswith('TCPTimeWaitOverflow rose by 100 since the namespace was created.')
    # The containers run the kernel's defaults of the settings web_frontend sets on the host.
    settings = mine['namespace_settings']
    assert settings['severity'] == 'info' and 'namespace' not in settings
    first, second = sorted((leaking, piling), key=lambda name: int(ids[name][5:-1]))
    assert settings['message'].startswith(
        "2 network namespaces (podman container %s (%s), podman container %s (%s)) run without settings the host's "
        "profile web_frontend@2 sets: net.core.somaxconn 4096 there (the kernel's default), 16384 on the host; "
        % (first, ids[first], second, ids[second])), settings['message']
    assert '; net.ipv4.tcp_max_tw_buckets 200, 131072 there, 262144 on the host; ' in settings['message']
    assert set(entry['namespaces']) == set(ids.values())
    assert entry['namespaces'][ids[piling]]['counters']['TCPTimeWaitOverflow'] == 100
    # The host's own namespace holds none of it.
    assert not [f for f in entry['findings'] if f['kind'] in ('close_wait', 'time_wait') and not f.get('namespace')]
    markdown = (report_dir / 'report.md').read_text()
    assert 'In podman container %s' % leaking in markdown and 'In podman container %s' % piling in markdown
    # The same run wrote the host's metrics, the two namespaces among them, in a file promtool accepts.
    prom = host.read('/var/lib/prometheus/node-exporter/netops_tcp.prom')
    assert re.search(r'^netops_tcp_namespace_connections\{cookie="\d+",id="%s",namespace="podman container %s",'
                     r'state="CLOSE_WAIT"\} 60$' % (re.escape(ids[leaking]), leaking), prom, re.M)
    assert re.search(r'^netops_tcp_namespace_snmp_total\{cookie="\d+",counter="TCPTimeWaitOverflow",id="%s",'
                     r'namespace="podman container %s"\} 100$' % (re.escape(ids[piling]), piling), prom, re.M)
    assert 'netops_tcp_findings{kind="close_wait",severity="warning"} 1' in prom.splitlines()
    assert 'netops_tcp_namespaces 2' in prom.splitlines()
    promtool = shutil.which('promtool')
    assert promtool, 'promtool is missing: scripts/bootstrap.sh extracts it from Debian\'s package'
    check = subprocess.run([promtool, 'check', 'metrics'], input=prom, capture_output=True, text=True, check=False)
    assert check.returncode == 0 and not (check.stdout + check.stderr).strip(), check.stdout + check.stderr
    print(markdown)  # the closing note's excerpt (pytest -s)


def test_sysctl_tune_in_a_container_applies_skips_and_puts_back(isolated_hosts, containers):
    host = isolated_hosts()[0]
    tune = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', 'tcp_tune_profile=web_frontend')
    assert tune.returncode == 0, tune.stdout[-3000:]
    paths = ('/etc/sysctl.d/60-netops-tcp.conf', DEFAULT_FACT, '/var/lib/netops-tcp/state.json')
    host_files = dict((path, host.read(path)) for path in paths)
    assert all(host_files.values())
    name = containers('tuned', 'print("ready", flush=True)\nimport time\ntime.sleep(600)')
    pid = podman_inspect(name, '{{.State.Pid}}')
    ident = 'net:[%d]' % os.stat('/proc/%s/ns/net' % pid).st_ino

    def inside(key):
        return subprocess.run(['nsenter', '-t', pid, '-n', 'sysctl', '-n', key], capture_output=True, text=True,
                              check=True).stdout.strip()

    keys = ('net.core.somaxconn', 'net.ipv4.tcp_fin_timeout', 'net.core.netdev_max_backlog')
    host_before = [host.sysctl(k) for k in keys[:2]]  # a child namespace: no netdev_max_backlog of its own
    machine_before = [open('/proc/sys/' + k.replace('.', '/')).read() for k in keys]
    before = [inside(k) for k in keys[:2]]
    settings = {'net.core.somaxconn': 8192, 'net.ipv4.tcp_fin_timeout': 30, 'net.core.netdev_max_backlog': 5000}
    missing = host.ansible('netops.tcp.sysctl_tune', {'settings': settings, 'namespace': 'no-such-container'},
                           expect_failure=True)
    assert missing['msg'] == ("namespace: 'no-such-container' names no network namespace on this host (other than the "
                              "module's own)")
    checked = host.ansible('netops.tcp.sysctl_tune', {'settings': settings, 'namespace': name}, extra=['--check'])
    assert checked['changed'] and [inside(k) for k in keys[:2]] == before  # check mode: nothing written
    assert host.read(checked['namespace']['state_dir'] + '/state.json') is None
    result = host.ansible('netops.tcp.sysctl_tune', {'settings': settings, 'namespace': name})
    assert result['changed'] and result['namespace']['id'] == ident
    assert result['namespace']['owner']['label'] == 'podman container ' + name
    assert sorted(a['key'] for a in result['applied']) == ['net.core.somaxconn', 'net.ipv4.tcp_fin_timeout']
    assert result['skipped_keys'] == {
        'net.core.netdev_max_backlog': 'host-global: set it on the host, not inside a network namespace'}
    assert [inside(k) for k in keys[:2]] == ['8192', '30'] and result['mismatches'] == []
    # The host's namespace and the machine are as they were; nothing was persisted.
    assert [host.sysctl(k) for k in keys[:2]] == host_before
    assert [open('/proc/sys/' + k.replace('.', '/')).read() for k in keys] == machine_before
    assert result['sysctl_file'] is None
    kept = result['namespace']['state_dir']
    assert kept == '/var/lib/netops-tcp/netns/cookie-%d' % result['namespace']['cookie']  # Linux 5.14+: a cookie
    state = json.loads(host.read(kept + '/state.json'))
    assert state['originals'] == {'net.core.somaxconn': before[0], 'net.ipv4.tcp_fin_timeout': before[1]}
    record = json.loads(host.read(kept + '/netops_tcp.fact'))
    assert record['applied'] == {'net.core.somaxconn': '8192', 'net.ipv4.tcp_fin_timeout': '30'}
    again = host.ansible('netops.tcp.sysctl_tune', {'settings': settings, 'namespace': ident})
    assert not again['changed'] and again['applied'] == []
    undo = host.ansible('netops.tcp.sysctl_tune', {'state': 'absent', 'namespace': name})
    assert undo['changed'] and [inside(k) for k in keys[:2]] == before
    assert host.read(kept + '/state.json') is None
    # The host's own drop-in, record and originals are untouched, byte for byte, and so are its values.
    assert dict((path, host.read(path)) for path in host_files) == host_files
    assert [host.sysctl(k) for k in keys[:2]] == host_before


def test_the_tune_role_tunes_a_container_by_name(isolated_hosts, containers):
    host = isolated_hosts()[0]
    name = containers('roled', 'print("ready", flush=True)\nimport time\ntime.sleep(600)')
    pid = podman_inspect(name, '{{.State.Pid}}')
    before = host.sysctl('net.core.somaxconn')
    tune = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', json.dumps({
        'tcp_tune_profile': 'web_frontend', 'tcp_tune_namespace': name}))
    assert tune.returncode == 0, tune.stdout[-3000:]
    inside = subprocess.run(['nsenter', '-t', pid, '-n', 'sysctl', '-n', 'net.core.somaxconn', 'net.ipv4.tcp_fin_timeout'],
                            capture_output=True, text=True, check=True).stdout.split()
    assert inside == ['16384', '30']  # web_frontend@2's values, in the container
    assert host.sysctl('net.core.somaxconn') == before and host.read('/etc/sysctl.d/60-netops-tcp.conf') is None
    assert '"net.core.netdev_max_backlog": "host-global: set it on the host, not inside a network namespace"' in tune.stdout
