# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tune role's rollout gate and report, on the controller, once per wave (serial batch)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from ansible.errors import AnsibleActionFail

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health
from ansible_collections.netops.tcp.plugins.plugin_utils import _rollout as rollout
from ansible_collections.netops.tcp.plugins.plugin_utils._controller import ControllerAction

# The results the tune role registers per host; this action reads them from hostvars.
APPLY = '__tcp_tune_result'
PUT_BACK = '__tcp_tune_put_back'
WAVE = '__tcp_tune_wave'
PROFILE = '__tcp_tune_profile'
SNAPSHOTS = ('__tcp_tune_health_0', '__tcp_tune_health_1', '__tcp_tune_health_2', '__tcp_tune_health_3')
RENDER = {
    'rollout.json': lambda rep: json.dumps(rep, indent=2, sort_keys=True) + '\n',
    'rollout.md': rollout.markdown,
    'rollout.html': rollout.html,
}
SPEC = dict(
    phase=dict(type='str', choices=['gate', 'report'], required=True),
    gate=dict(type='dict', default={}),
    soak=dict(type='int', default=0),
    dest=dict(type='path'),
)


def _plain(value):
    """Registered results as plain data (no templating markers)."""
    return json.loads(json.dumps(value, default=str))


def _label(profile):
    return '%s@%s' % (profile['name'], profile['version']) if profile and profile.get('name') else None


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = SPEC

    def run(self, tmp=None, task_vars=None):
        args, result, task_vars = self.start(tmp, task_vars)
        hostvars = task_vars.get('hostvars', {})
        try:
            gate = health.check_gate(args['gate'])
        except health.GateError as exc:
            raise AnsibleActionFail(str(exc))
        everyone = task_vars.get('ansible_play_hosts_all', [])
        batch = task_vars.get('ansible_play_batch', []) if args['phase'] == 'gate' else []
        waves, put_back = self._collect(hostvars, everyone, batch)
        if args['phase'] == 'gate':
            current = self._gate(batch, hostvars, gate, 1 + max(list(waves) or [0]))
            waves[current['wave']] = current
            result.update(current)
        if args['dest']:
            written = self._report(waves, put_back, everyone, gate, args)
            # The gate's result is registered on every host of the wave: it does not carry the whole report.
            result.update(written if args['phase'] == 'report' else {'dest': written['dest']})
        elif args['phase'] == 'report':
            raise AnsibleActionFail('dest: needed with phase=report')
        result['changed'] = False  # a report on the controller, not a change of a host
        return result

    @staticmethod
    def _get(hostvars, name, var):
        values = hostvars[name] if name in hostvars else {}
        return _plain(values[var]) if var in values else None

    @staticmethod
    def _collect(hostvars, names, batch):
        """({wave number: its result}, {host: its put back}) in one pass over the hosts. A wave's
        result is registered on every host of it (run_once): it is copied once. The current
        batch's hosts count only for put backs (an earlier role run may have left them a wave)."""
        waves, put_back = {}, {}
        for name in names:
            values = hostvars[name] if name in hostvars else {}
            wave = values[WAVE] if WAVE in values else None
            number = wave.get('wave') if hasattr(wave, 'get') else None
            if number is not None and number not in waves and name not in batch:
                waves[number] = _plain(dict((k, wave[k]) for k in ('wave', 'hosts', 'worse', 'put_back', 'msg')))
            back = _plain(values[PUT_BACK]) if PUT_BACK in values else None
            if back and not back.get('skipped'):
                put_back[name] = back
        return waves, put_back

    def _gate(self, batch, hostvars, gate, number):
        data = {}
        for name in batch:
            applied = self._get(hostvars, name, APPLY) or {}
            snaps = [(self._get(hostvars, name, var) or {}).get('health') for var in SNAPSHOTS]
            data[name] = {
                'changed': bool(applied.get('changed')),
                'profile_before': applied.get('profile_before'),
                'profile_after': _label(self._get(hostvars, name, PROFILE)),
                'applied': applied.get('applied'),
                'restored': applied.get('restored'),
                'snapshots': snaps if all(snaps) else None,
            }
        return rollout.judge(number, data, gate)

    def _report(self, waves, put_back, everyone, gate, args):
        """Every wave so far, written to dest."""
        rep = rollout.rollout(list(waves.values()), put_back, everyone, gate, args['soak'],
                              datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))
        dest = os.path.abspath(args['dest'])
        try:
            with files.Directory.open(dest, create=True) as directory:
                for name, render in RENDER.items():
                    directory.replace(name, render(rep), 0o644)
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('cannot write the rollout report in %s: %s' % (dest, files.describe(exc)))
        return {'dest': dest, 'rollout': rep}
