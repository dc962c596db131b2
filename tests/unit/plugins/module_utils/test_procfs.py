# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import collections
import os
import socket

from hypothesis import given, settings, strategies as st

from ansible_collections.netops.tcp.plugins.module_utils import _procfs as procfs
from ansible_collections.netops.tcp.plugins.module_utils._inet_diag import TCP_STATES, address

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


def test_socket_inodes_find_this_process(tmp_path):
    sock = socket.socket()
    try:
        inode = os.fstat(sock.fileno()).st_ino
        owners, _unreadable = procfs.socket_inodes('/proc', {inode})
        assert owners == {inode: os.getpid()}
    finally:
        sock.close()
