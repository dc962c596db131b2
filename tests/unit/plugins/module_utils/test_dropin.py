# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply/_dropin: the drop-in names a key as this kernel does (EL7's old conntrack name)."""

from ansible_collections.netops.tcp.plugins.module_utils.apply import _dropin as dropin
from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
from ansible_collections.netops.tcp.plugins.module_utils.apply import _transaction as transaction
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
from ansible_collections.netops.tcp.plugins.module_utils.model import _settings as settings

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree


def incident(version=1):
    return settings.normalise(profiles.resolve('ad_backend_incident', version)['settings'])


def test_el7_writes_conntrack_through_the_old_name(tmp_path):
    root = tmp_path / 'proc'
    make_tree(root, '3.10.0-1160.el7.x86_64', True)
    (root / 'sys' / 'net' / 'netfilter' / 'nf_conntrack_max').unlink()
    (root / 'sys' / 'net' / 'ipv4' / 'netfilter').mkdir(parents=True)
    (root / 'sys' / 'net' / 'ipv4' / 'netfilter' / 'ip_conntrack_max').write_text('65536\n')
    host = planning.Host(str(root))
    plan = planning.decide(host, incident(1), clients_behind_nat=False)
    assert plan.apply['net.netfilter.nf_conntrack_max'] == {
        'name': 'net.ipv4.netfilter.ip_conntrack_max', 'path': str(root / 'sys/net/ipv4/netfilter/ip_conntrack_max'),
        'before': '65536', 'after': '196608'}
    transaction.execute(host, plan, [])
    assert (root / 'sys' / 'net' / 'ipv4' / 'netfilter' / 'ip_conntrack_max').read_text() == '196608\n'
    assert 'net.ipv4.netfilter.ip_conntrack_max = 196608' in dropin.render_dropin('/x', {}, plan)
