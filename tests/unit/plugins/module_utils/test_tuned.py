# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TuneD as another owner of the same sysctls: its active profile read from its files, and where
its writes fall among systemd-sysctl's at boot."""

import os

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils.apply import _dropin as dropin
from ansible_collections.netops.tcp.plugins.module_utils.gather import _tuned as tuned

RMEM = 'net.ipv4.tcp_rmem'
FIN = 'net.ipv4.tcp_fin_timeout'
KEYS = [RMEM, FIN, 'net.core.somaxconn']


def write(root, path, text):
    target = root / path.lstrip('/')
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return str(target)


@pytest.fixture
def host(tmp_path):
    """A host whose TuneD profile `child` includes `parent`, beside our drop-in and a vendor file."""
    write(tmp_path, '/usr/lib/tuned/parent/tuned.conf',
          '[main]\nsummary=parent\n\n[sysctl]\nnet.ipv4.tcp_rmem="4096 87380 6291456"\nvm.dirty_ratio = 40\n')
    write(tmp_path, '/usr/lib/tuned/child/tuned.conf',
          '#\n[main]\ninclude=parent\n\n[sysctl]\n# bigger buffers\nnet.ipv4.tcp_rmem="4096 87380 16777216"\n'
          'net.core.somaxconn=>8192\n\n[sysctl.arm]\ntype=sysctl\nuname_regex=aarch64\nnet.ipv4.tcp_fin_timeout=10\n')
    write(tmp_path, '/etc/tuned/active_profile', 'child\n')
    write(tmp_path, '/etc/tuned/tuned-main.conf', '# reapply\nreapply_sysctl = 0\n')
    (tmp_path / 'etc/systemd/system/multi-user.target.wants').mkdir(parents=True)
    os.symlink('/lib/systemd/system/tuned.service', str(tmp_path / 'etc/systemd/system/multi-user.target.wants/tuned.service'))
    write(tmp_path, '/etc/sysctl.d/60-netops-tcp.conf', 'net.ipv4.tcp_rmem = 4096 131072 16777216\nnet.ipv4.tcp_fin_timeout = 30\n')
    write(tmp_path, '/usr/lib/sysctl.d/99-vendor.conf', 'net.ipv4.tcp_fin_timeout = 45\n')
    return tmp_path


def test_the_active_profile_and_its_include_chain(host):
    state = tuned.state(str(host))
    assert state['profiles'] == ['child'] and state['enabled'] is True
    assert (state['reapply_sysctl'], state['reapply_sysctl_exclude']) == (False, [])
    assert state['files'] == [str(host / 'usr/lib/tuned/parent/tuned.conf'), str(host / 'usr/lib/tuned/child/tuned.conf')]
    assert state['sysctl'][RMEM] == {'value': '4096 87380 16777216', 'profile': 'child', 'line': 7, 'conditional': False,
                                     'file': str(host / 'usr/lib/tuned/child/tuned.conf')}  # the child overrides its parent
    assert state['sysctl']['vm.dirty_ratio']['profile'] == 'parent'
    assert state['sysctl']['net.core.somaxconn']['conditional'] is True  # ">": only if it raises the value
    assert state['sysctl'][FIN]['conditional'] is True                   # uname_regex: only on aarch64
    assert state['problems'] == []


def test_no_active_profile_is_no_tuned(host):
    write(host, '/etc/tuned/active_profile', '\n')
    assert tuned.state(str(host)) is None


def test_an_etc_profile_masks_the_packaged_one_and_a_missing_one_is_a_problem(host):
    write(host, '/etc/tuned/child/tuned.conf', '[sysctl]\nnet.ipv4.tcp_rmem=4096 87380 8388608\n')
    write(host, '/etc/tuned/active_profile', 'child missing\n')
    state = tuned.state(str(host))
    assert state['sysctl'][RMEM]['value'] == '4096 87380 8388608' and state['files'] == [str(host / 'etc/tuned/child/tuned.conf')]
    assert state['problems'] == ['TuneD profile missing: no tuned.conf under /usr/lib/tuned, /etc/tuned, where this '
                                 'TuneD looks: it applies nothing of it']


def test_tuned_2_23_and_later_look_only_in_their_profiles_directories(host):
    # TuneD 2.25 (Debian 13) never loads /etc/tuned/NAME: seen in the VM tier, its daemon logged
    # "Requested profile 'netops-vm' doesn't exist" and set nothing.
    write(host, '/usr/lib/tuned/profiles/balanced/tuned.conf', '[sysctl]\nnet.core.somaxconn=1024\n')
    write(host, '/etc/tuned/netops-vm/tuned.conf', '[sysctl]\nnet.ipv4.tcp_keepalive_time=900\n')
    write(host, '/etc/tuned/active_profile', 'netops-vm\n')
    state = tuned.state(str(host))
    assert state['sysctl'] == {} and state['files'] == []
    assert state['problems'] == ['TuneD profile netops-vm: no tuned.conf under /usr/lib/tuned/profiles, '
                                 '/etc/tuned/profiles, where this TuneD looks: it applies nothing of it']
    write(host, '/etc/tuned/profiles/netops-vm/tuned.conf', '[sysctl]\nnet.ipv4.tcp_keepalive_time=900\n')
    assert tuned.state(str(host))['sysctl']['net.ipv4.tcp_keepalive_time']['value'] == '900'
    # profile_dirs in tuned-main.conf replaces the list; the last directory that has the profile wins.
    write(host, '/etc/tuned/tuned-main.conf', 'profile_dirs = /etc/tuned/profiles, /etc/tuned\n')
    assert tuned.state(str(host))['files'] == [str(host / 'etc/tuned/netops-vm/tuned.conf')]


def test_without_reapply_tuned_writes_last_and_wins(host):
    found, problems = sysctl.sources(KEYS, str(host))
    assert problems == []
    rmem = found[RMEM]
    assert [(w['owner'], w['value']) for w in rmem['writers']] == [
        ('systemd-sysctl', '4096 131072 16777216'), ('tuned', '4096 87380 16777216')]
    assert (rmem['boot_owner'], rmem['boot_value'], rmem['boot_file']) == (
        'tuned', '4096 87380 16777216', str(host / 'usr/lib/tuned/child/tuned.conf'))
    assert rmem['files'] == [{'file': str(host / 'etc/sysctl.d/60-netops-tcp.conf'), 'line': 1, 'value': '4096 131072 16777216'}]
    # A conditional TuneD write is listed, but boot gives the last sure one: the vendor file's.
    fin = found[FIN]
    assert [w['owner'] for w in fin['writers']] == ['systemd-sysctl', 'systemd-sysctl', 'tuned']
    assert (fin['boot_owner'], fin['boot_value']) == ('systemd-sysctl', '45')


def test_with_reapply_the_etc_files_come_back_after_tuned(host):
    write(host, '/etc/tuned/tuned-main.conf', 'reapply_sysctl = 1\n')
    found, _problems = sysctl.sources(KEYS, str(host))
    assert [w['owner'] for w in found[RMEM]['writers']] == ['systemd-sysctl', 'tuned', 'tuned reapply_sysctl']
    assert (found[RMEM]['boot_owner'], found[RMEM]['boot_value']) == ('tuned reapply_sysctl', '4096 131072 16777216')
    # TuneD re-applies /etc and /run only: our 60 file then comes after the /usr/lib vendor file.
    assert (found[FIN]['boot_owner'], found[FIN]['boot_value']) == ('tuned reapply_sysctl', '30')
    write(host, '/etc/tuned/tuned-main.conf', 'reapply_sysctl = 1\nreapply_sysctl_exclude = net.ipv4.tcp_r*\n')
    found, _problems = sysctl.sources(KEYS, str(host))
    assert found[RMEM]['boot_owner'] == 'tuned'


def test_a_tuned_that_does_not_start_at_boot_writes_nothing(host):
    os.unlink(str(host / 'etc/systemd/system/multi-user.target.wants/tuned.service'))
    found, _problems = sysctl.sources(KEYS, str(host))
    assert [w['owner'] for w in found[RMEM]['writers']] == ['systemd-sysctl']


def test_sysctl_tune_warns_of_tuned_before_writing(host):
    # Our drop-in as it will be (the file on disk is not read for it), at the host's real path.
    ours = str(host / 'etc/sysctl.d/60-netops-tcp.conf')
    os.unlink(ours)
    values = {RMEM: '4096 131072 16777216', 'net.core.somaxconn': '4096'}
    assert dropin.later_overrides(values, ours, str(host)) == [
        'net.core.somaxconn: TuneD profile child (%s line 8) sets >8192 after %s at boot, overriding it (when its '
        'condition holds)' % (host / 'usr/lib/tuned/child/tuned.conf', ours),
        'net.ipv4.tcp_rmem: TuneD profile child (%s line 7) sets 4096 87380 16777216 after %s at boot, overriding it'
        % (host / 'usr/lib/tuned/child/tuned.conf', ours)]
    write(host, '/etc/tuned/tuned-main.conf', 'reapply_sysctl = 1\n')
    assert dropin.later_overrides(values, ours, str(host)) == []
