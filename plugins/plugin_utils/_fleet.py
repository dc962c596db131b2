# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the fleet summary, built host by host (``Fleet.add``) so that
an audit of tens of thousands of hosts keeps no host's facts and only a bounded number of host entries:
the counts, the names per profile, every host's state counts, the worst hosts and the first findings a
play fails on."""

from array import array

try:
    import jmespath
except ImportError:  # pragma: no cover - a declared dependency
    jmespath = None

from ansible_collections.netops.tcp.plugins.module_utils.gather._inet_diag import TCP_STATES
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import SEVERITIES, rank

KERNELS = 20     # kernel releases listed one a row; the rest are counted in one row
KEPT = 1000      # the worst hosts whose entries are kept, for report.md and report.html
FAILING = 100    # findings at or above fail_on listed in the result; all are counted


def badness(name, host):
    """The sort key of a host, worst first: the most severe finding, then the most findings, then the name."""
    found = host['findings']
    return (-max([rank(f['severity']) for f in found] or [-1]), -len(found), name)


class Fleet:
    """The fleet as the report files and the play need it, from one host's entry at a time (``add``,
    in name order). ``summary`` is report.json's summary; ``worst()`` the kept hosts, worst first;
    ``states()`` the connection states of all hosts; ``failing`` the first findings at or
    above ``fail_on`` (``failing_count`` counts them all)."""

    def __init__(self, fail_on='none', kept=None):
        self.summary = {'hosts': 0, 'findings': dict((s, 0) for s in SEVERITIES), 'kinds': {}, 'profiles': {},
                        'kernels': {}, 'kernels_unknown': 0, 'hosts_with_findings': []}
        self.fail_on, self.kept = fail_on, KEPT if kept is None else kept
        self.failing, self.failing_count = [], 0
        self.drifted = 0                       # hosts with at least one drift finding
        self.failures = 0                      # warning and critical findings (JUnit failures)
        self.testcases = 0                     # JUnit test cases: a host's findings, or one that passed
        self._states = dict((state, array('q')) for state in TCP_STATES)
        self._worst = []                       # [(badness, name, entry)], trimmed to ``kept``

    def add(self, name, host):
        summary = self.summary
        summary['hosts'] += 1
        release = host.get('kernel')
        if release is None:
            summary['kernels_unknown'] += 1
        else:
            summary['kernels'][release] = summary['kernels'].get(release, 0) + 1
        found = host['findings']
        self.testcases += max(len(found), 1)
        for item in found:
            summary['findings'][item['severity']] += 1
            summary['kinds'][item['kind']] = summary['kinds'].get(item['kind'], 0) + 1
            if item['severity'] != 'info':
                self.failures += 1
            if self.fail_on not in (None, 'none') and rank(item['severity']) >= rank(self.fail_on):
                self.failing_count += 1
                if len(self.failing) < FAILING:
                    self.failing.append(dict(item, host=name))
        summary['profiles'].setdefault(running(host), []).append(name)
        if found:
            summary['hosts_with_findings'].append(name)
        if any(f['kind'] == 'drift' for f in found):
            self.drifted += 1
        states = host.get('states') or {}
        for state, values in self._states.items():
            values.append(min(max(states.get(state, 0), 0), 2 ** 63 - 1))
        self._worst.append((badness(name, host), name, host))
        if len(self._worst) >= 2 * self.kept:
            self._trim()

    def _trim(self):
        self._worst.sort(key=lambda item: item[0])
        del self._worst[self.kept:]

    def worst(self):
        """[(name, entry)] of the kept hosts, worst first: all hosts when the fleet is no larger than ``kept``."""
        self._trim()
        return [(name, host) for _key, name, host in self._worst]

    def states(self):
        """{state: every host's count of it, sorted}: 8 bytes a host and state."""
        return dict((state, array('q', sorted(values))) for state, values in self._states.items())


def stats(fleet, limit, report):
    """The audit in a few hundred bytes, for set_stats (AWX shows it as the job's artifacts and a
    workflow branches on it): the counts, the ``limit`` worst hosts with findings and ``report``
    (where the report is and its checksum); the full report stays in report.json."""
    summary = fleet.summary
    worst = []
    for name, host in fleet.worst():
        found = host['findings']
        if not found or len(worst) == limit:
            break
        worst.append({'host': name, 'severity': max((f['severity'] for f in found), key=rank), 'findings': len(found),
                      'kinds': sorted(set(f['kind'] for f in found))})
    flagged = len(summary['hosts_with_findings'])
    return {'hosts': summary['hosts'], 'hosts_with_findings': flagged, 'findings': dict(summary['findings']),
            'kinds': dict(summary['kinds']), 'profiles': dict((k, len(v)) for k, v in summary['profiles'].items()),
            'fail_on': fleet.fail_on, 'failing_count': fleet.failing_count, 'worst': worst,
            'worst_not_listed': flagged - len(worst), 'report': report}


def fleet(hosts, fail_on='none', kept=None):
    """The ``Fleet`` of {name: entry}, added in name order."""
    result = Fleet(fail_on, kept)
    for name in sorted(hosts):
        result.add(name, hosts[name])
    return result


def running(host):
    """``name@version`` the host's record says it runs, or "unmanaged"."""
    record = host.get('record') or {}
    return '%s@%s' % (record['profile'], record.get('version')) if record.get('profile') else 'unmanaged'


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


def check_query(expression):
    """The compiled jmespath expression; ValueError naming one jmespath cannot parse, or the missing library."""
    if jmespath is None:
        raise ValueError('the query needs the jmespath Python library on the controller')
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError('%r is not a valid jmespath expression: %s' % (expression, exc))


def query(data, expression):
    """jmespath.search(expression, data): community.general.json_query's semantics. ValueError names
    an invalid expression, one that fails on this data (a function given the wrong type), or the
    missing library."""
    compiled = check_query(expression)
    try:
        return compiled.search(data)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError('%r fails on this data: %s' % (expression, exc))
