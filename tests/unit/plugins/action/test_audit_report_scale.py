# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cache audit of a few thousand hosts, a host at a time: the same findings and summary as the
whole fleet judged at once (judge/_audit.audit, and the summary counted here the plain way), the
previous report's counters read back line by line, and memory that does not hold the fleet's facts."""

import json
import time
import tracemalloc

from ansible.vars.manager import VariableManager

from ansible_collections.netops.tcp.plugins.module_utils.judge import _audit as host_audit
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import rank
from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
from ansible_collections.netops.tcp.tests.unit.plugins.action.test_audit_report import Controller, hosts_in, jsonfile_cache  # noqa: F401  pylint: disable=unused-import
from ansible_collections.netops.tcp.tests.unit.plugins.plugin_utils.test_report import facts

HOSTS = 2000
PADDING = 20 * 1024  # a real host's cache entry (setup's facts beside ours) is about 40 KB


def host_facts(i, overflows=0, padding=0):
    """Host i: every tenth drifted, every 97th without a record, every 50th on an older kernel, every
    400th gathered four days ago; with ``padding`` bytes of other facts."""
    found = facts(fin_timeout='45' if i % 10 == 0 else '30', record=None if i % 97 == 0 else 'the record',
                  overflows=overflows + i % 5, release='5.10.0-32-cloud-amd64' if i % 50 == 0 else '6.1.0-50-cloud-amd64')
    found['tcp']['gathered_at'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - (4 * 86400 if i % 400 == 0 else 60)))
    found['tcp']['states'] = {'ESTABLISHED': i % 13, 'TIME_WAIT': i % 101}
    found['ansible_padding'] = dict(('fact_%d' % k, 'x' * 64) for k in range(padding // 80))
    return found


def names(count):
    return ['host-%05d' % i for i in range(count)]


def fill_cache(count, overflows=0, padding=0):
    """What everyday plays' fact gathering leaves in a jsonfile cache for ``count`` hosts, and one host named
    in the inventory with no entry."""
    variables = VariableManager()  # the executor's own writer: the same files a play writes
    for i, name in enumerate(names(count)):
        variables.set_host_facts(name, host_facts(i, overflows, padding))


def plain_summary(entries):
    """The summary as it was counted before the audit streamed: over every host at once."""
    summary = {'hosts': len(entries), 'findings': {'info': 0, 'warning': 0, 'critical': 0}, 'kinds': {}, 'profiles': {},
               'kernels': {}, 'kernels_unknown': 0, 'hosts_with_findings': []}
    for name in sorted(entries):
        host = entries[name]
        if host['kernel'] is None:
            summary['kernels_unknown'] += 1
        else:
            summary['kernels'][host['kernel']] = summary['kernels'].get(host['kernel'], 0) + 1
        for item in host['findings']:
            summary['findings'][item['severity']] += 1
            summary['kinds'][item['kind']] = summary['kinds'].get(item['kind'], 0) + 1
        summary['profiles'].setdefault(fleet_summary.running(host), []).append(name)
        if host['findings']:
            summary['hosts_with_findings'].append(name)
    return summary


def reference(count, previous=None, overflows=0):
    """Every host judged at once from its facts, as audit_report did before it streamed."""
    resolver = profiles.Resolver()

    def expected_for(record):
        return resolver.get(record['profile'], record.get('version') or 'latest') if record and record.get('profile') else None

    fleet = dict((name, host_facts(i, overflows)) for i, name in enumerate(names(count)))
    fleet['ghost'] = {}
    return json.loads(json.dumps(host_audit.audit(fleet, expected_for, previous=previous, source='cache', max_age=86400)))


def test_a_few_thousand_hosts_a_host_at_a_time_give_what_the_whole_fleet_at_once_gives(tmp_path, jsonfile_cache):  # noqa: F811
    fill_cache(HOSTS)
    audit = Controller(tmp_path, ['localhost'])
    task_vars = audit.task_vars()
    dest = tmp_path / 'report'
    result = audit.run(task_vars=task_vars, dest=str(dest), source='cache', hosts=names(HOSTS) + ['ghost'], fail_on='warning')
    got = hosts_in(dest)
    want = reference(HOSTS)
    for entry in list(got.values()) + list(want.values()):
        for item in entry['findings']:
            if item['kind'] == 'stale':  # its age in seconds moves between the two runs
                item['actual'] = item['message'] = None
    assert list(got) == sorted(want) and got == want
    drifted = set(n for n, h in got.items() if any(f['kind'] == 'drift' for f in h['findings']))
    assert drifted == set('host-%05d' % i for i in range(0, HOSTS, 10) if i % 97)  # a host without a record has no profile
    summary = plain_summary(want)
    assert result['summary'] == summary and json.loads((dest / 'report.json').read_text())['summary'] == summary
    failing = [dict(item, host=name) for name in sorted(want) for item in want[name]['findings'] if rank(item['severity']) >= rank('warning')]
    assert result['failing_count'] == len(failing) > fleet_summary.FAILING
    assert [(f['host'], f['kind']) for f in result['failing']] == [(f['host'], f['kind']) for f in failing[:fleet_summary.FAILING]]
    # The next audit reads this report's counters back, a line at a time: only the rises since are findings.
    fill_cache(HOSTS, overflows=3)
    previous = json.loads((dest / 'report.json').read_text())
    audit.run(task_vars=task_vars, dest=str(dest), source='cache', hosts=names(HOSTS) + ['ghost'])
    got, want = hosts_in(dest), reference(HOSTS, previous, overflows=3)

    def rises(entries):
        return dict((n, [f['message'] for f in h['findings'] if f['kind'] == 'listen_overflow']) for n, h in entries.items())

    assert rises(got) == rises(want) and rises(got)['host-00001'] == [rises(want)['host-00001'][0]]
    assert rises(got)['host-00001'][0].startswith('ListenOverflows rose by 3 since the last audit')


def test_the_action_holds_no_hosts_facts_only_the_summary_and_the_worst_hosts(tmp_path, jsonfile_cache, monkeypatch):  # noqa: F811
    """tracemalloc's peak over the action: 2,000 hosts of 20 KB facts (over 100 MB of them parsed at once)
    cost what 200 cost, within 5 MB (1,800 more hosts' facts held would be 36 MB at the least), once
    the worst hosts kept are fewer than the fleet (50 here, 1,000 in use). What does grow: the names
    in the summary and 88 bytes of state counts a host, and Python's table of interned strings, to
    which pathlib adds each cache file's name as the jsonfile plugin reads it (2 MB at 2,000)."""
    monkeypatch.setattr(fleet_summary, 'KEPT', 50)
    fill_cache(HOSTS, padding=PADDING)
    peaks = {}
    for size in (HOSTS // 10, HOSTS):
        audit = Controller(tmp_path, ['localhost'])
        task_vars = audit.task_vars()
        tracemalloc.start()
        try:
            audit.run(task_vars=task_vars, dest=str(tmp_path / ('report-%d' % size)), source='cache', hosts=names(size))
            peaks[size] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks[HOSTS] - peaks[HOSTS // 10] < 5 * 1024 * 1024, peaks
