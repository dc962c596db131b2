# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the fleet report built from every host's audit, and its renderings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time
from html import escape as html_escape
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.netops.tcp.plugins.module_utils import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils._findings import SEVERITIES, rank


NO_FACTS = {
    'live': 'No TCP facts from this host in this run: gather them (netops.tcp.audit_facts) before the audit.',
    'cache': 'No cached TCP facts for this host: put netops.tcp.audit_facts in ansible_facts_modules '
             '(examples/inventory) and let a play gather facts, or audit it live.',
}


def gathered_at(host):
    """When the host's TCP facts were gathered (epoch seconds), or None when they do not say."""
    stamp = (host.get('tcp') or {}).get('gathered_at')
    try:
        return calendar.timegm(time.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ'))
    except (TypeError, ValueError):
        pass
    try:
        return int((host.get('date_time') or {}).get('epoch'))  # setup's, gathered in the same run
    except (TypeError, ValueError):
        return None


def _age(seconds):
    hours = seconds / 3600.0
    return '%.1f hours' % hours if hours < 48 else '%.1f days' % (hours / 24)


def audit(facts, expected_for, thresholds=None, previous=None, record_name='netops_tcp', source='live',
          max_age=None, now=None):
    """Every host's audit entry, computed once for the fleet.

    ``facts``: {host: its ansible_facts (tcp, tcp_sysctl, tcp_record or ansible_local)};
    ``expected_for(record)``: the resolved expected profile for a host's record (or None);
    ``previous``: the last report, to tell a counter's rise since that audit from a total since
    boot. From the cache (``source``), facts older than ``max_age`` seconds are ``stale``. Returns
    {host: {'record', 'expected' ("name@version" or None), 'states', 'counters', 'findings'}}.
    """
    now = time.time() if now is None else now
    findings.check_thresholds(thresholds)
    before = (previous or {}).get('hosts') or {}
    result = {}
    for name in sorted(facts):
        host = facts[name] or {}
        tcp, sysctl_facts = host.get('tcp'), host.get('tcp_sysctl')
        # audit_facts returns the record as tcp_record; setup's local facts as ansible_local.NAME.
        record = host['tcp_record'] if 'tcp_record' in host else (host.get('ansible_local') or {}).get(record_name)
        damaged = record is not None and (not isinstance(record, dict) or set(record) == {'error'})
        record = None if damaged else record
        expected_profile = expected_for(record)
        if not tcp or not sysctl_facts:
            found = [findings.finding('unaudited', 'warning', NO_FACTS[source])]
        else:
            boot = sysctl_facts.get('boot_files')
            dropin = None if boot is None else bool(record and record.get('sysctl_file') in boot)
            found = findings.host_findings(tcp, sysctl_facts, record, expected_profile, dropin, thresholds,
                                           (before.get(name) or {}).get('counters'))
        when = gathered_at(host) if tcp else None
        if tcp and source == 'cache' and max_age is not None and (when is None or now - when > max_age):
            found.insert(0, findings.finding(
                'stale', 'warning', 'The cached facts are %s old (gathered %s), older than tcp_audit_max_age (%s): '
                'these findings may no longer hold. Gather facts again, or audit live.'
                % (_age(now - when), tcp.get('gathered_at') or time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when)),
                   _age(max_age)) if when is not None else
                'The cached facts carry no time of gathering: their age is unknown. Gather facts again.',
                actual=int(now - when) if when is not None else None, expected='<= %d s' % max_age))
        if damaged:
            found.insert(0, findings.finding('unmanaged', 'warning', 'The netops.tcp record on this host cannot be '
                                             'read; re-run tune-tcp.yml to write it again.'))
        result[name] = {
            'record': record,
            'expected': '%s@%s' % (expected_profile['name'], expected_profile['version']) if expected_profile else None,
            'states': (tcp or {}).get('states'),
            'counters': (tcp or {}).get('counters'),
            'findings': found,
        }
    return result


def fleet(hosts):
    """{'hosts': {name: host}, 'summary': {...}} from {name: {'findings', 'record', 'states'}}."""
    summary = {'hosts': len(hosts), 'findings': dict((s, 0) for s in SEVERITIES), 'kinds': {}, 'profiles': {},
               'hosts_with_findings': []}
    for name in sorted(hosts):
        host = hosts[name]
        for item in host['findings']:
            summary['findings'][item['severity']] += 1
            summary['kinds'][item['kind']] = summary['kinds'].get(item['kind'], 0) + 1
        summary['profiles'].setdefault(running(host), []).append(name)
        if host['findings']:
            summary['hosts_with_findings'].append(name)
    return {'hosts': dict((k, hosts[k]) for k in sorted(hosts)), 'summary': summary}


def running(host):
    """``name@version`` the host's record says it runs, or "unmanaged"."""
    record = host.get('record') or {}
    return '%s@%s' % (record['profile'], record.get('version')) if record.get('profile') else 'unmanaged'


def failing(report, fail_on):
    """Findings at or above ``fail_on`` (none | info | warning | critical)."""
    if fail_on in (None, 'none'):
        return []
    return [dict(item, host=name) for name, host in report['hosts'].items() for item in host['findings']
            if rank(item['severity']) >= rank(fail_on)]


def _md(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def markdown(report):
    summary = report['summary']
    counts = ', '.join('%d %s' % (summary['findings'][s], s) for s in reversed(SEVERITIES))
    lines = ['# TCP audit', '', '%d hosts; findings: %s.' % (summary['hosts'], counts), '',
             '| profile | hosts |', '| --- | --- |']
    for label in sorted(summary['profiles']):
        lines.append('| %s | %s |' % (_md(label), _md(', '.join(summary['profiles'][label]))))
    for name, host in report['hosts'].items():
        lines += ['', '## %s' % _md(name), '']
        if not host['findings']:
            lines.append('No findings.')
            continue
        lines += ['| severity | kind | key | expected | actual | what it means |', '| --- | --- | --- | --- | --- | --- |']
        for item in host['findings']:
            cells = [_md(item[k] if item[k] is not None else '') for k in ('severity', 'kind', 'key', 'expected', 'actual', 'message')]
            lines.append('| %s |' % ' | '.join(cells))
    return '\n'.join(lines) + '\n'


def junit(report):
    """One test suite per host, one failing test case per warning or critical finding."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    total = sum(len(h['findings']) for h in report['hosts'].values())
    failures = sum(1 for h in report['hosts'].values() for f in h['findings'] if f['severity'] != 'info')
    out.append('<testsuites name="netops.tcp audit" tests="%d" failures="%d">' % (max(total, len(report['hosts'])), failures))
    for name, host in report['hosts'].items():
        bad = [f for f in host['findings'] if f['severity'] != 'info']
        out.append('  <testsuite name=%s tests="%d" failures="%d">' % (quoteattr(name), max(len(host['findings']), 1), len(bad)))
        if not host['findings']:
            out.append('    <testcase classname=%s name="no findings"/>' % quoteattr(name))
        for item in host['findings']:
            case = '%s %s' % (item['kind'], item['key'] or '')
            out.append('    <testcase classname=%s name=%s>' % (quoteattr(name), quoteattr(case.strip())))
            if item['severity'] != 'info':
                out.append('      <failure type=%s message=%s>%s</failure>'
                           % (quoteattr(item['severity']), quoteattr(item['message']), escape(item['message'])))
            out.append('    </testcase>')
        out.append('  </testsuite>')
    out.append('</testsuites>')
    return '\n'.join(out) + '\n'


_STATE_COLOURS = {
    'ESTABLISHED': '#2e7d32', 'SYN_SENT': '#9e9d24', 'SYN_RECV': '#f9a825', 'FIN_WAIT1': '#6a1b9a',
    'FIN_WAIT2': '#8e24aa', 'TIME_WAIT': '#1565c0', 'CLOSE': '#757575', 'CLOSE_WAIT': '#c62828',
    'LAST_ACK': '#ad1457', 'LISTEN': '#00838f', 'CLOSING': '#4e342e',
}
_SEVERITY_COLOURS = {'critical': '#c62828', 'warning': '#ef6c00', 'info': '#1565c0'}


def _h(value):
    """Text from hosts, escaped for HTML (names, messages, values can hold anything)."""
    return html_escape('' if value is None else str(value), quote=True)


def _state_chart(name, states):
    """An inline SVG bar of connection states, widths proportional to counts."""
    total = sum(states.values()) or 1
    x = 0.0
    parts = []
    for state, colour in _STATE_COLOURS.items():
        count = states.get(state, 0)
        if not count:
            continue
        width = 600.0 * count / total
        parts.append('<rect x="%.1f" y="0" width="%.1f" height="18" fill="%s"><title>%s %s: %d</title></rect>'
                     % (x, width, colour, _h(name), state, count))
        x += width
    return '<svg class="bar" width="600" height="18" role="img" aria-label="%s">%s</svg>' % (_h(name), ''.join(parts))


def html(report):
    """One self-contained page: summary, per-host table, drift matrix, connection-state charts."""
    summary = report['summary']
    hosts = report['hosts']
    drift_keys = sorted(set(f['key'] for h in hosts.values() for f in h['findings'] if f['kind'] == 'drift'))
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
           '<title>TCP audit</title><style>',
           'body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}',
           'td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}',
           '.sev{color:#fff;padding:1px 6px;border-radius:3px}.ok{color:#2e7d32}.legend span{margin-right:12px}',
           '.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}</style></head><body>',
           '<h1>TCP audit</h1>',
           '<p id="summary">%d hosts; %s.</p>' % (summary['hosts'], ', '.join(
               '<span class="sev" style="background:%s">%d %s</span>' % (_SEVERITY_COLOURS[s], summary['findings'][s], s)
               for s in reversed(SEVERITIES))),
           '<h2>Profiles</h2><table><tr><th>profile</th><th>hosts</th></tr>']
    for label in sorted(summary['profiles']):
        out.append('<tr><td>%s</td><td>%s</td></tr>' % (_h(label), _h(', '.join(summary['profiles'][label]))))
    out.append('</table><h2>Hosts</h2><table id="hosts"><tr><th>host</th><th>profile</th><th>findings</th></tr>')
    for name, host in hosts.items():
        label = running(host)
        if host['findings']:
            cells = '<br>'.join('<span class="sev" style="background:%s">%s</span> %s: %s'
                                % (_SEVERITY_COLOURS[f['severity']], f['severity'], _h(f['kind']), _h(f['message']))
                                for f in host['findings'])
        else:
            cells = '<span class="ok">no findings</span>'
        out.append('<tr><td>%s</td><td>%s</td><td>%s</td></tr>' % (_h(name), _h(label), cells))
    out.append('</table><h2>Drift</h2>')
    if drift_keys:
        out.append('<table id="drift"><tr><th>host</th>%s</tr>' % ''.join('<th>%s</th>' % _h(k) for k in drift_keys))
        for name, host in hosts.items():
            by_key = dict((f['key'], f) for f in host['findings'] if f['kind'] == 'drift')
            out.append('<tr><td>%s</td>%s</tr>' % (_h(name), ''.join(
                '<td>%s</td>' % ('%s (wanted %s)' % (_h(by_key[k]['actual']), _h(by_key[k]['expected'])) if k in by_key else '')
                for k in drift_keys)))
        out.append('</table>')
    else:
        out.append('<p class="ok">No drift.</p>')
    out.append('<h2>Connection states</h2><p class="legend">%s</p><table id="states">' % ''.join(
        '<span><i class="swatch" style="background:%s"></i>%s</span>' % (c, s) for s, c in _STATE_COLOURS.items()))
    for name, host in hosts.items():
        states = host.get('states') or {}
        out.append('<tr><td>%s</td><td>%s</td><td>%d</td></tr>' % (_h(name), _state_chart(name, states), sum(states.values())))
    out.append('</table></body></html>')
    return '\n'.join(out) + '\n'
