# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rates over a window, wraps and resets, and the rollout gate."""

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health

BOOT = {'boot_id': 'b1', 'netns': 'net:[1]'}


def snap(at, clock=None, **counters):
    base = {'ListenOverflows': 0, 'ListenDrops': 0, 'TCPTimeWaitOverflow': 0, 'TCPAbortOnMemory': 0, 'OutRsts': 0,
            'SyncookiesSent': 0, 'RetransSegs': 0, 'OutSegs': 0}
    base.update(counters)
    return {'counters': base, 'states': {'TIME_WAIT': 10}, 'clock': dict(clock or BOOT, monotonic=at)}


def test_a_window_gives_rates_per_second_and_the_retransmitted_share():
    win = health.window(snap(100.0, TCPTimeWaitOverflow=50, RetransSegs=10, OutSegs=1000),
                        snap(110.0, TCPTimeWaitOverflow=550, RetransSegs=30, OutSegs=3000))
    assert win['reset'] is None and win['seconds'] == 10.0
    assert win['rates']['TCPTimeWaitOverflow'] == 50.0 and win['rates']['ListenDrops'] == 0.0
    assert win[health.RETRANSMIT] == 0.01
    assert win['states'] == {'TIME_WAIT': 10}


@pytest.mark.parametrize('first, second, delta', [
    (2 ** 32 - 100, 50, 150),  # a 32-bit kernel's unsigned long
    (2 ** 64 - 1, 9, 10),
])
def test_a_counter_that_wrapped_is_counted_across_the_wrap(first, second, delta):
    win = health.window(snap(0.0, OutRsts=first), snap(10.0, OutRsts=second))
    assert win['reset'] is None and win['rates']['OutRsts'] == delta / 10.0


@pytest.mark.parametrize('clock, counters, reset', [
    ({'boot_id': 'b2', 'netns': 'net:[1]'}, {}, 'the host rebooted'),
    ({'boot_id': 'b1', 'netns': 'net:[2]'}, {}, 'the network namespace is a new one (its counters start at zero)'),
    (None, {'OutRsts': 3}, 'OutRsts went back from 5000 to 3 (counters reset)'),
])
def test_a_window_across_a_reset_has_no_rates(clock, counters, reset):
    win = health.window(snap(0.0, OutRsts=5000), snap(10.0, clock, **counters))
    assert win['reset'] == reset and win['rates'] == {} and win[health.RETRANSMIT] is None


def test_the_gate_trips_on_a_rate_above_its_floor_and_ratio():
    gate = health.check_gate(health.DEFAULT_GATE)
    baseline = health.window(snap(0.0), snap(10.0, TCPTimeWaitOverflow=20))          # 2/s
    after = health.window(snap(20.0), snap(30.0, TCPTimeWaitOverflow=900))           # 90/s
    result = health.verdict(baseline, after, gate)
    assert result['verdict'] == 'worse'
    assert result['worse'] == [{'counter': 'TCPTimeWaitOverflow', 'baseline': 2.0, 'after': 90.0, 'ratio': 2.0, 'floor': 1.0}]
    assert health.describe_trip(result['worse'][0]) == (
        'TCPTimeWaitOverflow went from 2.0/s (baseline) to 90.0/s, above 2.0 x the baseline and the floor 1.0/s')


def test_an_idle_host_and_a_steady_one_pass():
    gate = health.check_gate(health.DEFAULT_GATE)
    idle = health.window(snap(0.0), snap(10.0, OutRsts=5))                           # 0.5/s: below the floor
    idle_after = health.window(snap(20.0), snap(30.0, OutRsts=9, TCPTimeWaitOverflow=5))  # from 0 to 0.5/s
    assert health.verdict(idle, idle_after, gate) == {'verdict': 'pass', 'worse': [], 'reason': None}
    busy = health.window(snap(0.0), snap(10.0, ListenOverflows=500, RetransSegs=50, OutSegs=1000))
    busy_after = health.window(snap(20.0), snap(30.0, ListenOverflows=900, RetransSegs=60, OutSegs=1000))
    assert health.verdict(busy, busy_after, gate)['verdict'] == 'pass'  # 90/s against 50/s: under 2x


def test_a_reset_in_either_window_gives_no_verdict_and_does_not_stop_the_rollout():
    gate = health.check_gate(health.DEFAULT_GATE)
    baseline = health.window(snap(0.0, OutRsts=100), snap(10.0, OutRsts=200))
    rebooted = health.window(snap(20.0, OutRsts=200), snap(30.0, {'boot_id': 'b2', 'netns': 'net:[1]'}, OutRsts=90000))
    assert health.verdict(baseline, rebooted, gate) == {
        'verdict': 'unmeasured', 'worse': [], 'reason': 'the after window has no rates: the host rebooted'}


@pytest.mark.parametrize('gate, message', [
    ({'TCPSynRetrans': {'ratio': 2}}, 'tcp_tune_gate: TCPSynRetrans: not a gate counter (known: ListenDrops, ListenOverflows, '
                                      'OutRsts, SyncookiesSent, TCPAbortOnMemory, TCPTimeWaitOverflow, retransmit_ratio)'),
    ({'OutRsts': 2}, 'tcp_tune_gate: OutRsts: must be a mapping with ratio and floor, got 2'),
    ({'OutRsts': {'ratio': 2, 'limit': 3}}, 'tcp_tune_gate: OutRsts: unknown field limit (known: floor, ratio)'),
    ({'OutRsts': {'ratio': 0.5}}, 'tcp_tune_gate: OutRsts: ratio 0.5 must be at least 1'),
    ({'OutRsts': {'floor': -1}}, 'tcp_tune_gate: OutRsts: floor -1 must be at least 0'),
    ({'OutRsts': {'floor': 'low'}}, "tcp_tune_gate: OutRsts: floor 'low' is not a number"),
    ([], 'tcp_tune_gate: must be a mapping of counter to {ratio, floor}, got []'),
])
def test_a_bad_gate_names_the_counter_and_the_rule(gate, message):
    with pytest.raises(health.GateError) as err:
        health.check_gate(gate)
    assert str(err.value) == message


def test_a_partial_rule_takes_the_default_for_the_rest():
    assert health.check_gate({'OutRsts': {'ratio': 3}}) == {'OutRsts': {'ratio': 3.0, 'floor': 10.0}}
