# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit from the fact cache: facts cached by an everyday play (examples/inventory), then
audit-tcp.yml with tcp_audit_source=cache while no host can be reached at all."""

import json
import os
import pathlib
import re
import subprocess

from ansible_collections.netops.tcp.tests.integration.harness import ROOT, cached_example_fleet


def cache_file(inventory, name):
    found = [f for f in os.listdir(str(inventory / 'facts-cache')) if f.endswith(name)]
    assert len(found) == 1, found
    return inventory / 'facts-cache' / found[0]


def test_audit_from_the_cache_contacts_no_host_and_says_what_is_old_or_missing(isolated_hosts, tmp_path):
    web, lb = isolated_hosts(2)
    inventory, env = cached_example_fleet(web, lb, str(tmp_path), 'ghost ansible_connection=local '
                                          'ansible_python_interpreter=/bin/false\n')
    inventory = pathlib.Path(inventory)
    # lb's facts were gathered three days ago, as far as the audit can tell.
    path = cache_file(inventory, lb.name)
    entry = json.loads(path.read_text())
    payload = json.loads(entry['__payload__'])
    assert payload['tcp_record']['profile'] == 'lb_backend' and 'sources' in payload['tcp_sysctl']
    payload['tcp']['gathered_at'] = '2020-01-01T00:00:00Z'
    entry['__payload__'] = json.dumps(payload)
    path.write_text(json.dumps(entry))
    # From here on no host can be reached: any contact would fail.
    (inventory / 'hosts.yml').write_text(re.sub(r'ansible_python_interpreter=\S+', 'ansible_python_interpreter=/bin/false',
                                                (inventory / 'hosts.yml').read_text()))
    report_dir = tmp_path / 'report'
    audit = subprocess.run(['ansible-playbook', os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
        'tcp_audit_source': 'cache', 'tcp_audit_report_dir': str(report_dir)})], cwd=str(inventory), env=env,
        capture_output=True, text=True, check=False)
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr[-2000:]
    recap = audit.stdout[audit.stdout.index('PLAY RECAP'):]
    assert re.findall(r'^(\S+)\s+:', recap, re.M) == ['localhost']  # the play ran on the controller alone
    report = json.loads((report_dir / 'report.json').read_text())
    assert sorted(report['hosts']) == sorted(['ghost', web.name, lb.name])
    assert report['hosts'][web.name]['findings'] == []
    assert report['hosts'][web.name]['expected'] == 'web_frontend@2'
    assert [(f['kind'], f['key']) for f in report['hosts'][lb.name]['findings']] == [
        ('stale', None), ('drift', 'net.ipv4.tcp_keepalive_time')]
    assert report['hosts'][lb.name]['findings'][0]['message'].startswith('The cached facts are ')
    assert report['hosts'][lb.name]['findings'][0]['message'].endswith(
        'older than tcp_audit_max_age (24.0 hours): these findings may no longer hold. Gather facts again, or audit live.')
    assert [f['kind'] for f in report['hosts']['ghost']['findings']] == ['unaudited']
