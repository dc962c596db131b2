# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit over a small fleet of namespace hosts: tune them, drift one by hand, audit, read report.json."""

import json
import os
import xml.etree.ElementTree as ET

from ansible_collections.netops.tcp.tests.integration.harness import ROOT


def test_audit_reports_exactly_the_drift(isolated_hosts, tmp_path):
    hosts = isolated_hosts(2)
    clean, drifted = hosts
    tune = clean.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', 'tcp_tune_profile=web_frontend')
    assert tune.returncode == 0, tune.stdout[-3000:]
    drifted.run('sysctl', '-qw', 'net.ipv4.tcp_fin_timeout=45', check=True)  # by hand, inside that host only
    report_dir = tmp_path / 'report'
    audit = clean.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
        'tcp_audit_expected_profile': 'web_frontend', 'tcp_audit_report_dir': str(report_dir),
        'tcp_audit_fail_on': 'warning', 'tcp_audit_query': 'summary.hosts_with_findings'}))
    assert audit.returncode != 0  # a warning finding fails the play, as asked
    assert '1 findings at or above warning, on [\'%s\']' % drifted.name in audit.stdout
    report = json.loads((report_dir / 'report.json').read_text())
    assert report['hosts'][clean.name]['findings'] == []
    assert report['hosts'][drifted.name]['findings'] == [{
        'kind': 'drift', 'severity': 'warning', 'key': 'net.ipv4.tcp_fin_timeout', 'expected': '30', 'actual': '45',
        'message': 'net.ipv4.tcp_fin_timeout is 45 live, but web_frontend@2 set 30. Someone changed it by hand or '
                   'another tool did; re-run tune-tcp.yml or find who writes it.'}]
    assert report['summary']['profiles'] == {'web_frontend@2': sorted([clean.name, drifted.name])}
    assert report['hosts'][drifted.name]['expected'] == 'web_frontend@2'
    # The hosts are network namespaces of this machine: their kernel is this machine's, as uname -r prints it.
    release = os.uname().release
    assert [report['hosts'][h.name]['kernel'] for h in hosts] == [release, release]
    assert report['summary']['kernels'] == {release: 2} and report['summary']['kernels_unknown'] == 0
    assert '| %s | 2 |' % release in (report_dir / 'report.md').read_text()
    assert '<td>%s</td><td>2</td>' % release in (report_dir / 'report.html').read_text()
    assert '| warning | drift | net.ipv4.tcp_fin_timeout | 30 | 45 |' in (report_dir / 'report.md').read_text()
    assert '<td>net.ipv4.tcp_fin_timeout</td>' not in (report_dir / 'report.html').read_text()  # keys are headers
    assert '45 (wanted 30)' in (report_dir / 'report.html').read_text()
    suites = ET.parse(str(report_dir / 'report.xml')).getroot()
    assert suites.get('failures') == '1'
    assert [p.get('value') for p in suites.findall("testsuite/properties/property[@name='kernel']")] == [release, release]
    # A second audit reads the first report's counters and still finds the drift, and only that.
    again = clean.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
        'tcp_audit_expected_profile': 'web_frontend', 'tcp_audit_report_dir': str(report_dir)}))
    assert again.returncode == 0, again.stdout[-3000:]
    second = json.loads((report_dir / 'report.json').read_text())
    assert [f['kind'] for h in second['hosts'].values() for f in h['findings']] == ['drift']
    assert second['hosts'][clean.name]['counters']['ListenOverflows'] == 0


def test_a_capacity_limit_is_never_lowered_by_a_profile_and_a_lowered_one_is_risky(isolated_hosts, tmp_path):
    # ad_backend_incident@2's 16 MB receive buffer maximum on this 6.16+ kernel, whose own is 32 MB: the
    # module keeps the kernel's and says why; lowered by hand, the audit says it is risky.
    host = isolated_hosts()[0]
    original = host.sysctl('net.ipv4.tcp_rmem')
    assert original == '4096 131072 33554432'  # the default of 6.16 and later on a host of 4 GB or more
    tune = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', json.dumps({
        'tcp_tune_profile': 'ad_backend_incident', 'tcp_tune_profile_version': 2}))
    assert tune.returncode == 0, tune.stdout[-3000:]
    assert host.sysctl('net.ipv4.tcp_rmem') == original
    record = json.loads(host.read('/etc/ansible/facts.d/netops_tcp.fact'))
    assert record['skipped']['net.ipv4.tcp_rmem'] == (
        'keeps a maximum of 33554432: a maximum of 16777216 would lower a capacity limit below what this host has; '
        'a profile only raises it (guards: {allow_lower: true} lowers it on purpose)')
    assert 'net.ipv4.tcp_rmem =' not in host.read('/etc/sysctl.d/60-netops-tcp.conf')  # a reboot keeps the kernel's

    def audit(name):
        run = host.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
            'tcp_audit_report_dir': str(tmp_path / name)}))
        assert run.returncode == 0, run.stdout[-3000:]
        report = json.loads((tmp_path / name / 'report.json').read_text())
        return [f for f in report['hosts'][host.name]['findings'] if f['key'] == 'net.ipv4.tcp_rmem']

    assert audit('kept') == []
    host.run('sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 131072 16777216', check=True)
    release = host.ansible('netops.tcp.sysctl_facts')['ansible_facts']['tcp_sysctl']['kernel']['version']
    assert audit('lowered') == [{
        'kind': 'risky', 'severity': 'warning', 'key': 'net.ipv4.tcp_rmem', 'expected': '>= 33554432', 'actual': 16777216,
        'message': "net.ipv4.tcp_rmem is a maximum of 16777216, below the 33554432 this kernel (Linux %s) gives by "
                   "default on this host: it lowers a capacity limit newer kernels raised. Leave the key to the kernel "
                   "(a kernel guard in the profile, or a profile version that does)." % release}]


def test_a_host_tuned_with_overrides_is_overridden(isolated_hosts, tmp_path):
    """tcp_tune_overrides on top of web_frontend: the host records web_frontend@2, and the audit names
    the keys whose values are not the profile's."""
    host = isolated_hosts()[0]
    tune = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', json.dumps({
        'tcp_tune_profile': 'web_frontend', 'tcp_tune_overrides': {'net.core.somaxconn': 8192}}))
    assert tune.returncode == 0, tune.stdout[-3000:]
    assert host.sysctl('net.core.somaxconn') == '8192'
    record = json.loads(host.read('/etc/ansible/facts.d/netops_tcp.fact'))
    assert (record['profile'], record['version'], record['applied']['net.core.somaxconn']) == ('web_frontend', 2, '8192')
    report_dir = tmp_path / 'report'
    audit = host.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({'tcp_audit_report_dir': str(report_dir)}))
    assert audit.returncode == 0, audit.stdout[-3000:]
    report = json.loads((report_dir / 'report.json').read_text())
    assert [(f['kind'], f['severity'], f['key'], f['expected'], f['actual'])
            for f in report['hosts'][host.name]['findings']] == [('overridden', 'warning', 'net.core.somaxconn', '16384', '8192')]
    assert report['hosts'][host.name]['findings'][0]['message'].startswith(
        'net.core.somaxconn: this host runs web_frontend@2 with 8192, the profile sets 16384 (the record\'s checksum %s '
        'is not the profile\'s ' % record['checksum'][:12])
