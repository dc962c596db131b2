# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the fleet report built from every host's audit, and its renderings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from xml.sax.saxutils import escape, quoteattr

from ansible_collections.netops.tcp.plugins.module_utils._findings import SEVERITIES, rank


def fleet(hosts):
    """{'hosts': {name: host}, 'summary': {...}} from {name: {'findings', 'profile', 'states'}}."""
    summary = {'hosts': len(hosts), 'findings': dict((s, 0) for s in SEVERITIES), 'kinds': {}, 'profiles': {},
               'hosts_with_findings': []}
    for name in sorted(hosts):
        host = hosts[name]
        for item in host['findings']:
            summary['findings'][item['severity']] += 1
            summary['kinds'][item['kind']] = summary['kinds'].get(item['kind'], 0) + 1
        profile = host.get('profile') or {}
        label = '%s@%s' % (profile['profile'], profile['version']) if profile.get('profile') else 'unmanaged'
        summary['profiles'].setdefault(label, []).append(name)
        if host['findings']:
            summary['hosts_with_findings'].append(name)
    return {'hosts': dict((k, hosts[k]) for k in sorted(hosts)), 'summary': summary}


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
