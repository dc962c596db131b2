# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the fleet summary built from every host's audit (report.json),
the findings a play fails on, and the orders the report files list hosts and kernels in."""

from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import SEVERITIES, rank

KERNELS = 20  # kernel releases listed one a row; the rest are counted in one row


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
