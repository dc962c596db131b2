# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings from facts fixtures that reproduce the field notes' snapshots."""

import copy

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.apply import _dropin as dropin
from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import host_findings, overridden
from ansible_collections.netops.tcp.plugins.module_utils.model import _settings as settings
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree

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
    """89,782 ESTABLISHED, 7,314 SYN_RECV, 1,122 CLOSE_WAIT, 2,074 FIN_WAIT1 on one host, its listener
    with a backlog of 100: the SYN_RECV count alone is no flood (7,314 over many listeners is normal
    there, "normal for a high-concurrency server"); the counters since the last audit say it is."""
    host = healthy_host()
    host['tcp']['states'].update(ESTABLISHED=89782, SYN_RECV=7314, CLOSE_WAIT=1122, FIN_WAIT1=2074, TIME_WAIT=1443,
                                 FIN_WAIT2=195, SYN_SENT=3, LISTEN=9, CLOSING=9, LAST_ACK=2372)
    host['tcp']['counters'].update(SyncookiesSent=51234, TCPReqQFullDoCookies=51234, ListenOverflows=880)
    host['tcp']['listeners'] = [{'address': '0.0.0.0', 'port': 8080, 'accept_queue': 101, 'backlog': 100,
                                 'accept_queue_full': True, 'syn_recv': 101}]
    host['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 2211, 'name': 'java', 'exe': '/usr/bin/java', 'unit': 'tomcat9.service', 'sockets': 1122}]}
    found = run(host)
    assert kinds(found) == [('close_wait', 'warning', None), ('closing', 'warning', None), ('syn_flood', 'warning', None),
                            ('listen_overflow', 'info', 'net.core.somaxconn')]
    assert found[2]['message'].startswith('51234 SYNs answered with cookies since boot because a SYN queue was full; at '
                                          'their SYN queue limit now: 0.0.0.0:8080 (SYN_RECV 101, limit 100). ')
    assert found[0]['message'] == ('1122 sockets in CLOSE_WAIT: the peer closed and the application never called close(). '
                                   'Fix the code that leaks them: java (pid 2211, tomcat9.service, 1122 sockets); a restart only hides it.')
    assert found[1]['message'].startswith('4455 sockets waiting for the peer to acknowledge our FIN (FIN_WAIT1 2074, '
                                          'LAST_ACK 2372, CLOSING 9)')
    assert '0.0.0.0:8080 (queue 101/100)' in found[3]['message'] and 'rose by 880 since boot' in found[3]['message']
    # The next audit: cookies still rising while the queue is full is a flood in progress.
    later = copy.deepcopy(host)
    later['tcp']['counters'].update(SyncookiesSent=61234, TCPReqQFullDoCookies=61234)
    found = host_findings(later['tcp'], later['tcp_sysctl'], later['record'], WEB_V1, True, None,
                          dict(host['tcp']['counters']))
    assert kinds(found)[0] == ('syn_flood', 'critical', None) and found[0]['actual'] == 10000


def test_lvs_tier_time_wait_of_note_b():
    """113,083 TIME_WAIT on an LVS tier: sockstat tw counts them with the orphaned FIN_WAIT2 ones."""
    host = healthy_host()
    host['tcp']['states']['TIME_WAIT'] = 113083
    host['tcp']['sockstat']['tcp']['tw'] = 113083 + 195
    host['tcp_sysctl']['keys']['net.ipv4.tcp_max_tw_buckets'] = key('120000')
    found = run(host)
    assert kinds(found) == [('time_wait', 'warning', 'net.ipv4.tcp_max_tw_buckets')]
    assert found[0]['actual'] == 113278
    assert found[0]['message'].startswith('113278 timewait sockets (TIME_WAIT and orphaned FIN_WAIT2; 113083 in '
                                          'TIME_WAIT) against tcp_max_tw_buckets=120000')
    host['tcp_sysctl']['keys']['net.ipv4.tcp_max_tw_buckets'] = key('262144')
    assert run(host) == []
    host['tcp']['counters']['TCPTimeWaitOverflow'] = 12
    assert kinds(run(host)) == [('time_wait', 'info', 'net.ipv4.tcp_max_tw_buckets')]  # some time since boot


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
                            ('risky', 'warning', 'net.ipv4.ip_local_port_range'),
                            ('risky', 'warning', 'net.ipv4.tcp_fin_timeout'), ('risky', 'warning', 'net.ipv4.tcp_timestamps')]
    parity, exposed = sorted(found[1:3], key=lambda f: f['expected'])
    assert exposed['actual'] == [8080]  # 443 lies below the range
    assert parity['message'].startswith('ip_local_port_range 1024 65000: both ends have the same parity, so connect() '
                                        'never takes the top port')
    keys['net.ipv4.ip_local_reserved_ports'] = key('8080', [[8080, 8080]])
    assert [f['expected'] for f in run(host, None) if f['key'] == 'net.ipv4.ip_local_port_range'] == [
        'ends of different parity']


@pytest.mark.parametrize('key_name, text, severity', [
    ('net.ipv4.tcp_syncookies', '0', 'warning'), ('net.ipv4.tcp_retries2', '5', 'warning'),
    ('net.ipv4.tcp_syn_retries', '1', 'warning'), ('net.ipv4.tcp_synack_retries', '1', 'warning'),
    ('net.ipv4.tcp_abort_on_overflow', '1', 'warning'), ('net.ipv4.tcp_sack', '0', 'warning'),
    ('net.ipv4.tcp_window_scaling', '0', 'warning'),
])
def test_each_risky_rule_of_the_catalog_is_a_finding(key_name, text, severity):
    host = healthy_host()
    host['tcp_sysctl']['keys'][key_name] = key(text)
    assert kinds(run(host)) == [('risky', severity, key_name)]


def test_capacity_limits_below_this_hosts_own_defaults():
    """The field notes' tcp_max_tw_buckets 36000 and nf_conntrack_max 196608 on a 16 GB host running
    6.1: below what the kernel itself gives there (half of 262144 hash buckets; 262144 buckets)."""
    host = healthy_host()
    keys = host['tcp_sysctl']['keys']
    host['tcp_sysctl']['kernel'] = {'release': '6.1.0-42-amd64', 'version': '6.1.0', 'mem_total': 16 * 1024 ** 3}
    keys['net.ipv4.tcp_ehash_entries'] = key('262144')
    keys['net.ipv4.tcp_max_tw_buckets'] = key('36000')
    keys['net.netfilter.nf_conntrack_max'] = key('196608')
    keys['net.ipv4.tcp_max_orphans'] = key('131072')
    found = run(host)
    assert [(f['key'], f['actual'], f['expected']) for f in found] == [
        ('net.ipv4.tcp_max_tw_buckets', 36000, '>= 131072'), ('net.netfilter.nf_conntrack_max', 196608, '>= 262144')]
    assert found[1]['message'] == ('net.netfilter.nf_conntrack_max is 196608, below the 262144 this kernel (Linux 6.1.0) '
                                   'gives by default on this host: it lowers a capacity limit newer kernels raised. Leave '
                                   'the key to the kernel (a kernel guard in the profile, or a profile version that does).')
    keys['net.ipv4.tcp_ehash_entries'] = key('8192')     # a 1 GB VM: 4096 is its own default
    host['tcp_sysctl']['kernel']['mem_total'] = 1024 ** 3  # and 8192 conntrack entries
    assert run(host) == []


def test_orphans_conntrack_and_ephemeral_ports():
    host = healthy_host()
    host['tcp']['sockstat']['tcp']['orphan'] = 20000  # 31 % of tcp_max_orphans: resets may have begun
    host['tcp']['conntrack'] = {'loaded': True, 'count': 196000, 'max': 196608, 'usage': 0.9969}
    host['tcp']['ephemeral_ports']['busiest_peers'] = [
        {'peer': '10.0.0.5', 'port': 3306, 'local_address': '10.0.0.2', 'connections': 25000, 'time_wait': 0,
         'usage': 0.8855}]
    found = run(host)
    assert kinds(found) == [('conntrack', 'critical', 'net.netfilter.nf_conntrack_max'),
                            ('ephemeral_ports', 'warning', 'net.ipv4.ip_local_port_range'),
                            ('orphans', 'warning', 'net.ipv4.tcp_max_orphans')]
    assert found[1]['message'].startswith('25000 connections to 10.0.0.5:3306 hold 89% of the 28232 usable ephemeral '
                                          'ports (32768-60999, 0 reserved; TIME_WAIT ones not counted')
    assert found[2]['message'].startswith('20000 orphaned sockets against tcp_max_orphans=65536: the kernel resets an '
                                          'orphan once the count, doubled for one idle over 240 s')
    relaxed = run(copy.deepcopy(host), thresholds={'conntrack_ratio': 0.999, 'ephemeral_ratio': 0.95, 'orphan_ratio': 0.5})
    assert relaxed == []


def test_ephemeral_ports_leave_out_reserved_ports_and_time_wait_that_tw_reuse_takes():
    host = healthy_host()
    keys = host['tcp_sysctl']['keys']
    peer = {'peer': '10.0.0.5', 'port': 3306, 'local_address': '10.0.0.2', 'connections': 24000, 'time_wait': 8000,
            'usage': 0.85}
    host['tcp']['ephemeral_ports']['busiest_peers'] = [peer]
    host['record'] = None
    assert run(host, None) == []  # 16,000 held of 28,232: tcp_tw_reuse=1 with timestamps takes the 8,000 TIME_WAIT ports
    keys['net.ipv4.tcp_tw_reuse'] = key('2')  # loopback only: a remote peer's TIME_WAIT ports stay taken
    assert kinds(run(host, None)) == [('ephemeral_ports', 'warning', 'net.ipv4.ip_local_port_range')]
    peer['peer'] = '127.0.0.1'
    assert run(host, None) == []
    keys['net.ipv4.tcp_tw_reuse'] = key('1')
    peer.update(peer='10.0.0.5', connections=20000, time_wait=0)
    keys['net.ipv4.ip_local_reserved_ports'] = key('40000-44999', [[40000, 44999]])
    found = run(host, None)  # 20,000 of 23,232 usable: 86 %
    assert [f['actual'] for f in found] == [20000] and '23232 usable ephemeral ports (32768-60999, 5000 reserved;' in \
        found[0]['message']


def test_syn_flood_judged_now_not_since_boot():
    host = healthy_host()
    host['tcp']['counters'].update(TCPReqQFullDoCookies=5000, SyncookiesSent=5000)
    assert kinds(run(host)) == [('syn_flood', 'info', None)]  # some time since boot
    last_week = dict(host['tcp']['counters'])
    quiet = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True, None, last_week)
    assert quiet == []  # a flood last week, none since the last audit
    host['tcp']['counters'].update(TCPReqQFullDoCookies=5300)
    rising = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True, None, last_week)
    assert kinds(rising) == [('syn_flood', 'warning', None)]
    assert rising[0]['message'].startswith('300 SYNs answered with cookies since the last audit because a SYN queue was '
                                           'full; no listener is full now.')
    mode2 = copy.deepcopy(host)
    mode2['tcp_sysctl']['keys']['net.ipv4.tcp_syncookies'] = key('2')  # a cookie for every SYN: not a full queue
    assert host_findings(mode2['tcp'], mode2['tcp_sysctl'], mode2['record'], WEB_V1, True, None, last_week) == []
    off = copy.deepcopy(host)
    off['tcp_sysctl']['keys']['net.ipv4.tcp_syncookies'] = key('0')
    off['tcp']['counters'].update(TCPReqQFullDoCookies=5000, TCPReqQFullDrop=40)
    dropped = host_findings(off['tcp'], off['tcp_sysctl'], off['record'], WEB_V1, True, None, last_week)
    assert kinds(dropped)[:1] == [('syn_flood', 'critical', None)]
    assert dropped[0]['message'].startswith('40 SYNs dropped (tcp_syncookies=0) since the last audit')
    full = copy.deepcopy(host)
    full['tcp']['counters'] = dict(last_week)
    full['tcp']['listeners'] = [{'address': '0.0.0.0', 'port': 443, 'accept_queue': 0, 'backlog': 511, 'syn_recv': 512,
                                 'accept_queue_full': False}]
    now = host_findings(full['tcp'], full['tcp_sysctl'], full['record'], WEB_V1, True, None, last_week)
    assert kinds(now) == [('syn_flood', 'warning', None)] and now[0]['actual'] == 512


def test_memory_pressure_and_closing_orphans():
    host = healthy_host()
    host['tcp_sysctl']['keys']['net.ipv4.tcp_mem'] = key('188301 251070 376602', [188301, 251070, 376602])
    host['tcp']['sockstat']['tcp']['mem'] = 260000
    found = run(host)
    assert kinds(found) == [('memory', 'warning', 'net.ipv4.tcp_mem')]
    assert found[0]['message'].startswith('TCP uses 260000 pages of memory, past the pressure threshold of tcp_mem '
                                          '188301 251070 376602')
    host['tcp']['sockstat']['tcp']['mem'] = 376602
    assert kinds(run(host)) == [('memory', 'critical', 'net.ipv4.tcp_mem')]
    host['tcp']['sockstat']['tcp']['mem'] = 100
    host['tcp']['counters'].update(TCPMemoryPressures=3, TCPAbortOnMemory=7)
    assert kinds(run(host)) == [('memory', 'info', 'net.ipv4.tcp_mem')]
    host['tcp']['states'].update(FIN_WAIT1=700, LAST_ACK=400)
    host['tcp_sysctl']['keys']['net.ipv4.tcp_orphan_retries'] = key('0')
    closing = [f for f in run(host) if f['kind'] == 'closing']
    assert closing[0]['actual'] == 1100 and 'tcp_orphan_retries (0)' in closing[0]['message']


def test_retransmissions_since_the_last_audit():
    host = healthy_host()
    host['tcp']['counters'].update(OutSegs=1000000, RetransSegs=90000, TCPTimeouts=400, TCPSynRetrans=50)
    assert run(host) == []  # 9 % since boot says nothing about now
    before = dict(host['tcp']['counters'], OutSegs=900000, RetransSegs=87000, TCPTimeouts=300, TCPSynRetrans=40)
    found = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True, None, before)
    assert kinds(found) == [('retransmits', 'warning', None)] and found[0]['actual'] == 0.03
    assert found[0]['message'].startswith('3.0% of the segments sent since the last audit were retransmitted (3000 of '
                                          '100000; 100 timeouts, 10 SYN retransmissions)')
    calm = dict(before, RetransSegs=89000)
    assert host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True, None, calm) == []


def test_retired_threshold_is_refused_saying_what_replaced_it():
    with pytest.raises(ValueError) as exc:
        run(healthy_host(), thresholds={'syn_recv': 500})
    assert str(exc.value).startswith('threshold syn_recv is no longer used: the SYN-flood finding now judges each '
                                     'listener\'s SYN queue against its own limit')


def test_counters_compare_with_the_last_audit():
    host = healthy_host()
    host['tcp']['counters'].update(ListenOverflows=900, TCPTimeWaitOverflow=40)
    since_boot = run(host)
    assert kinds(since_boot) == [('listen_overflow', 'info', 'net.core.somaxconn'),
                                 ('time_wait', 'info', 'net.ipv4.tcp_max_tw_buckets')]
    assert 'ListenOverflows rose by 900 since boot' in since_boot[0]['message']
    same = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True,
                         previous={'ListenOverflows': 900, 'TCPTimeWaitOverflow': 40})
    assert same == []  # nothing new since the last audit
    rising = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True,
                           previous={'ListenOverflows': 850, 'TCPTimeWaitOverflow': 40})
    assert kinds(rising) == [('listen_overflow', 'warning', 'net.core.somaxconn')]
    assert 'ListenOverflows rose by 50 since the last audit' in rising[0]['message'] and rising[0]['actual'] == 50
    rebooted = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True,
                             previous={'ListenOverflows': 5000, 'TCPTimeWaitOverflow': 90})
    assert [f['kind'] for f in rebooted] == ['listen_overflow', 'time_wait']  # counters fell: a reboot, totals count


@pytest.mark.parametrize('version, found', [('6.15.9', False), ('6.16.0', True), ('6.18.44', True)])
def test_a_profile_that_lowers_the_kernels_own_default_is_risky(version, found):
    # ad_backend_incident@2 raises the receive buffer maximum to 16 MB: more than the 6 MB of
    # kernels before 6.16, half of the 32 MB that 6.16 gives a host with 4 GB or more.
    host = healthy_host()
    rmem = '4096 131072 16777216'
    host['record'].update(profile='ad_backend_incident', version=2)
    host['record']['applied']['net.ipv4.tcp_rmem'] = rmem
    host['tcp_sysctl']['keys']['net.ipv4.tcp_rmem'] = key(rmem, [4096, 131072, 16777216])
    host['tcp_sysctl']['sources']['net.ipv4.tcp_rmem'] = {
        'boot_value': rmem, 'boot_file': '/etc/sysctl.d/60-netops-tcp.conf', 'files': []}
    host['tcp_sysctl']['kernel'] = {'release': version + '-amd64', 'version': version, 'mem_total': 16 * 1024 ** 3}
    expected = {'name': 'ad_backend_incident', 'version': 2}
    result = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], expected, True)
    if not found:
        assert result == []
        return
    assert result == [{
        'kind': 'risky', 'severity': 'warning', 'key': 'net.ipv4.tcp_rmem', 'expected': '>= 33554432', 'actual': 16777216,
        'message': "net.ipv4.tcp_rmem ad_backend_incident@2 sets a maximum of 16777216, below the 33554432 this kernel "
                   "(Linux %s) gives by default on this host: it lowers a capacity limit newer kernels raised. Leave the "
                   "key to the kernel (a kernel guard in the profile, or a profile version that does)." % version}]


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


def conntrack_max(host, value):
    """``host`` tuned with nf_conntrack_max ``value``, live and in the drop-in, nothing loading nf_conntrack at boot."""
    host['record']['applied']['net.netfilter.nf_conntrack_max'] = value
    host['tcp_sysctl']['keys']['net.netfilter.nf_conntrack_max'] = key(value)
    host['tcp_sysctl']['sources']['net.netfilter.nf_conntrack_max'] = {
        'boot_value': value, 'boot_file': '/etc/sysctl.d/60-netops-tcp.conf', 'files': []}
    host['tcp_sysctl']['boot_modules'] = {'nf_conntrack': None}
    return host


def test_a_conntrack_key_in_the_drop_in_needs_its_module_at_boot():
    host = conntrack_max(healthy_host(), '524288')
    found = run(host)
    assert kinds(found) == [('persistence', 'warning', 'net.netfilter.nf_conntrack_max')]
    assert found[0]['message'].startswith('net.netfilter.nf_conntrack_max is in the drop-in, but nothing loads '
                                          'nf_conntrack at boot before systemd-sysctl applies it')
    host['tcp_sysctl']['boot_modules'] = {'nf_conntrack': '/etc/modules-load.d/netfilter.conf'}
    assert run(host) == []
    del host['tcp_sysctl']['boot_modules']  # facts gathered without sources: nothing to judge
    assert run(host) == []


def test_a_conntrack_key_without_its_module_at_boot_falls_back_to_the_kernels_default():
    host = conntrack_max(healthy_host(), '524288')
    # A 6.18 host with 960 MB: nf_conntrack_init_start sizes 7680 buckets, and the maximum is as many.
    host['tcp_sysctl']['kernel'] = {'version': '6.18.44', 'mem_total': 7680 * 131072}
    assert run(host) == [{
        'kind': 'persistence', 'severity': 'warning', 'key': 'net.netfilter.nf_conntrack_max', 'expected': '524288',
        'actual': '7680',
        'message': "net.netfilter.nf_conntrack_max will be 7680 after a reboot (the kernel's default: nothing loads "
                   "nf_conntrack before systemd-sysctl applies the drop-in, so its line is skipped and the module comes "
                   "up with its default when a firewall loads it later; sysctl.d(5)), not 524288. List nf_conntrack in "
                   "/etc/modules-load.d/."}]
    # Before 5.15 the maximum was 4 x the buckets (then at most 16384 above 1 GB): on 5.10 with 2 GB, 65536.
    host['tcp_sysctl']['kernel'] = {'version': '5.10.0', 'mem_total': 2 * 1024 ** 3}
    assert run(host)[0]['actual'] == '65536'
    # The file sysctl_tune wrote is what should load it: the finding says so.
    host['record']['modules_file'] = '/etc/modules-load.d/netops-tcp.conf'
    assert run(host)[0]['message'].endswith(
        'not 524288. /etc/modules-load.d/netops-tcp.conf, which sysctl_tune wrote to load it, is missing, no longer lists '
        'it or is not read at boot: re-run tune-tcp.yml, or list nf_conntrack in /etc/modules-load.d/.')
    # A value that is the kernel's own default comes back the same: nothing to say.
    assert run(conntrack_max(host, '65536')) == []
    # Memory unknown: the default cannot be told; the finding says what happens without a number.
    conntrack_max(host, '524288')['tcp_sysctl']['kernel'] = {'version': '6.18.44'}
    found = run(host)
    assert (found[0]['expected'], found[0]['actual']) == ('nf_conntrack loaded at boot', 'not listed')
    assert found[0]['message'].startswith('net.netfilter.nf_conntrack_max is in the drop-in, but nothing loads '
                                          'nf_conntrack at boot before systemd-sysctl applies it')
    host['tcp_sysctl']['boot_modules'] = {'nf_conntrack': '/etc/modules-load.d/netops-tcp.conf'}
    host['tcp_sysctl']['kernel'] = {'version': '6.18.44', 'mem_total': 7680 * 131072}
    assert run(host) == []  # loaded at boot: the drop-in's value holds


def test_several_listeners_on_a_port_share_its_syn_recv():
    """nginx with 8 reuseport workers (backlog 511 each) and IPv4 plus IPv6: SYN_RECV is counted per port,
    so the port is full only when it reaches the sum of their limits (review of issue 20)."""
    host = healthy_host()
    host['tcp']['listeners'] = [{'address': '0.0.0.0', 'port': 443, 'accept_queue': 0, 'backlog': 511,
                                 'accept_queue_full': False, 'syn_recv': 600} for _worker in range(8)]
    assert run(host) == []
    for item in host['tcp']['listeners']:
        item['syn_recv'] = 4088
    found = run(host)
    assert kinds(found) == [('syn_flood', 'warning', None)]
    assert 'at their SYN queue limit now: port 443 (SYN_RECV 4088, limits of its 8 listeners 4088)' in found[0]['message']
    host['tcp']['listeners'] = []
    assert run(host, thresholds={'syn_cookies': 0}) == []  # nothing happened: no finding, whatever the threshold


SHIPPED = [(name, int(rel[1:-4])) for name, rel in (line.split()[1].split('/') for line in open(
    profiles.os.path.join(profiles.SHIPPED, 'CHECKSUMS.sha256')) if line.strip())]


def tuned(tmp_path, name='web_frontend', version=1, release='6.1.0', initial=True, listening=(), **resolve):
    """(record, resolved profile): the record sysctl_tune writes on a fake host for the profile the tune
    role resolves (the tcp_profile lookup's code, with ``overrides`` and ``parameters``)."""
    proc = make_tree(tmp_path / ('proc-%s-%s' % (release, initial)), release, initial)
    if listening:
        with open(profiles.os.path.join(proc, 'net', 'tcp'), 'a') as handle:
            handle.write(''.join('   %d: 00000000:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0'
                                 '        0 %d 1\n' % (i, port, 1000 + i) for i, port in enumerate(listening)))
    resolved = profiles.resolve(name, version, **resolve)
    plan = planning.decide(planning.Host(proc), settings.normalise(resolved['settings']), clients_behind_nat=False)
    assert plan.errors == []
    return dropin.record(resolved, plan, '/etc/sysctl.d/60-netops-tcp.conf', True, '0.1.0'), resolved


def overridden_of(record, expected):
    host = healthy_host()
    host['record'] = record
    return [f for f in run(host, expected) if f['kind'] == 'overridden']


@pytest.mark.parametrize('name, version', SHIPPED)
@pytest.mark.parametrize('release, initial', [('6.1.0', True), ('4.9.80', False)])
def test_a_host_tuned_without_overrides_has_the_profiles_own_checksum(tmp_path, name, version, release, initial):
    """The checksum the record keeps is the one the audit's resolver computes for the same profile,
    on every shipped profile, whatever this host skips: no overridden finding without overrides."""
    record, _resolved = tuned(tmp_path, name, version, release, initial, listening=(22, 8080))
    expected = profiles.Resolver().get(name, version)
    assert record['checksum'] == expected['checksum']
    assert overridden(record, expected) == [] and overridden_of(record, expected) == []


def test_a_host_tuned_with_overrides_names_each_key_that_differs(tmp_path):
    record, _resolved = tuned(tmp_path, overrides={'net.core.somaxconn': 8192, 'net.ipv4.tcp_notsent_lowat': 131072,
                                                   'net.ipv4.tcp_fin_timeout': 30})
    expected = profiles.Resolver().get('web_frontend', 1)
    assert record['checksum'] != expected['checksum']
    found = overridden_of(record, expected)
    assert [(f['severity'], f['key'], f['expected'], f['actual']) for f in found] == [
        ('warning', 'net.core.somaxconn', '16384', '8192'), ('warning', 'net.ipv4.tcp_notsent_lowat', None, '131072')]
    why = "(the record's checksum %s is not the profile's %s)" % (record['checksum'][:12], expected['checksum'][:12])
    fix = ('The host was tuned with local overrides (tcp_tune_overrides) or with other profile parameters than this '
           'audit resolves it with (tcp_audit_profile_parameters): put them in a new version of the profile and apply '
           'it, or re-run tune-tcp.yml without them.')
    assert found[0]['message'] == 'net.core.somaxconn: this host runs web_frontend@1 with 8192, the profile sets 16384 %s. %s' % (why, fix)
    assert found[1]['message'] == ('net.ipv4.tcp_notsent_lowat: this host runs web_frontend@1 with 131072, a key the '
                                   'profile does not set %s. %s' % (why, fix))
    # Another version expected: outdated says it, not overridden.
    later = [f['kind'] for f in run(dict(healthy_host(), record=record), profiles.Resolver().get('web_frontend', 2))]
    assert 'outdated' in later and 'overridden' not in later


def test_other_profile_parameters_are_overrides_too(tmp_path):
    record, _resolved = tuned(tmp_path, 'lb_backend', 2, parameters={'lb_idle_timeout': 350})
    assert overridden_of(record, profiles.Resolver().get('lb_backend', 2, {'lb_idle_timeout': 350})) == []
    found = overridden_of(record, profiles.Resolver().get('lb_backend', 2))
    assert [(f['key'], f['expected'], f['actual']) for f in found] == [('net.ipv4.tcp_keepalive_time', '840', '290')]


def test_keys_only_one_side_has(tmp_path):
    record, resolved = tuned(tmp_path, overrides={'net.core.somaxconn': 8192})
    expected = profiles.Resolver().get('web_frontend', 1)
    # A key the profile sets that the record lacks, and one it skipped (here tcp_tw_recycle: needs Linux <4.12).
    assert record['skipped'] == {'net.ipv4.tcp_tw_recycle': 'needs Linux <4.12; this kernel is 6.1.0'}
    del record['applied']['net.ipv4.tcp_keepalive_probes']
    found = overridden_of(record, expected)
    assert [(f['key'], f['expected'], f['actual']) for f in found] == [
        ('net.core.somaxconn', '16384', '8192'), ('net.ipv4.tcp_keepalive_probes', '3', None)]
    assert found[1]['message'].startswith('net.ipv4.tcp_keepalive_probes: this host runs web_frontend@1 without it, '
                                          'the profile sets 3 (the record')
    assert resolved['overrides'] == ['net.core.somaxconn']


def test_a_checksum_that_differs_in_guards_only_is_an_info(tmp_path):
    """An override of a key this host skips (tcp_tw_recycle, gone since 4.12) changes the checksum, not a value."""
    record, _resolved = tuned(tmp_path, overrides={'net.ipv4.tcp_tw_recycle': 0})
    expected = profiles.Resolver().get('web_frontend', 1)
    found = overridden_of(record, expected)
    assert [(f['severity'], f['key'], f['expected'], f['actual']) for f in found] == [
        ('info', None, expected['checksum'], record['checksum'])]
    assert found[0]['message'] == (
        "This host runs web_frontend@1 with checksum %s, not the profile's %s, though every value it applied is the "
        "profile's: the difference is in guards or in keys this host skips. It was tuned with local overrides "
        "(tcp_tune_overrides) or other profile parameters: re-run tune-tcp.yml without them to record the profile as it is."
        % (record['checksum'][:12], expected['checksum'][:12]))


def test_reserved_listening_ports_are_no_override(tmp_path):
    """ad_backend_incident@1 reserves the listening ports its port range covers: the record holds them,
    the profile does not; only the overridden key is named."""
    record, _resolved = tuned(tmp_path, 'ad_backend_incident', 1, listening=(8080, 9000),
                              overrides={'net.ipv4.tcp_fin_timeout': 20})
    assert record['applied']['net.ipv4.ip_local_reserved_ports'] == '8080,9000'
    expected = profiles.Resolver().get('ad_backend_incident', 1)
    found = overridden_of(record, expected)
    assert [(f['key'], f['expected'], f['actual']) for f in found] == [('net.ipv4.tcp_fin_timeout', '2', '20')]
    # Without the guard the reserved ports would be the host's own.
    unguarded = copy.deepcopy(expected)
    unguarded['settings']['net.ipv4.ip_local_port_range']['guards'] = {}
    assert [f['key'] for f in overridden_of(record, unguarded)] == ['net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_fin_timeout']


@pytest.mark.parametrize('change', ['no checksum', 'null checksum', 'expected by name only', 'no settings'])
def test_records_and_profiles_without_a_checksum_are_not_judged(tmp_path, change):
    """Records of early versions keep no checksum; tcp_metrics knows the expected profile by name and version."""
    record, _resolved = tuned(tmp_path, overrides={'net.core.somaxconn': 8192})
    expected = dict(profiles.Resolver().get('web_frontend', 1))
    if change == 'no checksum':
        del record['checksum']
    elif change == 'null checksum':
        record['checksum'] = None
    elif change == 'expected by name only':
        expected = {'name': 'web_frontend', 'version': 1}
    else:
        del expected['settings']
    assert overridden_of(record, expected) == []


@pytest.mark.parametrize('field, value', [
    ('applied', 'net.core.somaxconn=8192'), ('applied', ['net.core.somaxconn']), ('applied', 7),
    ('skipped', 7), ('skipped', True), ('skipped', 1.5), ('skipped', 'net.core.somaxconn'),
])
def test_a_damaged_record_of_the_expected_version_is_judged_without_a_crash(tmp_path, field, value):
    """A record's applied or skipped of another shape (a hand-edited or hostile fact file) costs the host no other finding."""
    record, _resolved = tuned(tmp_path, overrides={'net.core.somaxconn': 8192})
    del record['applied']['net.ipv4.tcp_fin_timeout']  # a key the profile sets and the host lacks: skipped is read
    record[field] = value
    expected = profiles.Resolver().get('web_frontend', 1)
    if field == 'applied':  # the rest of the audit turns such a record into one unaudited finding for the host
        assert overridden(record, expected) == []
    else:  # every key the profile sets and the host lacks counts, as no key is known to be skipped
        assert [f['key'] for f in overridden_of(record, expected)] == [
            'net.core.somaxconn', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_tw_recycle']
