# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the fleet report on the controller, in-process: one task instead of a copy per file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.netops.tcp.plugins.module_utils import _report as report

RENDER = {
    'report.json': lambda fleet: json.dumps(fleet, indent=2, sort_keys=True) + '\n',
    'report.md': report.markdown,
    'report.xml': report.junit,
    'report.html': report.html,
}


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('hosts', 'dest', 'fail_on'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        hosts, dest, fail_on = args.get('hosts'), args.get('dest'), args.get('fail_on', 'none')
        if not isinstance(hosts, dict) or not dest:
            raise AnsibleActionFail('audit_report: hosts (a mapping of host name to audit) and dest are required')
        if fail_on not in ('none', 'info', 'warning', 'critical'):
            raise AnsibleActionFail('audit_report: fail_on must be none, info, warning or critical, got %r' % (fail_on,))
        fleet = report.fleet(dict((str(k), v) for k, v in hosts.items()))
        dest = os.path.abspath(os.path.expanduser(dest))
        changed = False
        try:
            os.makedirs(dest, exist_ok=True)
            for name, render in RENDER.items():
                text = render(fleet)
                path = os.path.join(dest, name)
                try:
                    with open(path) as handle:
                        if handle.read() == text:
                            continue
                except (IOError, OSError):
                    pass
                if not self._task.check_mode:
                    fd, tmp_path = tempfile.mkstemp(dir=dest, prefix='.' + name)
                    with os.fdopen(fd, 'w') as handle:
                        handle.write(text)
                    os.chmod(tmp_path, 0o644)
                    os.rename(tmp_path, path)
                changed = True
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('audit_report: cannot write the report in %s: %s' % (dest, exc))
        result.update(changed=changed, dest=dest, report=fleet, failing=report.failing(fleet, fail_on))
        return result
