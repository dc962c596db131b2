# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the fleet report built from every host's audit, and its renderings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import SEVERITIES, rank


def fleet(hosts):
    """{'hosts': {name: host}, 'summary': {...}} from {name: {'findings', 'record', 'states', 'kernel'}}.
    The summary counts the hosts per kernel release (``kernels``) and those whose kernel is not known
    (``kernels_unknown``)."""
    summary = {'hosts': len(hosts), 'findings': dict((s, 0) for s in SEVERITIES), 'kinds': {}, 'profiles': {},
               'kernels': {}, 'kernels_unknown': 0, 'hosts_with_findings': []}
    for name in sorted(hosts):
        host = hosts[name]
        release = host.get('kernel')
        if release is None:
            summary['kernels_unknown'] += 1
        else:
            summary['kernels'][release] = summary['kernels'].get(release, 0) + 1
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


WORST = 20          # hosts report.md details
PER_HOST_BARS = 50  # up to this many hosts the page draws a state bar per host; past it, fleet charts only
PROFILE_NAMES = 10  # host names shown per profile
KERNELS = 20        # kernel releases report.md and report.html list; the rest are counted in one row
NO_KERNEL = '-'     # a host's kernel when its facts do not say


def worst_first(report):
    """Host names, the most severe findings first, then the most findings, then by name."""
    def key(name):
        found = report['hosts'][name]['findings']
        return (-max([rank(f['severity']) for f in found] or [-1]), -len(found), name)
    return sorted(report['hosts'], key=key)


def kernel_rows(summary):
    """[(label, hosts)] of the summary's kernels, the most hosts first, then by release: up to KERNELS
    releases, one row for the rest, one for the hosts whose kernel is not known. Labels are host text."""
    ordered = sorted((summary.get('kernels') or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    rows = ordered[:KERNELS]
    if len(ordered) > KERNELS:
        rows.append(('%d other releases' % (len(ordered) - KERNELS), sum(n for _k, n in ordered[KERNELS:])))
    if summary.get('kernels_unknown'):
        rows.append(('not known (no facts)', summary['kernels_unknown']))
    return rows


def _names(names):
    shown = ', '.join(names[:PROFILE_NAMES])
    return shown + (' and %d more' % (len(names) - PROFILE_NAMES) if len(names) > PROFILE_NAMES else '')


def markdown(report):
    """A summary people read: counts, profiles, kernels, kinds, then the worst hosts in detail (kernel, findings)."""
    summary = report['summary']
    counts = ', '.join('%d %s' % (summary['findings'][s], s) for s in reversed(SEVERITIES))
    lines = ['# TCP audit', '', '%d hosts, %d with findings; findings: %s.' % (
        summary['hosts'], len(summary['hosts_with_findings']), counts), '',
        '| profile | hosts | names |', '| --- | ---: | --- |']
    for label in sorted(summary['profiles']):
        names = summary['profiles'][label]
        lines.append('| %s | %d | %s |' % (text.markdown(label), len(names), text.markdown(_names(names))))
    lines += ['', '| kernel | hosts |', '| --- | ---: |']
    lines += ['| %s | %d |' % (text.markdown(label), n) for label, n in kernel_rows(summary)]
    if summary['kinds']:
        lines += ['', '| finding | count |', '| --- | ---: |']
        lines += ['| %s | %d |' % (text.markdown(kind), n) for kind, n in sorted(summary['kinds'].items(), key=lambda kv: (-kv[1], kv[0]))]
    ordered = worst_first(report)
    shown = ordered[:WORST]
    if len(ordered) > WORST:
        lines += ['', 'The %d worst hosts; every host is in report.json and report.html.' % WORST]
    for name in shown:
        host = report['hosts'][name]
        lines += ['', '## %s' % text.markdown(name), '', 'Kernel: %s' % text.markdown(host.get('kernel') or NO_KERNEL), '']
        if not host['findings']:
            lines.append('No findings.')
            continue
        lines += ['| severity | kind | key | expected | actual | what it means |', '| --- | --- | --- | --- | --- | --- |']
        for item in host['findings']:
            cells = [text.markdown(item[k] if item[k] is not None else '') for k in ('severity', 'kind', 'key', 'expected', 'actual', 'message')]
            lines.append('| %s |' % ' | '.join(cells))
    return '\n'.join(lines) + '\n'


def junit(report):
    """One test suite per host (its kernel release a property), one failing test case per warning or
    critical finding."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    total = sum(len(h['findings']) for h in report['hosts'].values())
    failures = sum(1 for h in report['hosts'].values() for f in h['findings'] if f['severity'] != 'info')
    out.append('<testsuites name="netops.tcp audit" tests="%d" failures="%d">' % (max(total, len(report['hosts'])), failures))
    for name, host in report['hosts'].items():
        bad = [f for f in host['findings'] if f['severity'] != 'info']
        out.append('  <testsuite name=%s tests="%d" failures="%d">' % (text.xml_attr(name), max(len(host['findings']), 1), len(bad)))
        if host.get('kernel') is not None:
            out.append('    <properties><property name="kernel" value=%s/></properties>' % text.xml_attr(host['kernel']))
        if not host['findings']:
            out.append('    <testcase classname=%s name="no findings"/>' % text.xml_attr(name))
        for item in host['findings']:
            case = '%s %s' % (item['kind'], item['key'] or '')
            out.append('    <testcase classname=%s name=%s>' % (text.xml_attr(name), text.xml_attr(case.strip())))
            if item['severity'] != 'info':
                out.append('      <failure type=%s message=%s>%s</failure>'
                           % (text.xml_attr(item['severity']), text.xml_attr(item['message']), text.xml_text(item['message'])))
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


_h = text.html  # host text: names, messages and values can hold anything


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


def _bars(rows, colour_of, width=420):
    """Horizontal SVG bars: [(label, value)], the longest the widest."""
    top = max([v for _l, v in rows] or [1]) or 1
    out = ['<svg class="chart" width="%d" height="%d" role="img">' % (width + 320, 20 * len(rows) + 4)]
    for i, (label, value) in enumerate(rows):
        y = 20 * i + 2
        length = width * value / top
        out.append('<text x="0" y="%d">%s</text><rect x="200" y="%d" width="%.1f" height="14" fill="%s"></rect>'
                   '<text x="%.1f" y="%d">%s</text>' % (y + 12, _h(label), y, length, colour_of(label), 205 + length, y + 12, value))
    out.append('</svg>')
    return ''.join(out)


def _percentile(values, fraction):
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else 0


# Filters the hosts table by severity, finding kind and profile; the choice is kept in the page's
# address (#severity=critical&kind=drift), so a link opens the same view. No network, no library.
_FILTER_SCRIPT = """
(function () {
  var form = document.getElementById('filters');
  var rows = document.querySelectorAll('#hosts tbody tr');
  function apply() {
    var sev = form.severity.value, kind = form.kind.value, prof = form.profile.value, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!sev || r.dataset.severity === sev) && (!kind || (' ' + r.dataset.kinds + ' ').indexOf(' ' + kind + ' ') >= 0) &&
               (!prof || r.dataset.profile === prof);
      r.style.display = ok ? '' : 'none';
      if (ok) { shown++; }
    }
    document.getElementById('shown').textContent = shown + ' of ' + rows.length + ' hosts shown';
    location.replace('#severity=' + sev + '&kind=' + kind + '&profile=' + encodeURIComponent(prof));
  }
  var wanted = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var p = kv.split('='); if (p[0]) { wanted[p[0]] = decodeURIComponent(p[1] || ''); }
  });
  ['severity', 'kind', 'profile'].forEach(function (f) { if (wanted[f] !== undefined) { form[f].value = wanted[f]; } });
  form.addEventListener('change', apply);
  apply();
})();
"""


def page_head(title):
    """The start of a self-contained page in the reports' style (no network: CSP allows inline only)."""
    return ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            'script-src \'unsafe-inline\'">',
            '<title>%s</title><style>' % _h(title),
            'body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}',
            'td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}',
            '.sev{color:#fff;padding:1px 6px;border-radius:3px}.ok{color:#2e7d32}.legend span{margin-right:12px}',
            '.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}.chart text{font:12px sans-serif}',
            'form{margin:8px 0}select{margin-right:12px}</style></head><body>',
            '<h1>%s</h1>' % _h(title)]


def html(report):
    """One self-contained page at any fleet size: summary, profiles, kernels, fleet charts (findings per kind,
    connection states across hosts), the hosts worst first with filters, the drift matrix of the
    drifted hosts, and a state bar per host for small fleets. All host text is escaped."""
    summary = report['summary']
    hosts = report['hosts']
    ordered = worst_first(report)
    drifted = [n for n in ordered if any(f['kind'] == 'drift' for f in hosts[n]['findings'])]
    drift_keys = sorted(set(f['key'] for n in drifted for f in hosts[n]['findings'] if f['kind'] == 'drift'))
    kinds = sorted(summary['kinds'])
    out = page_head('TCP audit') + [
        '<p id="summary">%d hosts, %d with findings; %s.</p>' % (summary['hosts'], len(summary['hosts_with_findings']), ', '.join(
            '<span class="sev" style="background:%s">%d %s</span>' % (_SEVERITY_COLOURS[s], summary['findings'][s], s)
            for s in reversed(SEVERITIES))),
        '<h2>Profiles</h2><table><tr><th>profile</th><th>hosts</th><th>names</th></tr>']
    for label in sorted(summary['profiles']):
        names = summary['profiles'][label]
        out.append('<tr><td>%s</td><td>%d</td><td>%s</td></tr>' % (_h(label), len(names), _h(_names(names))))
    out.append('</table><h2>Kernels</h2><table id="kernels"><tr><th>kernel</th><th>hosts</th></tr>')
    out.extend('<tr><td>%s</td><td>%d</td></tr>' % (_h(label), n) for label, n in kernel_rows(summary))
    out.append('</table><h2>Findings per kind</h2>')
    if kinds:
        rows = sorted(summary['kinds'].items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(_bars(rows, lambda _label: '#ef6c00'))
    else:
        out.append('<p class="ok">No findings.</p>')
    per_state = dict((state, sorted((h.get('states') or {}).get(state, 0) for h in hosts.values())) for state in _STATE_COLOURS)
    out.append('<h2>Connection states across hosts</h2>')
    out.append(_bars([(state, sum(per_state[state])) for state in _STATE_COLOURS], lambda label: _STATE_COLOURS[label]))
    out.append('<table id="state-distribution"><tr><th>state</th><th>hosts with any</th><th>median</th><th>90th percentile</th>'
               '<th>max</th><th>total</th></tr>')
    for state, values in per_state.items():
        out.append('<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td></tr>' % (
            state, sum(1 for v in values if v), _percentile(values, 0.5), _percentile(values, 0.9),
            values[-1] if values else 0, sum(values)))
    out.append('</table><h2>Hosts</h2><form id="filters">severity <select name="severity"><option value="">any</option>%s'
               '<option value="none">no findings</option></select>kind <select name="kind"><option value="">any</option>%s'
               '</select>profile <select name="profile"><option value="">any</option>%s</select><span id="shown"></span></form>' % (
                   ''.join('<option>%s</option>' % s for s in reversed(SEVERITIES)),
                   ''.join('<option>%s</option>' % _h(k) for k in kinds),
                   ''.join('<option>%s</option>' % _h(p) for p in sorted(summary['profiles']))))
    out.append('<table id="hosts"><thead><tr><th>host</th><th>profile</th><th>kernel</th><th>findings</th></tr></thead><tbody>')
    for name in ordered:
        host = hosts[name]
        found = host['findings']
        worst = SEVERITIES[max(rank(f['severity']) for f in found)] if found else 'none'
        if found:
            cells = '<br>'.join('<span class="sev" style="background:%s">%s</span> %s: %s'
                                % (_SEVERITY_COLOURS[f['severity']], f['severity'], _h(f['kind']), _h(f['message']))
                                for f in found)
        else:
            cells = '<span class="ok">no findings</span>'
        out.append('<tr data-severity="%s" data-kinds="%s" data-profile="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            worst, _h(' '.join(sorted(set(f['kind'] for f in found)))), _h(running(host)), _h(name), _h(running(host)),
            _h(host.get('kernel') or NO_KERNEL), cells))
    out.append('</tbody></table><h2>Drift</h2>')
    if drift_keys:
        out.append('<table id="drift"><tr><th>host</th>%s</tr>' % ''.join('<th>%s</th>' % _h(k) for k in drift_keys))
        for name in drifted:
            by_key = dict((f['key'], f) for f in hosts[name]['findings'] if f['kind'] == 'drift')
            out.append('<tr><td>%s</td>%s</tr>' % (_h(name), ''.join(
                '<td>%s</td>' % ('%s (wanted %s)' % (_h(by_key[k]['actual']), _h(by_key[k]['expected'])) if k in by_key else '')
                for k in drift_keys)))
        out.append('</table>')
    else:
        out.append('<p class="ok">No drift.</p>')
    if len(hosts) <= PER_HOST_BARS:
        out.append('<h2>Connection states per host</h2><p class="legend">%s</p><table id="states">' % ''.join(
            '<span><i class="swatch" style="background:%s"></i>%s</span>' % (c, s) for s, c in _STATE_COLOURS.items()))
        for name in ordered:
            states = hosts[name].get('states') or {}
            out.append('<tr><td>%s</td><td>%s</td><td>%d</td></tr>' % (_h(name), _state_chart(name, states), sum(states.values())))
        out.append('</table>')
    out.append('<script>%s</script></body></html>' % _FILTER_SCRIPT)
    return '\n'.join(out) + '\n'
