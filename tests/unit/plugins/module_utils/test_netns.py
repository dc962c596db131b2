# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Other network namespaces: found in a fixture /proc, named from fixture cgroups and runtime state
files, chosen by selectors, and judged with bounded findings. Real namespaces and containers are in
tests/integration/test_namespaces_netns.py."""

import json
import os
import re

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.gather import _netns as netns
from ansible_collections.netops.tcp.plugins.module_utils.gather import _runtimes as runtimes
from ansible_collections.netops.tcp.plugins.module_utils.judge import _metrics as metrics
from ansible_collections.netops.tcp.plugins.module_utils.judge import _namespaces as judge
from ansible_collections.netops.tcp.plugins.module_utils.gather._census import STATES
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import DEFAULT_THRESHOLDS

PODMAN_ID = 'a' * 64
SANDBOX_ID = 'b' * 64
APP_ID = 'c' * 64
DOCKER_ID = 'd' * 64
CRIO_ID = 'e' * 64
POD_UID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f'


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip('/'))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as handle:
        handle.write(text if isinstance(text, str) else json.dumps(text))
    return full


@pytest.fixture
def host(tmp_path):
    """A fixture /proc (processes with their cgroups) and a root with the runtimes' state files."""
    proc, root = tmp_path / 'proc', tmp_path / 'root'

    def process(pid, cgroup, comm='app'):
        write(proc, '%d/cgroup' % pid, '0::%s\n' % cgroup)
        write(proc, '%d/comm' % pid, comm + '\n')

    process(10, '/machine.slice/libpod-%s.scope/container' % PODMAN_ID)
    write(root, '/var/lib/containers/storage/overlay-containers/containers.json',
          [{'id': PODMAN_ID, 'names': ['web'], 'image': 'x'}, {'id': 'f' * 64, 'names': []}])
    pod_slice = '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice' % POD_UID.replace('-', '_')
    process(20, '%s/cri-containerd-%s.scope' % (pod_slice, SANDBOX_ID), 'pause')
    process(21, '%s/cri-containerd-%s.scope' % (pod_slice, APP_ID), 'nginx')
    tasks = '/run/containerd/io.containerd.runtime.v2.task/k8s.io/'
    pod = {'io.kubernetes.cri.sandbox-namespace': 'shop', 'io.kubernetes.cri.sandbox-name': 'web-7d9',
           'io.kubernetes.cri.sandbox-uid': POD_UID}
    write(root, tasks + SANDBOX_ID + '/config.json',
          {'annotations': dict(pod, **{'io.kubernetes.cri.container-type': 'sandbox'})})
    write(root, tasks + APP_ID + '/config.json', {'annotations': dict(pod, **{
        'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'nginx'})})
    process(30, '/system.slice/docker-%s.scope' % DOCKER_ID)
    write(root, '/var/lib/docker/containers/%s/config.v2.json' % DOCKER_ID, {'Name': '/db', 'Config': {'Labels': {}}})
    process(40, '/kubepods/besteffort/pod%s/crio-%s' % ('11111111-2222-3333-4444-555555555555', CRIO_ID))
    write(root, '/run/containers/storage/overlay-containers/%s/userdata/config.json' % CRIO_ID, {'annotations': {
        'io.kubernetes.pod.namespace': 'kube-system', 'io.kubernetes.pod.name': 'coredns-5d78',
        'io.kubernetes.pod.uid': '11111111-2222-3333-4444-555555555555', 'io.kubernetes.container.name': 'coredns',
        'io.kubernetes.cri-o.ContainerType': 'container'}})
    process(50, '/kubepods.slice/kubepods-pod99999999_8888_7777_6666_555555555555.slice/cri-containerd-%s.scope' % ('9' * 64))
    os.makedirs(str(root / 'var/log/pods/batch_report-28731_99999999-8888-7777-6666-555555555555'))
    process(60, '/system.slice/named-ns.service')
    process(70, '/user.slice', 'sleep')
    return str(proc), runtimes.State(str(root))


def namespace(inode, pids=(), names=()):
    ns = netns.Namespace(1, inode)
    ns.pids, ns.names = list(pids), list(names)
    return ns


@pytest.mark.parametrize('pids, names, expected', [
    ([10], [], {'kind': 'container', 'label': 'podman container web', 'runtime': 'podman',
                'container_ids': ['a' * 12], 'containers': ['web'], 'pod': None}),
    ([20, 21], [], {'kind': 'pod', 'label': 'pod shop/web-7d9', 'runtime': 'containerd', 'containers': ['nginx'],
                    'pod': 'shop/web-7d9', 'pod_uid': POD_UID}),
    ([30], [], {'kind': 'container', 'label': 'docker container db', 'containers': ['db']}),
    ([40], [], {'kind': 'pod', 'label': 'pod kube-system/coredns-5d78', 'runtime': 'cri-o', 'containers': ['coredns']}),
    # containerd's bundle is gone (the task ended): the pod is named from the kubelet's log directory.
    ([50], [], {'kind': 'pod', 'label': 'pod batch/report-28731', 'containers': []}),
    ([60], [], {'kind': 'unit', 'label': 'unit named-ns.service', 'unit': 'named-ns.service'}),
    ([], ['blue'], {'kind': 'netns', 'label': 'netns blue', 'netns': 'blue', 'pid': None}),
    ([70], [], {'kind': 'process', 'label': 'pid 70 (sleep)', 'pid': 70}),
])
def test_owner_names_pod_container_unit_netns_or_process(host, pids, names, expected):
    proc, state = host
    found = netns.owner(namespace(4026532000, pids, names), proc, state)
    assert dict((k, found[k]) for k in expected) == expected


def test_runtime_files_that_are_not_what_they_should_be_name_nothing(tmp_path):
    root = tmp_path / 'root'
    listing = write(root, '/var/lib/containers/storage/overlay-containers/containers.json', '[{"id": ')
    assert runtimes.State(str(root)).container('podman', PODMAN_ID)['name'] is None  # not JSON
    os.remove(listing)
    os.mkfifo(listing)  # a FIFO: not opened for reading, so nothing hangs
    assert runtimes.State(str(root)).container('podman', PODMAN_ID)['name'] is None
    os.remove(listing)
    real = write(root, '/elsewhere.json', [{'id': PODMAN_ID, 'names': ['web']}])
    os.symlink(real, listing)  # links are not followed in the runtimes' directories
    assert runtimes.State(str(root)).container('podman', PODMAN_ID)['name'] is None
    os.remove(listing)
    write(root, '/var/lib/containers/storage/overlay-containers/containers.json',
          [{'id': PODMAN_ID, 'names': ['x' * 1000 + '\n']}])
    assert runtimes.State(str(root)).container('podman', PODMAN_ID)['name'] == 'x' * runtimes.NAME_LENGTH
    assert runtimes.State(str(root)).container('podman', '../../etc')['name'] is None  # ids are 64 hex digits
    write(root, '/var/lib/containers/storage/overlay-containers/containers.json',
          [1, None, [], {'id': 5}, {'id': PODMAN_ID, 'names': 'web'}, {'id': PODMAN_ID, 'names': ['a\x1b[2Jb']}])
    assert runtimes.State(str(root)).container('podman', PODMAN_ID)['name'] == 'a\\x1b[2Jb'  # shown, not obeyed
    write(root, '/var/lib/docker/containers/%s/config.v2.json' % DOCKER_ID, {'Name': ['x'], 'Config': 'labels'})
    assert runtimes.State(str(root)).container('docker', DOCKER_ID) == {
        'runtime': 'docker', 'name': None, 'pod': None, 'pod_uid': None, 'sandbox': False}
    write(root, '/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json' % APP_ID,
          {'annotations': {'io.kubernetes.cri.sandbox-name': {'nested': 1}}})
    assert runtimes.State(str(root)).container('containerd', APP_ID)['pod'] is None


def test_storage_conf_moves_the_graphroot_and_rm_containers_are_listed_too(tmp_path):
    root = tmp_path / 'root'
    write(root, '/etc/containers/storage.conf', '[storage]\ndriver = "vfs"\ngraphroot = "/srv/containers"\n')
    write(root, '/srv/containers/vfs-containers/volatile-containers.json', [{'id': PODMAN_ID, 'names': ['once']}])
    assert runtimes.State(str(root)).container('podman', PODMAN_ID)['name'] == 'once'


def test_discover_groups_processes_and_names_by_namespace(tmp_path):
    proc, run = tmp_path / 'proc', tmp_path / 'netns'
    own = write(proc, 'self/ns/net', '')
    os.link(own, str(proc / 'x'))
    write(proc, '1/ns/net', '')
    os.link(str(proc / 'x'), write(proc, '5/ns/tmp', '') and str(proc / '5/ns/net'))  # in the module's namespace
    other = write(proc, '7/ns/net', '')
    os.makedirs(str(proc / '9/ns'))
    os.link(other, str(proc / '9/ns/net'))
    os.makedirs(str(run))
    os.link(other, str(run / 'blue'))
    lone = write(run, 'lone', '')
    found, unreadable = netns.discover(str(proc), str(run))
    inodes = dict((ns.inode, ns) for ns in found)
    assert unreadable == 0
    assert sorted(inodes) == sorted([os.stat(other).st_ino, os.stat(str(proc / '1/ns/net')).st_ino, os.stat(lone).st_ino])
    assert inodes[os.stat(other).st_ino].pids == [7, 9] and inodes[os.stat(other).st_ino].names == ['blue']
    assert inodes[os.stat(other).st_ino].ident == 'net:[%d]' % os.stat(other).st_ino
    assert os.stat(own).st_ino not in inodes


@pytest.mark.parametrize('selector, hit', [
    ('net:[4026532000]', True), ('4026532000', True), ('21', True), ('22', False), ('blue', True),
    ('shop/web-7d9', True), ('web-7d9', True), (POD_UID, True), ('nginx', True), ('c' * 12, True), ('c' * 64, True),
    ('c' * 11, False), ('cccccccccccd', False), ('shop', False), ('red', False),
])
def test_selectors(host, selector, hit):
    proc, state = host
    ns = namespace(4026532000, [20, 21], ['blue'])
    assert netns.matches(selector, ns, netns.owner(ns, proc, state)) is hit


@pytest.mark.parametrize('options, message', [
    ({'selectors': ['web\n']}, "namespaces: 'web\\n' is not a name: give all, or namespaces by id (net:[inode]), pid, "
                               "path, ip netns name, container name or id, pod or systemd unit"),
    ({'selectors': ['']}, "namespaces: '' is not a name: give all, or namespaces by id (net:[inode]), pid, "
                          "path, ip netns name, container name or id, pod or systemd unit"),
    ({'selectors': ['all'], 'proc_path': '/host/proc'},
     "namespaces: the census of other network namespaces enters those of this host's processes; it needs "
     "proc_path=/proc, not /host/proc"),
])
def test_options_the_census_cannot_take(options, message):
    with pytest.raises(netns.NamespaceError) as err:
        netns.Gathering(options.pop('selectors'), ['states'], **options)
    assert str(err.value) == message


# -- the findings -----------------------------------------------------------------------------

HOST_KEYS = {
    'net.ipv4.tcp_max_tw_buckets': {'available': True, 'value': 262144},
    'net.core.somaxconn': {'available': True, 'value': 16384},
    'net.ipv4.tcp_max_orphans': {'available': True, 'value': 10},
}
SYSCTL_FACTS = {'keys': HOST_KEYS, 'kernel': {'version': '6.1.0', 'mem_total': 8 << 30}}
RECORD = {'profile': 'web_frontend', 'version': 2, 'applied': {'net.core.somaxconn': '16384'}}
NS_KEYS = ['net.core.somaxconn', 'net.ipv4.tcp_max_tw_buckets']


def item(inode, label, states=None, counters=None, sysctls=None, **extra):
    found = {'id': 'net:[%d]' % inode, 'inode': inode, 'owner': {'label': label}, 'members': 1,
             'states': dict((s, (states or {}).get(s, 0)) for s in STATES), 'counters': counters or {},
             'sockstat': {'tcp': {'inuse': 1, 'tw': (states or {}).get('TIME_WAIT', 0)}},
             'sysctls': {'net.core.somaxconn': 4096} if sysctls is None else sysctls}
    found.update(extra)
    return found


def judged(items, record='web_frontend@2', before=None, thresholds=None):
    record = RECORD if record == 'web_frontend@2' else record
    limits = dict(DEFAULT_THRESHOLDS, **(thresholds or {}))
    return judge.judge({'keys': NS_KEYS, 'items': items}, SYSCTL_FACTS, record, limits, before)


def test_each_namespace_is_judged_against_its_own_limits():
    found, remembered = judged([
        item(1, 'podman container piling', {'TIME_WAIT': 190}, {'TCPTimeWaitOverflow': 4},
             sysctls={'net.ipv4.tcp_max_tw_buckets': 200}),
        item(2, 'podman container calm', {'TIME_WAIT': 190}, {'TCPTimeWaitOverflow': 0}, sysctls={}),
    ], before={'net:[1]': {'counters': {'TCPTimeWaitOverflow': 1}}})
    assert [(f['kind'], f['severity'], f.get('namespace')) for f in found] == [('time_wait', 'warning', 'net:[1]')]
    assert found[0]['message'] == (
        'In podman container piling (net:[1]): 190 timewait sockets (TIME_WAIT and orphaned FIN_WAIT2; 190 in '
        'TIME_WAIT) against tcp_max_tw_buckets=200: past it the kernel destroys them at once. Use keep-alive or '
        'connection pools on the side that closes first, or raise the limit. TCPTimeWaitOverflow rose by 3 since the '
        'last audit.')
    assert remembered == {
        'net:[1]': {'label': 'podman container piling (net:[1])', 'cookie': None, 'counters': {'TCPTimeWaitOverflow': 4}},
        'net:[2]': {'label': 'podman container calm (net:[2])', 'cookie': None, 'counters': {'TCPTimeWaitOverflow': 0}}}


def test_a_reused_inode_is_another_namespace():
    # The kernel gives a freed nsfs inode to the next namespace: the last audit's counters under the same id
    # are that namespace's only when the cookies (Linux 5.14+), or without them the labels, agree.
    now = item(1, 'podman container piling', {'TIME_WAIT': 190}, {'TCPTimeWaitOverflow': 4},
               sysctls={'net.ipv4.tcp_max_tw_buckets': 200}, cookie=8)
    for old, since in (({'cookie': 8, 'counters': {'TCPTimeWaitOverflow': 1}}, 'rose by 3 since the last audit'),
                       ({'cookie': 7, 'counters': {'TCPTimeWaitOverflow': 1}}, 'rose by 4 since the namespace was created'),
                       ({'label': 'pod a/b (net:[1])', 'counters': {'TCPTimeWaitOverflow': 1}},
                        'rose by 4 since the namespace was created'),
                       ({'counters': {'TCPTimeWaitOverflow': 1}}, 'rose by 3 since the last audit')):
        found, _remembered = judged([dict(now)], before={'net:[1]': old})
        assert found[0]['message'].endswith('TCPTimeWaitOverflow %s.' % since), old


def test_host_wide_settings_are_not_judged_in_a_namespace():
    # tcp_max_orphans is the host's (10 here): a namespace's census has no orphan figure, and the key is
    # not one a namespace has, so no orphan finding comes from it.
    found, _remembered = judged([item(1, 'pod a/b', sysctls={})], record=None)
    assert found == []


def test_the_worst_ten_are_listed_and_the_rest_counted():
    items = [item(100 + n, 'pod shop/web-%02d' % n, {'CLOSE_WAIT': 10 + n}, sysctls={}) for n in range(25)]
    rises = {'TCPReqQFullDrop': 9, 'TCPReqQFullDoCookies': 0}
    items.append(item(200, 'pod shop/db', {'CLOSE_WAIT': 5}, rises, sysctls={}))  # SYNs dropped: critical, listed first
    found, _remembered = judged(items, before={'net:[200]': {'counters': dict(rises, TCPReqQFullDrop=1)}},
                                thresholds={'close_wait': 10})
    listed = [f for f in found if f.get('namespace')]
    assert len(set(f['namespace'] for f in listed)) == judge.LISTED
    assert listed[0]['namespace'] == 'net:[200]' and listed[0]['severity'] == 'critical'
    summary = [f for f in found if f['kind'] == 'namespaces']
    assert len(summary) == 1 and summary[0]['severity'] == 'warning' and summary[0]['actual'] == 16
    assert summary[0]['message'] == (
        '16 more network namespaces have findings (close_wait 16): pod shop/web-15 (net:[115]), pod shop/web-14 '
        '(net:[114]), pod shop/web-13 (net:[113]), pod shop/web-12 (net:[112]), pod shop/web-11 (net:[111]) and 11 '
        'more. Their census is in ansible_facts.tcp.namespaces.')
    assert [f['namespace'] for f in listed[1:3]] == ['net:[124]', 'net:[123]']  # then the most sockets


def test_gone_namespaces_are_skipped_and_unreadable_ones_said():
    found, remembered = judged([
        item(1, 'pod a/b', error='it is gone: no process or name holds it any more'),
        item(2, 'netns blue', error='cannot enter it: Operation not permitted (needs CAP_SYS_ADMIN: run as root)'),
    ])
    assert remembered == {}
    assert [(f['kind'], f['severity'], f['message']) for f in found] == [
        ('namespaces', 'warning', '1 network namespace could not be read, so it is not audited: netns blue (net:[2]): '
                                  'cannot enter it: Operation not permitted (needs CAP_SYS_ADMIN: run as root).')]


def test_namespaces_without_the_profile_settings_get_one_info_finding():
    found, _remembered = judged([item(n, 'pod shop/web-%d' % n) for n in range(1, 8)]
                                + [item(9, 'pod shop/tuned', sysctls={})])
    assert found == [{
        'kind': 'namespace_settings', 'severity': 'info', 'key': 'net.core.somaxconn', 'expected': '16384',
        'actual': '4096',
        'message': "7 network namespaces (pod shop/web-1 (net:[1]), pod shop/web-2 (net:[2]), pod shop/web-3 (net:[3]), "
                   "pod shop/web-4 (net:[4]), pod shop/web-5 (net:[5]) and 2 more) run without settings the host's "
                   "profile web_frontend@2 sets: net.core.somaxconn 4096 there (the kernel's default), 16384 on the "
                   "host. A new network namespace starts from the kernel's defaults for most settings (tcp_rmem, "
                   "tcp_wmem and the congestion control are copied from the host), and the profile tunes the host's "
                   "namespace only: set them in the pod spec (securityContext.sysctls; the kubelet must allow those "
                   "Kubernetes calls unsafe, such as somaxconn, with --allowed-unsafe-sysctls), the container's "
                   "--sysctl, or apply the profile in the namespace (sysctl_tune namespace)."}]
    assert judged([item(1, 'pod a/b')], record=None)[0] == []  # no profile on the host: nothing to compare


def test_facts_of_another_shape_judge_nothing():
    assert judge.judge(None, SYSCTL_FACTS, RECORD, DEFAULT_THRESHOLDS) == ([], {})
    assert judge.judge({'items': ['x', {'id': 3}]}, SYSCTL_FACTS, RECORD, DEFAULT_THRESHOLDS) == ([], {})


def test_metrics_write_the_worst_namespaces_only_with_their_counters_read_back():
    items = [item(300 + n, 'pod shop/web-%02d' % n, {'ESTABLISHED': n}, {'TCPTimeWaitOverflow': n, 'OutSegs': 7},
                  total=n) for n in range(15)]
    items.append(item(400, 'podman container "odd"\nname', {'CLOSE_WAIT': 2}, {}, total=2))
    found = [{'kind': 'close_wait', 'severity': 'warning', 'namespace': 'net:[400]'}]
    text = metrics.render({'namespaces': {'items': items + [{'id': 'net:[9]', 'error': 'it is gone'}]}}, {}, None, found)
    series = [line for line in text.splitlines() if line.startswith('netops_tcp_namespace_')]
    written = sorted(set(re.search(r'id="(net:\[\d+\])"', line).group(1) for line in series))
    # the one with a finding, then the nine with the most sockets
    assert written == sorted(['net:[400]'] + ['net:[%d]' % (300 + n) for n in range(6, 15)])
    assert 'netops_tcp_namespaces 16' in text.splitlines()
    assert ('netops_tcp_namespace_connections{id="net:[400]",namespace="podman container \\"odd\\"\\nname",'
            'state="CLOSE_WAIT"} 2') in series
    assert 'netops_tcp_namespace_findings{id="net:[400]",namespace="podman container \\"odd\\"\\nname"} 1' in series
    assert len([line for line in series if 'namespace_connections' in line]) == 10 * len(STATES)
    previous = metrics.previous_namespace_counters(text)
    assert previous['net:[314]'] == {'cookie': None, 'counters': {'TCPTimeWaitOverflow': 14, 'OutSegs': 7}}
    items[14]['cookie'] = 99
    text = metrics.render({'namespaces': {'items': items}}, {}, None, found)
    assert metrics.previous_namespace_counters(text)['net:[314]']['cookie'] == 99
    assert 'net:[300]' not in previous and 'net:[400]' not in previous  # not written; no counters of its own


def test_the_process_budget_holds_for_every_namespace_together(monkeypatch):
    """The namespaces' process walks share process_budget: past it, the rest are counted without one."""
    gathering = netns.Gathering(['all'], ['states', 'processes'], process_budget=0.5)
    asked = []

    class Census:  # what the census is asked for, in place of the real one (which needs a real namespace)
        def __init__(self, _proc, _backend, subsets, _ports, _top, budget, *_args, **_kw):
            asked.append(('processes' in subsets, round(budget, 1)))
            self.warnings = []

        def gather(self):
            return {}

    clock = iter([100.0, 100.2, 100.6, 100.9])
    monkeypatch.setattr(netns, 'Census', Census)
    monkeypatch.setattr(netns.time, 'monotonic', lambda: next(clock))
    monkeypatch.setattr(netns, 'in_thread', lambda work: work())
    monkeypatch.setattr(netns, 'enter', lambda *_args: None)
    monkeypatch.setattr(gathering, 'chosen', lambda: ([(namespace(n), {'label': 'pod a/%d' % n}) for n in (1, 2, 3)], 3))
    gathering.gather()
    assert asked == [(True, 0.3), (False, -0.1), (False, -0.4)]
    assert gathering.warnings == ['namespaces: processes: the 0.5 s budget ran out; the processes of 2 namespaces were '
                                  'not read (process_budget)']


def test_one_namespace_that_fails_does_not_stop_the_others(monkeypatch):
    """A namespace that cannot be entered, or whose census meets anything at all, has its error; the helper
    thread enters the next one before counting it, so no census runs where the last one left it."""
    gathering = netns.Gathering(['all'], ['states'])
    entered, counted = [], []

    def enter(ns, *_args):
        if ns.inode == 2:
            raise netns.NamespaceError('cannot enter it: Operation not permitted')
        entered.append(ns.inode)

    class Census:
        def __init__(self, *_args, **kw):
            self.netns, self.warnings = kw['netns'], []

        def gather(self):
            counted.append((self.netns[1], entered[-1]))
            if self.netns[1] == 3:
                raise KeyError('state')
            return {'states': {}}

    monkeypatch.setattr(netns, 'Census', Census)
    monkeypatch.setattr(netns, 'enter', enter)
    monkeypatch.setattr(netns, 'cookie', lambda: 42)
    monkeypatch.setattr(gathering, 'chosen', lambda: ([(namespace(n), {'label': 'pod a/%d' % n}) for n in (1, 2, 3, 4)], 4))
    items = gathering.gather()['items']
    errors = [item.get('error') for item in items]
    assert errors == [None, 'cannot enter it: Operation not permitted', "KeyError: 'state'", None]
    assert counted == [(1, 1), (3, 3), (4, 4)]  # each census in the namespace entered just before it
    assert [item['cookie'] for item in items] == [42, None, 42, 42]
