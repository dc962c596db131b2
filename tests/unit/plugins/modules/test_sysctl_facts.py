# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from ansible_collections.netops.tcp.plugins.modules import sysctl_facts


def test_reads_this_machine_without_changing_it(run_module):
    code, result = run_module(sysctl_facts.main, {'keys': ['net.ipv4.tcp_fin_timeout', 'net.core.somaxconn']})
    assert code == 0 and result['changed'] is False
    keys = result['ansible_facts']['tcp_sysctl']['keys']
    with open('/proc/sys/net/ipv4/tcp_fin_timeout') as handle:
        assert keys['net.ipv4.tcp_fin_timeout']['value'] == int(handle.read())


def test_crafted_key_fails_with_the_rule(run_module):
    code, result = run_module(sysctl_facts.main, {'keys': ['../../etc/shadow']})
    assert code == 1
    assert result['msg'] == ("sysctl key '../../etc/shadow': each part must be letters, digits, \"_\", \"-\" or \":\", "
                             "and no part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)")


def test_sources_and_missing_proc(run_module, tmp_path):
    (tmp_path / 'etc' / 'sysctl.d').mkdir(parents=True)
    (tmp_path / 'etc' / 'sysctl.d' / '60-x.conf').write_text('net.ipv4.tcp_fin_timeout = 31\ngarbage\n')
    code, result = run_module(sysctl_facts.main, {'keys': ['net.ipv4.tcp_fin_timeout'], 'include_sources': True,
                                                  'root': str(tmp_path)})
    assert code == 0
    source = result['ansible_facts']['tcp_sysctl']['sources']['net.ipv4.tcp_fin_timeout']
    assert source['boot_value'] == '31'
    assert [w['event']['msg'] for w in result['warnings']] == ['%s/etc/sysctl.d/60-x.conf: line 2: no "key = value"' % tmp_path]
    code, result = run_module(sysctl_facts.main, {'proc_path': str(tmp_path)})
    assert code == 1 and result['msg'] == 'proc_path: %s has no sys/ directory; is procfs mounted there?' % tmp_path
