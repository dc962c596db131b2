# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply/_plan: the decision per key (kernel, namespace and NAT guards, capacity limits that are only
raised, keys put back) and the order of the writes the kernel accepts."""

import pytest
from hypothesis import given, strategies as st

from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
from ansible_collections.netops.tcp.plugins.module_utils.model import _settings as settings

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree


def incident(version=1):
    return settings.normalise(profiles.resolve('ad_backend_incident', version)['settings'])


# (release, initial netns?, tcp_tw_recycle decision with clients_behind_nat=false, tcp_tw_reuse decision)
GUARD_TABLE = [
    ('3.10.0-1160.el7.x86_64', True, 'apply', 'apply'),
    ('3.10.0-1160.el7.x86_64', False, 'host-global', 'host-global'),
    ('4.9.0-rc3', True, 'apply', 'apply'),
    ('4.9.80', False, 'host-global', 'host-global'),
    ('4.11.12', False, 'apply', 'apply'),        # tw_recycle per-netns only in 4.11
    ('4.12.0', True, 'kernel', 'apply'),
    ('4.19.0-26-amd64', False, 'kernel', 'apply'),
    ('5.4.0-150-generic', True, 'kernel', 'apply'),
    ('5.15.0-1051-aws', False, 'kernel', 'apply'),
    ('6.18.44-fc-v657', False, 'kernel', 'apply'),
]


def decision(plan, key):
    if key in plan.apply:
        return 'apply'
    reason = plan.skipped.get(key, '')
    if reason.startswith('host-global'):
        return 'host-global'
    if reason.startswith('needs Linux <4.12'):
        return 'kernel'
    return reason or ('unchanged' if key in plan.unchanged else 'missing')


@pytest.mark.parametrize('release, initial, recycle, reuse', GUARD_TABLE)
def test_kernel_and_namespace_guards(tmp_path, release, initial, recycle, reuse):
    host = planning.Host(make_tree(tmp_path, release, initial))
    plan = planning.decide(host, incident(1), clients_behind_nat=False)
    assert plan.errors == []
    assert decision(plan, 'net.ipv4.tcp_tw_recycle') == recycle
    assert decision(plan, 'net.ipv4.tcp_tw_reuse') == reuse
    if recycle == 'kernel':
        assert plan.skipped['net.ipv4.tcp_tw_recycle'] == 'needs Linux <4.12; this kernel is %s' % host.release
    # Host-global keys are skipped in a child namespace, applied in the initial one.
    assert decision(plan, 'net.ipv4.tcp_max_orphans') == ('apply' if initial else 'host-global')
    # tcp_mem was per-netns on 3.10; global from 3.13.
    mem = decision(plan, 'net.ipv4.tcp_mem')
    assert mem == ('apply' if initial or release.startswith('3.10') else 'host-global')


@pytest.mark.parametrize('release', ['3.10.0-1160.el7.x86_64', '4.11.12'])
def test_nat_guard_skips_tw_recycle(tmp_path, release):
    host = planning.Host(make_tree(tmp_path, release, True))
    plan = planning.decide(host, incident(1), clients_behind_nat=True)
    assert plan.skipped['net.ipv4.tcp_tw_recycle'] == (
        'clients may be behind NAT (clients_behind_nat is true): it would drop their connections')


def test_read_only_conntrack_in_a_child_namespace(tmp_path):
    host = planning.Host(make_tree(tmp_path, '5.15.0-1051-aws', False))
    plan = planning.decide(host, incident(1))
    assert plan.skipped['net.netfilter.nf_conntrack_max'] == (
        "read-only in a network namespace since Linux 5.13: the value is the host's")


def test_port_range_below_unprivileged_start_is_refused(tmp_path):
    root = tmp_path / 'proc'
    make_tree(root, '6.1.0', False)
    host = planning.Host(str(root))
    plan = planning.decide(host, settings.normalise({'net.ipv4.ip_local_port_range': [1000, 65000]}))
    assert plan.errors == ['net.ipv4.ip_local_port_range: low port 1000 is below net.ipv4.ip_unprivileged_port_start '
                           '(1024); the kernel refuses it']


@given(st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535))
def test_port_writes_never_pass_through_a_state_the_kernel_refuses(a, b, c, d):
    """The kernel refuses ip_unprivileged_port_start above the port range's low end (and the reverse):
    from any valid pair to any valid pair, every intermediate state stays valid."""
    old_unpriv, old_low = min(a, b), max(a, b)
    new_unpriv, new_low = min(c, d), max(c, d)
    steps = [(planning.UNPRIVILEGED, {'before': str(old_unpriv), 'after': str(new_unpriv)}),
             (planning.PORT_RANGE, {'before': '%d 65535' % old_low, 'after': '%d 65535' % new_low})]
    live = {planning.UNPRIVILEGED: old_unpriv, planning.PORT_RANGE: old_low}
    for key, step in planning.write_order(steps):
        live[key] = int(step['after'].split()[0])
        assert live[planning.UNPRIVILEGED] <= live[planning.PORT_RANGE], (steps, key)


def test_reserved_ports_go_before_a_range_widens_and_after_it_narrows():
    reserved = (planning.RESERVED, {'before': '', 'after': '8080'})
    widen = (planning.PORT_RANGE, {'before': '32768 60999', 'after': '1024 65000'})
    narrow = (planning.PORT_RANGE, {'before': '1024 65000', 'after': '32768 60999'})
    other = ('net.core.somaxconn', {'before': '4096', 'after': '8192'})
    assert [k for k, _s in planning.write_order([other, widen, reserved])] == [planning.RESERVED, planning.PORT_RANGE, 'net.core.somaxconn']
    assert [k for k, _s in planning.write_order([reserved, narrow, other])] == [planning.PORT_RANGE, planning.RESERVED, 'net.core.somaxconn']


@pytest.mark.parametrize('release, rmem', [('6.15.9', 'apply'), ('6.16.0', 'restore'), ('6.18.44-fc-v657', 'restore')])
def test_a_key_the_new_version_skips_on_this_kernel_gets_its_original_back(tmp_path, release, rmem):
    # ad_backend_incident v2 set tcp_rmem; v3 sets it before 6.16 only.
    host = planning.Host(make_tree(tmp_path, release, False))
    (tmp_path / 'sys/net/ipv4/tcp_rmem').write_text('4096\t131072\t16777216\n')
    original = '4096 131072 %d' % (6291456 if rmem == 'apply' else 33554432)  # the kernel's own maximum there
    plan = planning.decide(host, incident(3), originals={'net.ipv4.tcp_rmem': original}, managed=['net.ipv4.tcp_rmem'])
    if rmem == 'apply':
        assert 'net.ipv4.tcp_rmem' in plan.unchanged and 'net.ipv4.tcp_rmem' not in plan.restore
        return
    assert plan.skipped['net.ipv4.tcp_rmem'] == 'needs Linux <6.16; this kernel is %s' % host.release
    assert plan.restore['net.ipv4.tcp_rmem']['after'] == original


def test_a_limit_an_earlier_version_lowered_comes_back_up(tmp_path):
    # v3 on a 6.18 host with its own 32 MB maximum once wrote 16 MB (before netops.tcp kept limits): v4 asks
    # for the same 16 MB, which holds live, yet lies below what the host had: the original comes back.
    host = planning.Host(make_tree(tmp_path, '6.18.44-fc-v657', False))
    (tmp_path / 'sys/net/ipv4/tcp_rmem').write_text('4096\t131072\t16777216\n')
    plan = planning.decide(host, incident(4), originals={'net.ipv4.tcp_rmem': '4096 131072 33554432'},
                           managed=['net.ipv4.tcp_rmem'])
    assert plan.skipped['net.ipv4.tcp_rmem'].startswith('keeps a maximum of 33554432: a maximum of 16777216 would '
                                                        'lower a capacity limit below what this host had before its '
                                                        'first tuning')
    assert plan.restore['net.ipv4.tcp_rmem']['after'] == '4096 131072 33554432'


def test_an_original_from_before_a_kernel_upgrade_is_not_the_floor(tmp_path):
    # Saved on 6.12 (6 MB maximum); the host now runs 6.18 with 16 GB: its kernel gives 32 MB by itself.
    host = planning.Host(make_tree(tmp_path, '6.18.44-fc-v657', False))
    (tmp_path / 'meminfo').write_text('MemTotal:       16777216 kB\n')
    plan = planning.decide(host, settings.normalise({'net.ipv4.tcp_rmem': '4096 131072 16777216'}),
                           originals={'net.ipv4.tcp_rmem': '4096 131072 6291456'}, managed=['net.ipv4.tcp_rmem'])
    assert plan.skipped['net.ipv4.tcp_rmem'].startswith('keeps a maximum of 33554432: a maximum of 16777216 would '
                                                        'lower a capacity limit below what this host gets by default '
                                                        'from this kernel')


def capacity_settings(spec):
    return settings.normalise(spec)


def test_a_profile_never_lowers_a_capacity_limit_below_what_the_host_has(tmp_path):
    host = planning.Host(make_tree(tmp_path, '6.18.44-fc-v657', True))  # somaxconn 4096, tcp_rmem max 32 MB
    plan = planning.decide(host, capacity_settings({'net.core.somaxconn': 1024, 'net.ipv4.tcp_rmem': '4096 131072 16777216',
                                                    'net.ipv4.tcp_fin_timeout': 30}))
    assert sorted(plan.apply) == ['net.ipv4.tcp_fin_timeout']  # not a capacity limit: lowered on purpose
    assert plan.skipped == {
        'net.core.somaxconn': 'keeps 4096: 1024 would lower a capacity limit below what this host has; a profile only '
                              'raises it (guards: {allow_lower: true} lowers it on purpose)',
        'net.ipv4.tcp_rmem': 'keeps a maximum of 33554432: a maximum of 16777216 would lower a capacity limit below '
                             'what this host has; a profile only raises it (guards: {allow_lower: true} lowers it on '
                             'purpose)'}
    on_purpose = planning.decide(host, capacity_settings({'net.core.somaxconn': {'value': 1024,
                                                                                 'guards': {'allow_lower': True}}}))
    assert on_purpose.apply['net.core.somaxconn']['after'] == '1024'
    raised = planning.decide(host, capacity_settings({'net.core.somaxconn': 16384}))
    assert raised.apply['net.core.somaxconn']['after'] == '16384'


def test_the_host_has_what_it_had_before_its_first_tuning(tmp_path):
    host = planning.Host(make_tree(tmp_path, '6.18.44-fc-v657', True))
    # An earlier profile raised somaxconn from 4096 to 16384: a new version may come down to 8192 (still above
    # the host's own 4096), but not below what the host had.
    live = tmp_path / 'sys/net/core/somaxconn'
    live.write_text('16384\n')
    down = planning.decide(host, capacity_settings({'net.core.somaxconn': 8192}), originals={'net.core.somaxconn': '4096'},
                           managed=['net.core.somaxconn'])
    assert down.apply['net.core.somaxconn']['after'] == '8192'
    below = planning.decide(host, capacity_settings({'net.core.somaxconn': 2048}), originals={'net.core.somaxconn': '4096'},
                            managed=['net.core.somaxconn'])
    assert below.skipped['net.core.somaxconn'].startswith('keeps 4096: 2048 would lower a capacity limit below what '
                                                          'this host had before its first tuning')
    assert below.restore['net.core.somaxconn']['after'] == '4096'  # skipped on this host: its original comes back


def test_allow_lower_is_for_capacity_limits_only():
    with pytest.raises(settings.SettingsError) as exc:
        settings.normalise({'net.ipv4.tcp_fin_timeout': {'value': 30, 'guards': {'allow_lower': True}}})
    assert str(exc.value).startswith('settings: net.ipv4.tcp_fin_timeout: allow_lower is true or false, on a capacity '
                                     'limit only (net.core.netdev_max_backlog, net.core.rmem_max, net.core.somaxconn, ')


@pytest.mark.parametrize('release', ['4.19.0-26-amd64', '5.4.0-150-generic'])
def test_a_global_a_child_namespace_can_still_write_is_left_to_the_host(tmp_path, release):
    # Before 5.13 (and early 5.10 releases) nf_conntrack_max is writable in every namespace and writes the
    # host's one limit (commit 2671fa4dc010): a tuning run in a container must not change the host.
    host = planning.Host(make_tree(tmp_path, release, False))
    assert host.read('net.netfilter.nf_conntrack_max')['raw'] is not None
    plan = planning.decide(host, incident(1))
    assert plan.skipped['net.netfilter.nf_conntrack_max'] == (
        "its value is the host's in every network namespace (read-only in a namespace since Linux 5.13): set it on "
        "the host")
    assert 'net.netfilter.nf_conntrack_max' in planning.decide(
        planning.Host(make_tree(tmp_path / 'initial', release, True)), incident(1)).apply
