# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_tune state=previous: the last change undone, byte for byte, against a fake /proc tree."""

import json
import os

import pytest

from ansible_collections.netops.tcp.plugins.modules import sysctl_tune

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import snapshot
from ansible_collections.netops.tcp.tests.unit.plugins.modules.test_sysctl_tune import host  # noqa: F401  pylint: disable=unused-import

V1 = {'net.ipv4.tcp_fin_timeout': 30, 'net.ipv4.tcp_rmem': '4096 131072 67108864'}
# v2 changes one key, adds one and drops tcp_rmem (which then goes back to its original).
V2 = {'net.ipv4.tcp_fin_timeout': 15, 'net.core.somaxconn': 8192}


def host_files(root, args=None):
    """snapshot() with /proc/sys values as the kernel prints them whatever was written (the fake
    tree keeps what was written: tabs or spaces), and without the state file when ``args``."""
    found = {}
    state = os.path.join(args['state_dir'], 'state.json') if args else None
    for path, data in snapshot(root).items():
        if path == state:
            continue
        found[path] = b'\t'.join(data.split()) + b'\n' if '/proc/sys/' in path else data
    return found


def tune(run_module, args, settings, version, **extra):
    code, result = run_module(sysctl_tune.main, dict(args, settings=settings, profile={'name': 'p', 'version': version},
                                                     **extra))
    assert code == 0, result
    return result


def saved(args):
    with open(os.path.join(args['state_dir'], 'state.json')) as handle:
        return json.load(handle)


def test_previous_after_the_first_tuning_gives_back_the_untuned_host(run_module, host):  # noqa: F811
    root, args = host
    before = host_files(root)
    assert tune(run_module, args, V1, 1)['profile_before'] is None
    result = tune(run_module, args, {}, None, state='previous')
    assert result['changed'] is True
    assert sorted(r['key'] for r in result['restored']) == ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_rmem']
    assert host_files(root) == before  # live values, the older drop-in, no record, no state, no lock
    for made in (os.path.dirname(args['fact_path']), args['state_dir']):
        assert not os.path.exists(made), made


def test_previous_after_an_upgrade_gives_back_the_earlier_version(run_module, host):  # noqa: F811
    root, args = host
    untuned = host_files(root)
    tune(run_module, args, V1, 1)
    on_v1, state_v1 = host_files(root, args), saved(args)
    result = tune(run_module, args, V2, 2)
    assert result['profile_before'] == 'p@1'
    assert tune(run_module, args, V2, 2)['changed'] is False  # a rerun that changes nothing keeps the change to undo

    code, result = run_module(sysctl_tune.main, dict(args, state='previous', _ansible_check_mode=True, _ansible_diff=True))
    assert code == 0 and result['changed'] is True
    assert 'net.ipv4.tcp_fin_timeout = 30' in result['diff'][0]['after']
    with open(args['sysctl_file']) as handle:
        assert result['diff'][1]['before'] == handle.read()
    assert result['diff'][1]['after'] == on_v1[args['sysctl_file']].decode()

    result = tune(run_module, args, {}, None, state='previous')
    assert result['profile_before'] == 'p@1'
    restored = sorted(r['key'] for r in result['restored'])
    assert restored == ['net.core.somaxconn', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_rmem']
    assert host_files(root, args) == on_v1  # values, drop-in and record, byte for byte
    state = saved(args)
    assert 'previous' not in state and dict(state_v1, previous=None) == dict(state, previous=None)

    # One change is undone; again, nothing happens; absent still gives back the host from before any tuning.
    result = tune(run_module, args, {}, None, state='previous')
    assert result['changed'] is False and result['msg'].startswith('nothing to put back: ')
    assert host_files(root, args) == on_v1
    tune(run_module, args, {}, None, state='absent')
    del untuned[args['sysctl_file']]  # absent removes the drop-in (the fixture's older one was at our path)
    assert host_files(root) == untuned


def test_previous_on_a_host_never_tuned_does_nothing(run_module, host):  # noqa: F811
    root, args = host
    before = snapshot(root)
    result = tune(run_module, args, {}, None, state='previous')
    assert result['changed'] is False and result['msg'] == 'nothing to put back: %s/state.json records no change' % args['state_dir']
    assert snapshot(root) == before


def test_previous_refuses_a_file_the_options_do_not_name(run_module, host):  # noqa: F811
    root, args = host
    tune(run_module, args, V1, 1)
    before = snapshot(root)
    other = os.path.join(os.path.dirname(args['sysctl_file']), '70-other.conf')
    code, result = run_module(sysctl_tune.main, dict(args, state='previous', sysctl_file=other))
    assert code == 1
    assert result['msg'] == ('nothing was changed: %s: not the sysctl_file, modules_file or fact_path of this run (%s, %s, '
                             '%s); run with the options of the change to put back'
                             % (args['sysctl_file'], other, args['modules_file'], args['fact_path']))
    assert snapshot(root) == before


@pytest.mark.parametrize('previous, problem', [
    ('[]', "'previous' is not an object with 'values' and 'files'"),
    ('{"values": {"net.ipv4.tcp_fin_timeout": "30\\nx"}, "files": {}}',
     "a saved value in 'previous' breaks a rule: net.ipv4.tcp_fin_timeout: '30\\nx' must be one line of text without \"=\", \"#\", \";\" or runs of spaces"),
    ('{"values": {}, "files": {"relative": null}}', "'files' in 'previous' is not a map of absolute paths to texts or null"),
    ('{"values": {}, "files": {}, "state": {"originals": {}}}', "'managed' in 'previous' is missing"),
])
def test_a_damaged_previous_fails_and_changes_nothing(run_module, host, previous, problem):  # noqa: F811
    root, args = host
    tune(run_module, args, V1, 1)
    path = os.path.join(args['state_dir'], 'state.json')
    state = saved(args)
    with open(path, 'w') as handle:
        handle.write(json.dumps(dict(state, previous=json.loads(previous))))
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, state='previous'))
    assert code == 1 and result['msg'].startswith('%s cannot be used (%s)' % (path, problem)), result['msg']
    assert snapshot(root) == before
