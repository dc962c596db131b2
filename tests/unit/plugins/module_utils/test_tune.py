# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import errno
import os
import sys

import pytest

from ansible_collections.netops.tcp.plugins.module_utils import _tune as tune
from ansible_collections.netops.tcp.plugins.module_utils import _profile as profile

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from fakeproc import make_tree, snapshot  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PROFILES = os.path.join(ROOT, 'profiles')


def load(path):
    import yaml
    with open(path, 'rb') as handle:
        raw = handle.read()
    return yaml.safe_load(raw), raw


def incident(version=1):
    return tune.normalise_settings(profile.resolve(load, [PROFILES], 'ad_backend_incident', version)['settings'])


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
    host = tune.Host(make_tree(tmp_path, release, initial))
    plan = tune.decide(host, incident(1), clients_behind_nat=False)
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
    host = tune.Host(make_tree(tmp_path, release, True))
    plan = tune.decide(host, incident(1), clients_behind_nat=True)
    assert plan.skipped['net.ipv4.tcp_tw_recycle'] == (
        'clients may be behind NAT (clients_behind_nat is true): it would drop their connections')


def test_read_only_conntrack_in_a_child_namespace(tmp_path):
    host = tune.Host(make_tree(tmp_path, '5.15.0-1051-aws', False))
    plan = tune.decide(host, incident(1))
    assert plan.skipped['net.netfilter.nf_conntrack_max'] == (
        "read-only in a network namespace since Linux 5.13: the value is the host's")


def test_el7_writes_conntrack_through_the_old_name(tmp_path):
    root = tmp_path / 'proc'
    make_tree(root, '3.10.0-1160.el7.x86_64', True)
    (root / 'sys' / 'net' / 'netfilter' / 'nf_conntrack_max').unlink()
    (root / 'sys' / 'net' / 'ipv4' / 'netfilter').mkdir(parents=True)
    (root / 'sys' / 'net' / 'ipv4' / 'netfilter' / 'ip_conntrack_max').write_text('65536\n')
    host = tune.Host(str(root))
    plan = tune.decide(host, incident(1), clients_behind_nat=False)
    assert plan.apply['net.netfilter.nf_conntrack_max'] == {
        'name': 'net.ipv4.netfilter.ip_conntrack_max', 'before': '65536', 'after': '196608'}
    tune.execute(host, plan, [])
    assert (root / 'sys' / 'net' / 'ipv4' / 'netfilter' / 'ip_conntrack_max').read_text() == '196608\n'
    assert 'net.ipv4.netfilter.ip_conntrack_max = 196608' in tune.render_dropin('/x', {}, plan)


def test_port_range_below_unprivileged_start_is_refused(tmp_path):
    root = tmp_path / 'proc'
    make_tree(root, '6.1.0', False)
    host = tune.Host(str(root))
    plan = tune.decide(host, tune.normalise_settings({'net.ipv4.ip_local_port_range': [1000, 65000]}))
    assert plan.errors == ['net.ipv4.ip_local_port_range: low port 1000 is below net.ipv4.ip_unprivileged_port_start '
                           '(1024); the kernel refuses it']


def test_fault_mid_profile_puts_every_key_back(tmp_path, monkeypatch):
    root = tmp_path / 'proc'
    make_tree(root, '6.18.44-fc-v657', False)
    host = tune.Host(str(root))
    plan = tune.decide(host, incident(2))
    steps = plan.writes()
    assert len(steps) > 5
    before = snapshot(root)
    real_write = tune.Host.write
    victim = steps[4][1]['name']

    def flaky(self, name, text):
        if name == victim:
            raise OSError(errno.EINVAL, 'Invalid argument')
        real_write(self, name, text)

    monkeypatch.setattr(tune.Host, 'write', flaky)
    with pytest.raises(tune.TuneError) as exc:
        tune.execute(host, plan, [])
    assert str(exc.value) == 'writing %s = %s failed: Invalid argument; put back: %s' % (
        steps[4][0], steps[4][1]['after'], ', '.join(k for k, _s in steps[:4]))
    after = snapshot(root)
    # Same values; the kernel would show them without the tabs the fake tree started with.
    assert dict((p, b.split()) for p, b in after.items()) == dict((p, b.split()) for p, b in before.items())
