# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_facts: in one module run, the same facts tcp_facts and sysctl_facts give, and the record."""

import json

FACT = '/etc/ansible/facts.d/netops_tcp.fact'


def test_one_run_gives_what_the_two_facts_modules_and_the_record_give(isolated_hosts):
    host = isolated_hosts()[0]
    assert host.ansible('netops.tcp.sysctl_tune', {'settings': {'net.ipv4.tcp_fin_timeout': 30}})['changed']
    one = host.ansible('netops.tcp.audit_facts', {'gather_subset': ['all', 'processes']})['ansible_facts']
    sysctl = host.ansible('netops.tcp.sysctl_facts', {'include_sources': True})['ansible_facts']['tcp_sysctl']
    tcp = host.ansible('netops.tcp.tcp_facts', {'gather_subset': ['all', 'processes']})['ansible_facts']['tcp']
    assert one['tcp_sysctl'] == sysctl
    assert one['tcp_record'] == json.loads(host.read(FACT))
    assert one['tcp']['gather_subset'] == tcp['gather_subset'] and one['tcp']['states'] == tcp['states']
    assert one['tcp']['states'] == host.ss_states()
    host.run('sh', '-c', 'echo "{not json" > %s' % FACT, check=True)
    damaged = host.ansible('netops.tcp.audit_facts')['ansible_facts']['tcp_record']
    assert list(damaged) == ['error'] and damaged['error'].startswith(FACT + ': ')
    host.run('rm', FACT, check=True)
    assert host.ansible('netops.tcp.audit_facts')['ansible_facts']['tcp_record'] is None
