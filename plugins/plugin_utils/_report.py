# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the audit's report files for people and CI, rendered from the
fleet summary (_fleet.Fleet): report.md (Markdown) and report.html (one page, drawn with _page) from the
summary and the worst hosts, report.xml (JUnit XML) a host at a time. All host text is escaped for the
format it lands in."""

from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import SEVERITIES, rank
from ansible_collections.netops.tcp.plugins.plugin_utils import _page as page
from ansible_collections.netops.tcp.plugins.plugin_utils._fleet import kernel_rows, running


WORST = 20          # hosts report.md details
PER_HOST_BARS = 50  # up to this many hosts the page draws a state bar per host; past it, fleet charts only
PROFILE_NAMES = 10  # host names shown per profile
NO_KERNEL = '-'     # a host's kernel when its facts do not say


def _names(names):
    shown = ', '.join(names[:PROFILE_NAMES])
    return shown + (' and %d more' % (len(names) - PROFILE_NAMES) if len(names) > PROFILE_NAMES else '')


def markdown(fleet):
    """A summary people read: counts, profiles, kernels, kinds, then the worst hosts in detail (kernel, findings)."""
    summary = fleet.summary
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
    if summary['hosts'] > WORST:
        lines += ['', 'The %d worst hosts; every host is in report.json and report.xml.' % WORST]
    for name, host in fleet.worst()[:WORST]:
        lines += ['', '## %s' % text.markdown(name), '', 'Kernel: %s' % text.markdown(host.get('kernel') or NO_KERNEL), '']
        if not host['findings']:
            lines.append('No findings.')
            continue
        lines += ['| severity | kind | key | expected | actual | what it means |', '| --- | --- | --- | --- | --- | --- |']
        for item in host['findings']:
            cells = [text.markdown(item[k] if item[k] is not None else '') for k in ('severity', 'kind', 'key', 'expected', 'actual', 'message')]
            lines.append('| %s |' % ' | '.join(cells))
    return '\n'.join(lines) + '\n'


def junit_head(tests, failures):
    """The JUnit document's opening: ``tests`` test cases, ``failures`` of them failed (``Fleet`` counts both)."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="netops.tcp audit" tests="%d" failures="%d">\n'
            % (tests, failures))


JUNIT_TAIL = '</testsuites>\n'


def junit_suite(name, host):
    """One host's test suite (its kernel release a property): one failing test case per warning or
    critical finding, one passing per info finding, one named "no findings" when there is none."""
    bad = [f for f in host['findings'] if f['severity'] != 'info']
    out = ['  <testsuite name=%s tests="%d" failures="%d">' % (text.xml_attr(name), max(len(host['findings']), 1), len(bad))]
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
    return '\n'.join(out) + '\n'


_h = page.escape  # host text: names, messages and values can hold anything


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


def html(fleet):
    """One self-contained page at any fleet size: summary, profiles, kernels, fleet charts (findings per kind,
    connection states across all hosts), the worst hosts (up to the ``Fleet``'s kept ones) with filters,
    the drift matrix of the drifted ones among them, and a state bar per host for small fleets. All host
    text is escaped."""
    summary = fleet.summary
    ordered = fleet.worst()
    drifted = [(n, h) for n, h in ordered if any(f['kind'] == 'drift' for f in h['findings'])]
    drift_keys = sorted(set(f['key'] for _n, h in drifted for f in h['findings'] if f['kind'] == 'drift'))
    kinds = sorted(summary['kinds'])
    out = page.head('TCP audit') + [
        '<p id="summary">%d hosts, %d with findings; %s.</p>' % (summary['hosts'], len(summary['hosts_with_findings']), ', '.join(
            page.badge('%d %s' % (summary['findings'][s], s), page.SEVERITY_COLOURS[s])
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
        out.append(page.bars(rows, lambda _label: page.SEVERITY_COLOURS['warning']))
    else:
        out.append('<p class="ok">No findings.</p>')
    per_state = fleet.states()
    out.append('<h2>Connection states across hosts</h2>')
    out.append(page.bars([(state, sum(per_state[state])) for state in page.STATE_COLOURS], lambda label: page.STATE_COLOURS[label]))
    out.append('<table id="state-distribution"><tr><th>state</th><th>hosts with any</th><th>median</th><th>90th percentile</th>'
               '<th>max</th><th>total</th></tr>')
    for state in page.STATE_COLOURS:
        values = per_state[state]
        out.append('<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td></tr>' % (
            state, sum(1 for v in values if v), page.percentile(values, 0.5), page.percentile(values, 0.9),
            values[-1] if values else 0, sum(values)))
    del per_state
    out.append('</table><h2>Hosts</h2><form id="filters">severity <select name="severity"><option value="">any</option>%s'
               '<option value="none">no findings</option></select>kind <select name="kind"><option value="">any</option>%s'
               '</select>profile <select name="profile"><option value="">any</option>%s</select><span id="shown"></span></form>' % (
                   ''.join('<option>%s</option>' % s for s in reversed(SEVERITIES)),
                   ''.join('<option>%s</option>' % _h(k) for k in kinds),
                   ''.join('<option>%s</option>' % _h(p) for p in sorted(summary['profiles']))))
    if summary['hosts'] > len(ordered):
        out.append('<p id="kept">The %d worst of %d hosts; every host is in report.json and report.xml.</p>'
                   % (len(ordered), summary['hosts']))
    out.append('<table id="hosts"><thead><tr><th>host</th><th>profile</th><th>kernel</th><th>findings</th></tr></thead><tbody>')
    for name, host in ordered:
        found = host['findings']
        worst = SEVERITIES[max(rank(f['severity']) for f in found)] if found else 'none'
        if found:
            cells = '<br>'.join('%s %s: %s' % (page.badge(f['severity'], page.SEVERITY_COLOURS[f['severity']]),
                                               _h(f['kind']), _h(f['message'])) for f in found)
        else:
            cells = '<span class="ok">no findings</span>'
        out.append('<tr data-severity="%s" data-kinds="%s" data-profile="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            worst, _h(' '.join(sorted(set(f['kind'] for f in found)))), _h(running(host)), _h(name), _h(running(host)),
            _h(host.get('kernel') or NO_KERNEL), cells))
    out.append('</tbody></table><h2>Drift</h2>')
    if fleet.drifted > len(drifted):
        out.append('<p id="drift-kept">%d hosts drifted; the %d among the worst hosts are shown.</p>' % (fleet.drifted, len(drifted)))
    if drift_keys:
        out.append('<table id="drift"><tr><th>host</th>%s</tr>' % ''.join('<th>%s</th>' % _h(k) for k in drift_keys))
        for name, host in drifted:
            by_key = dict((f['key'], f) for f in host['findings'] if f['kind'] == 'drift')
            out.append('<tr><td>%s</td>%s</tr>' % (_h(name), ''.join(
                '<td>%s</td>' % ('%s (wanted %s)' % (_h(by_key[k]['actual']), _h(by_key[k]['expected'])) if k in by_key else '')
                for k in drift_keys)))
        out.append('</table>')
    else:
        out.append('<p class="ok">No drift.</p>')
    if summary['hosts'] <= PER_HOST_BARS:
        out.append('<h2>Connection states per host</h2>%s<table id="states">' % page.state_legend())
        for name, host in ordered:
            states = host.get('states') or {}
            out.append('<tr><td>%s</td><td>%s</td><td>%d</td></tr>' % (_h(name), page.state_bar(name, states), sum(states.values())))
        out.append('</table>')
    out.append(page.foot(_FILTER_SCRIPT))
    return '\n'.join(out) + '\n'
