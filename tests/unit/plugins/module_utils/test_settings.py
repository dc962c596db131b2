# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings validated once into one record per key."""

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.model import _settings as settings


def test_one_record_per_key_with_the_text_the_kernel_will_show():
    found = settings.normalise({'net.ipv4.ip_local_reserved_ports': [8081, 8080, [9000, 9010]],
                                'net/ipv4/tcp_rmem': '4096\t131072  6291456',
                                'net.ipv4.ip_conntrack_max': 196608})
    assert sorted(found) == ['net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_rmem', 'net.netfilter.nf_conntrack_max']
    assert found['net.ipv4.ip_local_reserved_ports'].text == '8080-8081,9000-9010'
    assert found['net.ipv4.tcp_rmem'].value == [4096, 131072, 6291456]
    assert found['net.ipv4.tcp_rmem'].text == '4096 131072 6291456'
    assert found['net.netfilter.nf_conntrack_max'].entry['key'] == 'net.netfilter.nf_conntrack_max'


@pytest.mark.parametrize('info, holds', [
    ({'available': True, 'reason': None, 'value': [[8080, 8081]]}, True),
    ({'available': True, 'reason': None, 'value': [[8080, 8080], [8081, 8081]]}, True),
    ({'available': True, 'reason': None, 'value': [[8080, 8080]]}, False),
    ({'available': True, 'reason': 'read-only here', 'value': [[8080, 8081]]}, False),
    ({'available': False, 'reason': 'absent on this kernel', 'value': None}, False),
])
def test_holds_compares_as_the_kernel_prints(info, holds):
    setting = settings.normalise({'net.ipv4.ip_local_reserved_ports': '8080,8081'})['net.ipv4.ip_local_reserved_ports']
    assert setting.holds(info) is holds


def test_errors_are_settings_errors_naming_the_key_and_the_rule():
    with pytest.raises(settings.SettingsError) as exc:
        settings.normalise({'net.ipv4.tcp_fin_timeout': 0})
    assert str(exc.value) == 'settings: net.ipv4.tcp_fin_timeout: 0 is out of range 1..2147483'
