# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_tune under faults, as a real process against a fake /proc tree.

The module's steps (every live write, every temporary file written and fsynced, every rename
and directory fsync, the lock) are numbered by ``_files.checkpoint``; NETOPS_TCP_FAULT makes
the Nth step kill the process (SIGKILL: no cleanup runs), raise an I/O error, or pause while a
second run starts. For first tuning, an upgrade, state=absent and state=previous after a first tuning, at every step:
- killed: the state left holds only true originals; a rerun reaches exactly the host a clean run
  gives; state=absent (after the rerun, or straight after the crash) gives back the host from
  before any tuning, byte for byte, with no temporary file, lock or directory left;
- an I/O error: the run fails saying what it put back, and the host is exactly as before the run;
- a second run starting while the first is paused there waits for it, then both succeed and
  state=absent still gives back the host from before any tuning.
For first tuning and an upgrade, killed at every step: state=previous, straight away once the run
has saved its state or after a rerun completed it, gives back the host from before the killed run
(values, drop-in, record, directories).
"""

import json
import os
import time

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl

from ansible_collections.netops.tcp.tests.faults.faulthost import FIRST, SECOND, SCENARIOS, clean_outcome, originals_only, prepared, recovers


def steps(tmp_path, scenario):
    host, _pristine = prepared(tmp_path, 'count', scenario)
    log = tmp_path / 'steps.log'
    code, _result, err = host.run(scenario[1], fault='count@0', log=log)
    assert code == 0, err
    return [line.split(' ', 1)[1].replace(str(host.root), '{root}') for line in log.read_text().splitlines()]


@pytest.mark.parametrize('scenario', sorted(SCENARIOS))
def test_steps_cover_every_write_rename_and_fsync(tmp_path, scenario):
    labels = steps(tmp_path, SCENARIOS[scenario])
    assert any(l.startswith('locked ') for l in labels) and labels[-1] == 'done'
    # FIRST's conntrack key lists nf_conntrack in the modules file (unless this machine loads it at boot).
    modules = [] if sysctl.boot_modules(['nf_conntrack'], '6.18.44-fc-v657')['nf_conntrack'] else \
        ['etc/modules-load.d/netops-tcp.conf']
    if scenario in ('absent', 'previous'):
        assert [l for l in labels if l.startswith('remove ')] == [
            'remove ' + os.path.join('{root}', p) for p in
            ['etc/sysctl.d/60-netops-tcp.conf'] + modules
            + ['etc/ansible/facts.d/netops_tcp.fact', 'var/lib/netops-tcp/state.json']]
        return
    # The first tuning writes it; the upgrade, whose keys need no module, removes it.
    touched = [l for l in labels if l.endswith('modules-load.d/netops-tcp.conf') and l.startswith(('rename ', 'remove '))]
    assert touched == [('rename ' if scenario == 'first' else 'remove ') + os.path.join('{root}', p) for p in modules]
    writes = [l for l in labels if l.startswith('write net.')]
    assert len(writes) == (6 if scenario == 'first' else 8)
    # The originals are durable before the first live write; files are staged before it, renamed after.
    first_live = labels.index(writes[0])
    state = '{root}/var/lib/netops-tcp/state.json'
    assert labels.index('fsync directory of %s' % state) < first_live
    assert all(labels.index(l) < first_live for l in labels if l.startswith('fsync /'))
    assert all(labels.index(l) > labels.index(writes[-1]) for l in labels if l.startswith('rename ') and
               labels.index(l) > first_live)


@pytest.mark.parametrize('scenario', sorted(SCENARIOS))
def test_killed_at_every_step_rerun_and_absent_give_back_the_originals(tmp_path, scenario):
    spec = SCENARIOS[scenario]
    count = len(steps(tmp_path, spec))
    expected = clean_outcome(tmp_path, spec)
    for number in range(1, count + 1):
        for then_absent in (False, True):
            name = 'kill-%d-%s' % (number, 'absent' if then_absent else 'rerun')
            host, pristine = prepared(tmp_path, name, spec)
            code, _result, _err = host.run(spec[1], fault='kill@%d' % number)
            assert code == -9, name
            recovers(host, pristine, spec, expected, tmp_path, not then_absent, name)


@pytest.mark.parametrize('scenario', ['first', 'upgrade'])
def test_killed_at_every_step_previous_gives_back_the_host_before_the_run(tmp_path, scenario):
    """Straight after the crash (once the run saved its state), and after a rerun that completed it."""
    spec = SCENARIOS[scenario]
    count = len(steps(tmp_path, spec))
    undone = 0
    for number in range(1, count + 1):
        for rerun in (False, True):
            host, _pristine = prepared(tmp_path, 'previous-%d-%s' % (number, rerun), spec)
            state = os.path.join(host.args['state_dir'], 'state.json')
            before = host.snapshot()
            code, _result, _err = host.run(spec[1], fault='kill@%d' % number)
            assert code == -9
            if rerun:
                host.ok(spec[1])
            elif host.snapshot().get(state) == before.get(state):
                continue  # killed before it saved anything: the host is as it was (the tests above)
            host.ok({'state': 'previous'})
            after = host.snapshot()
            if scenario == 'upgrade':  # the state goes back to the earlier run's, without its change to undo
                then, now = (v if isinstance(v, dict) else json.loads(v) for v in (before.pop(state), after.pop(state)))
                assert now['managed'] == then['managed'] and 'previous' not in now
            assert after == before, (number, rerun)
            undone += 1
    assert undone > count * 3 // 2


@pytest.mark.parametrize('scenario', sorted(SCENARIOS))
def test_an_io_error_at_every_step_leaves_the_host_as_it_was(tmp_path, scenario):
    spec = SCENARIOS[scenario]
    labels = steps(tmp_path, spec)
    for number, label in enumerate(labels, 1):
        host, _pristine = prepared(tmp_path, 'error-%d' % number, spec)
        before = host.snapshot()
        code, result, err = host.run(spec[1], fault='error@%d' % number)
        assert code == 1, (label, result, err)
        label = label.format(root=host.root)
        assert 'injected I/O error at step %d (%s)' % (number, label) in result['msg']
        assert 'could NOT' not in result['msg'] and result.get('changed', False) is False
        if label.startswith('locked '):
            assert result['msg'].startswith('cannot lock ')
        elif not any(l.startswith('write net.') for l in labels[:number - 1]):
            assert result['msg'].endswith('; nothing was changed'), result['msg']
        else:
            assert '; put back: ' in result['msg'], result['msg']
        assert host.snapshot() == before, label


@pytest.mark.parametrize('scenario', sorted(SCENARIOS))
def test_a_second_run_waits_at_every_step_of_the_first(tmp_path, scenario):
    spec = SCENARIOS[scenario]
    labels = steps(tmp_path, spec)
    locked = [n for n, label in enumerate(labels, 1) if label.startswith('locked ')][0]
    for number in range(locked, len(labels) + 1):  # before the lock there is nothing to wait for
        host, pristine = prepared(tmp_path, 'pause-%d' % number, spec)
        gate = str(tmp_path / ('gate-%d' % number))
        first = host.start(spec[1], fault='pause@%d:%s' % (number, gate))
        deadline = time.time() + 60
        while not os.path.exists(gate + '.paused'):
            assert first.poll() is None and time.time() < deadline, first.communicate()
            time.sleep(0.01)
        log = tmp_path / ('second-%d.log' % number)
        second = host.start({'settings': SECOND}, fault='count@0', log=log)
        time.sleep(0.3)
        assert second.poll() is None and not log.exists(), 'the second run did not wait for the lock'
        open(gate + '.resume', 'w').close()
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, (out, err)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, (out, err)
        originals_only(host, pristine)
        for key, value in SECOND.items():
            assert host.live(key) == catalog.format_value(value, catalog.CATALOG[key])
        host.ok({'state': 'absent'})
        assert host.snapshot() == pristine, number


def test_a_run_that_cannot_get_the_lock_names_the_holder_and_changes_nothing(tmp_path):
    host, _pristine = prepared(tmp_path, 'holder', (None, None))
    gate = str(tmp_path / 'gate')
    first = host.start({'settings': FIRST}, fault='pause@3:%s' % gate)  # mkdir var/lib/netops-tcp, locked, then
    try:
        while not os.path.exists(gate + '.paused'):
            time.sleep(0.01)
        before = host.snapshot()
        with open(os.path.join(host.args['state_dir'], 'lock')) as handle:
            holder = json.load(handle)
        assert holder['pid'] == first.pid
        code, result, _err = host.run({'settings': SECOND, 'lock_timeout': 1})
        assert code == 1
        assert result['msg'] == (
            'another netops.tcp run holds the lock %s/lock (pid %d, started %s); waited 1 s and changed nothing. '
            'Run again when it has finished, or raise lock_timeout' % (host.args['state_dir'], first.pid, holder['started']))
        assert host.snapshot() == before
    finally:
        open(gate + '.resume', 'w').close()
        first.communicate(timeout=60)
    assert first.returncode == 0


def test_many_overlapping_runs_keep_the_originals(tmp_path):
    """Without any hook: pairs of runs started together, alternating two profiles."""
    host, pristine = prepared(tmp_path, 'race', (None, None))
    for _round in range(10):
        runs = [host.start({'settings': FIRST}), host.start({'settings': SECOND})]
        for proc in runs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, (out, err)
        originals_only(host, pristine)
    host.ok({'state': 'absent'})
    assert host.snapshot() == pristine
