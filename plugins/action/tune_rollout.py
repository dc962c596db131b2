# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tune role's rollout gate and report, on the controller, once per wave (serial batch).

What the role and this action share is one variable per host, FACT (its shape: the module's
documentation, "The rollout's data"); the action reads nothing else of the role's. A host of the
wave without it ran none of the rollout's steps and is judged "not gated"; a wave where no host has
it, or a host without one of its keys, fails the gate naming the host and what is missing.
tests/unit/plugins/action/test_tune_rollout.py checks the role's tasks against the names here.
"""

import datetime
import json
import os
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health
from ansible_collections.netops.tcp.plugins.plugin_utils import _report_files as report_files
from ansible_collections.netops.tcp.plugins.plugin_utils import _rollout as rollout
from ansible_collections.netops.tcp.plugins.plugin_utils._controller import ControllerAction

# The one variable the tune role sets per host for this action (roles/tune/tasks/rollout_gate.yml).
FACT = '__tcp_tune_rollout'
# Set on every host of a measured wave before its gate: what the change did and the windows.
HOST_KEYS = ('changed', 'profile_before', 'profile_after', 'applied', 'restored', 'snapshots')
# Added by the role after the gate: the gate's result for the host's wave (phase=gate's return)...
WAVE = 'wave'
WAVE_KEYS = ('wave', 'hosts', 'worse', 'put_back', 'msg')
# ... and after a put back, sysctl_tune state=previous's result on the host.
PUT_BACK = 'put_back'
SNAPSHOTS = 4  # the baseline window's two ends, then the after window's
# phase=summary also reads each host's sysctl_tune result, as the role registers it ("Apply the profile").
RESULT = '__tcp_tune_result'
LISTED = 20    # hosts named per list in the summary; the rest are counted
RENDER = {
    'rollout.json': lambda rep: json.dumps(rep, indent=2, sort_keys=True) + '\n',
    'rollout.md': rollout.markdown,
    'rollout.html': rollout.html,
}
SPEC = dict(
    phase=dict(type='str', choices=['gate', 'report', 'summary'], required=True),
    profile=dict(type='str', default=''),
    gate=dict(type='dict', default={}),
    soak=dict(type='int', default=0),
    dest=dict(type='path'),
)


def _plain(value):
    """Host variables as plain data (no templating markers)."""
    return json.loads(json.dumps(value, default=str))


def _raw(hostvars, name):
    """The host's FACT as the host variables hold it, or None when it has none."""
    values = hostvars[name] if name in hostvars else {}
    return values[FACT] if FACT in values else None


def _fact(hostvars, name):
    """The host's FACT as plain data, or None when it has none."""
    data = _raw(hostvars, name)
    return None if data is None else _plain(data)


def _missing(name, what):
    return AnsibleActionFail(
        'tune_rollout: host %s: %s. The tune role sets %s on every host of a measured wave (its '
        'rollout_gate.yml) and this action reads nothing else; see the tune_rollout module\'s '
        'documentation for its shape' % (name, what, FACT))


NOT_MEASURED = ("ran none of the rollout's steps (its tcp_tune_soak, tcp_tune_gate or tcp_tune_state differ from "
                "the other hosts', or the role did not run on it)")


def host_data(name, data):
    """The host's FACT checked for the gate: judge()'s input for the host, or AnsibleActionFail
    naming the host and what is missing. A host without FACT ran none of the rollout's steps: it is
    judged "not gated" (a wave where no host has FACT fails in ``batch_data``)."""
    if data is None:
        return {'changed': None, 'profile_before': None, 'profile_after': None, 'applied': [], 'restored': [],
                'snapshots': None, 'not_measured': NOT_MEASURED}
    if not isinstance(data, dict):
        raise _missing(name, '%s is not a mapping: %r' % (FACT, data))
    absent = [key for key in HOST_KEYS if key not in data]
    if absent:
        raise _missing(name, '%s has no %s' % (FACT, ', '.join(absent)))
    snaps = data['snapshots']
    if snaps is not None and not (isinstance(snaps, list) and len(snaps) == SNAPSHOTS and all(
            isinstance(s, dict) and 'counters' in s and isinstance(s.get('clock'), dict) for s in snaps)):
        raise _missing(name, '%s.snapshots must be none or the %d health snapshots of netops.tcp.tcp_health_info (each '
                             'with counters and a clock), got %s' % (FACT, SNAPSHOTS, json.dumps(snaps)[:200]))
    for key in ('applied', 'restored'):
        if not isinstance(data[key], list) or not all(isinstance(s, dict) and 'key' in s for s in data[key]):
            raise _missing(name, "%s.%s must be sysctl_tune's list of settings (each with its key), got %s"
                           % (FACT, key, json.dumps(data[key])[:200]))
    return dict((key, data[key]) for key in HOST_KEYS)


def batch_data(hostvars, batch):
    """{host: judge()'s input} for the hosts of the wave. The gate runs from rollout_gate.yml, after
    the host running it has set FACT: when no host of the wave has it, role and action no longer
    agree on its name, and the wave fails rather than passing unjudged."""
    found = dict((name, _fact(hostvars, name)) for name in batch)
    if batch and all(data is None for data in found.values()):
        raise _missing(batch[0], 'no host of this wave (%s) has %s, so the wave cannot be judged'
                       % (', '.join(batch), FACT))
    return dict((name, host_data(name, data)) for name, data in found.items())


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = SPEC

    def run(self, tmp=None, task_vars=None):
        args, result, task_vars = self.start(tmp, task_vars)
        if args['phase'] == 'report' and not args['dest']:
            raise AnsibleActionFail('dest: needed with phase=report')
        hostvars = task_vars.get('hostvars', {})
        if args['phase'] == 'summary':
            result['stats'] = self._summary(hostvars, task_vars, args)
            result['changed'] = False
            return result
        try:
            gate = health.check_gate(args['gate'])
        except health.GateError as exc:
            raise AnsibleActionFail(str(exc))
        everyone = task_vars.get('ansible_play_hosts_all', [])
        if args['phase'] == 'gate':
            batch = task_vars.get('ansible_play_batch', [])
            data = batch_data(hostvars, batch)
            # The hosts of this wave have no verdict yet; those of the waves before have theirs.
            judged = set(batch)
            waves, put_back = self._collect(hostvars, [n for n in everyone if n not in judged])
            current = rollout.judge(1 + max(list(waves) or [0]), data, gate)
            waves[current['wave']] = current
            result.update(current)
        else:
            waves, put_back = self._collect(hostvars, everyone)
            if not waves:
                raise AnsibleActionFail('tune_rollout: phase=report: no host carries a judged wave (%s.%s, which the '
                                        'tune role sets after the gate): there is nothing to report' % (FACT, WAVE))
        if args['dest']:
            written = self._report(waves, put_back, everyone, gate, args)
            # The gate's result is registered on every host of the wave: it does not carry the whole report.
            result.update(written if args['phase'] == 'report' else {'dest': written['dest']})
        result['changed'] = False  # a report on the controller, not a change of a host
        return result

    @staticmethod
    def _collect(hostvars, names):
        """({wave number: its result}, {host: its put back}) from the FACT of ``names``, in one pass.
        A wave's result is kept on every host of it: it is copied once (not once a host). A host with
        FACT but no wave (the role did not keep the gate's verdict) fails, naming it."""
        waves, put_back = {}, {}
        for name in names:
            data = _raw(hostvars, name)  # made plain below only for what is kept: a wave is copied once
            if data is None:
                continue  # not reached yet, or not measured
            wave = data.get(WAVE) if isinstance(data, Mapping) else None
            if not isinstance(wave, Mapping):
                raise _missing(name, '%s has no %s (the gate\'s result for its wave, which the role keeps with each '
                                     'host after the gate), so the report cannot tell its wave' % (FACT, WAVE))
            absent = [key for key in WAVE_KEYS if key not in wave]
            if absent:
                raise _missing(name, '%s.%s has no %s' % (FACT, WAVE, ', '.join(absent)))
            if wave['wave'] not in waves:
                waves[wave['wave']] = _plain(dict((key, wave[key]) for key in WAVE_KEYS))
            back = _plain(data[PUT_BACK]) if PUT_BACK in data else None
            if back and not back.get('skipped'):
                put_back[name] = back
        return waves, put_back

    def _report(self, waves, put_back, everyone, gate, args):
        """Every wave so far, written to dest."""
        rep = rollout.rollout(list(waves.values()), put_back, everyone, gate, args['soak'],
                              datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ'))
        dest = os.path.abspath(args['dest'])
        try:
            with files.Directory.open(dest, create=True) as directory:
                for name, render in RENDER.items():
                    directory.replace(name, render(rep), 0o644)
        except OSError as exc:
            raise AnsibleActionFail('cannot write the rollout report in %s: %s' % (dest, files.describe(exc)))
        return {'dest': dest, 'rollout': rep}

    def _summary(self, hostvars, task_vars, args):
        """The run so far in a few hundred bytes, for set_stats (the job's artifacts in AWX): the hosts
        changed, unchanged, failed and not reached, the keys applied, and the rollout's waves with its
        report's checksum when the run measured."""
        everyone = sorted(task_vars.get('ansible_play_hosts_all', []))
        running = set(task_vars.get('ansible_play_hosts', []))
        changed, unchanged, mismatched, failed, keys = [], [], [], [], {}
        for name in everyone:
            values = hostvars[name] if name in hostvars else {}
            outcome = values[RESULT] if RESULT in values else None
            if name not in running or (isinstance(outcome, Mapping) and outcome.get('failed')):
                failed.append(name)  # failed or unreachable (out of the play), or failed with ignore_errors
            elif isinstance(outcome, Mapping):
                (changed if outcome.get('changed') else unchanged).append(name)
                if outcome.get('mismatches'):
                    mismatched.append(name)
                for setting in outcome.get('applied') or []:
                    key = setting.get('key') if isinstance(setting, Mapping) else None
                    if isinstance(key, str):
                        keys[key] = keys.get(key, 0) + 1
        stats = {
            'profile': args['profile'], 'check_mode': bool(self._task.check_mode), 'hosts': len(everyone),
            'changed': len(changed), 'unchanged': len(unchanged), 'failed': len(failed),
            'not_reached': len(everyone) - len(changed) - len(unchanged) - len(failed),
            'changed_hosts': changed[:LISTED], 'failed_hosts': failed[:LISTED], 'mismatched_hosts': mismatched[:LISTED],
            'applied_keys': keys, 'rollout': None,
        }
        try:
            waves, put_back = self._collect(hostvars, everyone)
        except AnsibleActionFail:
            waves, put_back = {}, {}  # the gate already failed on this; the summary still tells the hosts
        if waves:
            worse = sorted(set(name for wave in waves.values() for name in wave['worse']))
            stats['rollout'] = {'waves': len(waves), 'stopped_at': min([n for n, w in waves.items() if w['worse']] or [None]),
                                'worse_hosts': worse[:LISTED], 'put_back': len(put_back),
                                'report': self._checksum(args['dest'])}
        return stats

    @staticmethod
    def _checksum(dest):
        """{dest, sha256 of rollout.json there} (sha256 null when it cannot be read)."""
        if not dest:
            return None
        where = os.path.abspath(dest)
        digest = None
        try:
            directory = files.Directory.open(where)
            if directory is not None:
                with directory:
                    digest = report_files.digest_of(directory, 'rollout.json')
        except OSError:
            pass
        return {'dest': where, 'sha256': digest}
