# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit on the controller, in one task: every host's findings from its facts (each expected
profile resolved once, the previous report read once), then the report files."""

import json
import os

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.loader import cache_loader

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.judge import _audit as host_audit
from ansible_collections.netops.tcp.plugins.module_utils.model._settings import SettingsError
from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
from ansible_collections.netops.tcp.plugins.plugin_utils import _report as report
from ansible_collections.netops.tcp.plugins.plugin_utils._controller import ControllerAction

RENDER = {
    'report.json': lambda fleet: json.dumps(fleet, indent=2, sort_keys=True) + '\n',
    'report.md': report.markdown,
    'report.xml': report.junit,
    'report.html': report.html,
}
SPEC = dict(
    hosts=dict(type='list', elements='str'),
    expected_profile=dict(type='str', default=''),
    expected_version=dict(type='raw', default='latest'),
    profile_paths=dict(type='list', elements='path', default=[]),
    profile_parameters=dict(type='dict', default={}),
    thresholds=dict(type='dict', default={}),
    record_name=dict(type='str', default='netops_tcp'),
    source=dict(type='str', choices=['live', 'cache'], default='live'),
    max_age=dict(type='int', default=86400),
    dest=dict(type='path', required=True),
    fail_on=dict(type='str', choices=['none', 'info', 'warning', 'critical'], default='none'),
)


def cached_facts(names):
    """{host: its facts} straight from the configured fact cache: no host is contacted, and no
    host's other variables are worked out (hostvars would, at about 9 ms a host)."""
    cache = cache_loader.get(C.CACHE_PLUGIN)
    found = {}
    for name in names:
        try:
            found[str(name)] = dict(cache.get(name) or {})
        except KeyError:
            found[str(name)] = {}
    return found


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = SPEC

    def run(self, tmp=None, task_vars=None):
        args, result, task_vars = self.start(tmp, task_vars)
        names = args['hosts'] if args['hosts'] is not None else task_vars.get('ansible_play_hosts', [])
        if args['source'] == 'cache':
            facts = cached_facts(names)
        else:
            hostvars = task_vars.get('hostvars', {})
            facts = dict((str(name), dict(hostvars[name].get('ansible_facts') or {}) if name in hostvars else {})
                         for name in names)
        dest = os.path.abspath(args['dest'])
        # Each report file is read once: the last report.json gives the counters of the last audit,
        # and a file that would not change is not written again. What is there is read as untrusted.
        directory = None
        try:
            directory = files.Directory.open(dest)
            existing = dict((name, directory.read(name, errors='replace') if directory else None) for name in RENDER)
        except OSError as exc:
            raise AnsibleActionFail('audit_report: dest: %s; nothing was written' % files.describe(exc))
        finally:
            if directory:
                directory.close()
        try:
            previous = json.loads(existing['report.json'] or 'null')
        except ValueError:
            previous = None
        previous = previous if isinstance(previous, dict) else None
        resolver = profiles.Resolver(args['profile_paths'], args['profile_parameters'])

        def expected_for(record):
            if args['expected_profile']:
                return resolver.get(args['expected_profile'], args['expected_version'])
            if record and record.get('profile'):
                return resolver.get(record['profile'], record.get('version') or 'latest')
            return None

        try:
            expected_for(None)  # the profile every host should run: an unknown one fails the audit here
            hosts = host_audit.audit(facts, expected_for, args['thresholds'], previous, args['record_name'], args['source'],
                                     args['max_age'] if args['source'] == 'cache' else None)
        except SettingsError as exc:
            raise AnsibleActionFail('audit_report: the expected profile: %s' % exc)
        except ValueError as exc:
            raise AnsibleActionFail('audit_report: thresholds: %s' % exc)
        fleet = fleet_summary.fleet(hosts)
        changed, directory = False, None
        try:
            for name, render in RENDER.items():  # one rendering in memory at a time
                text = render(fleet)
                if existing[name] == text:
                    continue
                if not self._task.check_mode:
                    directory = directory or files.Directory.open(dest, create=True)
                    directory.replace(name, text, 0o644)
                changed = True
        except OSError as exc:
            raise AnsibleActionFail('audit_report: cannot write the report in %s: %s' % (dest, files.describe(exc)))
        finally:
            if directory:
                directory.close()
        result.update(changed=changed, dest=dest, report=fleet, failing=fleet_summary.failing(fleet, args['fail_on']))
        return result
