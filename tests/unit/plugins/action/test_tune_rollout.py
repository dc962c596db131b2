# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tune_rollout action: its verdicts and failures, driven with task arguments and task_vars as
ansible-playbook gives them; and the contract with the tune role (one variable per host,
__tcp_tune_rollout), checked against the role's own task files so that the two cannot drift apart."""

import hashlib
import json
import os
import re
from unittest import mock

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.netops.tcp.plugins.action import tune_rollout as action
from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health
from ansible_collections.netops.tcp.plugins.modules import tune_rollout as docs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ROLE = os.path.join(ROOT, 'roles', 'tune')
FACT = action.FACT
# The module of the role's health snapshots.
HEALTH = ('netops.tcp.tcp_health_info',)


def snap(at, tw_overflow=0, boot='b1'):
    return {'counters': {'TCPTimeWaitOverflow': tw_overflow, 'OutSegs': 100 * int(at), 'RetransSegs': 0},
            'states': {'TIME_WAIT': 64}, 'clock': {'monotonic': at, 'boot_id': boot, 'netns': 'n'}}


def measured(tw_overflow=0, **over):
    data = {'changed': True, 'profile_before': None, 'profile_after': 'tight_tw@1',
            'applied': [{'key': 'net.ipv4.tcp_max_tw_buckets', 'before': '262144', 'after': '64'}], 'restored': [],
            'snapshots': [snap(0), snap(10), snap(20), snap(30, tw_overflow)]}
    data.update(over)
    return data


def unchanged():
    return measured(changed=False, applied=[], snapshots=None)


def run(args, hostvars, batch, everyone=None):
    """ActionModule.run as the strategy calls it: the task's arguments, and task_vars with
    hostvars, ansible_play_batch and ansible_play_hosts_all."""
    task = mock.MagicMock(args=args, async_val=0, check_mode=False, action='netops.tcp.tune_rollout')
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    plugin = action.ActionModule(task, connection, mock.MagicMock(), DataLoader(), mock.MagicMock())
    plugin._load_name = 'netops.tcp.tune_rollout'
    task_vars = {'hostvars': hostvars, 'ansible_play_batch': list(batch),
                 'ansible_play_hosts_all': list(everyone if everyone is not None else batch)}
    return plugin.run(task_vars=task_vars)


def gate(hostvars, batch, everyone=None, dest=None, **args):
    return run(dict({'phase': 'gate', 'gate': health.DEFAULT_GATE, 'soak': 10, 'dest': dest}, **args),
               hostvars, batch, everyone)


def keep_wave(hostvars, result):
    """What the role does after the gate: the wave's verdict kept with each of its hosts."""
    for name in result['hosts']:
        hostvars[name][FACT] = dict(hostvars[name][FACT], wave=result)


# The verdicts.

def test_a_wave_with_a_worse_host_is_put_back_and_the_report_says_so(tmp_path):
    hostvars = {'canary': {FACT: measured(tw_overflow=900)}, 'web-2': {}, 'web-3': {}}
    result = gate(hostvars, ['canary'], ['canary', 'web-2', 'web-3'], dest=str(tmp_path))
    assert result['changed'] is False and result['wave'] == 1
    assert result['worse'] == ['canary'] and result['put_back'] == ['canary']
    assert result['hosts']['canary']['verdict'] == 'worse'
    assert result['msg'] == ('wave 1 got worse, so it was put back and the rollout stops: canary: TCPTimeWaitOverflow '
                             'went from 0.0/s (baseline) to 90.0/s, above 2.0 x the baseline and the floor 1.0/s')
    # The gate's result is registered on every host of the wave: no whole report in it.
    assert result['dest'] == str(tmp_path) and 'rollout' not in result
    rep = json.loads((tmp_path / 'rollout.json').read_text())
    assert rep['stopped_at'] == 1 and rep['not_reached'] == ['web-2', 'web-3'] and rep['soak'] == 10
    assert sorted(os.listdir(str(tmp_path))) == ['rollout.html', 'rollout.json', 'rollout.md']

    # The role puts the canary back, keeps the result with it, and writes the report again.
    keep_wave(hostvars, result)
    hostvars['canary'][FACT]['put_back'] = {'changed': True, 'profile_before': None,
                                            'restored': [{'key': 'net.ipv4.tcp_max_tw_buckets'}]}
    report = run({'phase': 'report', 'gate': health.DEFAULT_GATE, 'soak': 10, 'dest': str(tmp_path)},
                 hostvars, ['canary'], ['canary', 'web-2', 'web-3'])
    assert report['changed'] is False and report['dest'] == str(tmp_path)
    assert report['rollout']['waves'][0]['hosts']['canary']['put_back'] == {
        'failed': False, 'msg': None, 'to_profile': None, 'keys': ['net.ipv4.tcp_max_tw_buckets']}
    assert json.loads((tmp_path / 'rollout.json').read_text())['waves'] == report['rollout']['waves']
    assert ('put back to the values from before any tuning (net.ipv4.tcp_max_tw_buckets)'
            in (tmp_path / 'rollout.md').read_text())


def test_a_put_back_that_failed_or_did_not_run_is_reported(tmp_path):
    hostvars = {'a': {FACT: measured(tw_overflow=900)}, 'b': {FACT: measured()}}
    result = gate(hostvars, ['a', 'b'])
    assert result['put_back'] == ['a', 'b'] and 'dest' not in result
    keep_wave(hostvars, result)
    hostvars['a'][FACT]['put_back'] = {'failed': True, 'msg': 'lock held by pid 42', 'restored': []}
    report = run({'phase': 'report', 'dest': str(tmp_path)}, hostvars, ['b'], ['a', 'b'])
    hosts = report['rollout']['waves'][0]['hosts']
    assert hosts['a']['put_back']['failed'] and hosts['a']['put_back']['msg'] == 'lock held by pid 42'
    assert hosts['b']['put_back'] == {'failed': True, 'msg': 'the put back did not run', 'to_profile': None, 'keys': []}


def test_a_passing_wave_counts_each_verdict_and_follows_the_earlier_waves(tmp_path):
    hostvars = {'one': {FACT: measured()}}
    first = gate(hostvars, ['one'], ['one', 'two', 'three', 'four'], dest=str(tmp_path))
    assert first['wave'] == 1 and first['msg'] == 'wave 1 (1 hosts) passed the gate: 1 pass'
    keep_wave(hostvars, first)
    hostvars.update({
        'two': {FACT: unchanged()},
        'three': {FACT: measured(snapshots=[snap(0), snap(10), snap(20), snap(30, boot='b2')])},
        'four': {FACT: measured(snapshots=None)},  # changed, but the check before foresaw no change
    })
    second = gate(hostvars, ['two', 'three', 'four'], ['one', 'two', 'three', 'four'], dest=str(tmp_path))
    assert second['wave'] == 2 and second['worse'] == [] and second['put_back'] == []
    assert second['msg'] == 'wave 2 (3 hosts) passed the gate: 1 not gated, 1 unchanged, 1 unmeasured'
    assert second['hosts']['three']['reason'] == 'the after window has no rates: the host rebooted'
    assert second['hosts']['four']['reason'] == 'no health snapshots: it changed although the check before the change foresaw no change'
    rep = json.loads((tmp_path / 'rollout.json').read_text())
    assert [w['wave'] for w in rep['waves']] == [1, 2] and rep['hosts'] == 4 and rep['not_reached'] == []
    assert rep['waves'][0]['hosts']['one']['verdict'] == 'pass'
    assert 'Rolled out in 2 waves to 4 hosts.' in (tmp_path / 'rollout.md').read_text()


def test_a_wave_is_copied_once_whatever_the_number_of_its_hosts():
    hostvars = dict(('web-%d' % i, {FACT: measured()}) for i in range(3))
    first = gate(hostvars, list(hostvars))
    keep_wave(hostvars, first)
    hostvars['new'] = {FACT: measured()}
    with mock.patch.object(action, '_plain', wraps=action._plain) as plain:
        second = gate(hostvars, ['new'], sorted(hostvars))
    assert second['wave'] == 2 and list(second['hosts']) == ['new']
    # The new host's data, and wave 1 once for its three hosts.
    assert plain.call_count == 2 and plain.call_args_list[1][0][0]['hosts'] == first['hosts']


def test_the_gate_off_judges_nothing():
    result = gate({'a': {FACT: measured(tw_overflow=900)}}, ['a'], gate={})
    assert result['hosts']['a']['verdict'] == 'not gated' and result['hosts']['a']['reason'] == 'the gate is off'
    assert result['worse'] == []


# The failures: each names the host and what is missing.

def test_a_host_of_the_wave_without_the_rollout_data_is_not_gated_and_said_why():
    # b ran none of the rollout's steps (another tcp_tune_soak, or the role skipped on it): judged without
    # failing the others, not put back, and the report says why.
    hostvars = {'a': {FACT: measured(tw_overflow=900)}, 'b': {'__tcp_tune_result': {'changed': True}}}
    result = gate(hostvars, ['a', 'b'])
    assert result['hosts']['b']['verdict'] == 'not gated'
    assert result['hosts']['b']['reason'] == action.NOT_MEASURED
    assert result['worse'] == ['a'] and result['put_back'] == ['a']
    # The next wave reads the earlier waves from their hosts; b, without the data, is passed over.
    keep_wave(hostvars, dict(result, hosts={'a': result['hosts']['a']}))
    hostvars['c'] = {FACT: measured()}
    second = gate(hostvars, ['c'], ['a', 'b', 'c'])
    assert second['wave'] == 2 and second['hosts']['c']['verdict'] == 'pass'


def test_a_wave_where_no_host_has_the_rollout_data_fails_naming_the_variable():
    # The gate runs after its own host set the variable: none at all means role and action disagree on its name.
    with pytest.raises(AnsibleActionFail) as failure:
        gate({'a': {'__tcp_tune_result': {'changed': True}}, 'b': {}}, ['a', 'b'])
    assert str(failure.value).startswith('tune_rollout: host a: no host of this wave (a, b) has __tcp_tune_rollout, '
                                         'so the wave cannot be judged')
    with pytest.raises(AnsibleActionFail, match=r'host ghost: no host of this wave \(ghost\) has __tcp_tune_rollout'):
        gate({}, ['ghost'])  # not even in hostvars


@pytest.mark.parametrize('drop', action.HOST_KEYS)
def test_rollout_data_without_one_of_its_keys_fails_naming_it(drop):
    data = measured()
    del data[drop]
    with pytest.raises(AnsibleActionFail) as failure:
        gate({'a': {FACT: data}}, ['a'])
    assert str(failure.value).startswith('tune_rollout: host a: __tcp_tune_rollout has no %s.' % drop)


@pytest.mark.parametrize('data, says', [
    ('not a mapping', '__tcp_tune_rollout is not a mapping'),
    (measured(snapshots=[snap(0), snap(10)]), '__tcp_tune_rollout.snapshots must be none or the 4 health snapshots'),
    (measured(snapshots=[{'skipped': True}] * 4), '__tcp_tune_rollout.snapshots must be none or the 4 health snapshots'),
    (measured(applied='net.core.somaxconn'), "__tcp_tune_rollout.applied must be sysctl_tune's list of settings"),
    (measured(restored=[{'before': '1'}]), "__tcp_tune_rollout.restored must be sysctl_tune's list of settings"),
])
def test_rollout_data_of_another_shape_fails_naming_what(data, says):
    with pytest.raises(AnsibleActionFail) as failure:
        gate({'a': {FACT: data}}, ['a'])
    assert str(failure.value).startswith('tune_rollout: host a: ' + says)


def test_a_host_of_an_earlier_wave_without_its_verdict_fails_naming_it():
    hostvars = {'old': {FACT: measured()}, 'new': {FACT: measured()}}
    with pytest.raises(AnsibleActionFail) as failure:
        gate(hostvars, ['new'], ['old', 'new'])
    assert str(failure.value).startswith('tune_rollout: host old: __tcp_tune_rollout has no wave (the gate')
    hostvars['old'][FACT]['wave'] = {'wave': 1, 'hosts': {}}
    with pytest.raises(AnsibleActionFail, match=r'host old: __tcp_tune_rollout\.wave has no worse, put_back, msg\.'):
        gate(hostvars, ['new'], ['old', 'new'])


def test_a_report_needs_a_dest_and_a_judged_wave(tmp_path):
    with pytest.raises(AnsibleActionFail, match=r'^dest: needed with phase=report$'):
        run({'phase': 'report'}, {'a': {FACT: measured()}}, ['a'])
    with pytest.raises(AnsibleActionFail, match=r'phase=report: no host carries a judged wave \(__tcp_tune_rollout\.wave'):
        run({'phase': 'report', 'dest': str(tmp_path)}, {'a': {}}, ['a'])
    assert os.listdir(str(tmp_path)) == []


def test_arguments_and_gate_are_checked():
    with pytest.raises(AnsibleActionFail, match='phase'):
        run({'phase': 'judge'}, {}, [])
    with pytest.raises(AnsibleActionFail, match='Unsupported parameters'):
        run({'phase': 'gate', 'hosts': ['a']}, {}, [])
    with pytest.raises(AnsibleActionFail, match='tcp_tune_gate: Nope: not a gate counter'):
        gate({'a': {FACT: measured()}}, ['a'], gate={'Nope': {'ratio': 2}})


def test_an_unwritable_dest_fails_naming_it(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(AnsibleActionFail, match='cannot write the rollout report in %s' % re.escape(str(blocker))):
        gate({'a': {FACT: measured()}}, ['a'], dest=str(blocker))


# The contract with the role: read from its files, so a rename on either side fails here.

def role_file(*parts):
    return DataLoader().load_from_file(os.path.join(ROLE, *parts), trusted_as_template=True)


def tasks(name):
    """Every task of roles/tune/tasks/<name>, blocks flattened."""
    out = []

    def walk(items):
        for item in items:
            if 'block' in item:
                walk(item['block'] + item.get('rescue', []) + item.get('always', []))
            else:
                out.append(item)
    walk(role_file('tasks', name))
    return out


def role_tasks():
    return dict((name, tasks(name)) for name in sorted(os.listdir(os.path.join(ROLE, 'tasks'))))


def action_of(task):
    return [key for key in task if '.' in key and key.split('.')[0] in ('ansible', 'netops')][0]


def sets_fact(task):
    return task.get('ansible.builtin.set_fact', {}).get(FACT)


def registered(module):
    """{file: [register names]} of the role's tasks running ``module``, in order."""
    return [(name, task['register']) for name, items in role_tasks().items() for task in items
            if action_of(task) == module and 'register' in task]


def test_the_role_sets_the_rollout_data_with_the_keys_the_action_reads():
    setters = [(name, sets_fact(t)) for name, items in role_tasks().items() for t in items if sets_fact(t) is not None]
    assert [name for name, _value in setters] == ['rollout_gate.yml', 'rollout_gate.yml', 'stop.yml']
    first, wave, put_back = [value for _name, value in setters]
    assert tuple(first) == action.HOST_KEYS
    gate_register = [r for name, r in registered('netops.tcp.tune_rollout') if name != 'summary.yml']
    assert gate_register == ['__tcp_tune_wave']
    # phase=summary reads the result "Apply the profile" registers.
    assert ('main.yml', action.RESULT) in registered('netops.tcp.sysctl_tune')
    assert wave == "{{ %s | combine({'%s': %s}) }}" % (FACT, action.WAVE, gate_register[0])
    put_back_register = [r for name, r in registered('netops.tcp.sysctl_tune') if name == 'stop.yml']
    assert put_back == "{{ %s | combine({'%s': %s}) }}" % (FACT, action.PUT_BACK, put_back_register[0])
    # The snapshots are the four tcp_health_info results, in the order of the windows.
    health_registers = [t['register'] for name in ('baseline.yml', 'after.yml') for t in tasks(name)
                        if action_of(t) in HEALTH]
    assert sorted(health_registers) == sorted(r for module in HEALTH for _name, r in registered(module))
    assert health_registers == ['__tcp_tune_health_%d' % i for i in range(action.SNAPSHOTS)]
    assert re.findall(r'(__tcp_tune_health_\d)\.health', first['snapshots']) == health_registers


def test_the_role_data_templated_as_ansible_does_passes_the_gate():
    """The role's set_fact expressions with the results its modules register, then the gate."""
    variables = dict(role_file('defaults', 'main.yml'), **role_file('vars', 'main.yml'))
    variables.update(ansible_check_mode=False, __tcp_tune_plan={'changed': True},
                     __tcp_tune_profile={'name': 'tight_tw', 'version': 1},
                     __tcp_tune_result={'changed': True, 'profile_before': 'web_frontend@2', 'mismatches': [],
                                        'applied': [{'key': 'net.ipv4.tcp_max_tw_buckets', 'before': '262144',
                                                     'after': '64'}], 'restored': []})
    for i, at in enumerate((0, 10, 20, 30)):
        variables['__tcp_tune_health_%d' % i] = {'changed': False, 'health': snap(at, 900 if at == 30 else 0)}
    setter = [sets_fact(t) for t in tasks('rollout_gate.yml') if sets_fact(t) is not None][0]
    data = Templar(loader=DataLoader(), variables=variables).template(setter)
    result = gate({'canary': {FACT: data}}, ['canary'])
    assert result['worse'] == ['canary'] and result['hosts']['canary']['profile_after'] == 'tight_tw@1'
    assert result['hosts']['canary']['profile_before'] == 'web_frontend@2'
    assert result['hosts']['canary']['keys'] == ['net.ipv4.tcp_max_tw_buckets']
    # A host the change touched that the check before it did not foresee: not measured, said so.
    unforeseen = dict((k, v) for k, v in variables.items() if not k.startswith('__tcp_tune_health'))
    unforeseen['__tcp_tune_plan'] = {'changed': False}
    data = Templar(loader=DataLoader(), variables=unforeseen).template(setter)
    assert data['snapshots'] is None
    assert gate({'a': {FACT: data}}, ['a'])['hosts']['a']['verdict'] == 'not gated'


def test_every_private_variable_the_role_reads_is_one_it_sets():
    """A register renamed on one side only is caught here, not by a gate that quietly judges nothing."""
    sets, text = set(role_file('vars', 'main.yml')), []
    for items in role_tasks().values():
        for task in items:
            sets.update([task['register']] if 'register' in task else [])
            sets.update(task.get('ansible.builtin.set_fact', {}))
    for directory in ('tasks', 'vars'):
        for name in os.listdir(os.path.join(ROLE, directory)):
            with open(os.path.join(ROLE, directory, name)) as handle:
                text.append(handle.read())
    read = set(re.findall(r'\b(__tcp_tune_\w+)', '\n'.join(text)))
    assert read - sets == set()
    assert FACT in sets


def test_the_role_calls_the_action_with_its_documented_options_only():
    options = yaml.safe_load(docs.DOCUMENTATION)['options']
    assert sorted(options) == sorted(action.SPEC)
    for name, spec in action.SPEC.items():
        assert options[name]['type'] == spec['type'] and options[name].get('choices') == spec.get('choices'), name
        assert options[name].get('default') == spec.get('default') and bool(options[name].get('required')) == \
            bool(spec.get('required')), name
    calls = [t['netops.tcp.tune_rollout'] for items in role_tasks().values() for t in items
             if action_of(t) == 'netops.tcp.tune_rollout']
    assert sorted(c['phase'] for c in calls) == ['gate', 'report', 'summary']
    assert all(set(c) <= set(action.SPEC) and c['dest'] for c in calls)


def test_the_documentation_names_the_variable_and_each_of_its_keys():
    description = ' '.join(yaml.safe_load(docs.DOCUMENTATION)['description'])
    assert 'C(%s)' % FACT in description
    for key in action.HOST_KEYS + (action.WAVE, action.PUT_BACK) + action.WAVE_KEYS:
        assert 'C(%s)' % key in description, key


def test_a_run_that_measures_nothing_skips_the_rollout_whole():
    """Item 8 of issue 24: outside the two included files, main.yml runs no rollout step, and it
    includes each of them under one condition, __tcp_tune_gated (soak, gate, state, check mode)."""
    main = tasks('main.yml')
    includes = [t for t in main if action_of(t) == 'ansible.builtin.include_tasks']
    assert [(t['ansible.builtin.include_tasks'] if isinstance(t['ansible.builtin.include_tasks'], str)
             else t['ansible.builtin.include_tasks']['file'], t['when']) for t in includes] == [
        ('rollout_before.yml', '__tcp_tune_gated | bool'), ('rollout_gate.yml', '__tcp_tune_gated | bool'),
        ('summary.yml', 'tcp_tune_stats | bool')]  # the job's artifacts: no rollout step
    assert [action_of(t) for t in main if t not in includes] == [
        'ansible.builtin.set_fact', 'netops.tcp.sysctl_tune', 'ansible.builtin.assert', 'ansible.builtin.debug',
        'ansible.builtin.file']  # the report host's staging directory removed
    gated = role_file('vars', 'main.yml')['__tcp_tune_gated']
    for word in ('tcp_tune_soak', 'tcp_tune_gate', "tcp_tune_state == 'present'", 'not ansible_check_mode'):
        assert word in gated, word
    # The check before the change is the apply itself in check mode: the same arguments.
    plan = [t for t in tasks('rollout_before.yml') if action_of(t) == 'netops.tcp.sysctl_tune'][0]
    apply = [t for t in main if action_of(t) == 'netops.tcp.sysctl_tune'][0]
    assert plan['check_mode'] is True and plan['netops.tcp.sysctl_tune'] == {}
    assert includes[0]['ansible.builtin.include_tasks']['apply']['module_defaults']['netops.tcp.sysctl_tune'] == \
        apply['netops.tcp.sysctl_tune']


def test_the_run_is_summed_up_and_its_staging_removed_also_when_a_wave_fails():
    """One block holds the run; its always sums it up (stop.yml fails inside it) and removes the
    rollout report's private directory, the one the report host's copy came from."""
    [block] = role_file('tasks', 'main.yml')
    summing, removing = block['always']
    assert (summing['ansible.builtin.include_tasks'], summing['when']) == ('summary.yml', 'tcp_tune_stats | bool')
    staging = [t for t in tasks('rollout_gate.yml') if action_of(t) == 'ansible.builtin.tempfile']
    assert [t['register'] for t in staging] == ['__tcp_tune_staging']
    assert removing['ansible.builtin.file'] == {'path': '{{ __tcp_tune_staging.path }}', 'state': 'absent'}
    assert (removing['delegate_to'], removing['become'], staging[0]['become']) == ('localhost', False, False)
    assert 'summary.yml' not in str(tasks('stop.yml'))
    # Each write of the report goes to the report host: after the gate, and after a put back.
    for name, phase in (('rollout_gate.yml', 'gate'), ('stop.yml', 'report')):
        order = [action_of(t) if action_of(t) != 'netops.tcp.tune_rollout' else t['netops.tcp.tune_rollout']['phase']
                 for t in tasks(name)]
        assert order[order.index(phase) + 1] == 'ansible.builtin.include_tasks', name
    ship = tasks('ship.yml')
    assert [(action_of(t), t['delegate_to'], t['ansible.builtin.copy']['src']) for t in ship] == [
        ('ansible.builtin.copy', '{{ tcp_tune_report_host }}', '{{ __tcp_tune_staging.path }}/')]


def summary(hostvars, everyone, running, dest=None, check_mode=False):
    task = mock.MagicMock(args={'phase': 'summary', 'profile': 'tight_tw@1', 'dest': dest}, async_val=0,
                          check_mode=check_mode, action='netops.tcp.tune_rollout')
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    plugin = action.ActionModule(task, connection, mock.MagicMock(), DataLoader(), mock.MagicMock())
    plugin._load_name = 'netops.tcp.tune_rollout'
    return plugin.run(task_vars={'hostvars': hostvars, 'ansible_play_hosts_all': everyone,
                                 'ansible_play_hosts': running})['stats']


def applied(*keys, **over):
    return dict({'changed': bool(keys), 'applied': [{'key': k} for k in keys], 'mismatches': []}, **over)


def test_the_summary_splits_the_hosts_counts_the_keys_and_names_a_bounded_few():
    hostvars = dict(('web-%02d' % n, {action.RESULT: applied('net.ipv4.tcp_fin_timeout')}) for n in range(25))
    hostvars['db-1'] = {action.RESULT: applied('net.ipv4.tcp_fin_timeout', 'net.core.somaxconn',
                                               mismatches=[{'key': 'net.core.somaxconn'}])}
    hostvars['db-2'] = {action.RESULT: applied()}
    hostvars['down'] = {action.RESULT: {'failed': True, 'msg': 'boom'}}
    hostvars['later'] = {}
    hostvars['ignored'] = {action.RESULT: {'failed': True, 'msg': 'boom'}}  # failed, still in the play (ignore_errors)
    everyone = ['web-%02d' % n for n in range(25)] + ['later', 'ignored', 'down', 'db-2', 'db-1']
    stats = summary(hostvars, everyone, [n for n in everyone if n != 'down'], check_mode=True)
    assert stats == {
        'profile': 'tight_tw@1', 'check_mode': True, 'hosts': 30, 'changed': 26, 'unchanged': 1, 'failed': 2,
        'not_reached': 1, 'changed_hosts': ['db-1'] + ['web-%02d' % n for n in range(19)],
        'failed_hosts': ['down', 'ignored'],
        'mismatched_hosts': ['db-1'], 'applied_keys': {'net.ipv4.tcp_fin_timeout': 26, 'net.core.somaxconn': 1},
        'rollout': None}
    assert len(json.dumps(stats)) < 1024


def test_the_summary_of_a_measured_rollout_gives_its_waves_and_the_reports_checksum(tmp_path):
    hostvars = {'canary': {FACT: measured(), action.RESULT: applied('net.ipv4.tcp_max_tw_buckets')}, 'web-2': {}}
    keep_wave(hostvars, gate(hostvars, ['canary'], ['canary', 'web-2'], dest=str(tmp_path)))
    hostvars['web-2'] = {FACT: measured(tw_overflow=900), action.RESULT: applied('net.ipv4.tcp_max_tw_buckets')}
    keep_wave(hostvars, gate(hostvars, ['web-2'], ['canary', 'web-2'], dest=str(tmp_path)))
    stats = summary(hostvars, ['canary', 'web-2'], ['canary', 'web-2'], dest=str(tmp_path))
    digest = hashlib.sha256((tmp_path / 'rollout.json').read_bytes()).hexdigest()
    assert stats['rollout'] == {'waves': 2, 'stopped_at': 2, 'worse_hosts': ['web-2'], 'put_back': 0,
                                'report': {'dest': str(tmp_path), 'sha256': digest}}
    assert summary(hostvars, ['canary', 'web-2'], ['canary', 'web-2'], dest=str(tmp_path / 'none'))['rollout'][
        'report'] == {'dest': str(tmp_path / 'none'), 'sha256': None}
