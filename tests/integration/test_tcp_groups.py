# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tcp_groups inventory source over a jsonfile fact cache, read by ansible-inventory as a user runs it:
the same groups as the ansible.builtin.constructed source examples/inventory shipped before (its
expressions kept here), from hosts of every shape, and its option errors."""

import copy
import json
import subprocess

import pytest
from ansible import constants as C
from ansible.vars.manager import VariableManager

from ansible_collections.netops.tcp.tests.unit.plugins.module_utils.test_text import HOSTILE
from ansible_collections.netops.tcp.tests.unit.plugins.plugin_utils.test_report import facts

# examples/inventory/tcp.constructed.yml as it was, for the groups it made.
CONSTRUCTED = """---
plugin: ansible.builtin.constructed
strict: false
keyed_groups:
  - prefix: tcp_profile
    key: ansible_local.netops_tcp.profile ~ '_v' ~ ansible_local.netops_tcp.version
groups:
  tcp_unmanaged: tcp_sysctl is defined and ansible_local.netops_tcp is not defined
  tcp_drifted: >-
    ({'tcp_sysctl': tcp_sysctl, 'record': ansible_local.netops_tcp} | netops.tcp.tcp_findings
     | selectattr('kind', 'equalto', 'drift') | list | length) > 0
  tcp_trouble: >-
    ({'tcp': tcp} | netops.tcp.tcp_findings
     | selectattr('kind', 'in', ['close_wait', 'time_wait', 'syn_flood', 'listen_overflow', 'orphans', 'conntrack',
                                 'ephemeral_ports']) | list | length) > 0
"""
GROUPS = ('tcp_unmanaged', 'tcp_drifted', 'tcp_trouble')


def fleet():
    """{name: cached facts}: every shape a fleet's cache holds."""
    hosts = {'web-1': facts(), 'web-2': facts(fin_timeout='45'), 'bare': facts(record=None)}
    hosts['v2'] = facts(record=dict(facts()['ansible_local']['netops_tcp'], version=2))
    hosts['leaky'] = facts()
    hosts['leaky']['tcp']['states']['CLOSE_WAIT'] = 1500
    hosts['leaky']['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 7, 'name': 'java', 'sockets': 1500}]}
    hosts['leaky-bare'] = copy.deepcopy(hosts['leaky'])
    hosts['leaky-bare']['ansible_local'] = {}
    hosts['damaged'] = facts(record={'error': 'error loading facts as JSON or ini - please check content'})
    hosts['setup-only'] = {'kernel': '6.1.0'}
    hosts['odd'] = dict(facts(), tcp='not a table', tcp_sysctl=['nor', 'this'])
    return hosts


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A directory with an ansible.cfg as examples/inventory's (a jsonfile fact cache) that enables both
    sources; this process writes that cache as a play's fact gathering does."""
    (tmp_path / 'ansible.cfg').write_text(
        '[defaults]\nfact_caching = jsonfile\nfact_caching_connection = %s\nfact_caching_timeout = 86400\n'
        '[inventory]\nenable_plugins = ansible.builtin.ini, ansible.builtin.constructed, netops.tcp.tcp_groups\n'
        % (tmp_path / 'facts-cache'))
    monkeypatch.setattr(C, 'CACHE_PLUGIN', 'jsonfile')
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_CONNECTION', str(tmp_path / 'facts-cache'))
    return tmp_path


def cache(hosts):
    variables = VariableManager()  # the executor's own writer: the files a play's fact gathering writes
    for name, host_facts in hosts.items():
        variables.set_host_facts(name, host_facts)


def inventory(project, source, names, check=True, show='--list'):
    """The finished ansible-inventory (``show``: --list or --graph) over a hosts file of ``names`` and ``source``."""
    (project / 'hosts.ini').write_text(''.join('%s\n' % name for name in names))
    path = project / ('tcp.groups.yml' if 'tcp_groups' in source else 'tcp.constructed.yml')
    path.write_text(source)
    return subprocess.run(['ansible-inventory', '-i', 'hosts.ini', '-i', path.name, show], cwd=str(project),
                          capture_output=True, text=True, check=check,
                          env=dict(__import__('os').environ, ANSIBLE_CONFIG=str(project / 'ansible.cfg'),
                                   ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED='true'))


def membership(project, source, names):
    """{group: sorted hosts} as ansible-inventory gives them."""
    listed = json.loads(inventory(project, source, names).stdout)
    return dict((name, sorted(group['hosts'])) for name, group in listed.items()
                if name not in ('_meta', 'all', 'ungrouped') and group.get('hosts'))


def test_the_groups_are_the_constructed_sources_from_the_same_cache(project):
    hosts = fleet()
    cache(hosts)
    names = sorted(hosts) + ['never-gathered']
    ours = membership(project, 'plugin: netops.tcp.tcp_groups\n', names)
    assert ours == {
        'tcp_profile_web_frontend_v1': ['leaky', 'odd', 'web-1', 'web-2'], 'tcp_profile_web_frontend_v2': ['v2'],
        'tcp_unmanaged': ['bare', 'leaky-bare'], 'tcp_drifted': ['web-2'], 'tcp_trouble': ['leaky', 'leaky-bare']}
    assert ours == membership(project, CONSTRUCTED, names)


def test_a_hostile_profile_name_becomes_a_safe_group_name_and_an_unreadable_entry_only_drops_its_host(project):
    hosts = {}
    for number, name in enumerate(HOSTILE):
        hosts['h%02d' % number] = facts(record=dict(facts()['ansible_local']['netops_tcp'], profile=name))
    cache(hosts)  # the lone surrogate's entry is written, but ansible-core will not decode it again
    # --graph: --list would read every host's facts for its hostvars, and fail on that entry itself.
    listed = inventory(project, 'plugin: netops.tcp.tcp_groups\n', sorted(hosts), show='--graph')
    ours, current = {}, None
    for line in listed.stdout.splitlines():
        name = line.replace('|', ' ').replace('--', ' ').strip()
        if name.startswith('@'):
            current = name[1:-1]
        elif current and current.startswith('tcp_'):
            ours.setdefault(current, []).append(name)
    lone = 'h%02d' % HOSTILE.index('lone\ud800surrogate')
    assert sorted(h for members in ours.values() for h in members) == sorted(set(hosts) - {lone})
    for group in ours:
        assert group.startswith('tcp_profile_') and group.endswith('_v1')
        assert all(c.isascii() and (c.isalnum() or c == '_') for c in group), group
    assert 'netops.tcp.tcp_groups: the cached facts of %s cannot be read (' % lone in ' '.join(listed.stderr.split())


def test_the_record_audit_facts_returns_counts_as_the_audit_counts_it(project):
    """audit_facts returns the record as tcp_record, which the audit reads before setup's ansible_local (the
    constructed source read ansible_local alone, so a host gathered by audit_facts alone was unmanaged there)."""
    alone = facts(record=None)
    alone['tcp_record'] = facts()['ansible_local']['netops_tcp']
    newer = facts()
    newer['tcp_record'] = dict(newer['ansible_local']['netops_tcp'], version=2)
    cache({'alone': alone, 'newer': newer})
    ours = membership(project, 'plugin: netops.tcp.tcp_groups\n', ['alone', 'newer'])
    assert ours == {'tcp_profile_web_frontend_v1': ['alone'], 'tcp_profile_web_frontend_v2': ['newer']}


def test_options_choose_the_prefix_the_trouble_and_its_thresholds(project):
    hosts = fleet()
    cache(hosts)
    source = 'plugin: netops.tcp.tcp_groups\nprefix: net\ntrouble_kinds: [close_wait]\nthresholds: {close_wait: 2000}\n'
    ours = membership(project, source, sorted(hosts))
    assert ours['net_drifted'] == ['web-2'] and 'net_trouble' not in ours  # 1,500 CLOSE_WAIT is under 2,000


@pytest.mark.parametrize('options, message', [
    ('trouble_kinds: [close_wait, closewait]', "trouble_kinds: unknown finding kind 'closewait' (known: close_wait, closing, "),
    ('thresholds: {close_wait: -1}', 'threshold close_wait: -1 is not a number of zero or more'),
    ('thresholds: {closewait: 3}', 'unknown threshold closewait (known: close_wait, closing, '),
])
def test_a_bad_option_fails_the_source_naming_it(project, options, message):
    cache({'web-1': facts()})
    source = 'plugin: netops.tcp.tcp_groups\n%s\n' % options
    failed = inventory(project, source, ['web-1'], check=False)
    assert failed.returncode != 0
    said = ' '.join(failed.stderr.split())
    assert '%s: %s' % (project / 'tcp.groups.yml', message) in said, failed.stderr
