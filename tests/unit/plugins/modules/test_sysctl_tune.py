# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_tune against a fake /proc tree: bad input fails with the exact rule and changes nothing."""

import json
import os

import pytest

from ansible_collections.netops.tcp.plugins.modules import sysctl_tune

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree, snapshot

NOT_WORD = 'must be one word of at most 15 characters'
BAD = [
    ({'net.ipv4.tcp_made_up': 1}, "settings: net.ipv4.tcp_made_up: not in the netops.tcp catalog (set allow_unknown_keys to use it)"),
    ({'../../etc/shadow': 1}, "settings: sysctl key '../../etc/shadow': each part must be letters, digits, \"_\", \"-\" or \":\", "
                              "and no part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)"),
    ({'net.ipv4.tcp_fin_timeout\n': 1}, "settings: sysctl key 'net.ipv4.tcp_fin_timeout\\n': each part must be letters, digits, "
                                        "\"_\", \"-\" or \":\", and no part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)"),
    ({'net.ipv4.tcp_fin_timeout=1': 1}, "settings: sysctl key 'net.ipv4.tcp_fin_timeout=1': each part must be letters, digits, "
                                        "\"_\", \"-\" or \":\", and no part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)"),
    ({'net.ipv4.*': 1}, "settings: sysctl key 'net.ipv4.*': each part must be letters, digits, \"_\", \"-\" or \":\", "
                        "and no part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)"),
    ({'net.ipv4.tcp_fin_timeout': 'thirty'}, "settings: net.ipv4.tcp_fin_timeout: 'thirty' is not an integer (one integer expected)"),
    ({'net.ipv4.tcp_fin_timeout': 0}, 'settings: net.ipv4.tcp_fin_timeout: 0 is out of range 1..2147483'),
    ({'net.ipv4.tcp_fin_timeout': True}, 'settings: net.ipv4.tcp_fin_timeout: True is not an integer'),
    ({'net.ipv4.tcp_fin_timeout': 30.5}, 'settings: net.ipv4.tcp_fin_timeout: 30.5 is not an integer'),
    ({'net.ipv4.tcp_tw_reuse': 3}, 'settings: net.ipv4.tcp_tw_reuse: 3 is out of range 0..2'),
    ({'net.ipv4.tcp_tw_recycle': 2}, 'settings: net.ipv4.tcp_tw_recycle: 2 must be 0 or 1'),
    ({'net.ipv4.tcp_syn_retries': 0}, 'settings: net.ipv4.tcp_syn_retries: 0 is out of range 1..127'),
    ({'net.ipv4.tcp_synack_retries': 256}, 'settings: net.ipv4.tcp_synack_retries: 256 is out of range 0..255'),
    ({'net.ipv4.tcp_rmem': [4096, 131072]}, 'settings: net.ipv4.tcp_rmem: [4096, 131072]: 2 values, 3 expected (min default max)'),
    ({'net.ipv4.tcp_rmem': 4096}, 'settings: net.ipv4.tcp_rmem: 4096: not a list of 3 integers'),
    ({'net.ipv4.ip_local_port_range': [1024, 2048, 4096]},
     'settings: net.ipv4.ip_local_port_range: [1024, 2048, 4096]: 3 values, 2 expected (low high)'),
    ({'net.ipv4.tcp_rmem': '4096 131072'}, "settings: net.ipv4.tcp_rmem: '4096 131072' has 2 values, 3 expected (min default max)"),
    ({'net.ipv4.tcp_rmem': [8192, 4096, 16384]}, 'settings: net.ipv4.tcp_rmem: 8192 4096 16384: values must not decrease (min <= default <= max)'),
    ({'net.ipv4.tcp_rmem': '4096 x 6291456'}, "settings: net.ipv4.tcp_rmem: 'x' is not an integer (integers expected)"),
    ({'net.ipv4.tcp_wmem': [0, 1, 2]}, 'settings: net.ipv4.tcp_wmem: 0 is out of range 1..2147483647'),
    ({'net.ipv4.tcp_mem': [3, 2, 1]}, 'settings: net.ipv4.tcp_mem: 3 2 1: values must not decrease (min <= default <= max)'),
    ({'net.ipv4.ip_local_port_range': [65000, 1024]}, 'settings: net.ipv4.ip_local_port_range: 65000 1024: low must not be above high'),
    ({'net.ipv4.ip_local_port_range': [0, 1024]}, 'settings: net.ipv4.ip_local_port_range: 0 is out of range 1..65535'),
    ({'net.ipv4.ip_local_port_range': [1024, 70000]}, 'settings: net.ipv4.ip_local_port_range: 70000 is out of range 1..65535'),
    ({'net.ipv4.ip_local_port_range': '1024'}, "settings: net.ipv4.ip_local_port_range: '1024' must be two ports, \"low high\""),
    ({'net.ipv4.ip_local_reserved_ports': [[9010, 9000]]}, 'settings: net.ipv4.ip_local_reserved_ports: range 9010-9000: low must not be above high'),
    ({'net.ipv4.tcp_congestion_control': 'bbr\nnet.ipv4.tcp_syncookies=0'},
     "settings: net.ipv4.tcp_congestion_control: 'bbr\\nnet.ipv4.tcp_syncookies=0' " + NOT_WORD),
    ({'net.ipv4.tcp_congestion_control': 'cubic#'}, "settings: net.ipv4.tcp_congestion_control: 'cubic#' " + NOT_WORD),
    ({'net.ipv4.tcp_congestion_control': 'a b'}, "settings: net.ipv4.tcp_congestion_control: 'a b' " + NOT_WORD),
    ({'net.ipv4.ip_conntrack_max': 1, 'net.netfilter.nf_conntrack_max': 2},
     'settings: net.netfilter.nf_conntrack_max is set twice (as net.ipv4.ip_conntrack_max and net.netfilter.nf_conntrack_max)'),
    ({'net.ipv4.tcp_fin_timeout': {'value': 30, 'because': 'x'}},
     'settings: net.ipv4.tcp_fin_timeout: unknown field because (known: guards, rationale, value, when)'),
    ({'net.ipv4.tcp_fin_timeout': {'value': 30, 'guards': {'when': 'x'}}},
     'settings: net.ipv4.tcp_fin_timeout: unknown guard when (known: allow_lower, kernel, reserve_listening_ports, unless)'),
    ({'net.ipv4.tcp_fin_timeout': {'value': 30, 'guards': {'kernel': '~4.12'}}},
     "settings: net.ipv4.tcp_fin_timeout: invalid kernel version specifier '~4.12': use clauses like '>=4.10' or '<4.12' separated by commas"),
    ({'net.ipv4.tcp_fin_timeout': {'value': 30, 'guards': {'unless': 'clients'}}},
     'settings: net.ipv4.tcp_fin_timeout: unless must be one of clients_behind_nat'),
    ({'net.ipv4.tcp_fin_timeout': {'value': 30, 'guards': {'reserve_listening_ports': True}}},
     'settings: net.ipv4.tcp_fin_timeout: reserve_listening_ports is true or false, on net.ipv4.ip_local_port_range only'),
    ({'net.ipv4.ip_local_port_range': [1000, 65000]},
     'nothing was changed: net.ipv4.ip_local_port_range: low port 1000 is below net.ipv4.ip_unprivileged_port_start (1024); '
     'the kernel refuses it'),
    ({'net.ipv4.ip_unprivileged_port_start': 40000},
     'nothing was changed: net.ipv4.ip_unprivileged_port_start: 40000 is above the low port 32768 of '
     'net.ipv4.ip_local_port_range; the kernel refuses it'),
]


@pytest.fixture
def host(tmp_path):
    proc = make_tree(tmp_path / 'proc', '6.18.44-fc-v657', initial=False)
    files = tmp_path / 'files'
    files.mkdir()
    (files / 'sysctl.d').mkdir()
    (files / 'sysctl.d' / '60-netops-tcp.conf').write_text('# an older drop-in\nnet.ipv4.tcp_fin_timeout = 45\n')
    args = {'proc_path': proc, 'sysctl_file': str(files / 'sysctl.d' / '60-netops-tcp.conf'),
            'modules_file': str(files / 'modules-load.d' / 'netops-tcp.conf'),
            'state_dir': str(files / 'state'), 'fact_path': str(files / 'facts.d' / 'netops_tcp.fact')}
    return tmp_path, args


@pytest.mark.parametrize('option', ['sysctl_file', 'modules_file', 'state_dir', 'fact_path'])
def test_a_destination_others_can_write_is_refused_before_anything_changes(run_module, host, option):
    root, args = host
    directory = args[option] if option == 'state_dir' else os.path.dirname(args[option])
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o777)
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, settings={'net.ipv4.tcp_fin_timeout': 30}))
    assert code == 1 and snapshot(root) == before
    assert result['msg'] == ('%s: %s is writable by everyone without the sticky bit: refused as a destination (any of '
                             'them could put a link or a file of their own where this run writes); nothing was changed'
                             % (option, directory))


@pytest.mark.parametrize('settings, message', BAD)
def test_bad_input_names_key_and_rule_and_changes_nothing(run_module, host, settings, message):
    root, args = host
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, settings=settings))
    assert code == 1 and result['msg'] == message
    assert snapshot(root) == before


def test_unavailable_keys_fail_when_asked(run_module, host):
    root, args = host
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, on_unavailable='fail',
                                                     settings={'net.ipv4.tcp_fin_timeout': 30, 'net.ipv4.tcp_mem': [1, 2, 3]}))
    assert code == 1
    assert result['msg'] == ('nothing was changed: net.ipv4.tcp_mem: cannot be set here: '
                             'host-global: set it on the host, not inside a network namespace')
    assert snapshot(root) == before


def test_relative_paths_are_refused(run_module, host):
    root, args = host
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, sysctl_file='sysctl.d/x.conf', settings={'net.core.somaxconn': 1}))
    assert code == 1 and result['msg'] == "sysctl_file: 'sysctl.d/x.conf' must be an absolute path"
    assert snapshot(root) == before


def test_apply_check_diff_rerun_and_absent(run_module, host):
    root, args = host
    settings = {'net.ipv4.tcp_fin_timeout': 30, 'net.ipv4.tcp_rmem': '4096 131072 67108864', 'net.ipv4.tcp_mem': [1, 2, 3]}
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, settings=settings, _ansible_check_mode=True, _ansible_diff=True))
    assert code == 0 and result['changed'] is True
    assert snapshot(root) == before  # check mode wrote nothing
    assert 'net.ipv4.tcp_fin_timeout = 30' in result['diff'][0]['after']
    assert result['diff'][1]['before'].startswith('# an older drop-in')

    code, result = run_module(sysctl_tune.main, dict(args, settings=settings, profile={'name': 'p', 'version': 3, 'checksum': 'abc'}))
    assert code == 0 and result['changed'] is True
    assert [a['key'] for a in result['applied']] == ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_rmem']
    assert result['skipped_keys'] == {'net.ipv4.tcp_mem': 'host-global: set it on the host, not inside a network namespace'}
    proc = args['proc_path']
    with open(os.path.join(proc, 'sys/net/ipv4/tcp_fin_timeout')) as handle:
        assert handle.read() == '30\n'
    with open(args['sysctl_file']) as handle:
        assert handle.read() == (
            '# Managed by netops.tcp (sysctl_tune). Do not edit: changes are overwritten.\n'
            '# profile: p  version: 3  checksum: abc\n'
            '# skipped net.ipv4.tcp_mem: host-global: set it on the host, not inside a network namespace\n'
            'net.ipv4.tcp_fin_timeout = 30\n'
            'net.ipv4.tcp_rmem = 4096 131072 67108864\n')
    with open(args['fact_path']) as handle:
        fact = json.load(handle)
    assert fact['profile'] == 'p' and fact['applied'] == {'net.ipv4.tcp_fin_timeout': '30',
                                                          'net.ipv4.tcp_rmem': '4096 131072 67108864'}

    code, result = run_module(sysctl_tune.main, dict(args, settings=settings, profile={'name': 'p', 'version': 3, 'checksum': 'abc'}))
    assert code == 0 and result['changed'] is False

    code, result = run_module(sysctl_tune.main, dict(args, state='absent'))
    assert code == 0 and result['changed'] is True
    assert [r['key'] for r in result['restored']] == ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_rmem']
    after = snapshot(root)
    # Live values back; our three files gone (the older drop-in was ours to replace, so it goes too).
    for path, data in before.items():
        if '/proc/' in path:
            assert after[path].split() == data.split(), path
    assert not any(p.endswith(('60-netops-tcp.conf', 'netops_tcp.fact', 'state.json')) for p in after)


def test_fault_mid_apply_leaves_host_as_it_was(run_module, host, monkeypatch):
    root, args = host
    from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
    real_write = planning.Host.write

    def flaky(self, step, text):
        if step['name'] == 'net.ipv4.tcp_rmem':
            raise OSError(22, 'Invalid argument')
        real_write(self, step, text)

    monkeypatch.setattr(planning.Host, 'write', flaky)
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, settings={
        'net.ipv4.tcp_fin_timeout': 30, 'net.ipv4.tcp_keepalive_time': 600, 'net.ipv4.tcp_rmem': [4096, 131072, 67108864]}))
    assert code == 1
    assert result['msg'] == ('writing net.ipv4.tcp_rmem = 4096 131072 67108864 failed: Invalid argument; '
                             'put back: net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_time')
    after = snapshot(root)
    assert sorted(after) == sorted(before)
    for path in before:
        assert after[path].split() == before[path].split(), path


def test_a_value_the_kernel_clamps_is_reported(run_module, host, monkeypatch):
    _root, args = host
    from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
    real_write = planning.Host.write

    def clamping(self, step, text):
        real_write(self, step, '65535' if step['name'] == 'net.core.somaxconn' else text)

    monkeypatch.setattr(planning.Host, 'write', clamping)
    code, result = run_module(sysctl_tune.main, dict(args, settings={'net.core.somaxconn': 100000, 'net.ipv4.tcp_fin_timeout': 30}))
    assert code == 0
    assert result['mismatches'] == [{'key': 'net.core.somaxconn', 'wanted': '100000', 'live': '65535'}]


def test_backup_keeps_the_previous_drop_in(run_module, host):
    _root, args = host
    code, result = run_module(sysctl_tune.main, dict(args, backup=True, settings={'net.ipv4.tcp_fin_timeout': 30}))
    assert code == 0 and result['changed']
    with open(result['backup_file']) as handle:
        assert handle.read() == '# an older drop-in\nnet.ipv4.tcp_fin_timeout = 45\n'
    with open(args['sysctl_file']) as handle:
        assert 'net.ipv4.tcp_fin_timeout = 30\n' in handle.read()


def test_absent_reports_an_original_it_cannot_put_back(run_module, host):
    root, args = host
    code, result = run_module(sysctl_tune.main, dict(args, settings={'net.ipv4.tcp_fin_timeout': 30, 'net.core.somaxconn': 8192}))
    assert code == 0 and result['changed']
    os.chmod(os.path.join(args['proc_path'], 'sys/net/core/somaxconn'), 0o444)  # read-only now
    code, result = run_module(sysctl_tune.main, dict(args, state='absent'))
    assert code == 0
    assert [r['key'] for r in result['restored']] == ['net.ipv4.tcp_fin_timeout']
    assert result['skipped_keys'] == {'net.core.somaxconn': 'cannot put back the original value 4096: read-only here'}


def _bad_json(text):
    try:
        json.loads(text)
    except ValueError as exc:
        return str(exc)


DAMAGED = [
    ('', 'it is empty'),
    ('\n', 'it is empty'),
    ('{"managed": [], "originals": {"net.ipv4.tcp_fin_timeout": "60"', 'it is not valid JSON: %s'
     % _bad_json('{"managed": [], "originals": {"net.ipv4.tcp_fin_timeout": "60"')),
    ('{not json', 'it is not valid JSON: %s' % _bad_json('{not json')),
    ('[]', 'it is not a JSON object'),
    ('{"originals": {}}', "'managed' is missing"),
    ('{"originals": [], "managed": []}', "'originals' is not a dict"),
    ('{"format": 2, "originals": {}, "managed": []}', 'format 2 is not 1: written by another version of netops.tcp'),
    ('{"originals": {"net.ipv4.tcp_fin_timeout": "60\\nnet.ipv4.tcp_syncookies = 0"}, "managed": []}',
     "a saved value breaks a rule: net.ipv4.tcp_fin_timeout: '60\\nnet.ipv4.tcp_syncookies = 0' must be one line of "
     "text without \"=\", \"#\", \";\" or runs of spaces"),
    ('{"originals": {"net.ipv4.tcp_fin_timeout": "0"}, "managed": []}',
     'a saved value breaks a rule: net.ipv4.tcp_fin_timeout: 0 is out of range 1..2147483'),
    ('{"originals": {"net.ipv4.tcp_made_up": "1"}, "managed": []}',
     'net.ipv4.tcp_made_up: not in the netops.tcp catalog (set allow_unknown_keys if you tuned it with that)'),
    ('{"originals": {"../../etc/shadow": "1"}, "managed": []}',
     "a saved value breaks a rule: sysctl key '../../etc/shadow': each part must be letters, digits, \"_\", \"-\" or "
     "\":\", and no part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)"),
    ('{"originals": {}, "managed": ["net.ipv4.ip_conntrack_max"]}',
     "a saved value breaks a rule: sysctl key 'net.ipv4.ip_conntrack_max': not a canonical name"),
    ('{"originals": {}, "managed": [], "created": ["etc/x"]}', "'created' is not a list of absolute directory paths"),
]


@pytest.mark.parametrize('state', ['present', 'absent'])
@pytest.mark.parametrize('text, problem', DAMAGED)
def test_a_damaged_state_is_never_taken_as_no_state(run_module, host, text, problem, state):
    root, args = host
    os.makedirs(args['state_dir'])
    path = os.path.join(args['state_dir'], 'state.json')
    with open(path, 'w') as handle:
        handle.write(text)
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, state=state, settings={'net.ipv4.tcp_fin_timeout': 30}
                                                     if state == 'present' else {}))
    assert code == 1
    assert result['msg'] == (
        '%s cannot be used (%s). It holds the values from before the first tuning, so nothing was changed. Put back '
        'a good copy of it, or run with reset_state=true to set it aside and take the current live values as the '
        'originals.' % (path, problem))
    after = snapshot(root)
    assert after.pop(os.path.join(args['state_dir'], 'lock')) == b''
    assert after == before


def test_an_unreadable_state_is_not_taken_as_no_state(run_module, host):
    root, args = host
    state = os.path.join(args['state_dir'], 'state.json')
    os.makedirs(state)
    code, result = run_module(sysctl_tune.main, dict(args, settings={'net.ipv4.tcp_fin_timeout': 30}))
    assert code == 1
    assert result['msg'].startswith('%s cannot be used (%s is a directory, not a regular file: not read).' % (state, state))


def test_reset_state_sets_the_damaged_file_aside_and_starts_over(run_module, host):
    root, args = host
    os.makedirs(args['state_dir'])
    path = os.path.join(args['state_dir'], 'state.json')
    with open(path, 'w') as handle:
        handle.write('{"originals": {"net.ipv4.tcp_fin')
    code, result = run_module(sysctl_tune.main, dict(args, reset_state=True, settings={'net.ipv4.tcp_fin_timeout': 30}))
    assert code == 0 and result['changed']
    aside = [n for n in os.listdir(args['state_dir']) if n.startswith('state.json.damaged-')]
    assert len(aside) == 1
    with open(os.path.join(args['state_dir'], aside[0])) as handle:
        assert handle.read() == '{"originals": {"net.ipv4.tcp_fin'
    warning = result['warnings'][0]
    warning = warning['event']['msg'] if isinstance(warning, dict) else warning  # ansible-core 2.19 wraps it
    assert warning.startswith('%s was damaged (it is not valid JSON: ' % path)
    assert warning.endswith('): set aside as %s; the current live values are taken as the originals'
                            % os.path.join(args['state_dir'], aside[0]))
    with open(path) as handle:
        assert json.load(handle)['originals'] == {'net.ipv4.tcp_fin_timeout': '60'}


def test_an_unparseable_kernel_release_is_a_clear_error(run_module, host):
    root, args = host
    with open(os.path.join(args['proc_path'], 'sys/kernel/osrelease'), 'w') as handle:
        handle.write('garbage\n')
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, settings={'net.ipv4.tcp_fin_timeout': 30}))
    assert code == 1
    assert result['msg'] == "cannot parse kernel release 'garbage': expected MAJOR[.MINOR[.PATCH]][-extra]"
    assert snapshot(root) == before


def test_check_mode_waits_for_a_run_in_progress(run_module, host):
    import fcntl
    root, args = host
    code, _result = run_module(sysctl_tune.main, dict(args, settings={'net.ipv4.tcp_fin_timeout': 30}))
    assert code == 0
    with open(os.path.join(args['state_dir'], 'lock')) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        before = snapshot(root)
        code, result = run_module(sysctl_tune.main, dict(args, lock_timeout=0, _ansible_check_mode=True,
                                                         settings={'net.ipv4.tcp_fin_timeout': 20}))
        assert code == 1
        assert result['msg'] == ('another netops.tcp run holds the lock %s/lock (holder unknown); waited 0 s and changed '
                                 'nothing. Run again when it has finished, or raise lock_timeout' % args['state_dir'])
        assert snapshot(root) == before


def test_check_mode_on_a_fresh_host_creates_nothing(run_module, host):
    root, args = host
    before = snapshot(root)
    code, result = run_module(sysctl_tune.main, dict(args, _ansible_check_mode=True, settings={'net.ipv4.tcp_fin_timeout': 20}))
    assert code == 0 and result['changed']
    assert snapshot(root) == before and not os.path.exists(args['state_dir'])


def test_a_saved_original_is_never_replaced(run_module, host):
    root, args = host
    proc = args['proc_path']
    for value in (30, 20, 10):
        code, result = run_module(sysctl_tune.main, dict(args, settings={'net.ipv4.tcp_fin_timeout': value}))
        assert code == 0
        with open(os.path.join(args['state_dir'], 'state.json')) as handle:
            assert json.load(handle)['originals'] == {'net.ipv4.tcp_fin_timeout': '60'}
    code, result = run_module(sysctl_tune.main, dict(args, state='absent'))
    with open(os.path.join(proc, 'sys/net/ipv4/tcp_fin_timeout')) as handle:
        assert handle.read() == '60\n'
    assert not os.path.exists(args['state_dir'])


def _listen(proc, ports):
    rows = ''.join('   %d: 00000000:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 %d 1\n'
                   % (i, port, 1000 + i) for i, port in enumerate(ports))
    with open(os.path.join(proc, 'net', 'tcp'), 'a') as handle:
        handle.write(rows)


def test_adjacent_listening_ports_are_reserved_as_the_kernel_prints_them(run_module, host):
    _root, args = host
    _listen(args['proc_path'], [8080, 8081, 9000, 22])
    settings = {'net.ipv4.ip_local_port_range': {'value': [1024, 65000], 'guards': {'reserve_listening_ports': True}}}
    code, result = run_module(sysctl_tune.main, dict(args, settings=settings))
    assert code == 0, result
    assert {'key': 'net.ipv4.ip_local_reserved_ports', 'before': '', 'after': '8080-8081,9000'} in result['applied']
    assert result['mismatches'] == []
    with open(args['sysctl_file']) as handle:
        assert 'net.ipv4.ip_local_reserved_ports = 8080-8081,9000\n' in handle.read()
    code, result = run_module(sysctl_tune.main, dict(args, settings=settings))
    assert code == 0 and result['changed'] is False


def test_a_kernel_that_reformats_a_port_list_is_not_a_change(run_module, host):
    _root, args = host
    settings = {'net.ipv4.ip_local_reserved_ports': [8080, 8081, [9005, 9020], [9000, 9010]]}
    code, result = run_module(sysctl_tune.main, dict(args, settings=settings))
    assert code == 0 and result['applied'][0]['after'] == '8080-8081,9000-9020'
    path = os.path.join(args['proc_path'], 'sys/net/ipv4/ip_local_reserved_ports')
    with open(path, 'w') as handle:
        handle.write('8080-8081,9000-9020\n')
    code, result = run_module(sysctl_tune.main, dict(args, settings=settings))
    assert code == 0 and result['changed'] is False
