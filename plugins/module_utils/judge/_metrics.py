# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: one host's profile state, findings and TCP health in Prometheus's text
exposition format, for node_exporter's textfile collector (``netops_tcp.prom``).

Pure: takes the facts the audit gathers (``tcp``, ``tcp_sysctl``), the host's record and its
findings (``_findings.host_findings``), and returns the file's text. No timestamps (the
collector refuses them); the time of the last apply is a ``_timestamp_seconds`` gauge, so an
alert takes its age with ``time() - ...``. Every label's values are bounded: finding kinds and
severities are fixed, keys come from the sysctl catalog, and processes and ports are cut to
the few that matter most.
"""

import calendar
import re
import time

from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils.judge._namespaces import RISES as NAMESPACE_COUNTERS, worst_first
from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text
from ansible_collections.netops.tcp.plugins.module_utils.gather._census import STATES

FILE_NAME = 'netops_tcp.prom'
READ_LIMIT = 1024 * 1024  # the file it wrote last: a few kB; anything bigger is not ours
PREFIX = 'netops_tcp_'
KINDS = findings.KINDS  # every kind and severity a host can have: all written, zeros too
# Kinds also written per sysctl key (their keys come from the catalog: a bounded set).
PER_KEY = ('drift', 'persistence', 'risky')
# (kernel counter, metric, help): the counters the rollout gate watches, as Prometheus counters.
COUNTERS = (
    ('TCPTimeWaitOverflow', 'time_wait_overflows_total',
     'TIME_WAIT sockets destroyed early because tcp_max_tw_buckets was reached (TcpExt TCPTimeWaitOverflow).'),
    ('ListenOverflows', 'listen_overflows_total',
     'Connections dropped because a listener\'s accept queue was full (TcpExt ListenOverflows).'),
    ('ListenDrops', 'listen_drops_total', 'Connections dropped at a listener for any reason (TcpExt ListenDrops).'),
    ('SyncookiesSent', 'syncookies_sent_total', 'SYN cookies sent: the SYN queue was full (TcpExt SyncookiesSent).'),
    ('SyncookiesFailed', 'syncookies_failed_total', 'ACKs with an invalid SYN cookie (TcpExt SyncookiesFailed).'),
    ('TCPReqQFullDoCookies', 'syn_queue_full_cookies_total',
     'SYNs answered with a cookie because the listener\'s SYN queue was full (TcpExt TCPReqQFullDoCookies).'),
    ('TCPReqQFullDrop', 'syn_queue_full_drops_total',
     'SYNs dropped because the listener\'s SYN queue was full and syncookies are off (TcpExt TCPReqQFullDrop).'),
    ('TCPMemoryPressures', 'memory_pressures_total', 'Times TCP entered memory pressure (TcpExt TCPMemoryPressures).'),
    ('TCPTimeouts', 'retransmission_timeouts_total', 'Retransmission timeouts (TcpExt TCPTimeouts).'),
    ('TCPSynRetrans', 'syn_retransmits_total', 'SYN and SYN-ACK retransmissions (TcpExt TCPSynRetrans).'),
    ('TCPAbortOnMemory', 'aborts_on_memory_total',
     'Connections reset for lack of memory or too many orphans (TcpExt TCPAbortOnMemory).'),
    ('OutRsts', 'resets_sent_total', 'Segments sent with RST (Tcp OutRsts).'),
    ('RetransSegs', 'retransmitted_segments_total', 'Segments retransmitted (Tcp RetransSegs).'),
    ('OutSegs', 'sent_segments_total', 'Segments sent (Tcp OutSegs).'),
)
TOP_PROCESSES = 5   # CLOSE_WAIT holders written by process name
TOP_PORTS = 10      # listening ports written, fullest accept queue first
TOP_NAMESPACES = 10  # other network namespaces written: the most severe findings, then the most sockets


def _escape_help(help_text):
    return help_text.replace('\\', '\\\\').replace('\n', '\\n')


def _number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class _Families:
    """Metric families in the order they are added, each with its HELP and TYPE once."""

    def __init__(self):
        self.order, self.families = [], {}

    def add(self, name, mtype, help_text, value, **labels):
        family = self.families.get(name)
        if family is None:
            family = self.families[name] = (mtype, help_text, {})
            self.order.append(name)
        label_text = ','.join('%s="%s"' % (k, text.prom_label(v)) for k, v in sorted(labels.items()))
        family[2][label_text] = value  # a series written twice keeps its last value

    def text(self):
        lines = []
        for name in self.order:
            mtype, help_text, samples = self.families[name]
            lines += ['# HELP %s%s %s' % (PREFIX, name, _escape_help(help_text)), '# TYPE %s%s %s' % (PREFIX, name, mtype)]
            for labels in sorted(samples):
                lines.append('%s%s%s %s' % (PREFIX, name, '{%s}' % labels if labels else '', _number(samples[labels])))
        return '\n'.join(lines) + '\n'


def applied_at(record):
    """The record's time (when the host last changed its tuning) in epoch seconds, or None."""
    try:
        return calendar.timegm(time.strptime((record or {}).get('time'), '%Y-%m-%dT%H:%M:%SZ'))
    except (TypeError, ValueError):
        return None


def _listener_rows(listeners):
    """One row per port (its fullest listener), the TOP_PORTS fullest ports, by port."""
    by_port = {}  # port: (fill, queue, backlog)
    for item in listeners or []:
        queue, backlog = item.get('accept_queue') or 0, item.get('backlog') or 0
        row = (queue / float(backlog) if backlog else 0.0, queue, backlog)
        if row[:2] > by_port.get(item['port'], (-1.0, -1))[:2]:
            by_port[item['port']] = row
    top = sorted(by_port, key=lambda port: (-by_port[port][0], -by_port[port][1], port))[:TOP_PORTS]
    return sorted((port,) + by_port[port][1:] for port in top)


def _close_wait_holders(processes):
    """[(name, sockets)] of the TOP_PROCESSES process names holding the most CLOSE_WAIT sockets."""
    totals = {}
    for row in (processes or {}).get('CLOSE_WAIT') or []:
        totals[row.get('name') or '?'] = totals.get(row.get('name') or '?', 0) + row.get('sockets', 0)
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PROCESSES]


def render(tcp, sysctl_facts, record, findings, expected=None):
    """The textfile's text. ``expected``: "name@version" the host is checked against, or None."""
    tcp, keys = tcp or {}, (sysctl_facts or {}).get('keys') or {}
    out = _Families()
    managed = bool(record and record.get('profile'))
    out.add('managed', 'gauge', 'Whether the host has a netops.tcp record (it was tuned with a profile).', int(managed))
    if managed:
        out.add('profile_info', 'gauge', 'The tuning profile the host\'s record says it runs (always 1).', 1,
                profile=record['profile'], version=record.get('version') or '', checksum=record.get('checksum') or '',
                expected=expected or '')
    stamp = applied_at(record) if managed else None
    if stamp is not None:
        out.add('profile_applied_timestamp_seconds', 'gauge',
                'When the host\'s tuning last changed (Unix time); its age is time() minus this.', stamp)
    counts = dict(((kind, severity), 0) for kind, severities in KINDS for severity in severities)
    for item in findings:
        counts[(item['kind'], item['severity'])] = counts.get((item['kind'], item['severity']), 0) + 1
    for (kind, severity), count in sorted(counts.items()):
        out.add('findings', 'gauge', 'Audit findings on the host now, by kind and severity.', count,
                kind=kind, severity=severity)
    for item in findings:
        if item['kind'] in PER_KEY and item.get('key'):
            out.add('finding', 'gauge', 'A drift, persistence or risky finding on one sysctl key (1 while it holds).',
                    1, kind=item['kind'], key=item['key'], severity=item['severity'])
    states = tcp.get('states') or {}
    for state in STATES:
        out.add('connections', 'gauge', 'TCP sockets (IPv4 and IPv6) by state.', states.get(state, 0), state=state)
    for name, sockets in _close_wait_holders(tcp.get('processes')):
        out.add('close_wait_connections', 'gauge', 'CLOSE_WAIT sockets held by the processes of one name '
                '(the %d names holding most).' % TOP_PROCESSES, sockets, process=name)
    for port, queue, backlog in _listener_rows(tcp.get('listeners')):
        out.add('listen_accept_queue', 'gauge', 'Connections waiting to be accepted on a listening port '
                '(its fullest listener; the %d fullest ports).' % TOP_PORTS, queue, port=port)
        out.add('listen_backlog', 'gauge', 'The accept queue\'s limit on that listener (the smaller of the '
                'application\'s backlog and net.core.somaxconn).', backlog, port=port)
    tw_max = keys.get('net.ipv4.tcp_max_tw_buckets') or {}
    if tw_max.get('available') and isinstance(tw_max.get('value'), int):
        out.add('time_wait_max', 'gauge', 'net.ipv4.tcp_max_tw_buckets: TIME_WAIT sockets kept at most.', tw_max['value'])
    counters = tcp.get('counters') or {}
    for counter, name, help_text in COUNTERS:
        if counter in counters:
            out.add(name, 'counter', help_text, counters[counter])
    if isinstance(tcp.get('namespaces'), dict):
        _namespaces(out, tcp['namespaces'], findings)
    return out.text()


def worst_namespaces(read, found, count=TOP_NAMESPACES):
    """[(namespace item, its findings)] of the ``count`` namespaces of ``read`` (items the census read)
    that come first in the report's order (judge/_namespaces.worst_first)."""
    per = {}
    for item in found:
        if item.get('namespace'):
            per.setdefault(item['namespace'], []).append(item)
    ordered = sorted(read, key=lambda item: worst_first(per.get(item['id'], []), item))
    return [(item, per.get(item['id'], [])) for item in ordered[:count]]


def _namespaces(out, namespaces, found):
    read = [item for item in namespaces.get('items') or []
            if isinstance(item, dict) and isinstance(item.get('id'), str) and not item.get('error')]
    out.add('namespaces', 'gauge', 'The host\'s other network namespaces (containers, pods, ip netns) read by the '
            'census.', len(read))
    for item, mine in worst_namespaces(read, found):
        labels = {'id': item['id'], 'namespace': (item.get('owner') or {}).get('label') or ''}
        if isinstance(item.get('cookie'), int):
            labels['cookie'] = item['cookie']  # one per id: tells the next run's counters from another namespace's
        states = item.get('states') or {}
        for state in STATES:
            out.add('namespace_connections', 'gauge', 'TCP sockets by state in one of the host\'s other network '
                    'namespaces (the %d with the worst findings, then the most sockets).' % TOP_NAMESPACES,
                    states.get(state, 0), state=state, **labels)
        out.add('namespace_findings', 'gauge', 'Audit findings in that namespace now.', len(mine), **labels)
        counters = item.get('counters') or {}
        for counter in NAMESPACE_COUNTERS:
            if isinstance(counters.get(counter), int):
                out.add('namespace_snmp_total', 'counter', 'The trouble counters of that namespace, by '
                        'their kernel names (TcpExt, Tcp).', counters[counter], counter=counter, **labels)


_SAMPLE = re.compile(r'^%s(\w+_total) (\d+)$' % PREFIX)


_NAMESPACE_SAMPLE = re.compile(r'^%snamespace_snmp_total\{(?:cookie="(\d+)",)?counter="(\w+)",id="(net:\[\d+\])",'
                               % PREFIX + r'namespace="[^\n]*"\} (\d+)$')


def previous_namespace_counters(old):
    """{namespace id: {'cookie', 'counters': {kernel counter: value}}} from an earlier file of ours."""
    found = {}
    for line in (old or '').splitlines():
        match = _NAMESPACE_SAMPLE.match(line)
        if match:
            entry = found.setdefault(match.group(3), {'cookie': int(match.group(1)) if match.group(1) else None,
                                                      'counters': {}})
            entry['counters'][match.group(2)] = int(match.group(4))
    return found


def previous_counters(old):
    """{kernel counter: value} from an earlier file of ours, for findings "since the last export"."""
    by_metric = dict((name, counter) for counter, name, _help in COUNTERS)
    found = {}
    for line in (old or '').splitlines():
        match = _SAMPLE.match(line)
        if match and match.group(1) in by_metric:
            found[by_metric[match.group(1)]] = int(match.group(2))
    return found
