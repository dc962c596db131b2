# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply/_transaction: a failure part way through execute puts back every key written before it."""

import errno

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
from ansible_collections.netops.tcp.plugins.module_utils.apply import _transaction as transaction
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
from ansible_collections.netops.tcp.plugins.module_utils.model import _settings as settings

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree, snapshot


def incident(version=1):
    return settings.normalise(profiles.resolve('ad_backend_incident', version)['settings'])


def test_fault_mid_profile_puts_every_key_back(tmp_path, monkeypatch):
    root = tmp_path / 'proc'
    make_tree(root, '6.18.44-fc-v657', False)
    host = planning.Host(str(root))
    plan = planning.decide(host, incident(2))
    steps = plan.writes()
    assert len(steps) > 5
    before = snapshot(root)
    real_write = planning.Host.write
    victim = steps[4][1]['name']

    def flaky(self, step, text):
        if step['name'] == victim:
            raise OSError(errno.EINVAL, 'Invalid argument')
        real_write(self, step, text)

    monkeypatch.setattr(planning.Host, 'write', flaky)
    with pytest.raises(planning.TuneError) as exc:
        transaction.execute(host, plan, [])
    assert str(exc.value) == 'writing %s = %s failed: Invalid argument; put back: %s' % (
        steps[4][0], steps[4][1]['after'], ', '.join(k for k, _s in steps[:4]))
    after = snapshot(root)
    # Same values; the kernel would show them without the tabs the fake tree started with.
    assert dict((p, b.split()) for p, b in after.items()) == dict((p, b.split()) for p, b in before.items())
