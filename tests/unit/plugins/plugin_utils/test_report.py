# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit computed once on the controller (judge/_audit.audit), from facts as the hosts report them."""

import copy
import json
import tempfile
import xml.etree.ElementTree as ET

import pytest
from ansible.module_utils import _internal
from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args
from hypothesis import given, settings, strategies as st

from ansible_collections.netops.tcp.plugins.modules import sysctl_tune
from ansible_collections.netops.tcp.plugins.module_utils.common import _files
from ansible_collections.netops.tcp.plugins.module_utils.judge import _audit as host_audit
from ansible_collections.netops.tcp.plugins.plugin_utils import _report as report
from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
from ansible_collections.netops.tcp.plugins.plugin_utils import _report_files as report_files

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree

# The checksum web_frontend@1 has: the fuzzing below reaches the overridden finding by changing it.
RECORD = {'profile': 'web_frontend', 'version': 1, 'applied': {'net.ipv4.tcp_fin_timeout': '30'},
          'sysctl_file': '/etc/sysctl.d/60-netops-tcp.conf', 'checksum': profiles.resolve('web_frontend', 1)['checksum']}


def written(hosts, kept=None):
    """{file name: text} of the report files the audit writes for {name: entry}, a host at a time as
    audit_report writes them (into a temporary directory)."""
    fleet = fleet_summary.Fleet(kept=kept)
    with tempfile.TemporaryDirectory() as where:
        with _files.Directory.open(where) as directory:
            out = report_files.ReportFiles(directory)
            try:
                for name in sorted(hosts):
                    fleet.add(name, hosts[name])
                    out.host(name, hosts[name])
                out.end(fleet)
                assert out.finish(fleet, {}) == ['report.json', 'report.xml', 'report.md', 'report.html']
            finally:
                out.close()
            return dict((name, directory.read(name)) for name in report_files.NAMES)


def facts(fin_timeout='30', record='the record', overflows=0, release='6.1.0-50-cloud-amd64'):
    record = RECORD if record == 'the record' else record
    keys = {'net.ipv4.tcp_fin_timeout': {'available': True, 'raw': fin_timeout, 'value': int(fin_timeout)}}
    return {'tcp': {'states': {'ESTABLISHED': 1}, 'counters': {'ListenOverflows': overflows}, 'listeners': []},
            'tcp_sysctl': {'keys': keys, 'sources': {}, 'boot_files': ['/etc/sysctl.d/60-netops-tcp.conf'],
                           'kernel': {'release': release}},
            'ansible_local': {'netops_tcp': record} if record is not None else {}}


def test_findings_for_the_fleet_with_each_profile_resolved_once():
    resolver = profiles.Resolver()
    calls = []

    def expected_for(record):
        calls.append(record and record['profile'])
        return resolver.get(record['profile'], record['version']) if record else None

    fleet = {'web-%d' % i: facts() for i in range(50)}
    fleet['web-drift'] = facts(fin_timeout='45')
    fleet['web-damaged'] = facts(record='error loading facts as JSON or ini')
    fleet['no-facts'] = {}
    hosts = host_audit.audit(fleet, expected_for, previous={'hosts': {'web-1': {'counters': {'ListenOverflows': 0}}}})
    assert len(resolver.cache) == 1  # 51 hosts on web_frontend@1: one resolution
    assert hosts['web-0'] == {'record': RECORD, 'expected': 'web_frontend@1', 'kernel': '6.1.0-50-cloud-amd64',
                              'states': {'ESTABLISHED': 1}, 'counters': {'ListenOverflows': 0}, 'findings': []}
    assert [(f['kind'], f['key'], f['actual']) for f in hosts['web-drift']['findings']] == [
        ('drift', 'net.ipv4.tcp_fin_timeout', '45')]
    assert hosts['web-damaged']['record'] is None
    assert hosts['web-damaged']['findings'][0]['message'] == (
        'The netops.tcp record on this host cannot be read; re-run tune-tcp.yml to write it again.')
    assert [f['kind'] for f in hosts['no-facts']['findings']] == ['unaudited']
    assert fleet_summary.fleet(hosts).summary['profiles']['unmanaged'] == ['no-facts', 'web-damaged']


def test_a_counter_rise_is_measured_against_the_previous_report():
    hosts = host_audit.audit({'a': facts(overflows=7), 'b': facts(overflows=7)}, lambda record: None,
                             previous={'hosts': {'a': {'counters': {'ListenOverflows': 7}}}})
    assert hosts['a']['findings'] == []  # no rise since the last audit
    assert hosts['b']['findings'][0]['message'].startswith('ListenOverflows rose by 7 since boot')


def test_unknown_thresholds_are_refused():
    with pytest.raises(ValueError, match='unknown threshold closewait'):
        host_audit.audit({'a': facts()}, lambda record: None, {'closewait': 3})


@pytest.mark.parametrize('value', ['500', None, True, -1, [1]])
def test_thresholds_that_are_not_numbers_of_zero_or_more_are_refused(value):
    with pytest.raises(ValueError) as exc:
        host_audit.audit({'a': facts()}, lambda record: None, {'close_wait': 3, 'syn_cookies': value})
    assert str(exc.value) == 'threshold syn_cookies: %r is not a number of zero or more' % (value,)


def test_a_resolver_error_is_raised_for_every_host_that_asks():
    resolver = profiles.Resolver()
    for _attempt in range(2):
        with pytest.raises(profiles.profile.ProfileError, match="profile 'nope': not found"):
            resolver.get('nope')
    assert len(resolver.cache) == 1


def test_from_the_cache_old_missing_and_undated_facts_are_said():
    now = 1796083200  # 2026-12-01T00:00:00Z
    fresh, old, undated = facts(), facts(), facts()
    fresh['tcp']['gathered_at'] = '2026-11-30T23:00:00Z'
    old['tcp']['gathered_at'] = '2026-11-28T00:00:00Z'
    hosts = host_audit.audit({'fresh': fresh, 'old': old, 'undated': undated, 'gone': {}}, lambda record: None,
                             source='cache', max_age=86400, now=now)
    assert hosts['fresh']['findings'] == []
    assert hosts['old']['findings'][0] == {
        'kind': 'stale', 'severity': 'warning', 'key': None, 'expected': '<= 86400 s', 'actual': 259200,
        'message': 'The cached facts are 3.0 days old (gathered 2026-11-28T00:00:00Z), older than tcp_audit_max_age '
                   '(24.0 hours): these findings may no longer hold. Gather facts again, or audit live.'}
    assert hosts['undated']['findings'][0]['message'] == (
        'The cached facts carry no time of gathering: their age is unknown. Gather facts again.')
    assert hosts['gone']['findings'][0]['message'].startswith('No cached TCP facts for this host: put netops.tcp.audit_facts')
    # Live, the age is not judged.
    assert host_audit.audit({'old': old}, lambda record: None, now=now)['old']['findings'] == []


def test_a_record_naming_a_profile_unknown_here_is_said_for_that_host_alone():
    resolver = profiles.Resolver()
    mine = facts(record=dict(RECORD, profile='my_own', version=3))

    def expected_for(record):
        return resolver.get(record['profile'], record['version']) if record else None

    hosts = host_audit.audit({'web-1': facts(), 'odd': mine}, expected_for)
    assert hosts['web-1']['findings'] == [] and hosts['web-1']['expected'] == 'web_frontend@1'
    assert [(f['kind'], f['severity']) for f in hosts['odd']['findings']] == [('unmanaged', 'warning')]
    assert hosts['odd']['findings'][0]['message'].startswith(
        "The profile this host records it runs cannot be resolved here (profile 'my_own': not found")
    assert hosts['odd']['expected'] is None


def test_each_host_names_its_kernel_and_the_summary_counts_the_fleets_kernels():
    fleet = dict(('new-%d' % i, facts()) for i in range(3))
    fleet.update(('old-%d' % i, facts(release='5.10.0-32-cloud-amd64')) for i in range(2))
    fleet['setup-only'] = {'kernel': '5.10.0-32-cloud-amd64'}  # setup's ansible_kernel, no TCP facts
    fleet['gone'] = {}
    fleet['odd'] = facts(release=['6.1'])  # not a string: not a release
    fleet['empty'] = facts(release='')
    fleet['long'] = facts(release='6.' + '9' * 500)  # no kernel keeps more than 64 characters
    fleet['broken'] = dict(facts(), tcp='not a table', kernel='6.12.0')  # unaudited, its kernel still said
    hosts = host_audit.audit(fleet, lambda record: None)
    assert hosts['new-0']['kernel'] == '6.1.0-50-cloud-amd64' and hosts['old-1']['kernel'] == '5.10.0-32-cloud-amd64'
    assert hosts['setup-only']['kernel'] == '5.10.0-32-cloud-amd64'
    assert [f['kind'] for f in hosts['setup-only']['findings']] == ['unaudited']
    assert hosts['gone']['kernel'] is None and hosts['odd']['kernel'] is None and hosts['empty']['kernel'] is None
    assert hosts['long']['kernel'] == '6.' + '9' * 62
    assert hosts['broken']['kernel'] == '6.1.0-50-cloud-amd64'
    assert [f['kind'] for f in hosts['broken']['findings']] == ['unaudited']
    summary = fleet_summary.fleet(hosts).summary
    assert summary['kernels'] == {'6.1.0-50-cloud-amd64': 4, '5.10.0-32-cloud-amd64': 3, '6.' + '9' * 62: 1}
    assert summary['kernels_unknown'] == 3
    assert fleet_summary.kernel_rows(summary) == [('6.1.0-50-cloud-amd64', 4), ('5.10.0-32-cloud-amd64', 3),
                                                  ('6.' + '9' * 62, 1), ('not known (no facts)', 3)]
    rendered = fleet_summary.fleet(hosts)
    md = report.markdown(rendered)
    assert ('| kernel | hosts |\n| --- | ---: |\n| 6.1.0-50-cloud-amd64 | 4 |\n| 5.10.0-32-cloud-amd64 | 3 |\n'
            '| 6.%s | 1 |\n| not known (no facts) | 3 |\n' % ('9' * 62)) in md
    assert '## old-0\n\nKernel: 5.10.0-32-cloud-amd64\n\nNo findings.' in md
    assert '## gone\n\nKernel: -\n\n| severity |' in md
    page = report.html(rendered)
    assert '<tr><td>5.10.0-32-cloud-amd64</td><td>3</td></tr>' in page
    assert '<td>old-0</td><td>web_frontend@1</td><td>5.10.0-32-cloud-amd64</td>' in page
    assert '<td>gone</td><td>unmanaged</td><td>-</td>' in page
    suites = dict((s.get('name'), s) for s in ET.fromstring(written(hosts)['report.xml']).findall('testsuite'))
    assert suites['new-2'].find("properties/property[@name='kernel']").get('value') == '6.1.0-50-cloud-amd64'
    assert suites['gone'].find('properties') is None


def test_past_twenty_kernels_the_rest_are_one_row_and_the_most_common_come_first():
    hosts = dict(('h%02d' % i, {'record': None, 'findings': [], 'states': {}, 'kernel': '5.%02d.0' % i}) for i in range(25))
    hosts.update(('common-%d' % i, {'record': None, 'findings': [], 'states': {}, 'kernel': '5.24.0'}) for i in range(3))
    summary = fleet_summary.fleet(hosts).summary
    rows = fleet_summary.kernel_rows(summary)
    assert rows[0] == ('5.24.0', 4) and rows[1:3] == [('5.00.0', 1), ('5.01.0', 1)]  # then by release
    assert len(rows) == 21 and rows[-1] == ('5 other releases', 5)
    assert summary['kernels_unknown'] == 0 and len(summary['kernels']) == 25  # report.json keeps them all


LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 10 ** 6), st.floats(), st.text(max_size=5))


def _nested(inner):
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3))


ANY = st.recursive(LEAF, _nested, max_leaves=8)


def paths(tree, prefix=()):
    """Every path into a tree of dicts and lists."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from paths(value, prefix + (key,))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_shape_of_one_hosts_facts_breaks_the_fleets_report(data):
    """Any value anywhere in a host's facts (a hand-edited cache, another version, a hostile host):
    that host is said to be unaudited or judged on what it holds, every other host is audited as
    before, and every report file is written."""
    bad = copy.deepcopy(facts(overflows=5))  # RECORD is shared
    bad['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 1, 'name': 'x', 'sockets': 2000}]}
    where = data.draw(st.sampled_from(list(paths(bad))))
    node = bad
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = data.draw(ANY)
    resolver = profiles.Resolver()

    def expected_for(record):
        return resolver.get(record['profile'], record.get('version')) if record else None

    hosts = host_audit.audit({'good': facts(fin_timeout='45'), 'bad': bad}, expected_for)
    assert [(f['kind'], f['actual']) for f in hosts['good']['findings']] == [('drift', '45')]
    for text in written(hosts).values():
        text.encode('utf-8')


def tune_with_sysctl_tune(tmp_path, monkeypatch, capsys, name, **resolve):
    """The record sysctl_tune writes on a fake host (a child namespace of 6.1) for the profile as the tune
    role resolves it (the tcp_profile lookup's code, with its overrides), read back from the fact file."""
    proc = make_tree(tmp_path / name / 'proc', '6.1.0-50-cloud-amd64', initial=False)
    files = tmp_path / name / 'files'
    profile = profiles.resolve('web_frontend', 'latest', **resolve)
    args = {'proc_path': proc, 'sysctl_file': str(files / 'sysctl.d' / '60-netops-tcp.conf'),
            'modules_file': str(files / 'modules-load.d' / 'netops-tcp.conf'), 'state_dir': str(files / 'state'),
            'fact_path': str(files / 'facts.d' / 'netops_tcp.fact'), 'settings': profile['settings'], 'profile': profile}
    monkeypatch.setattr(warnings, '_global_warnings', {})
    monkeypatch.setattr(_internal, 'is_controller', False)  # the lookup's import made this process a controller
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            sysctl_tune.main()
    result = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0, result
    with open(args['fact_path']) as handle:
        return json.load(handle)


def test_a_host_tuned_with_overrides_is_reported_overridden(tmp_path, monkeypatch, capsys):
    """tune-tcp.yml with tcp_tune_overrides, then the audit against what the host records it runs
    (web_frontend@2 and its latest): the keys that differ are in every report file; a host tuned
    without overrides has no finding."""
    fleet = {}
    for name, overrides in (('plain', None), ('tweaked', {'net.core.somaxconn': 8192, 'net.ipv4.tcp_notsent_lowat': 131072})):
        record = tune_with_sysctl_tune(tmp_path, monkeypatch, capsys, name, overrides=overrides)
        fleet[name] = facts(record=record)
        fleet[name]['tcp_sysctl']['boot_files'] = [record['sysctl_file']]
    resolver = profiles.Resolver()

    def expected_for(record):  # as audit_report's: the profile each host records, resolved once
        return resolver.get(record['profile'], record.get('version') or 'latest') if record else None

    hosts = host_audit.audit(fleet, expected_for)
    assert hosts['plain']['findings'] == [] and hosts['plain']['expected'] == 'web_frontend@2'
    assert fleet['tweaked']['ansible_local']['netops_tcp']['profile'] == 'web_frontend'
    assert [(f['kind'], f['severity'], f['key'], f['expected'], f['actual']) for f in hosts['tweaked']['findings']] == [
        ('overridden', 'warning', 'net.core.somaxconn', '16384', '8192'),
        ('overridden', 'warning', 'net.ipv4.tcp_notsent_lowat', None, '131072')]
    assert fleet_summary.fleet(hosts).summary['kinds'] == {'overridden': 2}
    fleet_report = written(hosts)
    assert '| warning | overridden | net.core.somaxconn | 16384 | 8192 | net.core.somaxconn: this host runs web_frontend@2 ' \
        'with 8192, the profile sets 16384' in fleet_report['report.md']
    cases = ET.fromstring(fleet_report['report.xml']).findall(".//testsuite[@name='tweaked']/testcase")
    assert [(c.get('name'), c.find('failure').get('type')) for c in cases] == [
        ('overridden net.core.somaxconn', 'warning'), ('overridden net.ipv4.tcp_notsent_lowat', 'warning')]
    assert 'overridden' in fleet_report['report.html']
