# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings from facts fixtures that reproduce the field notes' snapshots."""

import copy

import pytest

from ansible_collections.netops.tcp.plugins.module_utils._findings import host_findings

STATES = ('ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT',
          'LAST_ACK', 'LISTEN', 'CLOSING')
WEB_V1 = {'name': 'web_frontend', 'version': 1}


def key(raw, value=None, available=True):
    return {'available': available, 'raw': raw, 'value': value if value is not None else (int(raw) if raw.isdigit() else raw),
            'writable': True, 'reason': None}


def healthy_host():
    """A quiet host tuned with web_frontend@1, everything as recorded."""
    applied = {'net.ipv4.tcp_fin_timeout': '30', 'net.core.somaxconn': '16384', 'net.ipv4.tcp_tw_reuse': '1',
               'net.ipv4.tcp_timestamps': '1'}
    keys = dict((k, key(v)) for k, v in applied.items())
    keys['net.ipv4.tcp_max_tw_buckets'] = key('262144')
    keys['net.ipv4.tcp_max_orphans'] = key('65536')
    keys['net.ipv4.ip_local_port_range'] = key('32768 60999', [32768, 60999])
    keys['net.ipv4.ip_local_reserved_ports'] = key('', [])
    keys['net.ipv4.tcp_tw_recycle'] = {'available': False, 'raw': None, 'value': None, 'writable': False,
                                       'reason': 'removed in Linux 4.12; this kernel is 6.1.0'}
    sources = dict((k, {'boot_value': v, 'boot_file': '/etc/sysctl.d/60-netops-tcp.conf', 'files': []})
                   for k, v in applied.items())
    return {
        'tcp': {'states': dict((s, 0) for s in STATES), 'counters': {'ListenOverflows': 0, 'SyncookiesSent': 0,
                                                                     'TCPTimeWaitOverflow': 0},
                'listeners': [{'address': '0.0.0.0', 'port': 443, 'accept_queue': 0, 'backlog': 4096,
                               'accept_queue_full': False}],
                'sockstat': {'tcp': {'orphan': 0}}, 'conntrack': {'loaded': False},
                'ephemeral_ports': {'range': [32768, 60999], 'size': 28232, 'busiest_peers': []}},
        'tcp_sysctl': {'keys': keys, 'sources': sources},
        'record': {'profile': 'web_frontend', 'version': 1, 'applied': applied,
                   'sysctl_file': '/etc/sysctl.d/60-netops-tcp.conf'},
        'dropin': True,
    }


def run(host, expected='web_frontend@1', thresholds=None):
    if expected == 'web_frontend@1':
        expected = WEB_V1
    return host_findings(host['tcp'], host['tcp_sysctl'], host['record'], expected, host['dropin'], thresholds)


def kinds(found):
    return [(f['kind'], f['severity'], f['key']) for f in found]


def test_a_healthy_tuned_host_has_no_findings():
    assert run(healthy_host()) == []


def test_tomcat_host_of_note_c():
    """89,782 ESTABLISHED, 7,314 SYN_RECV, 1,122 CLOSE_WAIT, 2,074 FIN_WAIT1 on one host."""
    host = healthy_host()
    host['tcp']['states'].update(ESTABLISHED=89782, SYN_RECV=7314, CLOSE_WAIT=1122, FIN_WAIT1=2074, TIME_WAIT=1443,
                                 FIN_WAIT2=195, SYN_SENT=3, LISTEN=9, CLOSING=9, LAST_ACK=2372)
    host['tcp']['counters'].update(SyncookiesSent=51234, ListenOverflows=880)
    host['tcp']['listeners'] = [{'address': '0.0.0.0', 'port': 8080, 'accept_queue': 101, 'backlog': 100,
                                 'accept_queue_full': True}]
    host['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 2211, 'name': 'java', 'exe': '/usr/bin/java', 'unit': 'tomcat9.service', 'sockets': 1122}]}
    found = run(host)
    assert kinds(found) == [('syn_flood', 'critical', None), ('close_wait', 'warning', None),
                            ('listen_overflow', 'warning', 'net.core.somaxconn')]
    assert found[0]['message'] == ('7314 sockets in SYN_RECV and 51234 SYN cookies sent: a SYN flood, or a burst the SYN '
                                   'queue cannot hold. Keep tcp_syncookies=1 and check the traffic\'s sources.')
    assert found[1]['message'] == ('1122 sockets in CLOSE_WAIT: the peer closed and the application never called close(). '
                                   'Fix the code that leaks them: java (pid 2211, tomcat9.service, 1122 sockets); a restart only hides it.')
    assert '0.0.0.0:8080 (queue 101/100)' in found[2]['message']


def test_lvs_tier_time_wait_of_note_b():
    """113,083 TIME_WAIT on an LVS tier."""
    host = healthy_host()
    host['tcp']['states']['TIME_WAIT'] = 113083
    host['tcp_sysctl']['keys']['net.ipv4.tcp_max_tw_buckets'] = key('120000')
    found = run(host)
    assert kinds(found) == [('time_wait', 'warning', 'net.ipv4.tcp_max_tw_buckets')]
    assert found[0]['actual'] == 113083
    host['tcp_sysctl']['keys']['net.ipv4.tcp_max_tw_buckets'] = key('262144')
    assert run(host) == []
    host['tcp']['counters']['TCPTimeWaitOverflow'] = 12
    assert kinds(run(host)) == [('time_wait', 'warning', 'net.ipv4.tcp_max_tw_buckets')]


def test_drift_persistence_and_missing_dropin():
    host = healthy_host()
    host['tcp_sysctl']['keys']['net.ipv4.tcp_fin_timeout'] = key('60')
    host['tcp_sysctl']['sources']['net.core.somaxconn'] = {'boot_value': '4096', 'boot_file': '/etc/sysctl.d/99-x.conf'}
    found = run(host)
    assert kinds(found) == [('drift', 'warning', 'net.ipv4.tcp_fin_timeout'), ('persistence', 'warning', 'net.core.somaxconn')]
    assert found[0]['message'] == ('net.ipv4.tcp_fin_timeout is 60 live, but web_frontend@1 set 30. Someone changed it by '
                                   'hand or another tool did; re-run tune-tcp.yml or find who writes it.')
    assert (found[0]['expected'], found[0]['actual']) == ('30', '60')
    assert found[1]['message'].startswith('net.core.somaxconn will be 4096 after a reboot (set by /etc/sysctl.d/99-x.conf)')
    host = healthy_host()
    host['dropin'] = False
    assert kinds(run(host)) == [('persistence', 'warning', None)]


@pytest.mark.parametrize('record, expected, kind_and_message', [
    (None, WEB_V1, ('unmanaged', 'No netops.tcp record on this host: it was never tuned with web_frontend@1, or the record '
                                 'was removed. Run tune-tcp.yml.')),
    ({'profile': 'web_frontend', 'version': 1, 'applied': {}}, {'name': 'web_frontend', 'version': 2},
     ('outdated', 'The host runs web_frontend@1, an older version than the expected web_frontend@2. Upgrade with tune-tcp.yml.')),
    ({'profile': 'lb_backend', 'version': 1, 'applied': {}}, WEB_V1,
     ('outdated', 'The host runs lb_backend@1, not the expected web_frontend@1. Apply web_frontend@1.')),
])
def test_unmanaged_and_outdated(record, expected, kind_and_message):
    host = healthy_host()
    host['record'] = record
    found = run(host, expected)
    assert [(f['kind'], f['message']) for f in found] == [kind_and_message]


def test_risky_settings():
    host = healthy_host()
    keys = host['tcp_sysctl']['keys']
    keys['net.ipv4.tcp_tw_recycle'] = key('1')
    keys['net.ipv4.tcp_timestamps'] = key('0')
    keys['net.ipv4.tcp_fin_timeout'] = key('2')
    keys['net.ipv4.ip_local_port_range'] = key('1024 65000', [1024, 65000])
    host['tcp']['listeners'].append({'address': '0.0.0.0', 'port': 8080, 'accept_queue': 0, 'backlog': 511,
                                     'accept_queue_full': False})
    host['record'] = None
    found = run(host, None)
    assert kinds(found) == [('risky', 'critical', 'net.ipv4.tcp_tw_recycle'), ('risky', 'warning', 'net.ipv4.ip_local_port_range'),
                            ('risky', 'warning', 'net.ipv4.tcp_fin_timeout'), ('risky', 'warning', 'net.ipv4.tcp_timestamps')]
    assert found[1]['actual'] == [8080]  # 443 lies below the range
    keys['net.ipv4.ip_local_reserved_ports'] = key('8080', [[8080, 8080]])
    assert 'net.ipv4.ip_local_port_range' not in [f['key'] for f in run(host, None)]


def test_orphans_conntrack_and_ephemeral_ports():
    host = healthy_host()
    host['tcp']['sockstat']['tcp']['orphan'] = 60000
    host['tcp']['conntrack'] = {'loaded': True, 'count': 196000, 'max': 196608, 'usage': 0.9969}
    host['tcp']['ephemeral_ports']['busiest_peers'] = [
        {'peer': '10.0.0.5', 'port': 3306, 'local_address': '10.0.0.2', 'connections': 25000, 'usage': 0.8855}]
    found = run(host)
    assert kinds(found) == [('conntrack', 'critical', 'net.netfilter.nf_conntrack_max'),
                            ('ephemeral_ports', 'warning', 'net.ipv4.ip_local_port_range'),
                            ('orphans', 'warning', 'net.ipv4.tcp_max_orphans')]
    assert found[1]['message'].startswith('25000 connections to 10.0.0.5:3306 use 89% of the ephemeral ports (32768-60999)')
    relaxed = run(copy.deepcopy(host), thresholds={'conntrack_ratio': 0.999, 'ephemeral_ratio': 0.95, 'orphan_ratio': 0.95})
    assert relaxed == []


def test_counters_compare_with_the_last_audit():
    host = healthy_host()
    host['tcp']['counters'].update(ListenOverflows=900, TCPTimeWaitOverflow=40)
    since_boot = run(host)
    assert [f['kind'] for f in since_boot] == ['listen_overflow', 'time_wait']
    assert 'ListenOverflows rose by 900 since boot' in since_boot[0]['message']
    same = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True,
                         previous={'ListenOverflows': 900, 'TCPTimeWaitOverflow': 40})
    assert same == []  # nothing new since the last audit
    rising = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True,
                           previous={'ListenOverflows': 850, 'TCPTimeWaitOverflow': 40})
    assert [f['kind'] for f in rising] == ['listen_overflow']
    assert 'ListenOverflows rose by 50 since the last audit' in rising[0]['message'] and rising[0]['actual'] == 50
    rebooted = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True,
                             previous={'ListenOverflows': 5000, 'TCPTimeWaitOverflow': 90})
    assert [f['kind'] for f in rebooted] == ['listen_overflow', 'time_wait']  # counters fell: a reboot, totals count


@pytest.mark.parametrize('version, found', [('6.15.9', False), ('6.16.0', True), ('6.18.44', True)])
def test_a_profile_that_lowers_the_kernels_own_default_is_risky(version, found):
    # ad_backend_incident@2 raises the receive buffer maximum to 16 MB: more than the 6 MB of
    # kernels before 6.16, half of the 32 MB that 6.16 made the default.
    host = healthy_host()
    rmem = '4096 131072 16777216'
    host['record'].update(profile='ad_backend_incident', version=2)
    host['record']['applied']['net.ipv4.tcp_rmem'] = rmem
    host['tcp_sysctl']['keys']['net.ipv4.tcp_rmem'] = key(rmem, [4096, 131072, 16777216])
    host['tcp_sysctl']['sources']['net.ipv4.tcp_rmem'] = {
        'boot_value': rmem, 'boot_file': '/etc/sysctl.d/60-netops-tcp.conf', 'files': []}
    host['tcp_sysctl']['kernel'] = {'release': version + '-amd64', 'version': version}
    expected = {'name': 'ad_backend_incident', 'version': 2}
    result = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], expected, True)
    if not found:
        assert result == []
        return
    assert result == [{
        'kind': 'risky', 'severity': 'warning', 'key': 'net.ipv4.tcp_rmem', 'expected': '>= 33554432', 'actual': 16777216,
        'message': "net.ipv4.tcp_rmem: ad_backend_incident@2 sets a maximum of 16777216, below Linux %s's own default "
                   "of 33554432: this profile lowers the kernel's own default. Leave the key to the kernel here (a "
                   "kernel guard in the profile) or use a profile version that does." % version}]


def test_persistence_when_tuned_writes_after_the_dropin():
    host = healthy_host()
    tuned_conf = '/usr/lib/tuned/network-throughput/tuned.conf'
    host['tcp_sysctl']['sources']['net.core.somaxconn'] = {
        'boot_value': '2048', 'boot_file': tuned_conf, 'boot_owner': 'tuned',
        'writers': [{'owner': 'systemd-sysctl', 'file': '/etc/sysctl.d/60-netops-tcp.conf', 'line': 2, 'value': '16384'},
                    {'owner': 'tuned', 'profile': 'network-throughput', 'file': tuned_conf, 'line': 12, 'value': '2048',
                     'conditional': False}]}
    assert run(host) == [{
        'kind': 'persistence', 'severity': 'warning', 'key': 'net.core.somaxconn', 'expected': '16384', 'actual': '2048',
        'message': "net.core.somaxconn will be 2048 after a reboot (set by TuneD profile network-throughput, "
                   "/usr/lib/tuned/network-throughput/tuned.conf line 12, after the sysctl.d files), not 16384: remove it "
                   "from that profile's [sysctl] section, or let TuneD re-apply sysctl.d (reapply_sysctl = 1 in "
                   "/etc/tuned/tuned-main.conf)."}]
