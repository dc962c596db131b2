# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_facts through real ansible inside a namespace, against ss / nstat at the same moment."""

import collections
import os
import re

import pytest

from ansible_collections.netops.tcp.tests.integration.harness import ROOT, STATES

MIX = dict(established=300, time_wait=120, close_wait=25, syn_recv=15, queued=12)
HOST_KEYS = ('net/ipv4/ip_local_port_range', 'net/ipv4/tcp_tw_reuse', 'net/ipv4/ip_unprivileged_port_start')


def host_values():
    values = {}
    for key in HOST_KEYS:
        with open('/proc/sys/' + key) as handle:
            values[key] = handle.read()
    return values


def stable(netns, gather, *ss_args):
    """Run ``gather`` between two identical ss pictures, so both describe the same moment."""
    for _attempt in range(3):
        before = netns.ss_states(*ss_args)
        result = gather()
        if netns.ss_states(*ss_args) == before:
            return result, before
    pytest.fail('the namespace kept changing while facts were gathered')


@pytest.mark.parametrize('backend', ['auto', 'procfs'])
def test_states_equal_ss(netns, loadgen, backend):
    host_before = host_values()
    loadgen(**MIX)
    result, truth = stable(netns, lambda: netns.ansible('netops.tcp.tcp_facts', {'backend': backend}))
    tcp = result['ansible_facts']['tcp']
    assert tcp['source'] == ('netlink' if backend == 'auto' else 'procfs')
    assert tcp['states'] == truth
    assert sorted(tcp['states']) == sorted(STATES)  # all eleven, zeros included
    assert truth['TIME_WAIT'] == 120 and truth['SYN_RECV'] == 15 and truth['CLOSE_WAIT'] == 25
    assert truth['FIN_WAIT2'] == 25 and truth['ESTABLISHED'] >= 300
    for family, flag in (('ipv4', '-4'), ('ipv6', '-6')):
        assert tcp['states_by_family'][family] == netns.ss_states(flag)
    assert tcp['states_by_family']['ipv6']['ESTABLISHED'] > 0
    assert host_values() == host_before  # the load generator only changed the namespace


def nstat(netns):
    return dict((k, int(v)) for k, v in re.findall(r'^(\w+)\s+(\d+)', netns.run('nstat', '-asz', check=True).stdout, re.M))


def test_listeners_queues_and_counters_equal_ss_and_nstat(netns, loadgen):
    report = loadgen(**MIX)
    before = nstat(netns)
    result, truth_states = stable(netns, lambda: netns.ansible('netops.tcp.tcp_facts'))
    after = nstat(netns)
    tcp = result['ansible_facts']['tcp']
    ss_listen = netns.run('ss', '-tlnH', check=True).stdout.split('\n')
    truth = {}
    for line in filter(None, ss_listen):
        fields = line.split()
        truth[int(fields[3].rsplit(':', 1)[1])] = (int(fields[1]), int(fields[2]))
    assert dict((item['port'], (item['accept_queue'], item['backlog'])) for item in tcp['listeners']) == truth
    queue = [item for item in tcp['listeners'] if item['port'] == report['queue_listener']['port']][0]
    assert (queue['accept_queue'], queue['backlog'], queue['accept_queue_full']) == (9, 8, True)
    syn_port = report['syn_recv_listener']['port']
    ss_syn = netns.run('ss', '-tanH', 'state', 'syn-recv', check=True).stdout
    syn = collections.Counter(int(line.split()[2].rsplit(':', 1)[1]) for line in ss_syn.splitlines() if line)
    assert [item['syn_recv'] for item in tcp['listeners'] if item['port'] == syn_port] == [syn[syn_port]] == [15]

    # Retransmitted SYNs keep hitting the full queue, so counters may grow: ours lies between two nstat reads.
    for name in ('ListenOverflows', 'ListenDrops', 'SyncookiesSent', 'TCPTimeWaitOverflow', 'TW'):
        assert before['TcpExt' + name] <= tcp['counters'][name] <= after['TcpExt' + name], name
    assert tcp['counters']['ListenOverflows'] > 0  # 12 clients into a queue of 9
    # The kernel's CurrEstab counts ESTABLISHED and CLOSE_WAIT sockets.
    assert tcp['counters']['CurrEstab'] == truth_states['ESTABLISHED'] + truth_states['CLOSE_WAIT']
    with open('/proc/net/sockstat') as handle:
        host_alloc = int(re.search(r'TCP: .* alloc (\d+)', handle.read()).group(1))
    assert tcp['sockstat']['tcp']['tw'] == tcp['states']['TIME_WAIT']
    assert tcp['sockstat']['tcp']['alloc'] > 0 and host_alloc > 0


def test_processes_name_who_holds_close_wait(netns, loadgen):
    report = loadgen(**MIX)
    result = netns.ansible('netops.tcp.tcp_facts', {'gather_subset': ['min', 'processes'], 'ports': [report['workers'][-1]['port']]})
    tcp = result['ansible_facts']['tcp']
    holder = [w['pid'] for w in report['workers'] if w['kind'] == 'close_wait']
    ss_p = netns.run('ss', '-tanpH', 'state', 'close-wait', check=True).stdout
    ss_pids = collections.Counter(int(pid) for pid in re.findall(r'pid=(\d+)', ss_p))
    assert [(p['pid'], p['sockets']) for p in tcp['processes']['CLOSE_WAIT']] == list(ss_pids.items())
    assert list(ss_pids) == holder
    pid = holder[0]
    row = tcp['processes']['CLOSE_WAIT'][0]
    assert row['name'] == netns.run('cat', '/proc/%d/comm' % pid, check=True).stdout.rstrip('\n')
    assert row['exe'] == os.path.realpath('/proc/%d/exe' % pid) and 'cmdline' not in row
    port = str(report['workers'][-1]['port'])
    assert tcp['ports'][port]['remote']['CLOSE_WAIT'] == 25 and tcp['ports'][port]['local']['FIN_WAIT2'] == 25


def test_facts_module_in_plain_gather_facts(netns, loadgen, tmp_path):
    loadgen(established=40, time_wait=10)
    out = tmp_path / 'tcp.json'
    play = tmp_path / 'play.yml'
    play.write_text(
        '- hosts: all\n'
        '  gather_facts: true\n'
        '  vars:\n'
        '    ansible_facts_modules: [ansible.builtin.setup, netops.tcp.tcp_facts]\n'
        '  tasks:\n'
        '    - ansible.builtin.copy:\n'
        '        content: "{{ {\'tcp\': ansible_facts.tcp, \'distribution\': ansible_facts.distribution} | to_json }}"\n'
        '        dest: %s\n' % out)
    proc, truth = stable(netns, lambda: netns.playbook(str(play)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import json
    facts = json.loads(out.read_text())
    assert facts['distribution']  # setup ran too
    assert facts['tcp']['states'] == truth and truth['TIME_WAIT'] == 10


def test_unknown_subset_is_a_clear_error(netns):
    result = netns.ansible('netops.tcp.tcp_facts', {'gather_subset': ['all', 'sockets']}, expect_failure=True)
    assert result['msg'] == (
        "gather_subset: unknown value 'sockets'; valid values are all, conntrack, counters, ephemeral_ports, "
        "ipvs, listeners, min, processes, sockstat, states (prefix a name with ! to exclude it)")


def test_demo_playbook_runs(netns, loadgen):
    loadgen(established=20)
    proc = netns.playbook(os.path.join(ROOT, 'playbooks', 'gather_tcp_facts.yml'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"ESTABLISHED": 20' in proc.stdout


def test_netlink_and_procfs_walks_agree_on_details(netns, loadgen):
    report = loadgen(**MIX)
    port = report['workers'][-1]['port']

    def both():
        return [netns.ansible('netops.tcp.tcp_facts', {'backend': backend, 'ports': [port]})['ansible_facts']['tcp']
                for backend in ('netlink', 'procfs')]

    (netlink, procfs), _truth = stable(netns, both)
    assert netlink['ephemeral_ports'] == procfs['ephemeral_ports']
    assert netlink['ephemeral_ports']['in_use'] > 300
    assert netlink['ports'] == procfs['ports']

    def listeners(facts):
        return [(item['address'], item['port'], item['accept_queue'], item['syn_recv']) for item in facts['listeners']]

    assert listeners(netlink) == listeners(procfs)
