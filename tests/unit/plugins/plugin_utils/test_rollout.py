# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A wave's verdict and the rollout report."""

import os

import yaml

from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health
from ansible_collections.netops.tcp.plugins.plugin_utils import _rollout as rollout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
GATE = health.check_gate(health.DEFAULT_GATE)


def snap(at, tw_overflow=0, boot='b1'):
    return {'counters': {'TCPTimeWaitOverflow': tw_overflow, 'OutSegs': 100 * int(at), 'RetransSegs': 0},
            'states': {'TIME_WAIT': 64, 'ESTABLISHED': 3}, 'clock': {'monotonic': at, 'boot_id': boot, 'netns': 'n'}}


def host(changed=True, snaps=None, keys=('net.ipv4.tcp_max_tw_buckets',)):
    return {'changed': changed, 'profile_before': 'web_frontend@1', 'profile_after': 'tight<tw>@1',
            'applied': [{'key': k, 'before': '1', 'after': '2'} for k in keys], 'restored': [], 'snapshots': snaps}


def test_a_wave_with_a_worse_host_puts_back_every_host_it_changed():
    wave = rollout.judge(2, {
        'bad': host(snaps=[snap(0), snap(10), snap(20), snap(30, 900)]),
        'good': host(snaps=[snap(0), snap(10), snap(20), snap(30)]),
        'same': host(changed=False),
    }, GATE)
    assert wave['worse'] == ['bad'] and wave['put_back'] == ['bad', 'good']
    assert [wave['hosts'][n]['verdict'] for n in ('bad', 'good', 'same')] == ['worse', 'pass', 'unchanged']
    assert wave['msg'] == ('wave 2 got worse, so it was put back and the rollout stops: bad: TCPTimeWaitOverflow went '
                           'from 0.0/s (baseline) to 90.0/s, above 2.0 x the baseline and the floor 1.0/s')


def test_a_passing_wave_says_what_each_host_got():
    wave = rollout.judge(1, {'a': host(snaps=[snap(0), snap(10), snap(20), snap(30)]), 'b': host(changed=False),
                             'c': host(snaps=[snap(0), snap(10), snap(20), snap(30, boot='b2')])}, GATE)
    assert wave['worse'] == [] and wave['put_back'] == []
    assert wave['msg'] == 'wave 1 (3 hosts) passed the gate: 1 pass, 1 unchanged, 1 unmeasured'
    off = rollout.judge(1, {'a': host(snaps=None)}, {})
    assert off['hosts']['a']['verdict'] == 'not gated' and off['hosts']['a']['reason'] == 'the gate is off'


def test_the_report_tells_the_stop_what_was_put_back_and_who_was_not_reached():
    wave = rollout.judge(1, {'canary<1>': host(snaps=[snap(0), snap(10), snap(20), snap(30, 900)])}, GATE)
    back = {'canary<1>': {'changed': True, 'profile_before': None,
                          'restored': [{'key': 'net.ipv4.tcp_max_tw_buckets', 'before': '64', 'after': '262144'}]}}
    rep = rollout.rollout([wave], back, ['canary<1>', 'web-2', 'web-3'], GATE, 10, '2026-12-01T00:00:00Z')
    assert rep['stopped_at'] == 1 and rep['not_reached'] == ['web-2', 'web-3'] and rep['hosts'] == 1
    assert rep['waves'][0]['hosts']['canary<1>']['put_back'] == {
        'failed': False, 'msg': None, 'to_profile': None, 'keys': ['net.ipv4.tcp_max_tw_buckets']}
    md = rollout.markdown(rep)
    assert 'Stopped at wave 1: it got worse and was put back; 2 hosts not reached.' in md
    assert '## Wave 1: 1 host, worse, put back' in md
    assert ('| canary\\<1> | web_frontend@1 -> tight\\<tw>@1 | net.ipv4.tcp_max_tw_buckets | 10 s: retransmitted 0.000%; at '
            'its end ESTABLISHED 3, TIME_WAIT 64 | 10 s: TCPTimeWaitOverflow 90.0/s, retransmitted 0.000%; at its end '
            'ESTABLISHED 3, TIME_WAIT 64 | worse: TCPTimeWaitOverflow went from 0.0/s (baseline) to 90.0/s, above 2.0 x '
            'the baseline and the floor 1.0/s | put back to the values from before any tuning (net.ipv4.tcp_max_tw_buckets) |'
            ) in md
    page = rollout.html(rep)
    assert 'canary&lt;1&gt;' in page and 'tight&lt;tw&gt;@1' in page and '<1>' not in page
    assert "default-src 'none'" in page


def test_a_put_back_that_did_not_run_or_failed_is_said_so():
    wave = rollout.judge(1, {'a': host(snaps=[snap(0), snap(10), snap(20), snap(30, 900)])}, GATE)
    rep = rollout.rollout([wave], {}, ['a'], GATE, 10, 'now')
    assert rep['waves'][0]['hosts']['a']['put_back']['failed'] is True
    assert 'could NOT put back: the put back did not run' in rollout.markdown(rep)


def test_the_role_documents_the_gate_the_code_applies():
    with open(os.path.join(ROOT, 'roles', 'tune', 'defaults', 'main.yml')) as handle:
        defaults = yaml.safe_load(handle)
    with open(os.path.join(ROOT, 'roles', 'tune', 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)['argument_specs']['main']['options']
    assert defaults['tcp_tune_gate'] == spec['tcp_tune_gate']['default'] == health.DEFAULT_GATE
    assert defaults['tcp_tune_soak'] == spec['tcp_tune_soak']['default']
