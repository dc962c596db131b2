# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's health findings against real trouble in namespace hosts: a SYN flood from forged
sources whose SYN-ACKs go nowhere, a FIN_WAIT1 pile-up towards peers that stopped reading, and
retransmissions behind packet loss. Ground truth: `ss` and the kernel's own counters (nstat,
/proc/net/snmp) read at the same moments. Each is audited twice, so what is judged is what
happened since the last audit, and each "no trouble now" case is audited too."""

import json
import os
import re
import subprocess
import sys
import time

from ansible_collections.netops.tcp.tests.integration.harness import ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
TROUBLE = os.path.join(HERE, 'trouble.py')
SYNFLOOD = os.path.join(ROOT, 'tools', 'synflood.py')


def spawn(host, *argv):
    """A trouble.py process inside ``host``, held until the host goes; its first line."""
    proc = subprocess.Popen(['nsenter', '-t', str(host.holder.pid), '-n', '-m', sys.executable, TROUBLE] + list(argv),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    host.loads = getattr(host, 'loads', []) + [proc]
    return proc.stdout.readline().strip()


def counters(host, *names):
    """The kernel's counters inside the host, by nstat's names (absolute values)."""
    out = host.run('nstat', '-az', *names, check=True).stdout
    return dict((fields[0], int(fields[1])) for fields in (line.split() for line in out.splitlines()[1:]) if fields)


def ss_count(host, *state):
    return len([line for line in host.run('ss', '-tanH', *state, check=True).stdout.splitlines() if line.strip()])


def audit(host, report_dir, **thresholds):
    run = host.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
        'tcp_audit_report_dir': str(report_dir), 'tcp_audit_thresholds': thresholds}))
    assert run.returncode == 0, run.stdout[-3000:]
    report = json.loads((report_dir / 'report.json').read_text())
    return report['hosts'][host.name]


def kind(entry, name):
    return [f for f in entry['findings'] if f['kind'] == name]


def test_a_syn_flood_is_found_while_it_lasts_and_not_after(isolated_hosts, tmp_path):
    host = isolated_hosts()[0]
    assert spawn(host, 'listen', '8080', '511') == 'up'  # the backlog nginx and many servers pass

    def flood(count):
        return json.loads(host.run(sys.executable, SYNFLOOD, '--port', '8080', '--count', str(count), check=True).stdout)

    report_dir = tmp_path / 'report'
    assert flood(3000)['sent'] == 3000
    syn_recv = ss_count(host, 'state', 'syn-recv', 'sport', '= :8080')
    truth = counters(host, 'TcpExtTCPReqQFullDoCookies', 'TcpExtSyncookiesSent')
    # The queue holds backlog requests (backlog + 1 from 6.13's "allow a connection when sk_max_ack_backlog is
    # zero"); the rest were answered with cookies, which leave no SYN_RECV socket.
    assert syn_recv in (511, 512) and truth['TcpExtTCPReqQFullDoCookies'] == 3000 - syn_recv
    first = kind(audit(host, report_dir), 'syn_flood')
    # No earlier audit: the cookies are a total since boot, but the full queue says it happens now.
    assert [(f['severity'], f['actual']) for f in first] == [('warning', 3000 - syn_recv)]
    assert first[0]['message'].startswith('%d SYNs answered with cookies since boot because a SYN queue was full; at '
                                          'their SYN queue limit now: 0.0.0.0:8080 (SYN_RECV %d, limit 511). '
                                          % (3000 - syn_recv, syn_recv))

    # Still going: cookies rise since the last audit while the queue is full. The first wave's requests time
    # out over up to a minute (tcp_synack_retries 5, fewer for some: syn_ack_recalc), at moments that race the
    # next audit's gathering; so they go first (one SYN-ACK retry), and the second wave fills an empty queue
    # that holds for seconds, longer than the audit takes to gather. The kernel's counter says how many got
    # cookies.
    host.run('sysctl', '-qw', 'net.ipv4.tcp_synack_retries=1', check=True)
    deadline = time.time() + 30
    while ss_count(host, 'state', 'syn-recv', 'sport', '= :8080') and time.time() < deadline:
        time.sleep(0.2)
    assert ss_count(host, 'state', 'syn-recv', 'sport', '= :8080') == 0
    host.run('sysctl', '-qw', 'net.ipv4.tcp_synack_retries=5', check=True)
    before = counters(host, 'TcpExtTCPReqQFullDoCookies')['TcpExtTCPReqQFullDoCookies']
    flood(1000)
    cookies = counters(host, 'TcpExtTCPReqQFullDoCookies')['TcpExtTCPReqQFullDoCookies'] - before
    assert cookies > 0
    second = kind(audit(host, report_dir), 'syn_flood')
    assert [(f['severity'], f['actual']) for f in second] == [('critical', cookies)]
    assert second[0]['message'].startswith('%d SYNs answered with cookies since the last audit' % cookies)

    # It stops: with one SYN-ACK retry the half-open requests are gone within seconds.
    host.run('sysctl', '-qw', 'net.ipv4.tcp_synack_retries=1', check=True)
    deadline = time.time() + 30
    while ss_count(host, 'state', 'syn-recv') and time.time() < deadline:
        time.sleep(0.5)
    assert ss_count(host, 'state', 'syn-recv') == 0
    assert kind(audit(host, report_dir), 'syn_flood') == []  # a flood before the last audit, none since

    # Without syncookies the same flood drops SYNs: real clients get none through.
    host.run('sysctl', '-qw', 'net.ipv4.tcp_synack_retries=5', 'net.ipv4.tcp_syncookies=0', check=True)
    before = counters(host, 'TcpExtTCPReqQFullDrop')['TcpExtTCPReqQFullDrop']
    flood(1000)
    dropped = counters(host, 'TcpExtTCPReqQFullDrop')['TcpExtTCPReqQFullDrop'] - before
    assert dropped == 1000 - ss_count(host, 'state', 'syn-recv', 'sport', '= :8080')
    entry = audit(host, report_dir)
    fourth = kind(entry, 'syn_flood')
    assert [(f['severity'], f['actual']) for f in fourth] == [('critical', dropped)]
    assert fourth[0]['message'].startswith('%d SYNs dropped (tcp_syncookies=0) since the last audit' % dropped)
    assert [f['key'] for f in kind(entry, 'risky')] == ['net.ipv4.tcp_syncookies']


def test_a_fin_wait1_pile_up_from_peers_that_stopped_reading(isolated_hosts, tmp_path):
    host = isolated_hosts()[0]
    assert spawn(host, 'fin-wait1', '9100', '150') == 'up'
    assert ss_count(host, 'state', 'fin-wait-1') == 150
    entry = audit(host, tmp_path / 'report', closing=100)
    closing = kind(entry, 'closing')
    assert [(f['severity'], f['actual'], f['key']) for f in closing] == [('warning', 150, None)]
    assert closing[0]['message'].startswith('150 sockets waiting for the peer to acknowledge our FIN (FIN_WAIT1 150): ')
    assert 'tcp_orphan_retries (0) runs out' in closing[0]['message']
    assert entry['states']['FIN_WAIT1'] == 150
    assert kind(audit(host, tmp_path / 'report'), 'closing') == []  # below the default threshold of 1000


def test_retransmissions_behind_packet_loss_since_the_last_audit(isolated_hosts, tmp_path):
    host = isolated_hosts()[0]
    host.run('ip', 'link', 'set', 'lo', 'mtu', '1500', check=True)  # segments of a real link's size
    host.run('nft', '-f', '-', check=True, input=(
        'table inet loss {\n  chain in {\n    type filter hook input priority 0;\n'
        '    tcp dport 9200 numgen random mod 10 == 0 counter drop\n  }\n}\n'))
    report_dir = tmp_path / 'report'
    first = audit(host, report_dir)
    assert kind(first, 'retransmits') == []  # the first audit judges no ratio since boot
    snmp = ('TcpOutSegs', 'TcpRetransSegs')
    before = counters(host, *snmp)
    assert spawn(host, 'transfer', '9200', '20') == 'done'
    after = counters(host, *snmp)
    dropped = int(re.search(r'counter packets (\d+)', host.run('nft', 'list', 'table', 'inet', 'loss', check=True).stdout).group(1))
    second = audit(host, report_dir)
    found = kind(second, 'retransmits')
    rise = dict((name, second['counters'][name] - first['counters'][name])
                for name in ('OutSegs', 'RetransSegs', 'TCPTimeouts', 'TCPSynRetrans'))
    # The kernel's own counters around the transfer: the same, but for the last ACKs and FINs of its close.
    assert dropped > 0 and rise['OutSegs'] > 10000 and rise['RetransSegs'] > 0
    assert abs(rise['OutSegs'] - (after['TcpOutSegs'] - before['TcpOutSegs'])) <= 10
    assert abs(rise['RetransSegs'] - (after['TcpRetransSegs'] - before['TcpRetransSegs'])) <= 10
    ratio = rise['RetransSegs'] / float(rise['OutSegs'])
    assert [(f['severity'], f['actual']) for f in found] == [('warning', round(ratio, 4))]
    assert found[0]['message'].startswith('%.1f%% of the segments sent since the last audit were retransmitted (%d of %d; '
                                          '%d timeouts, %d SYN retransmissions)' % (
                                              100 * ratio, rise['RetransSegs'], rise['OutSegs'], rise['TCPTimeouts'],
                                              rise['TCPSynRetrans']))
    assert kind(audit(host, report_dir), 'retransmits') == []  # nothing sent since: nothing judged
