# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the fleet report on the controller, in-process: one task instead of a copy per file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.netops.tcp.plugins.module_utils import _files as files
from ansible_collections.netops.tcp.plugins.module_utils import _report as report

RENDER = {
    'report.json': lambda fleet: json.dumps(fleet, indent=2, sort_keys=True) + '\n',
    'report.md': report.markdown,
    'report.xml': report.junit,
    'report.html': report.html,
}
ARGUMENT_SPEC = dict(
    hosts=dict(type='dict', required=True),
    dest=dict(type='path', required=True),
    fail_on=dict(type='str', choices=['none', 'info', 'warning', 'critical'], default='none'),
)


class ActionModule(ActionBase):
    """Runs on the controller only: it needs no connection to the host it is delegated to."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result = super(ActionModule, self).run(tmp, task_vars)
        fleet = report.fleet(dict((str(k), v) for k, v in args['hosts'].items()))
        dest = os.path.abspath(args['dest'])
        changed = False
        try:
            if not self._task.check_mode:
                files.make_dirs(dest)
            for name, render in RENDER.items():
                text = render(fleet)
                path = os.path.join(dest, name)
                if files.read_text(path, errors='replace', quiet=True) == text:
                    continue
                if not self._task.check_mode:
                    files.replace(path, text, 0o644)
                changed = True
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('audit_report: cannot write the report in %s: %s' % (dest, files.describe(exc)))
        result.update(changed=changed, dest=dest, report=fleet, failing=report.failing(fleet, args['fail_on']))
        return result
