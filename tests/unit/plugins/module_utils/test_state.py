# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply/_state: what a run saves in state.json before its first live write and after its last step."""

from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
from ansible_collections.netops.tcp.plugins.module_utils.apply import _state as statefile
from ansible_collections.netops.tcp.plugins.module_utils.model import _settings as settings

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree


def test_next_states_keep_every_saved_original_and_drop_what_went_back(tmp_path):
    host = planning.Host(make_tree(tmp_path, '6.18.44-fc-v657', False))
    saved = {'originals': {'net.ipv4.tcp_fin_timeout': '60', 'net.ipv4.tcp_max_tw_buckets': '262144'},
             'managed': ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_max_tw_buckets'], 'created': []}
    (tmp_path / 'sys/net/ipv4/tcp_fin_timeout').write_text('30\n')
    (tmp_path / 'sys/net/ipv4/tcp_max_tw_buckets').write_text('5000\n')
    plan = planning.decide(host, settings.normalise({'net.ipv4.tcp_fin_timeout': 20, 'net.core.somaxconn': 8192}),
                           originals=saved['originals'], managed=saved['managed'])
    assert sorted(plan.restore) == ['net.ipv4.tcp_max_tw_buckets']
    before, after = statefile.next_states(saved, plan, ['/etc/ansible'])
    # fin_timeout keeps 60 (never the tuned 30); somaxconn's live value is saved; the dropped key is
    # still restorable until the run has put it back.
    assert before == {'originals': {'net.ipv4.tcp_fin_timeout': '60', 'net.ipv4.tcp_max_tw_buckets': '262144',
                                    'net.core.somaxconn': '4096'},
                      'managed': ['net.core.somaxconn', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_max_tw_buckets'],
                      'created': ['/etc/ansible'], 'incomplete': True}  # until the run's last step
    assert after == {'originals': {'net.ipv4.tcp_fin_timeout': '60', 'net.core.somaxconn': '4096'},
                     'managed': ['net.core.somaxconn', 'net.ipv4.tcp_fin_timeout'], 'created': ['/etc/ansible']}
