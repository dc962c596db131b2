# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import os
import socket

from ansible_collections.netops.tcp.plugins.modules import tcp_facts

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'fixtures')


def test_facts_from_a_fixture_tree(run_module):
    code, result = run_module(tcp_facts.main, {'proc_path': os.path.join(FIXTURES, 'proc-6.18-netns')})
    assert code == 0 and result['changed'] is False
    tcp = result['ansible_facts']['tcp']
    assert tcp['source'] == 'procfs'
    assert tcp['states']['TIME_WAIT'] == 50 and tcp['states']['SYN_RECV'] == 5
    assert set(tcp) >= {'states', 'states_by_family', 'listeners', 'counters', 'sockstat', 'conntrack',
                        'ephemeral_ports', 'total', 'gather_subset'}
    assert 'processes' not in tcp and 'ipvs' not in tcp
    assert 'warnings' not in result


def test_min_subset_is_just_the_census(run_module):
    code, result = run_module(tcp_facts.main, {'gather_subset': ['min']})
    tcp = result['ansible_facts']['tcp']
    assert code == 0 and tcp['gather_subset'] == ['states'] and tcp['source'] == 'netlink'
    assert set(tcp) == {'gather_subset', 'gathered_at', 'source', 'states', 'states_by_family', 'total'}


def test_unknown_subset_fails_with_the_valid_list(run_module):
    code, result = run_module(tcp_facts.main, {'gather_subset': ['all', 'bogus']})
    assert code == 1 and result['failed'] is True
    assert result['msg'] == (
        "gather_subset: unknown value 'bogus'; valid values are all, conntrack, counters, ephemeral_ports, "
        "ipvs, listeners, min, processes, sockstat, states (prefix a name with ! to exclude it)")


def test_bad_ports_and_top(run_module):
    code, result = run_module(tcp_facts.main, {'ports': [80, 0, 70000]})
    assert code == 1 and result['msg'] == 'ports: 0, 70000 out of range 1..65535'
    code, result = run_module(tcp_facts.main, {'top': 0})
    assert code == 1 and result['msg'] == 'top: must be at least 1, got 0'


def test_missing_proc_path(run_module, tmp_path):
    code, result = run_module(tcp_facts.main, {'proc_path': str(tmp_path / 'nope')})
    assert code == 1 and result['msg'] == 'proc_path: %s has no net/ directory; is procfs mounted there?' % (tmp_path / 'nope')


def test_processes_name_the_holder(run_module):
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    try:
        code, result = run_module(tcp_facts.main, {'gather_subset': ['min', 'processes']})
        holders = result['ansible_facts']['tcp']['processes']['LISTEN']
        assert code == 0 and os.getpid() in [h['pid'] for h in holders]
    finally:
        srv.close()
