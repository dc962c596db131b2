# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import collections
import os
import socket
import sys

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.netops.tcp.plugins.module_utils.gather import _procfs as procfs
from ansible_collections.netops.tcp.plugins.module_utils.gather._inet_diag import TCP_STATES, address

from ansible_collections.netops.tcp.tests.ss_names import SS_NAMES

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'fixtures')
NETNS = os.path.join(FIXTURES, 'proc-6.18-netns')


def fixture(*parts):
    with open(os.path.join(*parts)) as handle:
        return handle.read()


def ss_lines():
    """The `ss -tanH` output captured in the same namespace at the same moment as the /proc files."""
    return [line.split() for line in fixture(NETNS, 'ss-tan.txt').splitlines() if line]


def rows(text, family):
    seen = []
    problems = procfs.tcp_rows(text, family, lambda *row: seen.append(row), 'tcp')
    return seen, problems


def test_tcp_rows_match_ss_states():
    seen = []
    for name, family in (('tcp', socket.AF_INET), ('tcp6', socket.AF_INET6)):
        found, problems = rows(fixture(NETNS, 'net', name), family)
        assert problems == []
        seen += found
    ours = collections.Counter(TCP_STATES[row[1] - 1] for row in seen)
    truth = collections.Counter(SS_NAMES[fields[0]] for fields in ss_lines())
    assert ours == truth
    assert truth['TIME_WAIT'] == 50 and truth['SYN_RECV'] == 5


def test_tcp_rows_decode_addresses_ports_and_queues_like_ss():
    seen = []
    for name, family in (('tcp', socket.AF_INET), ('tcp6', socket.AF_INET6)):
        seen += rows(fixture(NETNS, 'net', name), family)[0]
    ours = collections.Counter((TCP_STATES[r[1] - 1], '%s:%d' % (address(r[0], r[4]), r[2]),
                                '%s:%d' % (address(r[0], r[5]), r[3])) for r in seen)

    def ss_addr(text):
        host, _sep, port = text.rpartition(':')
        return '%s:%d' % (host.strip('[]'), 0 if port == '*' else int(port))

    truth = collections.Counter()
    for fields in ss_lines():
        truth[(SS_NAMES[fields[0]], ss_addr(fields[3]), ss_addr(fields[4]))] += 1
    assert ours == truth
    listen = [r for r in seen if r[1] == 10 and r[2] == 1204]
    assert [(r[6], r[7]) for r in listen] == [(9, None)]  # accept queue depth; procfs has no backlog


def test_tcp_rows_skip_malformed_lines_and_say_where():
    text = fixture(NETNS, 'net', 'tcp').split('\n')
    text[3] = '   2: garbage'
    fields = text[5].split()
    text[5] = ' '.join(fields[:3] + ['ZZ'] + fields[4:])
    found, problems = rows('\n'.join(text), socket.AF_INET)
    total = len([line for line in text[1:] if line.strip()])
    assert len(found) == total - 2
    assert problems == ['tcp: skipped 2 malformed line(s), first at line 4 (list index out of range)']


def test_tcp_rows_truncated_file_gives_partial_rows():
    text = fixture(NETNS, 'net', 'tcp')
    cut = text[:len(text) // 2]
    found, problems = rows(cut, socket.AF_INET)
    complete = cut.count('\n') - 1
    assert complete <= len(found) <= complete + 1
    assert len(problems) <= 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('0123456789ABCDEF: \n\tsl-x'), max_size=600))
def test_tcp_rows_never_raise(text):
    found, problems = rows(text, socket.AF_INET)
    assert isinstance(problems, list)
    for row in found:
        assert 1 <= row[1] <= 11


def test_paired_counters_reads_netstat_and_snmp():
    tables, problems = procfs.paired_counters(fixture(NETNS, 'net', 'netstat'), 'netstat')
    assert problems == []
    assert tables['TcpExt']['ListenOverflows'] >= 3
    assert tables['TcpExt']['ListenDrops'] >= tables['TcpExt']['ListenOverflows']
    snmp, problems = procfs.paired_counters(fixture(NETNS, 'net', 'snmp'), 'snmp')
    assert problems == []
    # CurrEstab counts ESTABLISHED + CLOSE_WAIT.
    states = collections.Counter(SS_NAMES[f[0]] for f in ss_lines())
    assert snmp['Tcp']['CurrEstab'] == states['ESTABLISHED'] + states['CLOSE_WAIT']


def test_paired_counters_truncated_and_mismatched():
    text = 'TcpExt: A B C\nTcpExt: 1 2\nIpExt: X\n'
    tables, problems = procfs.paired_counters(text, 'netstat')
    assert tables == {'TcpExt': {'A': 1, 'B': 2}}
    assert problems == ['netstat: TcpExt has 3 names but 2 values; kept the pairs that line up',
                        'netstat: IpExt: has no line of values (truncated?)']


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_paired_counters_never_raise(text):
    tables, problems = procfs.paired_counters(text, 'netstat')
    assert all(isinstance(v, int) for table in tables.values() for v in table.values())


def test_sockstat():
    tables, problems = procfs.sockstat(fixture(NETNS, 'net', 'sockstat'), 'sockstat')
    assert problems == []
    assert tables['TCP']['tw'] == 50  # per-netns since 4.11
    assert set(tables['TCP']) >= {'inuse', 'orphan', 'tw', 'alloc', 'mem'}
    tables6, problems = procfs.sockstat(fixture(NETNS, 'net', 'sockstat6'), 'sockstat6')
    assert tables6['TCP6']['inuse'] >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_sockstat_never_raises(text):
    procfs.sockstat(text, 'sockstat')


def test_ipvs_census_counts_like_ipvsadm():
    text = fixture(FIXTURES, 'ip_vs_conn')
    info, problems = procfs.ipvs_connections(text, top=2)
    assert problems == []
    truth = collections.Counter(line.split()[7] for line in text.splitlines()[1:] if line.startswith('TCP'))
    assert dict((k, v) for k, v in info['states'].items() if v) == dict(truth)
    assert info['total'] == sum(truth.values()) == 1232
    servers = collections.Counter(
        '%s:%d' % (socket.inet_ntoa(bytes.fromhex(f[5])), int(f[6], 16))
        for f in (line.split() for line in text.splitlines()[1:]) if f[0] == 'TCP')
    assert [(r['server'], r['connections']) for r in info['real_servers']] == servers.most_common(2)
    assert info['real_servers'][0] == {'server': '10.0.1.1:8080', 'connections': 412}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from('TCP 0A1F_WAIT\n'), max_size=300))
def test_ipvs_never_raises(text):
    procfs.ipvs_connections('header\n' + text)


def test_socket_states_look_up_by_inode_in_sorted_pieces(monkeypatch):
    monkeypatch.setattr(procfs.SocketStates, 'CHUNK', 7)  # several pieces
    table = procfs.SocketStates()
    expected = {}
    for i in range(50):
        inode, state = (i * 7919) % 100003 + 1, i % 11 + 1
        table.add(inode, state)
        expected[inode] = state
    table.add(0, 6)  # TIME_WAIT: no inode, not kept
    table.freeze()
    assert len(table) == 50 and len(table.pieces) == 8
    assert all(table.state(inode) == state for inode, state in expected.items())
    assert table.state(424242) == 0 and table.state(0) == 0
    assert table.counts() == dict(collections.Counter(expected.values()))


def held_by_this_process(count):
    """``count`` connected TCP pairs in this process: their inodes (the ESTABLISHED ones)."""
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(count)
    socks = [server]
    for _i in range(count):
        client = socket.create_connection(server.getsockname())
        socks += [client, server.accept()[0]]
    return socks, [os.fstat(s.fileno()).st_ino for s in socks[1:]], os.fstat(server.fileno()).st_ino


def test_the_walk_finds_this_process_and_counts_per_state():
    socks, established, listening = held_by_this_process(3)
    try:
        table = procfs.SocketStates()
        for inode in established:
            table.add(inode, 1)
        table.add(listening, 10)
        walk = procfs.ProcessWalk('/proc', table.freeze(), 30).run()
        assert walk.top(1, 5) == [(os.getpid(), 6)] and walk.top(10, 5) == [(os.getpid(), 1)]
        assert walk.attributed() == {1: 6, 10: 1} and walk.stopped is None and walk.read == walk.processes
    finally:
        for sock in socks:
            sock.close()


def test_the_walk_stops_at_its_budget_and_says_how_far_it_got():
    ticks = iter(range(1000000))
    walk = procfs.ProcessWalk('/proc', procfs.SocketStates().freeze(), 3).run(clock=lambda: next(ticks))
    assert walk.read == 3 and walk.processes > 3
    assert walk.stopped == ('stopped after the 3 s budget: read the descriptors of 3 of %d processes (%d descriptors); '
                            'the counts are partial' % (walk.processes, walk.descriptors))


MOUNTINFO = """22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw
30 22 0:40 / /proc/sys/fs/binfmt_misc rw,relatime shared:13 - autofs systemd-1 rw,fd=29
41 27 0:52 / /srv/proc\\040two rw,nosuid - proc proc rw,hidepid=2
42 27 0:53 / /proc rw,nosuid - proc proc rw,hidepid=invisible,subset=pid
"""


def test_hidepid_of_the_proc_mount():
    assert procfs.hidepid(MOUNTINFO, '/proc') == 'invisible'  # the last mount on a point is what is seen
    assert procfs.hidepid(MOUNTINFO, '/srv/proc two') == 'invisible'
    assert procfs.hidepid(MOUNTINFO.splitlines()[0], '/proc') is None
    assert procfs.hidepid('22 27 0:21 / /proc rw - proc proc rw,hidepid=1', '/proc') == 'noaccess'
    assert procfs.hidepid('', '/proc') is None and procfs.hidepid(None, '/proc') is None


ID = '0123456789abcdef' * 4
POD = '5a8f33b2-8f14-4a8c-9b2e-1c2d3e4f5a6b'


@pytest.mark.parametrize('cgroup, expected', [
    ('0::/system.slice/nginx.service\n', {'unit': 'nginx.service', 'container': None, 'pod': None}),
    ('0::/user.slice/user-1000.slice/session-3.scope\n', {'unit': 'session-3.scope', 'container': None, 'pod': None}),
    ('0::/machine.slice/libpod-%s.scope/container\n' % ID,
     {'unit': 'libpod-%s.scope' % ID, 'container': 'podman:0123456789ab', 'pod': None}),
    ('0::/system.slice/docker-%s.scope\n' % ID, {'unit': 'docker-%s.scope' % ID, 'container': 'docker:0123456789ab', 'pod': None}),
    ('0::/docker/%s\n' % ID, {'unit': None, 'container': 'docker:0123456789ab', 'pod': None}),
    ('0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/cri-containerd-%s.scope\n'
     % (POD.replace('-', '_'), ID), {'unit': 'cri-containerd-%s.scope' % ID, 'container': 'containerd:0123456789ab', 'pod': POD}),
    ('0::/kubepods/besteffort/pod%s/%s\n' % (POD, ID), {'unit': None, 'container': None, 'pod': POD}),
    ('0::/kubepods.slice/kubepods-pod%s.slice/crio-%s.scope\n' % (POD.replace('-', '_'), ID),
     {'unit': 'crio-%s.scope' % ID, 'container': 'cri-o:0123456789ab', 'pod': POD}),
    ('12:pids:/\n1:name=systemd:/system.slice/ssh.service\n0::/\n', {'unit': 'ssh.service', 'container': None, 'pod': None}),
    ('0::/\n', {'unit': None, 'container': None, 'pod': None}),
    ('', {'unit': None, 'container': None, 'pod': None}),
])
def test_what_a_cgroup_says_a_process_belongs_to(cgroup, expected):
    assert procfs.belongs_to(procfs.cgroup_path(cgroup)) == expected


@pytest.mark.parametrize('argv, expected', [
    (['app', '--db-password=hunter2', '--port=80'], ['app', '--db-password=<redacted>', '--port=80']),
    (['app', '--api-token', 'abc123', '-v'], ['app', '--api-token', '<redacted>', '-v']),
    (['env', 'PGPASSWORD=s3cret', 'AWS_SECRET_ACCESS_KEY=x', 'PATH=/bin'],
     ['env', 'PGPASSWORD=<redacted>', 'AWS_SECRET_ACCESS_KEY=<redacted>', 'PATH=/bin']),
    (['psql', 'postgres://app:pw@db:5432/x'], ['psql', 'postgres://app:<redacted>@db:5432/x']),
    (['nginx', '-g', 'daemon off;'], ['nginx', '-g', 'daemon off;']),
    (['java', '-Djavax.net.ssl.keyStorePassword=changeit', '-jar', 'app.jar'],
     ['java', '-Djavax.net.ssl.keyStorePassword=<redacted>', '-jar', 'app.jar']),
    (['ssh', '-i', 'id', '--key', '/k', '--keepalive', '60'], ['ssh', '-i', 'id', '--key', '<redacted>', '--keepalive', '60']),
    (['app', '--secret'], ['app', '--secret']),
    # What a review found leaking through the first version:
    (['curl', '-u', 'bob:pw', '--user', 'bob:pw', 'https://x'], ['curl', '-u', '<redacted>', '--user', '<redacted>', 'https://x']),
    (['curl', '-H', 'Authorization: Bearer abc.def'], ['curl', '-H', '<redacted>']),
    (['tool', '--auth-header=Bearer abc'], ['tool', '--auth-header=<redacted>']),
    (['x', 'Authorization: Bearer abc'], ['x', 'Authorization: Bearer <redacted>']),
    (['sshpass', '-p', 'pw', 'ssh', 'h'], ['sshpass', '-p', '<redacted>', 'ssh', 'h']),
    (['redis-cli', '-a', 'pw'], ['redis-cli', '-a', '<redacted>']),
    (['app', '-p=pw'], ['app', '-p=<redacted>']),
    (['helm', '--set=db.password=pw,db.user=app'], ['helm', '--set=db.password=<redacted>,db.user=app']),
    (['app', 'Server=a;Password=pw;Database=d'], ['app', 'Server=a;Password=<redacted>;Database=d']),
    (['app', 'https://u:a/b@h/x'], ['app', 'https://u:<redacted>@h/x']),
    (['app', 'redis://:p@ss@h:6379'], ['app', 'redis://:<redacted>@h:6379']),
])
def test_redacted_command_lines(argv, expected):
    assert procfs.redact_cmdline(argv) == expected


def test_the_identity_of_this_process_has_no_command_line_unless_asked():
    info = procfs.process_identity('/proc', os.getpid())
    with open('/proc/self/comm') as handle:
        assert info['name'] == handle.read().rstrip('\n')
    assert info['exe'] == os.path.realpath(sys.executable) and 'cmdline' not in info
    assert set(info) == {'pid', 'name', 'exe', 'unit', 'container', 'pod'}
    assert 'pytest' in procfs.process_identity('/proc', os.getpid(), cmdline=True)['cmdline']
    assert procfs.process_identity('/proc', 2 ** 22 + 1) is None
