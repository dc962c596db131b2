# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_report's job artifacts (``stats``) and the merge of a sliced audit's partial reports: three
slices of a fleet, each audited into its own directory, merged into the files one run over the whole
fleet writes, byte for byte; broken or overlapping partial reports fail naming the file, line and
rule, and nothing is written."""

import hashlib
import json
import os

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.netops.tcp.plugins.plugin_utils._report_files import NAMES
from ansible_collections.netops.tcp.tests.unit.plugins.action.test_audit_report import ROOT, Controller
from ansible_collections.netops.tcp.tests.unit.plugins.plugin_utils.test_report import facts

HOSTS = ['db-%d' % n for n in range(7)] + ['no-facts']


@pytest.fixture
def fleet(tmp_path):
    """Seven hosts, three drifted (one of them on two keys), one without facts."""
    play = Controller(tmp_path, HOSTS)
    for n in range(7):
        play.gathered('db-%d' % n, facts(fin_timeout='45' if n in (1, 4, 6) else '30',
                                         release='5.10.0-32-cloud-amd64' if n % 2 else '6.1.0-50-cloud-amd64'))
    return play


def files_of(dest):
    return dict((name, (dest / name).read_bytes()) for name in NAMES)


def test_stats_count_the_findings_list_the_worst_hosts_and_carry_the_reports_checksum(fleet, tmp_path):
    dest = tmp_path / 'report'
    stats = fleet.run(dest=str(dest), stats_hosts=2, fail_on='warning')['stats']
    assert stats == {
        'hosts': 8, 'hosts_with_findings': 4, 'findings': {'info': 0, 'warning': 4, 'critical': 0},
        'kinds': {'drift': 3, 'unaudited': 1}, 'profiles': {'unmanaged': 1, 'web_frontend@1': 7},
        'fail_on': 'warning', 'failing_count': 4,
        # the same severity and count: by name
        'worst': [{'host': 'db-1', 'severity': 'warning', 'findings': 1, 'kinds': ['drift']},
                  {'host': 'db-4', 'severity': 'warning', 'findings': 1, 'kinds': ['drift']}],
        'worst_not_listed': 2,
        'report': {'dest': str(dest), 'sha256': hashlib.sha256((dest / 'report.json').read_bytes()).hexdigest()}}
    assert len(json.dumps(stats)) < 1024
    assert fleet.run(dest=str(dest), stats_hosts=0)['stats']['worst'] == []
    with pytest.raises(AnsibleActionFail, match=r'^audit_report: stats_hosts: 1001 is not between 0 and 1000$'):
        fleet.run(dest=str(dest), stats_hosts=1001)


def test_the_role_hands_the_stats_to_set_stats_with_where_the_report_is(fleet, tmp_path):
    result = fleet.run(dest=str(tmp_path / 'report'))
    with open(os.path.join(ROOT, 'roles', 'audit', 'tasks', 'main.yml')) as handle:
        task = [t for t in yaml.safe_load(handle) if 'ansible.builtin.set_stats' in t][0]
    assert task['run_once'] is True and task['ansible.builtin.set_stats']['aggregate'] is False
    expression = task['ansible.builtin.set_stats']['data']['netops_tcp_audit']
    for remote, where in ((False, {'host': 'localhost', 'dest': result['dest']}),
                          (True, {'host': 'reports-1', 'dest': '/srv/tcp-audit'})):
        variables = {'__tcp_audit_report': result, '__tcp_audit_remote': remote, 'tcp_audit_report_host': 'reports-1',
                     'tcp_audit_report_dir': '/srv/tcp-audit'}
        data = Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))
        assert data == dict(result['stats'], report=dict(where, sha256=result['stats']['report']['sha256']))


def test_three_slices_merged_are_the_report_of_one_run_byte_for_byte(fleet, tmp_path):
    whole = tmp_path / 'whole'
    fleet.run(dest=str(whole), fail_on='warning')
    slices = [HOSTS[0::3], HOSTS[1::3], HOSTS[2::3]]  # interleaved, as a slicer deals hosts out
    parts = []
    for number, hosts in enumerate(slices):
        parts.append(tmp_path / ('slice-%d' % number))
        fleet.run(dest=str(parts[-1]), hosts=hosts)
    merged = tmp_path / 'merged'
    result = fleet.run(dest=str(merged), merge=[str(p) for p in reversed(parts)], fail_on='warning')
    assert files_of(merged) == files_of(whole)
    unsliced = fleet.run(dest=str(whole), fail_on='warning')
    assert unsliced['changed'] is False  # the same files again
    for key in ('summary', 'failing', 'failing_count'):
        assert result[key] == unsliced[key]
    assert result['stats'] == dict(unsliced['stats'], report=dict(unsliced['stats']['report'], dest=str(merged)))


def broken(tmp_path, name, text):
    path = tmp_path / name
    path.mkdir()
    (path / 'report.json').write_text(text)
    return str(path)


def test_partial_reports_that_overlap_or_are_broken_fail_naming_the_file_and_line_and_write_nothing(fleet, tmp_path):
    one, two = tmp_path / 'one', tmp_path / 'two'
    fleet.run(dest=str(one), hosts=['db-1', 'db-2'])
    fleet.run(dest=str(two), hosts=['db-2', 'db-3'])
    lines = (one / 'report.json').read_text().splitlines(True)
    cases = [
        ([str(one), str(two)], 'host db-2 is in two partial reports, %s and %s: merge the reports of one sliced audit, '
                               'each host in one slice' % (one, two)),
        ([broken(tmp_path, 'cut', ''.join(lines[:2]))], '%s/cut/report.json line 3: cut short' % tmp_path),
        ([broken(tmp_path, 'tail', ''.join(lines[:-1]))], '%s/tail/report.json line 5: no summary after the hosts' % tmp_path),
        ([broken(tmp_path, 'head', '{"hosts": {"db-1": {}}}\n')], '%s/head/report.json: not a report.json of' % tmp_path),
        ([broken(tmp_path, 'junk', lines[0] + 'garbage\n' + ''.join(lines[2:]))], '%s/junk/report.json line 2: not one host' % tmp_path),
        ([broken(tmp_path, 'order', lines[0] + lines[2].rstrip('\n') + ',\n' + lines[1].rstrip(',\n') + '\n' + ''.join(lines[3:]))],
         '%s/order/report.json line 3: host db-1 comes after db-2' % tmp_path),
        ([broken(tmp_path, 'shape', lines[0] + '"db-1": {"findings": [{"kind": "drift", "severity": "fatal"}]}\n'
                 + ''.join(lines[3:]))], '%s/shape/report.json line 2: host db-1: a finding without a kind, key and '
                                         'message, or with a severity other than info, warning, critical' % tmp_path),
        ([broken(tmp_path, 'nokey', lines[0] + '"db-1": {"findings": [{"kind": "drift", "severity": "info", "message": "m"}]}\n'
                 + ''.join(lines[3:]))], '%s/nokey/report.json line 2: host db-1: a finding without a kind, key' % tmp_path),
        ([broken(tmp_path, 'states', lines[0] + '"db-1": {"findings": [], "states": {"LISTEN": "1"}}\n'
                 + ''.join(lines[3:]))], '%s/states/report.json line 2: host db-1: states that are not counts' % tmp_path),
        ([str(tmp_path / 'absent')], '%s/absent has no report.json: every slice must have finished its audit' % tmp_path),
    ]
    dest = tmp_path / 'merged'
    for merge, message in cases:
        with pytest.raises(AnsibleActionFail) as failure:
            fleet.run(dest=str(dest), merge=merge)
        assert message in str(failure.value), str(failure.value)
        assert not dest.exists() or os.listdir(str(dest)) == []
    with pytest.raises(AnsibleActionFail, match='^audit_report: merge and hosts are exclusive'):
        fleet.run(dest=str(dest), merge=[str(one)], hosts=['db-1'])


def test_a_pattern_stands_for_the_slices_directories_and_one_matching_none_fails(fleet, tmp_path):
    for number, hosts in enumerate([HOSTS[:3], HOSTS[3:]]):
        fleet.run(dest=str(tmp_path / 'run-7' / ('slice-%d' % (40 + number))), hosts=hosts)
    whole, merged = tmp_path / 'whole', tmp_path / 'merged'
    fleet.run(dest=str(whole))
    fleet.run(dest=str(merged), merge=[str(tmp_path / 'run-7' / 'slice-*')])
    assert files_of(merged) == files_of(whole)
    # A slice named and matched too is one slice.
    fleet.run(dest=str(merged), merge=[str(tmp_path / 'run-7' / 'slice-40') + '/', str(tmp_path / 'run-7' / 'slice-*')])
    assert files_of(merged) == files_of(whole)
    with pytest.raises(AnsibleActionFail, match=r'^audit_report: merge: .*/run-8/slice-\* matches no directory$'):
        fleet.run(dest=str(merged), merge=[str(tmp_path / 'run-8' / 'slice-*')])


def test_slices_that_read_the_last_merged_report_are_judged_as_a_recurring_single_run(fleet, tmp_path):
    """Counters rise between two audits: the slices of the second, each in a new directory, read the
    first merged report (previous) and judge the rises as the unsliced second run does."""
    slices = [HOSTS[0::3], HOSTS[1::3], HOSTS[2::3]]

    def sliced(run, previous=None):
        for number, hosts in enumerate(slices):
            fleet.run(dest=str(tmp_path / run / ('slice-%d' % number)), hosts=hosts,
                      **({'previous': previous} if previous else {}))
        merged = tmp_path / run / 'fleet'
        fleet.run(dest=str(merged), merge=[str(tmp_path / run / 'slice-*')], previous=str(tmp_path / 'unused'))
        return merged

    whole = tmp_path / 'whole'
    for n in range(7):
        fleet.gathered('db-%d' % n, facts(overflows=100))
    fleet.run(dest=str(whole))
    first = sliced('run-1')
    assert files_of(first) == files_of(whole)
    for n in range(7):
        fleet.gathered('db-%d' % n, facts(overflows=100 + (5000 if n == 2 else 0)))
    fleet.run(dest=str(whole))  # reads its own last report
    second = sliced('run-2', previous=str(first))
    assert files_of(second) == files_of(whole)
    rose = [f for f in json.loads((second / 'report.json').read_text())['hosts']['db-2']['findings']
            if f['kind'] == 'listen_overflow']
    assert [f['severity'] for f in rose] == ['warning']
    # Without it each slice is a first run: the same counters are only known since boot.
    blind = sliced('run-3')
    entry = json.loads((blind / 'report.json').read_text())['hosts']['db-2']
    assert [f['severity'] for f in entry['findings'] if f['kind'] == 'listen_overflow'] == ['info']
    assert files_of(blind) != files_of(whole)
