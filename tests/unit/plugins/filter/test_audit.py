# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netops.tcp.plugins.filter import audit
from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
from ansible_collections.netops.tcp.plugins.plugin_utils import _report as report_utils
from ansible_collections.netops.tcp.tests.unit.plugins.plugin_utils.test_report import written

HOSTS = {
    'web-2': {'record': {'profile': 'web_frontend', 'version': 1}, 'states': {}, 'findings': [
        {'kind': 'drift', 'severity': 'warning', 'key': 'net.ipv4.tcp_fin_timeout', 'expected': '30', 'actual': '60',
         'message': 'drifted | by <hand> & "script"'}]},
    'web-1': {'record': {'profile': 'web_frontend', 'version': 1}, 'states': {}, 'findings': []},
    'db-1': {'record': None, 'states': {}, 'findings': [
        {'kind': 'risky', 'severity': 'critical', 'key': 'net.ipv4.tcp_tw_recycle', 'expected': 0, 'actual': 1,
         'message': 'recycle'}]},
}


def test_fleet_summary_and_failing():
    report = fleet_summary.fleet(HOSTS)
    assert [name for name, _host in report.worst()] == ['db-1', 'web-2', 'web-1']  # critical, warning, none
    assert report.summary == {
        'hosts': 3, 'findings': {'info': 0, 'warning': 1, 'critical': 1}, 'kinds': {'risky': 1, 'drift': 1},
        'profiles': {'unmanaged': ['db-1'], 'web_frontend@1': ['web-1', 'web-2']}, 'kernels': {}, 'kernels_unknown': 3,
        'hosts_with_findings': ['db-1', 'web-2']}
    assert [f['host'] for f in fleet_summary.fleet(HOSTS, 'warning').failing] == ['db-1', 'web-2']
    assert [f['host'] for f in fleet_summary.fleet(HOSTS, 'critical').failing] == ['db-1']
    assert report.failing == [] and report.failing_count == 0  # fail_on none


def test_a_fleet_keeps_the_worst_hosts_and_the_first_failing_findings_counting_all():
    hosts = dict(('h%03d' % i, {'record': None, 'states': {'TIME_WAIT': i}, 'findings': [
        {'kind': 'drift', 'severity': 'warning' if i % 7 else 'critical', 'key': 'k', 'expected': '1', 'actual': '2',
         'message': 'm'}] * (i % 3)}) for i in range(500))
    fleet = fleet_summary.fleet(hosts, 'warning', kept=10)
    everything = sorted(hosts, key=lambda name: fleet_summary.badness(name, hosts[name]))
    assert [name for name, _host in fleet.worst()] == everything[:10]
    assert fleet.failing_count == sum(i % 3 for i in range(500))
    assert len(fleet.failing) == fleet_summary.FAILING and fleet.failing[0]['host'] == 'h001'
    assert list(fleet.states()['TIME_WAIT']) == list(range(500)) and sum(fleet.states()['ESTABLISHED']) == 0
    assert fleet.summary['hosts'] == 500 and fleet.testcases == sum(max(i % 3, 1) for i in range(500))


def test_markdown_escapes_table_cells():
    text = report_utils.markdown(fleet_summary.fleet(HOSTS))
    assert '| warning | drift | net.ipv4.tcp_fin_timeout | 30 | 60 | drifted \\| by \\<hand> \\& "script" |' in text
    assert '## web-1\n\nKernel: -\n\nNo findings.' in text


def test_junit_is_well_formed_and_escaped():
    root = ET.fromstring(written(HOSTS)['report.xml'])
    assert (root.get('tests'), root.get('failures')) == ('3', '2')
    failure = root.find("testsuite[@name='web-2']/testcase/failure")
    assert failure.get('message') == 'drifted | by <hand> & "script"' and failure.get('type') == 'warning'


def test_query_and_its_errors():
    report = {'hosts': HOSTS, 'summary': fleet_summary.fleet(HOSTS).summary}
    assert audit.tcp_query(report, 'summary.profiles.unmanaged') == ['db-1']
    with pytest.raises(AnsibleFilterError, match="tcp_query: 'summary..x' is not a valid jmespath expression"):
        audit.tcp_query(report, 'summary..x')


def test_unknown_threshold_is_refused():
    with pytest.raises(AnsibleFilterError) as exc:
        audit.tcp_findings({}, None, {'closewait': 3})
    assert str(exc.value).startswith('tcp_findings: unknown threshold closewait (known: close_wait, closing, conntrack_ratio')


def test_html_is_self_contained_and_escapes_host_text():
    hosts = dict(HOSTS)
    hosts['<script>alert(1)</script>'] = {'record': None, 'states': {'ESTABLISHED': 3, 'TIME_WAIT': 1}, 'findings': [
        {'kind': 'drift', 'severity': 'warning', 'key': 'net.core.somaxconn', 'expected': '16384',
         'actual': '<img src=x onerror=alert(1)>', 'message': '<b>bold</b>'}]}
    page = report_utils.html(fleet_summary.fleet(hosts))
    # The one script is the page's own filter script, last; host text never becomes markup.
    assert page.count('<script') == 1 and page.rstrip().endswith('</script></body></html>')
    assert '<img' not in page and '<b>bold' not in page
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page and '&lt;img src=x onerror=alert(1)&gt; (wanted 16384)' in page
    assert 'http://' not in page and 'https://' not in page and 'src=' not in page.replace('src=x', '')
    assert page.count('<svg class="bar"') == 4  # a state chart per host
    assert '<th>net.core.somaxconn</th>' in page and '<th>net.ipv4.tcp_fin_timeout</th>' in page  # the drift matrix


def test_findings_against_the_lookups_profile_name_the_overridden_keys():
    """The filter takes the expected profile as the tcp_profile lookup returns it: with its checksum and
    settings, a record of the same name and version with another checksum is overridden."""
    from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
    expected = profiles.resolve('web_frontend', 1)
    tuned = profiles.resolve('web_frontend', 1, overrides={'net.core.somaxconn': 8192})
    applied = dict((k, str(v['value'])) for k, v in tuned['settings'].items() if k != 'net.ipv4.tcp_tw_recycle')
    record = {'profile': 'web_frontend', 'version': 1, 'checksum': tuned['checksum'], 'applied': applied,
              'skipped': {'net.ipv4.tcp_tw_recycle': 'needs Linux <4.12; this kernel is 6.1.0'}}
    found = audit.tcp_findings({'record': record}, expected)
    assert [(f['kind'], f['key'], f['expected'], f['actual']) for f in found] == [
        ('overridden', 'net.core.somaxconn', '16384', '8192')]
    assert audit.tcp_findings({'record': dict(record, checksum=expected['checksum'])}, expected) == []
    assert audit.tcp_findings({'record': record}, {'name': 'web_frontend', 'version': 1}) == []
