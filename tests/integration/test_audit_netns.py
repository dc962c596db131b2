# -*- coding: utf-8 -*-
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
    assert '1 findings at or above warning: [\'%s\']' % drifted.name in audit.stdout
    report = json.loads((report_dir / 'report.json').read_text())
    assert report['hosts'][clean.name]['findings'] == []
    assert report['hosts'][drifted.name]['findings'] == [{
        'kind': 'drift', 'severity': 'warning', 'key': 'net.ipv4.tcp_fin_timeout', 'expected': '30', 'actual': '45',
        'message': 'net.ipv4.tcp_fin_timeout is 45 live, but web_frontend@1 set 30. Someone changed it by hand or '
                   'another tool did; re-run tune-tcp.yml or find who writes it.'}]
    assert report['summary']['profiles'] == {'web_frontend@1': sorted([clean.name, drifted.name])}
    assert report['hosts'][drifted.name]['expected'] == 'web_frontend@1'
    assert '| warning | drift | net.ipv4.tcp_fin_timeout | 30 | 45 |' in (report_dir / 'report.md').read_text()
    assert '<td>net.ipv4.tcp_fin_timeout</td>' not in (report_dir / 'report.html').read_text()  # keys are headers
    assert '45 (wanted 30)' in (report_dir / 'report.html').read_text()
    suites = ET.parse(str(report_dir / 'report.xml')).getroot()
    assert suites.get('failures') == '1'
    # A second audit reads the first report's counters and still finds the drift, and only that.
    again = clean.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
        'tcp_audit_expected_profile': 'web_frontend', 'tcp_audit_report_dir': str(report_dir)}))
    assert again.returncode == 0, again.stdout[-3000:]
    second = json.loads((report_dir / 'report.json').read_text())
    assert [f['kind'] for h in second['hosts'].values() for f in h['findings']] == ['drift']
    assert second['hosts'][clean.name]['counters']['ListenOverflows'] == 0
