# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: a host's TCP health over a time window, and the rollout gate.

A snapshot is the trouble counters (TcpExt and Tcp), the connection states and a clock: the
monotonic clock (shared by every process of one boot), the boot id and the network namespace
whose counters these are. A window between two snapshots gives per-second rates and the share
of segments retransmitted. A window across a reboot or a new network namespace (counters start
again at zero) has no rates; a counter that wrapped is counted across the wrap.

The gate compares a host's window after a change with the window of the same length just
before it: a counter trips when its new rate is above its floor (idle hosts never trip) and
above ``ratio`` times its baseline rate.
"""

import os
import time

RETRANSMIT = 'retransmit_ratio'  # RetransSegs / OutSegs over the window: a share, not a rate
RATE_COUNTERS = ('ListenOverflows', 'ListenDrops', 'TCPTimeWaitOverflow', 'TCPAbortOnMemory', 'OutRsts',
                 'SyncookiesSent')
GATE_COUNTERS = RATE_COUNTERS + (RETRANSMIT,)
# Per second, except retransmit_ratio (a share of the segments sent).
DEFAULT_GATE = {
    'ListenOverflows': {'ratio': 2.0, 'floor': 1.0},
    'ListenDrops': {'ratio': 2.0, 'floor': 1.0},
    'TCPTimeWaitOverflow': {'ratio': 2.0, 'floor': 1.0},
    'TCPAbortOnMemory': {'ratio': 2.0, 'floor': 0.1},
    'OutRsts': {'ratio': 2.0, 'floor': 10.0},
    'SyncookiesSent': {'ratio': 2.0, 'floor': 1.0},
    RETRANSMIT: {'ratio': 1.5, 'floor': 0.02},
}


class GateError(Exception):
    pass


def clock(proc_path='/proc'):
    """Where and when a snapshot's counters were read."""
    def first_line(rel):
        try:
            with open(os.path.join(proc_path, rel)) as handle:
                return handle.readline().strip()
        except OSError:
            return None
    try:
        netns = os.readlink(os.path.join(proc_path, 'self', 'ns', 'net'))
    except OSError:
        netns = None
    return {'monotonic': time.monotonic(), 'boot_id': first_line('sys/kernel/random/boot_id'), 'netns': netns}


def wait_until(since, seconds, proc_path='/proc'):
    """Sleep until ``seconds`` after the snapshot clock ``since``, if it is of this boot and namespace."""
    here = clock(proc_path)
    if (since.get('boot_id'), since.get('netns')) == (here['boot_id'], here['netns']):
        time.sleep(max(0.0, since['monotonic'] + seconds - here['monotonic']))


def _delta(first, second):
    """second - first for a counter, across a wrap at 2**32 or 2**64; None when it went back."""
    if second >= first:
        return second - first
    for bits in (32, 64):
        if 2 ** (bits - 1) <= first < 2 ** bits:
            return second + 2 ** bits - first
    return None


def window(first, second):
    """{'seconds', 'rates': {counter: per second}, RETRANSMIT: share or None, 'reset': reason or None}."""
    a, b = first['clock'], second['clock']
    reset = None
    if a.get('boot_id') != b.get('boot_id'):
        reset = 'the host rebooted'
    elif a.get('netns') != b.get('netns'):
        reset = 'the network namespace is a new one (its counters start at zero)'
    seconds = b['monotonic'] - a['monotonic']
    if not reset and seconds <= 0:
        reset = 'the clock did not move forward'
    result = {'seconds': round(seconds, 3), 'rates': {}, RETRANSMIT: None, 'reset': reset,
              'states': second.get('states', {})}
    if reset:
        return result
    deltas = {}
    for name in RATE_COUNTERS + ('RetransSegs', 'OutSegs'):
        if name in first['counters'] and name in second['counters']:
            delta = _delta(first['counters'][name], second['counters'][name])
            if delta is None:
                result['reset'] = '%s went back from %d to %d (counters reset)' % (
                    name, first['counters'][name], second['counters'][name])
                result['rates'] = {}
                return result
            deltas[name] = delta
    result['rates'] = dict((name, round(deltas[name] / seconds, 3)) for name in RATE_COUNTERS if name in deltas)
    if deltas.get('OutSegs'):
        result[RETRANSMIT] = round(deltas.get('RetransSegs', 0) / float(deltas['OutSegs']), 5)
    return result


def check_gate(gate):
    """The gate with defaults filled in per counter; GateError naming the counter and the rule."""
    if not isinstance(gate, dict):
        raise GateError('tcp_tune_gate: must be a mapping of counter to {ratio, floor}, got %r' % (gate,))
    result = {}
    for name in sorted(gate):
        rule = gate[name]
        if name not in GATE_COUNTERS:
            raise GateError('tcp_tune_gate: %s: not a gate counter (known: %s)' % (name, ', '.join(sorted(GATE_COUNTERS))))
        if not isinstance(rule, dict):
            raise GateError('tcp_tune_gate: %s: must be a mapping with ratio and floor, got %r' % (name, rule))
        unknown = sorted(set(rule) - {'ratio', 'floor'})
        if unknown:
            raise GateError('tcp_tune_gate: %s: unknown field %s (known: floor, ratio)' % (name, ', '.join(unknown)))
        checked = dict(DEFAULT_GATE.get(name, {}), **rule)
        for field, least in (('ratio', 1), ('floor', 0)):
            value = checked.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise GateError('tcp_tune_gate: %s: %s %r is not a number' % (name, field, value))
            if value < least:
                raise GateError('tcp_tune_gate: %s: %s %r must be at least %d' % (name, field, value, least))
        result[name] = {'ratio': float(checked['ratio']), 'floor': float(checked['floor'])}
    return result


def _value(win, name):
    return win[RETRANSMIT] if name == RETRANSMIT else win['rates'].get(name)


def unit(name):
    return '' if name == RETRANSMIT else '/s'


def verdict(baseline, after, gate):
    """{'verdict': 'pass' | 'worse' | 'unmeasured', 'worse': [trip], 'reason'} for one host.

    A trip: {'counter', 'baseline', 'after', 'ratio', 'floor'}. A window with a reset gives
    'unmeasured': no counter can be compared, and the host does not stop the rollout."""
    for label, win in (('baseline', baseline), ('after', after)):
        if win['reset']:
            return {'verdict': 'unmeasured', 'worse': [], 'reason': 'the %s window has no rates: %s' % (label, win['reset'])}
    worse = []
    for name, rule in sorted(gate.items()):
        before, now = _value(baseline, name), _value(after, name)
        if now is None:
            continue
        before = before or 0.0
        if now > rule['floor'] and now > rule['ratio'] * before:
            worse.append({'counter': name, 'baseline': before, 'after': now, 'ratio': rule['ratio'], 'floor': rule['floor']})
    return {'verdict': 'worse' if worse else 'pass', 'worse': worse, 'reason': None}


def describe_trip(trip):
    u = unit(trip['counter'])
    return '%s went from %s%s (baseline) to %s%s, above %s x the baseline and the floor %s%s' % (
        trip['counter'], trip['baseline'], u, trip['after'], u, trip['ratio'], trip['floor'], u)
