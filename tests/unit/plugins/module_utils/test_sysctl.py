# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import os

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl


def make_proc(root, release, values, readonly=()):
    """A fake /proc with sys/kernel/osrelease and the given /proc/sys values."""
    (root / 'sys' / 'kernel').mkdir(parents=True)
    (root / 'sys' / 'kernel' / 'osrelease').write_text(release + '\n')
    for key, text in values.items():
        path = root / 'sys' / key.replace('.', '/')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + '\n')
        if key in readonly:
            path.chmod(0o444)
    return str(root)


CHILD_NETNS_618 = {
    'net.ipv4.tcp_fin_timeout': '60',
    'net.ipv4.tcp_rmem': '4096\t131072\t33554432',
    'net.ipv4.ip_local_port_range': '32768\t60999',
    'net.netfilter.nf_conntrack_max': '262144',
    'net.core.somaxconn': '4096',
}


def test_child_netns_reasons(tmp_path):
    proc = make_proc(tmp_path, '6.18.44-fc-v657', CHILD_NETNS_618, readonly=['net.netfilter.nf_conntrack_max'])
    facts = sysctl.gather(proc)
    keys = facts['keys']
    assert facts['netns']['initial'] is False
    assert facts['kernel'] == {'release': '6.18.44-fc-v657', 'version': '6.18.44', 'mem_total': None}
    assert keys['net.ipv4.tcp_rmem']['value'] == [4096, 131072, 33554432]
    assert keys['net.ipv4.tcp_rmem']['raw'] == '4096 131072 33554432'
    assert keys['net.ipv4.ip_local_port_range']['value'] == [32768, 60999]
    assert keys['net.ipv4.tcp_mem'] == {'available': False, 'value': None, 'raw': None, 'writable': False,
                                        'name': None, 'reason': catalog.HOST_GLOBAL_REASON}
    assert keys['net.core.netdev_max_backlog']['reason'] == 'host-global: set it on the host, not inside a network namespace'
    assert keys['net.ipv4.tcp_tw_recycle']['reason'] == 'removed in Linux 4.12; this kernel is 6.18.44'
    conntrack = keys['net.netfilter.nf_conntrack_max']
    assert conntrack['available'] and not conntrack['writable']
    assert conntrack['reason'] == "read-only in a network namespace since Linux 5.13: the value is the host's"
    # A namespaced key absent for no catalogued reason.
    assert keys['net.ipv4.tcp_syncookies']['reason'] == 'absent: needs CONFIG_SYN_COOKIES'


def test_initial_netns_on_el7_uses_the_old_conntrack_name(tmp_path):
    proc = make_proc(tmp_path, '3.10.0-1160.el7.x86_64', {
        'net.core.netdev_max_backlog': '1000',
        'net.ipv4.tcp_tw_recycle': '0',
        'net.ipv4.netfilter.ip_conntrack_max': '65536',
        'net.ipv4.tcp_mem': '383610\t511481\t767220',
    })
    facts = sysctl.gather(proc)
    keys = facts['keys']
    assert facts['netns']['initial'] is True
    assert keys['net.ipv4.tcp_tw_recycle']['value'] == 0
    assert keys['net.netfilter.nf_conntrack_max']['value'] == 65536
    assert keys['net.netfilter.nf_conntrack_max']['name'] == 'net.ipv4.netfilter.ip_conntrack_max'
    assert keys['net.ipv4.tcp_mem']['value'] == [383610, 511481, 767220]
    assert keys['net.ipv4.ip_unprivileged_port_start']['reason'] == 'added in Linux 4.11; this kernel is 3.10.0'


def test_child_netns_on_4_9_names_host_global_keys(tmp_path):
    proc = make_proc(tmp_path, '4.9.0-rc3', {'net.ipv4.tcp_syncookies': '1'})
    keys = sysctl.gather(proc)['keys']
    # tcp_tw_reuse became per-netns in 4.10; tcp_tw_recycle was global until 4.11.
    assert keys['net.ipv4.tcp_tw_reuse']['reason'] == catalog.HOST_GLOBAL_REASON
    assert keys['net.ipv4.tcp_tw_recycle']['reason'] == catalog.HOST_GLOBAL_REASON


def test_unexpected_value_is_reported_not_raised(tmp_path):
    proc = make_proc(tmp_path, '6.1.0', {'net.ipv4.tcp_rmem': '4096 131072'})
    info = sysctl.gather(proc, ['net.ipv4.tcp_rmem'])['keys']['net.ipv4.tcp_rmem']
    assert info['value'] == '4096 131072'
    assert info['reason'] == ("unexpected value: net.ipv4.tcp_rmem: '4096 131072' has 2 values, "
                              "3 expected (min default max)")


def test_keys_and_globs(tmp_path):
    proc = make_proc(tmp_path, '6.1.0', {
        'net.ipv4.tcp_keepalive_time': '7200', 'net.ipv4.tcp_keepalive_intvl': '75',
        'net.ipv4.tcp_keepalive_probes': '9', 'net.ipv4.tcp_ecn_fallback': '2'})
    keys = sysctl.gather(proc, ['net.ipv4.tcp_keepalive_*', 'net/ipv4/tcp_ecn_fallback', 'net.ipv4.ip_conntrack_max'])['keys']
    assert list(keys) == ['net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
                          'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_ecn_fallback', 'net.netfilter.nf_conntrack_max']
    assert keys['net.ipv4.tcp_ecn_fallback']['value'] == '2'  # not in the catalog: normalised text
    assert keys['net.ipv4.tcp_keepalive_time']['value'] == 7200


@pytest.mark.parametrize('key', ['../../../etc/shadow', 'net/../../etc/passwd', 'net.ipv4.tcp_rmem\nx'])
def test_crafted_names_are_refused(tmp_path, key):
    proc = make_proc(tmp_path, '6.1.0', {})
    with pytest.raises(catalog.CatalogError) as exc:
        sysctl.gather(proc, [key])
    assert str(exc.value).startswith('sysctl key %r: ' % key)


def test_symlink_out_of_proc_sys_is_refused(tmp_path):
    proc = make_proc(tmp_path, '6.1.0', {})
    secret = tmp_path / 'secret'
    secret.write_text('s3cret')
    os.symlink(str(secret), os.path.join(proc, 'sys', 'leak'))
    with pytest.raises(catalog.CatalogError, match="resolves outside"):
        sysctl.read_key(proc, 'leak', None, True)


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_sources_follow_systemd_sysctl_order(tmp_path):
    etc_ours = write(tmp_path, 'etc/sysctl.d/60-netops-tcp.conf', '# ours\nnet.ipv4.tcp_fin_timeout = 30\n')
    write(tmp_path, 'usr/lib/sysctl.d/60-netops-tcp.conf', 'net.ipv4.tcp_fin_timeout = 99\n')  # masked by /etc
    vendor = write(tmp_path, 'usr/lib/sysctl.d/50-default.conf',
                   'net.ipv4.tcp_fin_timeout=45\n-net.ipv4.tcp_syncookies = 1\n; comment\nnot an assignment\n')
    late = write(tmp_path, 'run/sysctl.d/70-late.conf', 'net/ipv4/tcp_fin_timeout = 20\nnet.ipv4.tcp_keepalive_* = 600\n')
    conf = write(tmp_path, 'etc/sysctl.conf', 'net.ipv4.ip_conntrack_max = 196608\n')
    os.symlink('../../../etc/sysctl.conf', str(tmp_path / 'usr/lib/sysctl.d/99-sysctl.conf'))

    files = sysctl.boot_files(str(tmp_path))
    assert files == [vendor, etc_ours, late, str(tmp_path / 'usr/lib/sysctl.d/99-sysctl.conf')]
    keys = ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_syncookies', 'net.ipv4.tcp_keepalive_time',
            'net.netfilter.nf_conntrack_max']
    found, problems = sysctl.sources(keys, str(tmp_path))
    fin = found['net.ipv4.tcp_fin_timeout']
    assert [(f['file'], f['line'], f['value']) for f in fin['files']] == [(vendor, 1, '45'), (etc_ours, 2, '30'), (late, 1, '20')]
    assert (fin['boot_value'], fin['boot_file']) == ('20', late)
    assert found['net.ipv4.tcp_keepalive_time']['boot_value'] == '600'
    assert found['net.ipv4.tcp_syncookies']['boot_value'] == '1'
    assert found['net.netfilter.nf_conntrack_max']['boot_value'] == '196608'
    assert problems == ['%s: line 4: no "key = value"' % vendor]
    assert conf not in files  # read once, through the 99-sysctl.conf link


def test_sysctl_conf_without_link_is_read_last(tmp_path):
    write(tmp_path, 'etc/sysctl.d/99-zz.conf', 'net.ipv4.tcp_fin_timeout = 10\n')
    conf = write(tmp_path, 'etc/sysctl.conf', 'net.ipv4.tcp_fin_timeout = 15\n')
    found, _problems = sysctl.sources(['net.ipv4.tcp_fin_timeout'], str(tmp_path))
    assert found['net.ipv4.tcp_fin_timeout']['boot_file'] == conf


def test_what_loads_a_module_before_systemd_sysctl(tmp_path):
    root = tmp_path
    release = '6.12.48+deb13-amd64'
    assert sysctl.boot_modules(['nf_conntrack'], release, str(root)) == {'nf_conntrack': None}
    (root / 'usr/lib/modules-load.d').mkdir(parents=True)
    (root / 'usr/lib/modules-load.d/10-vendor.conf').write_text('# vendor\nbr_netfilter\n')
    assert sysctl.boot_modules(['nf_conntrack'], release, str(root)) == {'nf_conntrack': None}
    (root / 'etc/modules-load.d').mkdir(parents=True)
    (root / 'etc/modules-load.d/netfilter.conf').write_text('nf-conntrack  # the dash is the same name\n')
    assert sysctl.boot_modules(['nf_conntrack'], release, str(root)) == {
        'nf_conntrack': str(root / 'etc/modules-load.d/netfilter.conf')}
    (root / 'etc/modules-load.d/netfilter.conf').write_text('ip_vs\n')  # a module that needs it
    (root / 'lib/modules' / release).mkdir(parents=True)
    (root / 'lib/modules' / release / 'modules.dep').write_text(
        'kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko\n'
        'kernel/net/netfilter/nf_conntrack.ko: kernel/lib/libcrc32c.ko\n')
    assert sysctl.boot_modules(['nf_conntrack'], release, str(root)) == {
        'nf_conntrack': '%s (ip_vs needs it)' % (root / 'etc/modules-load.d/netfilter.conf')}
    (root / 'etc/modules-load.d/netfilter.conf').unlink()
    (root / 'lib/modules' / release / 'modules.builtin').write_text('kernel/net/netfilter/nf_conntrack.ko\n')
    assert sysctl.boot_modules(['nf_conntrack'], release, str(root)) == {'nf_conntrack': 'built into the kernel'}
