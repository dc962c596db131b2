# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_tune's modules-load.d file: the kernel modules of applied keys (nf_conntrack for
net.netfilter.nf_conntrack_*) listed so they load before systemd-sysctl at boot, in the same
transaction as the drop-in. Against a fake /proc of an initial network namespace, where
nf_conntrack_max is writable, and modules-load.d directories under the test's own root."""

import datetime
import json
import os

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils.apply import _dropin as dropin
from ansible_collections.netops.tcp.plugins.modules import sysctl_tune

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree, snapshot

CONNTRACK = {'net.netfilter.nf_conntrack_max': 262144, 'net.ipv4.tcp_fin_timeout': 30}
PLAIN = {'net.ipv4.tcp_fin_timeout': 30}
LISTING = (
    '# Managed by netops.tcp (sysctl_tune). Do not edit: changes are overwritten.\n'
    '# Kernel modules that keys of the netops.tcp sysctl drop-in need: loaded at boot by\n'
    '# systemd-modules-load before systemd-sysctl applies the drop-in. Without them systemd-sysctl\n'
    "# skips those keys and the kernel's defaults come back (sysctl.d(5)).\n"
    '# nf_conntrack: net.netfilter.nf_conntrack_max\n'
    'nf_conntrack\n')


@pytest.fixture
def host(tmp_path, monkeypatch):
    """(root, args): /proc of an initial netns on 6.18, and the module's files under root/etc and root/var.
    systemd-modules-load's directories are the root's, so this machine's own never count."""
    root = tmp_path / 'root'
    proc = make_tree(root / 'proc', '6.18.44-fc-v657', initial=True)
    (root / 'etc' / 'sysctl.d').mkdir(parents=True)
    dirs = ('etc/modules-load.d', 'usr/lib/modules-load.d')
    monkeypatch.setattr(sysctl, 'MODULES_LOAD_DIRS', tuple(str(root / d) for d in dirs))
    args = {'proc_path': proc, 'sysctl_file': str(root / 'etc/sysctl.d/60-netops-tcp.conf'),
            'modules_file': str(root / 'etc/modules-load.d/netops-tcp.conf'),
            'state_dir': str(root / 'var/lib/netops-tcp'), 'fact_path': str(root / 'etc/ansible/facts.d/netops_tcp.fact')}
    return root, args


def run(run_module, args, **extra):
    code, result = run_module(sysctl_tune.main, dict(args, **extra))
    assert code == 0, result
    return result


def warnings_of(result):
    # ansible-core 2.19 wraps each warning in a dict
    return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]


def read(path):
    with open(path) as handle:
        return handle.read()


def test_a_conntrack_key_lists_its_module_check_diff_rerun_and_absent(run_module, host):
    root, args = host
    before = snapshot(root)
    result = run(run_module, args, settings=CONNTRACK, _ansible_check_mode=True, _ansible_diff=True)
    assert result['changed'] is True and snapshot(root) == before  # check mode wrote nothing
    shown = dict((d['before_header'], d) for d in result['diff'])
    assert shown[args['modules_file']]['before'] == '' and shown[args['modules_file']]['after'] == LISTING
    assert result['modules_file'] == args['modules_file']
    assert result['listed_modules'] == {'nf_conntrack': ['net.netfilter.nf_conntrack_max']}

    result = run(run_module, args, settings=CONNTRACK)
    assert result['changed'] is True and result['modules_file'] == args['modules_file']
    assert read(args['modules_file']) == LISTING
    assert os.stat(args['modules_file']).st_mode & 0o777 == 0o644
    assert 'net.netfilter.nf_conntrack_max = 262144\n' in read(args['sysctl_file'])
    assert json.loads(read(args['fact_path']))['modules_file'] == args['modules_file']
    assert result['record']['modules_file'] == args['modules_file']
    assert not any('nf_conntrack' in w for w in warnings_of(result))  # the file says it, no warning needed
    assert not [n for n in os.listdir(os.path.dirname(args['modules_file'])) if n != 'netops-tcp.conf']  # no temp left

    again = run(run_module, args, settings=CONNTRACK)  # our own file does not count as "loaded by something else"
    assert again['changed'] is False and again['modules_file'] == args['modules_file']
    assert read(args['modules_file']) == LISTING

    result = run(run_module, args, state='absent', _ansible_check_mode=True, _ansible_diff=True)
    assert result['changed'] is True and read(args['modules_file']) == LISTING
    assert dict((d['before_header'], d) for d in result['diff'])[args['modules_file']] == {
        'before_header': args['modules_file'], 'after_header': args['modules_file'], 'before': LISTING, 'after': ''}
    result = run(run_module, args, state='absent')
    assert result['changed'] is True and result['modules_file'] is None
    assert not os.path.exists(os.path.dirname(args['modules_file']))  # the directory the first tuning made went too
    after = snapshot(root)  # the host from before any tuning (values as the kernel prints them)
    assert sorted(after) == sorted(before)
    for path in before:
        assert after[path].split() == before[path].split(), path


def test_only_keys_in_effect_need_their_module(run_module, host, tmp_path):
    root, args = host
    # In a child network namespace nf_conntrack_max is read-only (skipped): no module is listed for it.
    child = make_tree(tmp_path / 'child', '6.18.44-fc-v657', initial=False)
    result = run(run_module, dict(args, proc_path=child), settings=CONNTRACK)
    assert 'net.netfilter.nf_conntrack_max' in result['skipped_keys']
    assert result['modules_file'] is None and not os.path.exists(args['modules_file'])
    assert json.loads(read(args['fact_path']))['modules_file'] is None


def test_a_module_something_else_loads_at_boot_needs_no_file(run_module, host):
    root, args = host
    vendor = root / 'usr/lib/modules-load.d'
    vendor.mkdir(parents=True)
    (vendor / '10-netfilter.conf').write_text('# the firewall\nnf-conntrack\n')
    result = run(run_module, args, settings=CONNTRACK)
    assert result['modules_file'] is None and result['listed_modules'] == {}
    assert not os.path.exists(args['modules_file'])
    assert result['record']['modules_file'] is None
    assert not any('nf_conntrack' in w for w in warnings_of(result))
    # Without the other file ours is written; with it back, ours goes (it would only repeat it).
    (vendor / '10-netfilter.conf').unlink()
    assert run(run_module, args, settings=CONNTRACK)['changed'] is True and read(args['modules_file']) == LISTING
    (vendor / '10-netfilter.conf').write_text('nf_conntrack\n')
    result = run(run_module, args, settings=CONNTRACK)
    assert result['changed'] is True and result['modules_file'] is None and not os.path.exists(args['modules_file'])
    assert json.loads(read(args['fact_path']))['modules_file'] is None
    assert run(run_module, args, settings=CONNTRACK)['changed'] is False


def test_a_version_without_the_key_removes_the_file_and_previous_puts_it_back(run_module, host, monkeypatch):
    root, args = host
    # The record's time stamp is the run's: one clock for every run, so the trees compare byte for byte
    # even when the runs straddle a second.
    monkeypatch.setattr(sysctl_tune, 'now', lambda: datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=datetime.UTC))
    run(run_module, args, settings=PLAIN, profile={'name': 'p', 'version': 1})
    assert not os.path.exists(args['modules_file'])
    on_v1 = snapshot(root)
    run(run_module, args, settings=CONNTRACK, profile={'name': 'p', 'version': 2})
    assert read(args['modules_file']) == LISTING
    on_v2 = snapshot(root)
    # v3 drops the key: its original comes back and the file goes.
    result = run(run_module, args, settings=PLAIN, profile={'name': 'p', 'version': 3})
    assert [r['key'] for r in result['restored']] == ['net.netfilter.nf_conntrack_max']
    assert result['modules_file'] is None and not os.path.exists(args['modules_file'])
    # previous undoes v3 (the file is back, byte for byte), then the state's one change is used up.
    result = run(run_module, args, state='previous', _ansible_diff=True)
    assert dict((d['before_header'], d) for d in result['diff'])[args['modules_file']]['after'] == LISTING
    state = os.path.join(args['state_dir'], 'state.json')
    now = snapshot(root)
    assert dict((p, b) for p, b in now.items() if p != state and '/proc/' not in p) == \
        dict((p, b) for p, b in on_v2.items() if p != state and '/proc/' not in p)
    # From v2 back to v1, whose set needs no module: previous removes the file.
    run(run_module, args, settings=CONNTRACK, profile={'name': 'p', 'version': 2})
    run(run_module, args, settings=PLAIN, profile={'name': 'p', 'version': 1})
    assert not os.path.exists(args['modules_file'])
    run(run_module, args, settings=CONNTRACK, profile={'name': 'p', 'version': 2})
    run(run_module, args, state='previous')
    assert not os.path.exists(args['modules_file'])
    assert dict((p, b) for p, b in snapshot(root).items() if p != state and '/proc/' not in p) == \
        dict((p, b) for p, b in on_v1.items() if p != state and '/proc/' not in p)


def test_turned_off_or_not_persisted_writes_no_file(run_module, host):
    root, args = host
    result = run(run_module, args, settings=CONNTRACK, modules_file='')
    assert result['modules_file'] is None and not os.path.exists(os.path.dirname(args['modules_file']))
    # Then the drop-in's nf_conntrack line is not safe at boot, and the run says so.
    assert ('net.netfilter.nf_conntrack_max: %s sets it, but nothing loads nf_conntrack at boot before systemd-sysctl: '
            "after a reboot the kernel's default comes back. List nf_conntrack in /etc/modules-load.d/"
            % args['sysctl_file']) in warnings_of(result)
    run(run_module, args, state='absent', modules_file='')
    result = run(run_module, args, settings=CONNTRACK, persist=False)
    assert result['modules_file'] is None and not os.path.exists(os.path.dirname(args['modules_file']))
    assert not any('nf_conntrack' in w for w in warnings_of(result))  # no drop-in written: nothing to warn about


def test_a_file_systemd_modules_load_does_not_read_is_warned_about(run_module, host):
    root, args = host
    elsewhere = str(root / 'etc/netops/netops-tcp.conf')
    result = run(run_module, args, settings=CONNTRACK, modules_file=elsewhere)
    assert read(elsewhere) == LISTING
    assert ('modules_file: systemd-modules-load does not read %s at boot (it reads the .conf files of %s, a name in an '
            'earlier directory masking the same name in later ones): the modules it lists are not loaded before '
            'systemd-sysctl' % (elsewhere, ', '.join(sysctl.MODULES_LOAD_DIRS))) in warnings_of(result)
    # Masked: a file of the same name in an earlier directory wins.
    masked = str(root / 'usr/lib/modules-load.d/netops-tcp.conf')
    (root / 'etc/modules-load.d').mkdir(parents=True)
    (root / 'etc/modules-load.d/netops-tcp.conf').write_text('# the admin\'s own\n')
    result = run(run_module, args, settings=CONNTRACK, modules_file=masked)
    assert any(w.startswith('modules_file: systemd-modules-load does not read %s at boot' % masked)
               for w in warnings_of(result))
    assert read(masked) == LISTING


def test_a_failure_renaming_the_modules_file_puts_everything_back(run_module, host, monkeypatch):
    root, args = host
    before = snapshot(root)
    real_rename = files.rename

    def failing(tmp, path, dir_fd=None, shown=None):
        if path == args['modules_file']:
            raise OSError(30, 'Read-only file system')
        real_rename(tmp, path, dir_fd, shown)

    monkeypatch.setattr(files, 'rename', failing)
    code, result = run_module(sysctl_tune.main, dict(args, settings=CONNTRACK))
    assert code == 1 and result['changed'] is False
    assert result['msg'] == ('renaming a staged file onto %s failed: Read-only file system; put back: '
                             'net.ipv4.tcp_fin_timeout, net.netfilter.nf_conntrack_max, %s'
                             % (args['modules_file'], args['sysctl_file']))
    after = snapshot(root)
    assert sorted(after) == sorted(before)  # no file, temporary file or directory left
    for path in before:
        assert after[path].split() == before[path].split(), path


def test_a_failure_after_the_modules_file_puts_it_back_as_it_was(run_module, host, monkeypatch):
    root, args = host
    run(run_module, args, settings=PLAIN)
    os.makedirs(os.path.dirname(args['modules_file']))
    with open(args['modules_file'], 'w') as handle:  # an older file of ours, as a run of another version left it
        handle.write('# older\nnf_conntrack\n')
    before = snapshot(root)
    real_rename = files.rename

    def failing(tmp, path, dir_fd=None, shown=None):
        if path == args['fact_path']:  # the record is renamed after the modules file
            raise OSError(28, 'No space left on device')
        real_rename(tmp, path, dir_fd, shown)

    monkeypatch.setattr(files, 'rename', failing)
    code, result = run_module(sysctl_tune.main, dict(args, settings=CONNTRACK))
    assert code == 1
    assert result['msg'].endswith('put back: net.netfilter.nf_conntrack_max, %s, %s'
                                  % (args['modules_file'], args['sysctl_file']))
    after = snapshot(root)
    assert read(args['modules_file']) == '# older\nnf_conntrack\n'
    assert sorted(after) == sorted(before)
    for path in before:
        assert after[path].split() == before[path].split(), path


def test_modules_to_load_ignores_our_own_file_and_counts_built_in_modules(tmp_path):
    root = tmp_path
    (root / 'etc/modules-load.d').mkdir(parents=True)
    ours = root / 'etc/modules-load.d/netops-tcp.conf'
    ours.write_text('nf_conntrack\n')
    values = {'net.netfilter.nf_conntrack_max': '262144', 'net.netfilter.nf_conntrack_tcp_timeout_established': '86400',
              'net.ipv4.tcp_fin_timeout': '30'}
    keys = ['net.netfilter.nf_conntrack_max', 'net.netfilter.nf_conntrack_tcp_timeout_established']
    assert dropin.modules_to_load(values, '6.18.0', str(ours), str(root)) == {'nf_conntrack': keys}
    assert dropin.modules_to_load(values, '6.18.0', None, str(root)) == {}  # not ours: it loads it
    (root / 'lib/modules/6.18.0').mkdir(parents=True)
    (root / 'lib/modules/6.18.0/modules.builtin').write_text('kernel/net/netfilter/nf_conntrack.ko\n')
    assert dropin.modules_to_load(values, '6.18.0', str(ours), str(root)) == {}
    assert dropin.modules_to_load({'net.ipv4.tcp_fin_timeout': '30'}, '6.18.0', str(ours), str(root)) == {}
