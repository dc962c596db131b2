# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module names as Ansible users expect them: a module that only reads is *_info (or *_facts when it
sets facts); an old name keeps working through meta/runtime.yml with a deprecation."""

import glob
import os
import re


from ansible_collections.netops.tcp.tests.unit.checkout import ROOT, tracked
from ansible_collections.netops.tcp.tests.unit.checkout import load_yaml as _yaml


def _version(text):
    return tuple(int(part) for part in text.split('.'))


def test_read_only_modules_are_info_or_facts():
    readers = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))):
        with open(path) as handle:
            if re.search(r'^  - netops\.tcp\._attributes\.read_only$', handle.read(), re.M):
                readers.append(os.path.basename(path)[:-3])
    assert readers == ['audit_facts', 'sysctl_facts', 'tcp_facts', 'tcp_health_info']
    assert all(name.endswith(('_info', '_facts')) for name in readers)


def test_tcp_health_redirects_to_tcp_health_info_with_a_deprecation():
    routing = _yaml('meta/runtime.yml')['plugin_routing']['modules']
    assert routing['tcp_health']['redirect'] == 'netops.tcp.tcp_health_info'
    deprecation = routing['tcp_health']['deprecation']
    assert 'netops.tcp.tcp_health_info' in deprecation['warning_text']
    # A major version after this one (ansible-test's runtime-metadata wants X.0.0).
    removal = _version(deprecation['removal_version'])
    assert removal[1:] == (0, 0) and removal > _version(_yaml('galaxy.yml')['version'])
    for old, route in routing.items():
        target = route['redirect'].split('.')
        assert target[:2] == ['netops', 'tcp'] and os.path.isfile(os.path.join(ROOT, 'plugins', 'modules', target[2] + '.py'))
        assert not os.path.exists(os.path.join(ROOT, 'plugins', 'modules', old + '.py'))


def test_nothing_of_the_collection_uses_the_old_name():
    names = tracked()
    users = []
    for name in names:
        # runtime.yml routes it; changelogs are history.
        if not name or name in ('meta/runtime.yml', 'tests/unit/test_routing.py') or name.startswith('changelogs/'):
            continue
        try:
            with open(os.path.join(ROOT, name), encoding='utf-8') as handle:
                if re.search(r'\btcp_health\b', handle.read()):
                    users.append(name)
        except (UnicodeDecodeError, OSError):
            continue
    assert users == []
