# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_facts through real ansible inside a namespace, against sysctl(8) there."""

HOST_GLOBAL = 'host-global: set it on the host, not inside a network namespace'


def sysctl_all(netns):
    out = netns.run('sysctl', '-a').stdout
    values = {}
    for line in out.splitlines():
        key, sep, value = line.partition(' = ')
        if sep:
            values[key] = ' '.join(value.split())
    return values


def read_host(key):
    with open('/proc/sys/' + key.replace('.', '/')) as handle:
        return handle.read()


def test_values_equal_sysctl_in_the_namespace(netns):
    host_before = read_host('net.ipv4.tcp_fin_timeout')
    netns.run('sysctl', '-qw', 'net.ipv4.tcp_fin_timeout=33', check=True)  # the namespace's own value
    facts = netns.ansible('netops.tcp.sysctl_facts')['ansible_facts']['tcp_sysctl']
    truth = sysctl_all(netns)
    assert facts['netns']['initial'] is False
    with open('/proc/sys/kernel/osrelease') as handle:
        assert facts['kernel']['release'] == handle.read().strip()
    checked = 0
    for key, info in facts['keys'].items():
        if info['available']:
            assert truth[info['name']] == info['raw'], key
            checked += 1
        else:
            assert key not in truth, key
            assert netns.run('sysctl', '-n', key).returncode != 0
    assert checked >= 20
    assert facts['keys']['net.ipv4.tcp_fin_timeout']['value'] == 33
    assert facts['keys']['net.ipv4.tcp_rmem']['value'] == [int(v) for v in truth['net.ipv4.tcp_rmem'].split()]
    for key in ('net.ipv4.tcp_mem', 'net.ipv4.tcp_max_orphans', 'net.core.netdev_max_backlog', 'net.core.default_qdisc'):
        assert facts['keys'][key]['reason'] == HOST_GLOBAL, key
    assert read_host('net.ipv4.tcp_fin_timeout') == host_before


def test_globs_and_crafted_names(netns):
    facts = netns.ansible('netops.tcp.sysctl_facts', {'keys': ['net.ipv4.tcp_keepalive_*']})['ansible_facts']['tcp_sysctl']
    truth = sysctl_all(netns)
    assert sorted(facts['keys']) == sorted(k for k in truth if k.startswith('net.ipv4.tcp_keepalive_'))
    result = netns.ansible('netops.tcp.sysctl_facts', {'keys': ['net/../../etc/shadow']}, expect_failure=True)
    assert result['msg'] == ("sysctl key 'net/../../etc/shadow': each part must be letters, digits, \"_\", \"-\" or \":\", "
                             "and no part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)")
