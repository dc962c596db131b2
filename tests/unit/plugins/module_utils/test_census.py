# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import collections
import os
import shutil
import socket

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.gather import _census as census
from ansible_collections.netops.tcp.plugins.module_utils.gather import _inet_diag as diag

from ansible_collections.netops.tcp.tests.ss_names import SS_NAMES

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'fixtures')
NETNS = os.path.join(FIXTURES, 'proc-6.18-netns')


def ss_truth():
    with open(os.path.join(NETNS, 'ss-tan.txt')) as handle:
        return [line.split() for line in handle if line.strip()]


@pytest.fixture
def proc(tmp_path):
    """A copy of the captured /proc tree, with an ip_vs_conn, that tests may damage."""
    root = tmp_path / 'proc'
    shutil.copytree(NETNS, str(root))
    shutil.copy(os.path.join(FIXTURES, 'ip_vs_conn'), str(root / 'net' / 'ip_vs_conn'))
    return root


def gather(proc, subsets=census.DEFAULT_SUBSETS, **kw):
    c = census.Census(str(proc), subsets=set(subsets) | {'states'}, **kw)
    return c.gather(), c.warnings


def test_procfs_census_equals_ss(proc):
    facts, warnings = gather(proc)
    assert warnings == []
    assert facts['source'] == 'procfs'
    truth = collections.Counter(SS_NAMES[f[0]] for f in ss_truth())
    assert facts['states'] == dict((s, truth.get(s, 0)) for s in diag.TCP_STATES)
    assert list(facts['states']) == list(diag.TCP_STATES)  # all eleven, zeros included
    v6 = collections.Counter(SS_NAMES[f[0]] for f in ss_truth() if f[3].startswith('['))
    assert facts['states_by_family']['ipv6'] == dict((s, v6.get(s, 0)) for s in diag.TCP_STATES)
    assert facts['total'] == len(ss_truth())


def test_listeners_with_queue_depth_and_syn_recv_per_port(proc):
    facts, _warnings = gather(proc)
    by_port = dict((item['port'], item) for item in facts['listeners'])
    with open(os.path.join(NETNS, 'ss-tln.txt')) as handle:
        ss_listen = [line.split() for line in handle if line.strip()]
    assert sorted(by_port) == sorted(int(f[3].rsplit(':', 1)[1]) for f in ss_listen)
    for fields in ss_listen:
        item = by_port[int(fields[3].rsplit(':', 1)[1])]
        assert item['accept_queue'] == int(fields[1])
        assert item['backlog'] is None  # /proc/net/tcp does not show it
    syn = collections.Counter(int(f[3].rsplit(':', 1)[1]) for f in ss_truth() if f[0] == 'SYN-RECV')
    assert by_port[1205]['syn_recv'] == syn[1205] == 5
    assert by_port[1204]['accept_queue'] == 9


def test_ephemeral_ports_group_by_peer(proc):
    facts, _warnings = gather(proc, top=3)
    eph = facts['ephemeral_ports']
    assert eph['range'] == [1500, 65535] and eph['size'] == 64036
    lo, hi = eph['range']
    truth, time_wait = collections.Counter(), collections.Counter()
    for f in ss_truth():
        local_port = int(f[3].rsplit(':', 1)[1])
        if f[0] != 'LISTEN' and lo <= local_port <= hi:
            host, _sep, port = f[4].rpartition(':')
            truth[(host.strip('[]'), int(port))] += 1
            time_wait[(host.strip('[]'), int(port))] += f[0] == 'TIME-WAIT'
    assert eph['in_use'] == sum(truth.values())
    assert [(p['peer'], p['port'], p['connections'], p['time_wait']) for p in eph['busiest_peers']] == \
        [(h, p, n, time_wait[(h, p)]) for (h, p), n in truth.most_common(3)]
    assert sum(p['time_wait'] for p in eph['busiest_peers']) > 0  # the fixture has TIME_WAIT towards its busiest peers
    assert eph['busiest_peers'][0]['usage'] == round(truth.most_common(1)[0][1] / 64036.0, 4)


def test_port_breakdown(proc):
    facts, _warnings = gather(proc, ports=[1203])
    local = collections.Counter(SS_NAMES[f[0]] for f in ss_truth() if f[3].endswith(':1203'))
    remote = collections.Counter(SS_NAMES[f[0]] for f in ss_truth() if f[4].endswith(':1203'))
    assert facts['ports']['1203']['local'] == dict((s, local.get(s, 0)) for s in diag.TCP_STATES)
    assert facts['ports']['1203']['remote'] == dict((s, remote.get(s, 0)) for s in diag.TCP_STATES)
    assert facts['ports']['1203']['remote']['CLOSE_WAIT'] == 10


def test_counters_sockstat_conntrack_ipvs(proc):
    facts, _warnings = gather(proc, subsets=census.SUBSETS)
    assert facts['counters']['ListenOverflows'] >= 3
    assert facts['counters']['CurrEstab'] == facts['states']['ESTABLISHED'] + facts['states']['CLOSE_WAIT']
    assert facts['sockstat']['tcp']['tw'] == facts['states']['TIME_WAIT']
    assert facts['sockstat']['tcp']['mem_bytes'] == facts['sockstat']['tcp']['mem'] * os.sysconf('SC_PAGE_SIZE')
    assert facts['conntrack'] == {'loaded': False}
    assert facts['ipvs']['loaded'] is True and facts['ipvs']['states']['TIME_WAIT'] == 1131


def test_conntrack_usage(proc):
    (proc / 'sys' / 'net' / 'netfilter').mkdir()
    (proc / 'sys' / 'net' / 'netfilter' / 'nf_conntrack_count').write_text('196000\n')
    (proc / 'sys' / 'net' / 'netfilter' / 'nf_conntrack_max').write_text('196608\n')
    facts, _warnings = gather(proc, subsets=['conntrack'])
    assert facts['conntrack'] == {'loaded': True, 'count': 196000, 'max': 196608, 'usage': 0.9969}


def test_damaged_files_give_partial_facts_and_warnings(proc):
    tcp = (proc / 'net' / 'tcp').read_text().split('\n')
    (proc / 'net' / 'tcp').write_text('\n'.join(tcp[:40]) + '\n   39: 0100007F:04B')  # truncated mid-line
    (proc / 'net' / 'netstat').write_text('TcpExt: ListenOverflows ListenDrops\n')
    os.remove(str(proc / 'net' / 'snmp'))
    facts, warnings = gather(proc)
    assert facts['total'] == 39 + sum(facts['states_by_family']['ipv6'].values())
    assert facts['counters'] == {}
    assert any(w.startswith('%s/net/tcp: skipped 1 malformed line(s), first at line 41' % proc) for w in warnings)
    assert 'net/netstat: TcpExt: has no line of values (truncated?)' in warnings
    assert '%s/net/snmp is missing: no Tcp counters' % proc in warnings


@pytest.mark.parametrize('requested, expected', [
    (['all'], set(census.DEFAULT_SUBSETS)),
    (['min'], {'states'}),
    (['all', 'processes'], set(census.DEFAULT_SUBSETS) | {'processes'}),
    (['!ephemeral_ports'], set(census.DEFAULT_SUBSETS) - {'ephemeral_ports'}),
    (['min', 'ipvs'], {'states', 'ipvs'}),
])
def test_parse_subsets(requested, expected):
    assert census.parse_subsets(requested) == expected


def test_unknown_subset_lists_valid_values():
    with pytest.raises(census.GatherError) as exc:
        census.parse_subsets(['all', 'sockets'])
    assert str(exc.value) == (
        "gather_subset: unknown value 'sockets'; valid values are all, conntrack, counters, ephemeral_ports, "
        "ipvs, listeners, min, processes, sockstat, states (prefix a name with ! to exclude it)")


def test_netlink_refused_falls_back_to_procfs(monkeypatch):
    def refuse():
        raise diag.NetlinkUnavailable('cannot open a NETLINK_SOCK_DIAG socket: [Errno 13] Permission denied')

    monkeypatch.setattr(diag, 'open_socket', refuse)
    c = census.Census('/proc', subsets={'states'})
    facts = c.gather()
    assert facts['source'] == ('procfs (netlink unavailable: cannot open a NETLINK_SOCK_DIAG socket: '
                               '[Errno 13] Permission denied)')
    assert c.warnings == ['netlink sock_diag unavailable (cannot open a NETLINK_SOCK_DIAG socket: [Errno 13] '
                          'Permission denied); counted from /proc/net/tcp instead']


def test_backend_netlink_refused_is_an_error(monkeypatch):
    def refuse():
        raise diag.NetlinkUnavailable('nope')

    monkeypatch.setattr(diag, 'open_socket', refuse)
    with pytest.raises(census.GatherError, match='^backend=netlink: nope$'):
        census.Census('/proc', backend='netlink', subsets={'states'}).gather()


def test_netlink_with_foreign_proc_path_is_refused(proc):
    with pytest.raises(census.GatherError) as exc:
        census.Census(str(proc), backend='netlink', subsets={'states'}).gather()
    assert 'with proc_path=%s use backend=auto or procfs' % proc in str(exc.value)


def test_live_netlink_and_procfs_agree_on_a_socket_we_hold():
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(3)
    port = srv.getsockname()[1]
    try:
        for backend in ('netlink', 'procfs'):
            facts = census.Census('/proc', backend=backend, subsets={'states', 'listeners'}).gather()
            assert facts['source'] == backend
            mine = [item for item in facts['listeners'] if item['port'] == port]
            assert len(mine) == 1 and mine[0]['accept_queue'] == 0
            assert mine[0]['backlog'] == (3 if backend == 'netlink' else None)
    finally:
        srv.close()
