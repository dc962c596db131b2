# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textfile export: exact series for known hosts, bounded labels, escaping, counters read back."""

import copy
import os
import re

from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings_mod
from ansible_collections.netops.tcp.plugins.module_utils.judge import _metrics as metrics
from ansible_collections.netops.tcp.plugins.module_utils.judge import _namespaces as namespaces_mod
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import host_findings
from ansible_collections.netops.tcp.tests.unit.plugins.module_utils.test_findings import WEB_V1, healthy_host, key

LINE = re.compile(r'^(netops_tcp_\w+)(\{[^}]*\})? (\S+)$')


def series(text):
    """{'name{labels}': value} of every sample; asserts each line is a comment or a sample."""
    found = {}
    for line in text.splitlines():
        if line.startswith('# '):
            continue
        match = LINE.match(line)
        assert match, line
        found[match.group(1) + (match.group(2) or '')] = match.group(3)
    return found


def export(host, expected='web_frontend@1', previous=None):
    expected = WEB_V1 if expected == 'web_frontend@1' else expected
    found = host_findings(host['tcp'], host['tcp_sysctl'], host['record'], expected, host['dropin'], None, previous)
    label = '%s@%s' % (expected['name'], expected['version']) if expected else None
    return metrics.render(host['tcp'], host['tcp_sysctl'], host['record'], found, label), found


def drifted_host():
    host = healthy_host()
    host['record']['time'] = '2026-12-01T10:00:00Z'
    host['record']['checksum'] = 'sha256:abc'
    host['tcp_sysctl']['keys']['net.ipv4.tcp_fin_timeout'] = key('60')
    host['tcp']['states']['CLOSE_WAIT'] = 1500
    host['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 10, 'name': 'java', 'sockets': 900},
                                               {'pid': 11, 'name': 'java', 'sockets': 400},
                                               {'pid': 12, 'name': 'nginx', 'sockets': 200}]}
    host['tcp']['counters'].update(TCPTimeWaitOverflow=7, OutRsts=3)
    return host


def test_a_drifted_host_with_a_close_wait_leak():
    text, found = export(drifted_host())
    got = series(text)
    assert got['netops_tcp_managed'] == '1'
    assert got['netops_tcp_profile_info{checksum="sha256:abc",expected="web_frontend@1",profile="web_frontend",'
               'version="1"}'] == '1'
    assert got['netops_tcp_profile_applied_timestamp_seconds'] == '1796119200'  # date -u -d 2026-12-01T10:00:00Z +%s
    assert got['netops_tcp_findings{kind="drift",severity="warning"}'] == '1'
    assert got['netops_tcp_finding{key="net.ipv4.tcp_fin_timeout",kind="drift",severity="warning"}'] == '1'
    assert got['netops_tcp_findings{kind="close_wait",severity="warning"}'] == '1'
    assert got['netops_tcp_findings{kind="time_wait",severity="info"}'] == '1'  # 7 overflows since boot: info
    assert got['netops_tcp_connections{state="CLOSE_WAIT"}'] == '1500'
    # Summed per process name, most first.
    assert got['netops_tcp_close_wait_connections{process="java"}'] == '1300'
    assert got['netops_tcp_close_wait_connections{process="nginx"}'] == '200'
    assert got['netops_tcp_time_wait_overflows_total'] == '7'
    assert got['netops_tcp_resets_sent_total'] == '3'
    assert got['netops_tcp_listen_accept_queue{port="443"}'] == '0'
    assert got['netops_tcp_listen_backlog{port="443"}'] == '4096'
    assert got['netops_tcp_time_wait_max'] == '262144'
    # Every finding counted once in the totals, zeros for the rest.
    counted = dict((k, int(v)) for k, v in got.items() if k.startswith('netops_tcp_findings{'))
    assert sum(counted.values()) == len(found)
    assert len(counted) == sum(len(s) for _k, s in metrics.KINDS)


def test_a_healthy_host_has_zero_findings_and_no_per_key_series():
    got = series(export(healthy_host())[0])
    assert all(v == '0' for k, v in got.items() if k.startswith('netops_tcp_findings{'))
    assert not [k for k in got if k.startswith('netops_tcp_finding{')]
    assert 'netops_tcp_profile_applied_timestamp_seconds' not in got  # the record has no time


def test_an_unmanaged_host():
    host = healthy_host()
    host['record'] = None
    got = series(export(host, expected=None)[0])
    assert got['netops_tcp_managed'] == '0'
    assert not [k for k in got if 'profile_info' in k or 'applied_timestamp' in k]


def test_each_family_has_help_and_type_once_and_counters_end_in_total():
    text = export(drifted_host())[0]
    names = [line.split()[2] for line in text.splitlines() if line.startswith('# TYPE')]
    assert len(names) == len(set(names))
    for line in text.splitlines():
        if line.startswith('# TYPE'):
            _h, _t, name, kind = line.split()
            assert kind in ('gauge', 'counter')
            assert name.endswith('_total') == (kind == 'counter'), line
    samples = [line for line in text.splitlines() if not line.startswith('#')]
    assert all(LINE.match(line).group(1) in names for line in samples)
    assert all(len(line.split()) == 2 or '{' in line for line in samples)  # no timestamp column


def test_labels_are_escaped():
    host = drifted_host()
    host['tcp']['processes']['CLOSE_WAIT'] = [{'pid': 1, 'name': 'we"ird\\na\nme', 'sockets': 5}]
    text = export(host)[0]
    assert 'netops_tcp_close_wait_connections{process="we\\"ird\\\\na\\nme"} 5\n' in text


def test_processes_and_ports_are_bounded():
    host = drifted_host()
    host['tcp']['processes']['CLOSE_WAIT'] = [{'pid': i, 'name': 'worker-%02d' % i, 'sockets': i} for i in range(1, 60)]
    host['tcp']['listeners'] = [{'address': '10.0.0.%d' % (i % 3), 'port': 8000 + i, 'accept_queue': i % 7,
                                 'backlog': 128, 'accept_queue_full': False} for i in range(300)]
    got = series(export(host)[0])
    holders = sorted(k for k in got if k.startswith('netops_tcp_close_wait_connections'))
    assert holders == ['netops_tcp_close_wait_connections{process="worker-%02d"}' % i for i in range(55, 60)]
    queues = [k for k in got if k.startswith('netops_tcp_listen_accept_queue')]
    assert len(queues) == metrics.TOP_PORTS
    assert all(got[k] == '6' for k in queues)  # the fullest ports


def test_one_port_on_several_addresses_is_one_series_its_fullest_listener():
    host = drifted_host()
    host['tcp']['listeners'] = [
        {'address': '0.0.0.0', 'port': 80, 'accept_queue': 3, 'backlog': 4096, 'accept_queue_full': False},
        {'address': '::', 'port': 80, 'accept_queue': 100, 'backlog': 128, 'accept_queue_full': False}]
    got = series(export(host)[0])
    assert (got['netops_tcp_listen_accept_queue{port="80"}'], got['netops_tcp_listen_backlog{port="80"}']) == ('100', '128')


def test_counters_read_back_make_growth_since_the_last_export():
    host = drifted_host()
    text, found = export(host)
    assert metrics.previous_counters(text) == {'TCPTimeWaitOverflow': 7, 'ListenOverflows': 0, 'SyncookiesSent': 0,
                                               'OutRsts': 3}
    again, found = export(copy.deepcopy(host), previous=metrics.previous_counters(text))
    assert 'time_wait' not in [f['kind'] for f in found]  # no overflow since the last file
    assert series(again)['netops_tcp_findings{kind="time_wait",severity="warning"}'] == '0'
    assert metrics.previous_counters('garbage\nnetops_tcp_x_total 3\n') == {}


def test_every_kind_the_findings_make_on_a_host_is_exported():
    """A new finding kind in _findings without a series here would vanish from the metrics."""
    made = set()
    for module in (findings_mod, namespaces_mod):
        source = open(os.path.splitext(module.__file__)[0] + '.py').read()
        made |= set(re.findall(r"finding\(\s*'(\w+)'", source))
    assert made == set(kind for kind, _sevs in metrics.KINDS)


def test_applied_at():
    assert metrics.applied_at({'time': '1970-01-01T00:01:00Z'}) == 60
    assert metrics.applied_at({'time': 'yesterday'}) is None
    assert metrics.applied_at(None) is None
