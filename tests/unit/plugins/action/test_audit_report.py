# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit_report action driven the way ansible-core drives it: an inventory, a VariableManager
holding the facts the hosts gathered (the hostvars the action reads), a Task with the arguments, a
PlayContext and a connection, then ``run(task_vars=...)``. An AnsibleActionFail it raises fails the
task, its message the result's ``msg`` (how the executor turns it into a result differs between cores). From the cache, the facts are written by a play's own
fact cache (jsonfile, as examples/inventory configures it) and read back by the action alone.
"""

import json
import os
import time
import xml.etree.ElementTree as ET

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.netops.tcp.plugins.action.audit_report import SPEC, ActionModule
from ansible_collections.netops.tcp.plugins.plugin_utils._report_files import NAMES
from ansible_collections.netops.tcp.tests.unit.plugins.plugin_utils.test_report import RECORD, facts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
FILES = sorted(NAMES)
DRIFT = {'kind': 'drift', 'severity': 'warning', 'key': 'net.ipv4.tcp_fin_timeout', 'expected': '30', 'actual': '45',
         'message': None}  # message: checked apart
UNAUDITED = {'kind': 'unaudited', 'severity': 'warning', 'key': None, 'expected': None, 'actual': None,
             'message': 'No TCP facts from this host in this run: gather them (netops.tcp.audit_facts) before the audit.'}


class Controller:
    """One play on ``hosts`` as ansible-playbook sets it up: inventory, variables, hostvars."""

    def __init__(self, tmp_path, hosts):
        inventory = tmp_path / 'hosts.ini'
        inventory.write_text(''.join('%s\n' % name for name in hosts))
        self.loader = DataLoader()
        self.inventory = InventoryManager(loader=self.loader, sources=[str(inventory)])
        self.variables = VariableManager(loader=self.loader, inventory=self.inventory)
        HostVars(inventory=self.inventory, variable_manager=self.variables, loader=self.loader)  # task_vars['hostvars']
        self.play = Play.load({'name': 'audit', 'hosts': 'all', 'gather_facts': False, 'tasks': []},
                              variable_manager=self.variables, loader=self.loader)
        self.hosts = list(hosts)

    def gathered(self, name, host_facts):
        """What the executor does with a module's ``ansible_facts`` (audit_facts, setup)."""
        self.variables.set_host_facts(name, host_facts)

    def task_vars(self, host=None):
        task = Task()
        return self.variables.get_vars(play=self.play, host=self.inventory.get_host(host or self.hosts[0]), task=task)

    def run(self, check_mode=False, task_vars=None, **args):
        """The action's result, as run_once on the play's first host; AnsibleActionFail propagates."""
        task = Task()
        task.action = 'netops.tcp.audit_report'
        task.args = args
        task.check_mode = check_mode
        task_vars = self.task_vars() if task_vars is None else task_vars
        play_context = PlayContext(play=self.play)
        connection = connection_loader.get('local', play_context, None)
        action = ActionModule(task, connection, play_context, self.loader, Templar(loader=self.loader, variables=task_vars), None)
        action._load_name = 'netops.tcp.audit_report'  # what the plugin loader sets on the plugins it loads
        return action.run(task_vars=task_vars)


@pytest.fixture
def fleet(tmp_path):
    """web-1 as tuned, web-2 drifted, no-facts without facts (unreachable, or gathering failed)."""
    play = Controller(tmp_path, ['web-1', 'web-2', 'no-facts'])
    play.gathered('web-1', facts())
    play.gathered('web-2', facts(fin_timeout='45', release='5.10.0-32-cloud-amd64'))
    return play


def written(dest):
    return sorted(os.listdir(str(dest))) if dest.exists() else []


def hosts_in(dest):
    """Every host's entry in report.json."""
    return json.loads((dest / 'report.json').read_text())['hosts']


def test_the_report_files_say_each_hosts_findings_for_its_facts(fleet, tmp_path):
    dest = tmp_path / 'report'
    result = fleet.run(dest=str(dest))
    assert result['changed'] is True and result['dest'] == str(dest) and not result.get('failed')
    assert written(dest) == FILES
    report = json.loads((dest / 'report.json').read_text())
    assert report['summary'] == json.loads(json.dumps(result['summary']))  # the task returns report.json's summary
    assert 'report' not in result and 'query' not in result  # not the hosts: they are in report.json
    hosts = report['hosts']
    assert list(hosts) == ['no-facts', 'web-1', 'web-2']  # the play's hosts: ansible_play_hosts
    assert hosts['web-1'] == {'record': RECORD, 'expected': 'web_frontend@1', 'kernel': '6.1.0-50-cloud-amd64',
                              'states': {'ESTABLISHED': 1}, 'counters': {'ListenOverflows': 0}, 'findings': []}
    assert [dict(f, message=None) for f in hosts['web-2']['findings']] == [DRIFT]
    assert hosts['web-2']['findings'][0]['message'] == (
        'net.ipv4.tcp_fin_timeout is 45 live, but web_frontend@1 set 30. Someone changed it by hand or another tool did; '
        're-run tune-tcp.yml or find who writes it.')
    assert hosts['web-2']['kernel'] == '5.10.0-32-cloud-amd64' and hosts['web-2']['expected'] == 'web_frontend@1'
    assert hosts['no-facts']['findings'] == [UNAUDITED] and hosts['no-facts']['kernel'] is None
    assert report['summary'] == {
        'hosts': 3, 'findings': {'info': 0, 'warning': 2, 'critical': 0}, 'kinds': {'drift': 1, 'unaudited': 1},
        'profiles': {'unmanaged': ['no-facts'], 'web_frontend@1': ['web-1', 'web-2']},
        'kernels': {'6.1.0-50-cloud-amd64': 1, '5.10.0-32-cloud-amd64': 1}, 'kernels_unknown': 1,
        'hosts_with_findings': ['no-facts', 'web-2']}
    assert result['failing'] == []  # fail_on defaults to none
    md = (dest / 'report.md').read_text()
    assert md.startswith('# TCP audit\n\n3 hosts, 2 with findings; findings: 0 critical, 2 warning, 0 info.\n')
    assert '## web-2\n\nKernel: 5.10.0-32-cloud-amd64\n\n| severity |' in md
    junit = ET.fromstring((dest / 'report.xml').read_text())
    assert (junit.get('tests'), junit.get('failures')) == ('3', '2')
    assert junit.find("testsuite[@name='web-2']/testcase").get('name') == 'drift net.ipv4.tcp_fin_timeout'
    page = (dest / 'report.html').read_text()
    assert '<title>TCP audit</title>' in page and '<td>web-2</td><td>web_frontend@1</td><td>5.10.0-32-cloud-amd64</td>' in page
    assert '45 (wanted 30)' in page  # the drift matrix
    for name in FILES:
        assert oct(os.stat(str(dest / name)).st_mode & 0o777) == oct(0o644)


def test_the_hosts_argument_chooses_the_hosts_and_the_expected_profile_overrides_the_records(fleet, tmp_path):
    dest = tmp_path / 'report'
    fleet.run(dest=str(dest), hosts=['web-2', 'unknown-host'], expected_profile='web_frontend', expected_version=2)
    hosts = hosts_in(dest)
    assert list(hosts) == ['unknown-host', 'web-2']  # a name with no hostvars has no facts
    assert hosts['unknown-host']['findings'] == [UNAUDITED]
    assert hosts['web-2']['expected'] == 'web_frontend@2'
    assert [(f['kind'], f['key'], f['expected'], f['actual']) for f in hosts['web-2']['findings']] == [
        ('drift', 'net.ipv4.tcp_fin_timeout', '30', '45'), ('outdated', None, 'web_frontend@2', 'web_frontend@1')]
    assert hosts['web-2']['findings'][1]['message'] == (
        'The host runs web_frontend@1, an older version than the expected web_frontend@2. Upgrade with tune-tcp.yml.')


def test_a_second_run_changes_nothing_and_check_mode_writes_nothing(fleet, tmp_path):
    dest = tmp_path / 'report'
    preview = fleet.run(check_mode=True, dest=str(dest))
    assert preview['changed'] is True and not dest.exists()
    assert preview['summary']['hosts'] == 3
    fleet.run(dest=str(dest))
    before = dict((name, os.stat(str(dest / name))) for name in FILES)
    again = fleet.run(dest=str(dest))
    assert again['changed'] is False
    assert dict((name, os.stat(str(dest / name))) for name in FILES) == before  # not even rewritten
    fleet.gathered('web-2', facts())  # fixed by hand
    fixed = fleet.run(dest=str(dest))
    assert fixed['changed'] is True and hosts_in(dest)['web-2']['findings'] == []
    assert json.loads((dest / 'report.json').read_text())['summary']['kinds'] == {'unaudited': 1}


def test_a_counter_rise_is_measured_against_the_last_report_in_dest(tmp_path):
    play = Controller(tmp_path, ['lb-1'])
    play.gathered('lb-1', facts(overflows=7))
    dest = tmp_path / 'report'
    play.run(dest=str(dest))
    assert [f['message'][:36] for f in hosts_in(dest)['lb-1']['findings']] == ['ListenOverflows rose by 7 since boot']
    play.run(dest=str(dest))
    assert hosts_in(dest)['lb-1']['findings'] == []  # no rise since report.json
    (dest / 'report.json').write_text('{"hosts": [1, 2')  # damaged: as if there were none
    play.run(dest=str(dest))
    again = hosts_in(dest)['lb-1']['findings']
    assert [(f['kind'], f['message'][:36]) for f in again] == [('listen_overflow', 'ListenOverflows rose by 7 since boot')]
    # A report.json as earlier releases wrote it (indented JSON): its counters are read too, once.
    (dest / 'report.json').write_text(json.dumps({'hosts': {'lb-1': {'counters': {'ListenOverflows': 7}, 'findings': []}},
                                                  'summary': {}}, indent=2))
    play.run(dest=str(dest))
    assert hosts_in(dest)['lb-1']['findings'] == []


def role_assert(result, fail_on):
    """The audit role's task after audit_report (roles/audit/tasks/main.yml): (passed, message) as
    ansible.builtin.assert gives them for this result registered as __tcp_audit_report."""
    with open(os.path.join(ROOT, 'roles', 'audit', 'tasks', 'main.yml')) as handle:
        tasks = yaml.safe_load(handle)
    task = [t for t in tasks if 'ansible.builtin.assert' in t and t['ansible.builtin.assert']['that'].startswith('__tcp_audit_report')]
    assert len(task) == 1
    args = task[0]['ansible.builtin.assert']
    variables = {'__tcp_audit_report': result, 'tcp_audit_fail_on': fail_on, 'tcp_audit_query': '',
                 '__tcp_audit_remote': False}
    variables['__summary'] = Templar(loader=DataLoader(), variables=variables).template(trust_as_template(task[0]['vars']['__summary']))
    templar = Templar(loader=DataLoader(), variables=variables)
    passed = templar.evaluate_conditional(trust_as_template(args['that']))
    return passed, templar.template(trust_as_template(args['success_msg' if passed else 'fail_msg']))


def test_fail_on_returns_the_findings_at_or_above_it_and_the_role_fails_naming_the_hosts(fleet, tmp_path):
    dest = str(tmp_path / 'report')
    result = fleet.run(dest=dest, fail_on='warning')
    assert not result.get('failed')  # the action reports; the role's assert fails the play
    assert [(f['host'], f['kind'], f['severity']) for f in result['failing']] == [
        ('no-facts', 'unaudited', 'warning'), ('web-2', 'drift', 'warning')]
    assert result['failing'][0] == dict(UNAUDITED, host='no-facts')
    assert result['failing_count'] == 2
    assert role_assert(result, 'warning') == (False, "2 findings at or above warning, on ['no-facts', 'web-2']")
    assert fleet.run(dest=dest, fail_on='info')['failing'] == result['failing']
    for level in ('critical', 'none'):
        result = fleet.run(dest=dest, fail_on=level)
        assert result['failing'] == []
        passed, message = role_assert(result, level)
        assert passed is True and message.startswith('3 hosts, 2 with findings; ')
        assert message.endswith('report in %s' % dest)


@pytest.mark.parametrize('args, message', [
    ({'source': 'nope'}, 'value of source must be one of: live, cache, got: nope'),
    ({'fail_on': 'fatal'}, 'value of fail_on must be one of: none, info, warning, critical, got: fatal'),
    ({'max_age': 'a day'}, "argument 'max_age' is of type str and we were unable to convert to int: "),
    ({'thresholds': [3]}, "argument 'thresholds' is of type list and we were unable to convert to dict: "),
    ({'thresholds': 'close_wait=3'}, "audit_report: thresholds: threshold close_wait: '3' is not a number of zero or more"),
    ({'dest': None}, 'missing required arguments: dest'),
    ({'destination': '/tmp'}, 'Unsupported parameters for (netops.tcp.audit_report) module: destination. '
                              'Supported parameters include: %s.' % ', '.join(sorted(SPEC))),
    ({'thresholds': {'closewait': 3}}, 'audit_report: thresholds: unknown threshold closewait (known: close_wait, closing, '
                                       'conntrack_ratio, ephemeral_ratio, fin_timeout_min, orphan_ratio, retransmit_ratio, '
                                       'syn_cookies, time_wait_ratio)'),
    ({'thresholds': {'close_wait': -1}}, 'audit_report: thresholds: threshold close_wait: -1 is not a number of zero or more'),
    ({'expected_profile': 'nope'}, "audit_report: the expected profile: profile 'nope': not found in "),
    ({'expected_profile': 'web_frontend', 'expected_version': 99}, 'audit_report: the expected profile: profile web_frontend: '
                                                                   'no version 99 (available: 1, 2)'),
])
def test_a_bad_argument_fails_the_task_naming_it_and_writes_nothing(fleet, tmp_path, args, message):
    dest = tmp_path / 'report'
    args = dict({'dest': str(dest)}, **args)
    if args['dest'] is None:
        del args['dest']
    with pytest.raises(AnsibleActionFail) as exc:
        fleet.run(**args)
    if message.endswith(' '):  # the rest is ansible-core's wording of the value, or the collection's path
        assert exc.value.message.startswith(message), exc.value.message
    else:
        assert exc.value.message == message
    assert not dest.exists()


def test_a_dest_that_is_not_a_directory_fails_and_is_left_alone(fleet, tmp_path):
    dest = tmp_path / 'report'
    dest.write_text('mine')
    with pytest.raises(AnsibleActionFail) as exc:
        fleet.run(dest=str(dest))
    assert exc.value.message == 'audit_report: dest: %s is a regular file, not a directory; nothing was written' % dest
    assert dest.read_text() == 'mine'


def stamp(seconds_ago):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - seconds_ago))


@pytest.fixture
def jsonfile_cache(tmp_path, monkeypatch):
    """A fact cache as examples/inventory configures one (fact_caching = jsonfile) in a temporary directory."""
    where = tmp_path / 'facts-cache'
    monkeypatch.setattr(C, 'CACHE_PLUGIN', 'jsonfile')
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_CONNECTION', str(where))
    return where


def test_from_the_cache_the_action_reads_the_cached_facts_and_contacts_no_host(tmp_path, jsonfile_cache):
    # An everyday play gathered facts: its fact cache wrote them to the jsonfile cache.
    gathering = Controller(tmp_path, ['web-1', 'web-2', 'lb-1'])
    fresh, drifted, old = facts(), facts(fin_timeout='45'), facts()
    fresh['tcp']['gathered_at'] = drifted['tcp']['gathered_at'] = stamp(600)
    old['tcp']['gathered_at'] = stamp(3 * 86400 + 30)
    for name, host_facts in (('web-1', fresh), ('web-2', drifted), ('lb-1', old)):
        gathering.gathered(name, host_facts)
    assert len(os.listdir(str(jsonfile_cache))) == 3
    # The audit play runs on localhost alone: no hostvars of the audited hosts, none contacted.
    audit = Controller(tmp_path, ['localhost'])
    task_vars = audit.task_vars()
    assert 'web-1' not in task_vars['hostvars']
    dest = tmp_path / 'report'
    audit.run(task_vars=task_vars, dest=str(dest), source='cache', hosts=['web-1', 'web-2', 'lb-1', 'ghost'])
    hosts = hosts_in(dest)
    assert list(hosts) == ['ghost', 'lb-1', 'web-1', 'web-2']
    assert hosts['web-1']['findings'] == [] and hosts['web-1']['expected'] == 'web_frontend@1'
    assert [dict(f, message=None) for f in hosts['web-2']['findings']] == [DRIFT]
    assert [f['kind'] for f in hosts['lb-1']['findings']] == ['stale']
    assert hosts['lb-1']['findings'][0]['message'].startswith('The cached facts are 3.0 days old (gathered ')
    assert 3 * 86400 + 30 <= hosts['lb-1']['findings'][0]['actual'] <= 3 * 86400 + 90
    assert hosts['ghost']['findings'] == [dict(UNAUDITED, message=(
        'No cached TCP facts for this host: put netops.tcp.audit_facts in ansible_facts_modules (examples/inventory) '
        'and let a play gather facts, or audit it live.'))]
    # max_age is the line: four days, and lb-1 is no longer stale.
    audit.run(task_vars=task_vars, dest=str(dest), source='cache', hosts=['lb-1'], max_age=4 * 86400)
    assert hosts_in(dest)['lb-1']['findings'] == []
    # Live, the same play audits from hostvars, where these hosts have no facts.
    audit.run(task_vars=task_vars, dest=str(dest), hosts=['web-1'])
    assert hosts_in(dest)['web-1']['findings'] == [UNAUDITED]


@pytest.mark.parametrize('fail_at', ['report.json', 'report.xml', 'report.md', 'report.html'])
def test_a_disk_that_fills_mid_report_leaves_the_last_report_as_it_was(fleet, tmp_path, monkeypatch, fail_at):
    """ENOSPC while one file is written, host by host or at its end: the task fails naming the directory,
    every file of the last report is byte for byte what it was, and no temporary file is left."""
    from ansible_collections.netops.tcp.plugins.plugin_utils import _report_files as report_files
    dest = tmp_path / 'report'
    fleet.run(dest=str(dest))
    before = dict((name, (dest / name).read_bytes()) for name in FILES)
    fleet.gathered('web-2', facts())  # the next report differs in every file
    real = report_files.Output.write_bytes

    def full(self, data):
        if self.name == fail_at and self.handle:
            raise OSError(28, 'No space left on device')
        return real(self, data)

    monkeypatch.setattr(report_files.Output, 'write_bytes', full)
    with pytest.raises(AnsibleActionFail) as exc:
        fleet.run(dest=str(dest))
    assert exc.value.message == 'audit_report: cannot write the report in %s: No space left on device' % dest
    assert written(dest) == FILES
    assert dict((name, (dest / name).read_bytes()) for name in FILES) == before


def test_a_cache_entry_ansible_cannot_read_back_is_that_hosts_finding_not_the_audits_end(tmp_path, jsonfile_cache):
    """The executor writes a host's facts with a string that is not valid UTF-8 (a process name from
    /proc, say); ansible-core 2.19 refuses to decode it again. That host is unaudited, saying why."""
    gathering = Controller(tmp_path, ['web-1', 'odd'])
    web, odd = facts(), facts()
    web['tcp']['gathered_at'] = stamp(60)
    odd['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 1, 'name': 'bad\udcff', 'sockets': 5}]}
    gathering.gathered('web-1', web)
    gathering.gathered('odd', odd)
    audit = Controller(tmp_path, ['localhost'])
    dest = tmp_path / 'report'
    result = audit.run(task_vars=audit.task_vars(), dest=str(dest), source='cache', hosts=['web-1', 'odd'])
    hosts = hosts_in(dest)
    assert hosts['web-1']['findings'] == [] and result['summary']['hosts'] == 2
    assert [f['kind'] for f in hosts['odd']['findings']] == ['unaudited']
    assert hosts['odd']['findings'][0]['message'].startswith(
        'The cached facts of this host cannot be read (Refusing to deserialize an invalid UTF8 string value: ')
    assert hosts['odd']['findings'][0]['message'].endswith('). Gather facts again.')


def test_a_query_runs_over_the_whole_report_and_a_failing_one_says_so_after_writing_it(fleet, tmp_path, monkeypatch):
    from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
    dest = tmp_path / 'report'
    result = fleet.run(dest=str(dest), query='length(hosts)')
    assert result['query'] == 3
    assert fleet.run(dest=str(dest), query="hosts.* | [].findings[?kind=='drift'][].key")['query'] == ['net.ipv4.tcp_fin_timeout']
    (dest / 'report.md').unlink()
    with pytest.raises(AnsibleActionFail) as exc:  # parses, then fails on the data: sum() of a table
        fleet.run(dest=str(dest), query='sum(summary.kinds)')
    assert exc.value.message.startswith("audit_report: query: 'sum(summary.kinds)' fails on this data: ")
    assert exc.value.message.endswith('; the report is in %s' % dest)
    assert written(dest) == FILES  # written before the query ran
    monkeypatch.setattr(fleet_summary, 'jmespath', None)  # without the library: every audit without a query runs
    assert fleet.run(dest=str(dest))['changed'] is False
    with pytest.raises(AnsibleActionFail) as exc:
        fleet.run(dest=str(dest), query='summary')
    assert exc.value.message == 'audit_report: query: the query needs the jmespath Python library on the controller'


def test_a_fact_cache_that_cannot_be_read_fails_the_audit_and_keeps_the_last_report(fleet, tmp_path, monkeypatch):
    """A cache backend that is down is not one unaudited host after another: the task fails naming the
    cache, and the last report, with the counters the next audit needs, stays."""
    from ansible_collections.netops.tcp.plugins.plugin_utils import _cache

    class Down:
        def get(self, name):
            raise ConnectionRefusedError(111, 'Connection refused')

    dest = tmp_path / 'report'
    fleet.run(dest=str(dest))
    before = dict((name, (dest / name).read_bytes()) for name in FILES)
    monkeypatch.setattr(_cache.cache_loader, 'get', lambda name: Down())
    monkeypatch.setattr(C, 'CACHE_PLUGIN', 'community.general.redis')
    with pytest.raises(Exception) as exc:
        fleet.run(dest=str(dest), source='cache', hosts=['web-1', 'web-2'])
    assert str(exc.value).startswith('the fact cache (community.general.redis) cannot be read: [Errno 111] Connection refused')
    assert written(dest) == FILES and dict((name, (dest / name).read_bytes()) for name in FILES) == before


def test_the_last_reports_counters_survive_a_huge_or_deep_entry_and_a_killed_runs_temporaries_go(tmp_path, monkeypatch):
    from ansible_collections.netops.tcp.plugins.plugin_utils import _report_files as report_files
    monkeypatch.setattr(report_files, 'LINE_LIMIT', 4096)
    play = Controller(tmp_path, ['a-huge', 'b-deep', 'c-lb'])
    for name in ('a-huge', 'b-deep', 'c-lb'):
        play.gathered(name, facts(overflows=7))
    dest = tmp_path / 'report'
    dest.mkdir()
    (dest / 'report.json').write_text(
        '{"hosts": {\n"a-huge": {"counters": {"ListenOverflows": 7}, "record": "%s"},\n"b-deep": %s,\n'
        '"c-lb": {"counters": {"ListenOverflows": 7}}\n},\n"summary": {}}\n' % ('x' * 10000, '[' * 100000 + ']' * 100000))
    stale, fresh = dest / '.report.html.tmp-0123456789ab', dest / '.report.json.tmp-ba9876543210'
    stale.write_text('left by a killed run')
    fresh.write_text('being written by a run beside this one')
    os.utime(str(stale), (time.time() - 7200, time.time() - 7200))
    play.run(dest=str(dest))
    hosts = hosts_in(dest)
    assert hosts['c-lb']['findings'] == []  # its counters read back after both
    assert [f['kind'] for f in hosts['b-deep']['findings']] == ['listen_overflow']  # no counters of its own
    assert [f['kind'] for f in hosts['a-huge']['findings']] == ['listen_overflow']  # its line was skipped
    assert not stale.exists() and fresh.exists()
