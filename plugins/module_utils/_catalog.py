# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the catalog of TCP-related sysctls.

One entry per key the collection reads, tunes or audits: type, valid range, kernel
versions (added, removed, default changes), network-namespace scope, aliases and
risks, as the kernel sources of each version define them (the catalog tests and the key sweep
against the running kernel in tests/integration check them). The kernel version is only a
second opinion: /proc/sys is probed first (distributions backport). Pure data and pure
functions: modules and controller plugins share it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Types of values.
INT = 'int'            # one integer
BOOL = 'bool'          # 0 or 1, written as an integer
VECTOR = 'vector'      # N integers separated by whitespace (min default max)
PORT_RANGE = 'port_range'  # two ports, low <= high
PORT_LIST = 'port_list'    # comma-separated ports and port ranges ("8080,9000-9010")
STRING = 'string'      # one word

INT_MAX = 2 ** 31 - 1
LONG_MAX = 2 ** 63 - 1
# proc_dointvec_jiffies rejects values above INT_MAX / HZ; HZ can be 1000.
JIFFIES_SECONDS_MAX = INT_MAX // 1000

HOST_GLOBAL_REASON = 'host-global: set it on the host, not inside a network namespace'


def _entry(key, kind, doc, **kw):
    entry = {
        'key': key,
        'type': kind,
        'doc': doc,
        'unit': None,
        'min': None,
        'max': None,
        'length': None,        # VECTOR: number of values
        'ordered': False,      # VECTOR: values must not decrease (min <= default <= max)
        'added': None,         # first kernel version with the key (None: older than 3.10)
        'removed': None,       # first kernel version without it
        'netns': [],           # [(since, until)] versions where a child netns sees the key ([] = host-global)
        'netns_readonly_since': None,  # visible but read-only in a child netns from this version
        'aliases': [],         # other names of the same setting across versions
        'defaults': [],        # [(since, value, note)] compile-time defaults by version
        'changes': [],         # [(version, what changed)]
        'risks': [],           # sentences an operator should read before setting it
        'requires': None,      # what must be loaded or configured for the key to exist
        # The kernel's own default (for VECTOR, its maximum) is a floor: a profile that sets less
        # lowers what the kernel would give by default (an audit's risky finding).
        'raise_only': False,
    }
    for name, value in kw.items():
        if name not in entry:
            raise KeyError('unknown catalog field %s for %s' % (name, key))
        entry[name] = value
    return entry


_ENTRIES = [
    _entry('net.ipv4.tcp_tw_recycle', BOOL,
           'Fast recycling of TIME_WAIT sockets based on per-host timestamps.',
           removed='4.12', netns=[('4.11', '4.12')], defaults=[('0', 0, None)],
           changes=[('4.10', 'per-connection random timestamp offsets make it drop even more valid SYNs'),
                    ('4.12', 'removed (commit 4396e46187ca)')],
           risks=['Drops SYNs from clients behind NAT (timestamps from different hosts look out of order): '
                  'never enable it on servers reached through NAT or a load balancer.',
                  'Removed in Linux 4.12; configuration that sets it fails on newer kernels.']),
    _entry('net.ipv4.tcp_tw_reuse', INT,
           'Reuse TIME_WAIT sockets for new outgoing connections when timestamps prove it safe.',
           min=0, max=2, netns=[('4.10', None)],
           defaults=[('0', 0, None), ('4.18', 2, 'loopback only')],
           changes=[('4.18', 'value 2 (loopback only) added and made the default; 0..2 enforced')],
           risks=['Only helps outgoing connections, and only with tcp_timestamps enabled on both ends.',
                  'Value 2 needs Linux 4.18 or later.']),
    _entry('net.ipv4.tcp_tw_reuse_delay', INT,
           'How long a TIME_WAIT socket must have been idle before tcp_tw_reuse may take its port (was 1 s, fixed).',
           unit='ms', min=1, max=60000, added='6.14', netns=[('6.14', None)], defaults=[('6.14', 1000, None)],
           changes=[('6.14', 'added (commit ca6a6f93867a); before, the delay was one second')],
           risks=['Matters only with tcp_tw_reuse on. Below the peers\' timestamp granularity, a reused port can '
                  'meet a late segment of the old connection.']),
    _entry('net.ipv4.tcp_fin_timeout', INT,
           'How long an orphaned socket stays in FIN_WAIT2. It does NOT shorten TIME_WAIT (fixed at 60 s).',
           unit='seconds', min=1, max=JIFFIES_SECONDS_MAX, netns=[('4.6', None)], defaults=[('0', 60, None)],
           risks=['Values below 5 seconds cut off slow peers that are still sending their FIN.',
                  'TIME_WAIT lasts TCP_TIMEWAIT_LEN (60 s) whatever this is set to.']),
    _entry('net.ipv4.tcp_max_tw_buckets', INT,
           'Maximum number of TIME_WAIT sockets; past it new ones are destroyed at once (TCPTimeWaitOverflow).',
           min=0, max=INT_MAX, netns=[('4.11', None)], defaults=[('0', None, 'half the established hash size')],
           risks=['Too low a limit destroys TIME_WAIT sockets early, which TIME_WAIT exists to prevent '
                  '(late segments taken for a new connection).']),
    _entry('net.ipv4.tcp_max_syn_backlog', INT,
           'Maximum of remembered connection requests (SYN queue) per listener, when syncookies are off.',
           min=0, max=INT_MAX, netns=[('4.11', None)],
           defaults=[('0', None, 'max(128, ehash/256)'), ('5.4', None, 'ehash/128')],
           risks=['Only used when tcp_syncookies is 0; the listen() backlog caps the SYN queue as well.']),
    _entry('net.ipv4.tcp_syncookies', INT,
           'Send SYN cookies when the SYN queue overflows (1), always (2) or never (0).',
           min=0, max=2, netns=[('4.6', None)], defaults=[('0', 1, None)],
           changes=[('5.13', 'stored as u8')], requires='CONFIG_SYN_COOKIES'),
    _entry('net.ipv4.tcp_synack_retries', INT,
           'How many times a SYN-ACK is retransmitted for a passive connection (5 is about 180 s).',
           min=0, max=255, netns=[('4.6', None)], defaults=[('0', 5, None)],
           changes=[('5.13', 'stored as u8: values above 255 are rejected')],
           risks=['1 gives up on a half-open connection after about 3 s: clients on lossy links fail to connect.']),
    _entry('net.ipv4.tcp_syn_retries', INT,
           'How many times an initial SYN is retransmitted for an active connection.',
           min=1, max=127, netns=[('4.6', None)], defaults=[('0', 6, None)],
           changes=[('5.13', 'stored as u8')],
           risks=['1 makes outgoing connects fail after about 3 s on any packet loss.']),
    _entry('net.ipv4.tcp_keepalive_time', INT,
           'Idle time before the first keepalive probe on sockets that enable SO_KEEPALIVE.',
           unit='seconds', min=1, max=JIFFIES_SECONDS_MAX, netns=[('4.5', None)], defaults=[('0', 7200, None)]),
    _entry('net.ipv4.tcp_keepalive_probes', INT,
           'Unanswered keepalive probes before the connection is dropped.',
           min=1, max=255, netns=[('4.5', None)], defaults=[('0', 9, None)],
           changes=[('5.13', 'stored as u8')]),
    _entry('net.ipv4.tcp_keepalive_intvl', INT,
           'Seconds between keepalive probes.',
           unit='seconds', min=1, max=JIFFIES_SECONDS_MAX, netns=[('4.5', None)], defaults=[('0', 75, None)]),
    _entry('net.ipv4.tcp_retries2', INT,
           'Retransmissions of data before an established connection is given up (15 is about 924.6 s).',
           min=0, max=255, netns=[('4.6', None)], defaults=[('0', 15, None)],
           changes=[('5.13', 'stored as u8')],
           risks=['Low values (below 8) drop connections during short network outages.']),
    _entry('net.ipv4.tcp_rto_max_ms', INT,
           'Upper limit of the retransmission timeout: how far exponential backoff may stretch between retries.',
           unit='ms', min=1000, max=120000, added='6.15', netns=[('6.15', None)], defaults=[('6.15', 120000, None)],
           changes=[('6.15', 'added ("tcp: add tcp_rto_max_ms sysctl"); before, fixed at 120 s')],
           risks=['Lower values retry sooner after an outage but add retransmissions on congested paths; '
                  'tcp_retries2 counts retries, so a lower cap also gives up on a connection sooner.']),
    _entry('net.ipv4.tcp_max_orphans', INT,
           'Maximum of sockets not attached to any file handle; past it they are reset ("too many orphaned sockets").',
           min=0, max=INT_MAX, netns=[], defaults=[('0', None, 'half the established hash size')],
           risks=['Each orphan can hold about 64 KB of unswappable memory; lowering the limit resets connections.']),
    _entry('net.ipv4.tcp_mem', VECTOR,
           'TCP memory thresholds in pages: no pressure, pressure, hard limit.',
           unit='pages', min=0, max=LONG_MAX, length=3, ordered=True, netns=[(None, '3.13')],
           defaults=[('0', None, 'computed from free memory at boot')],
           changes=[('3.13', 'host-global (was per network namespace in 3.10 and 3.11)')],
           risks=['Values in pages, not bytes: copying byte figures from a blog gives a limit 4096 times too big.']),
    _entry('net.ipv4.tcp_rmem', VECTOR,
           'Receive buffer per socket in bytes: minimum, default, maximum for autotuning.',
           unit='bytes', min=1, max=INT_MAX, length=3, ordered=True, netns=[('4.15', None)],
           defaults=[('0', [4096, 87380, 6291456], None), ('4.20', [4096, 131072, 6291456], None),
                     ('6.16', [4096, 131072, 33554432], 'maximum up to 32 MB depending on memory (net-next, May 2025)')],
           changes=[('4.15', 'per network namespace; a new namespace copies the initial one'),
                    ('6.16', 'default maximum 6 MB -> 32 MB (commit 572be9bf9d0d)')],
           raise_only=True,
           risks=['From Linux 6.16 the default maximum is 32 MB: the "raise it to 16 MB" of older advice lowers it.']),
    _entry('net.ipv4.tcp_wmem', VECTOR,
           'Send buffer per socket in bytes: minimum, default, maximum for autotuning.',
           unit='bytes', min=1, max=INT_MAX, length=3, ordered=True, netns=[('4.15', None)],
           defaults=[('0', [4096, 16384, 4194304], None)],
           changes=[('4.15', 'per network namespace; a new namespace copies the initial one')], raise_only=True),
    _entry('net.ipv4.ip_local_port_range', PORT_RANGE,
           'Local ports chosen for outgoing connections (low high).',
           min=1, max=65535, netns=[('3.13', None)],
           defaults=[('0', [32768, 61000], None), ('4.4', [32768, 60999], None)],
           changes=[('4.11', 'the low end must be >= ip_unprivileged_port_start'),
                    ('6.0', 'a warning when both ends have the same parity')],
           risks=['Starting below 32768 lets outgoing connections take ports that services listen on: '
                  'reserve those in ip_local_reserved_ports.']),
    _entry('net.ipv4.ip_local_reserved_ports', PORT_LIST,
           'Ports never chosen automatically for outgoing connections (comma-separated ports and ranges).',
           min=0, max=65535, netns=[('3.16', None)], defaults=[('0', '', None)]),
    _entry('net.ipv4.ip_unprivileged_port_start', INT,
           'First port an unprivileged process may bind.',
           min=0, max=65535, added='4.11', netns=[('4.11', None)], defaults=[('4.11', 1024, None)]),
    _entry('net.core.somaxconn', INT,
           'Upper limit on the listen() backlog, i.e. on each accept queue.',
           min=0, max=INT_MAX, netns=[('0', None)],
           defaults=[('0', 128, None), ('5.4', 4096, None)],
           changes=[('4.1', 'no longer silently capped at 65535'), ('5.4', 'default raised to 4096')], raise_only=True,
           risks=['Applications also pass their own backlog to listen(): the smaller of the two wins.']),
    _entry('net.core.netdev_max_backlog', INT,
           'Packets queued on the input side when an interface receives faster than the kernel processes.',
           min=0, max=INT_MAX, netns=[], defaults=[('0', 1000, None)]),
    _entry('net.netfilter.nf_conntrack_max', INT,
           'Maximum of tracked connections; past it new packets are dropped ("table full, dropping packet").',
           min=0, max=INT_MAX, netns=[('0', None)], netns_readonly_since='5.13',
           aliases=['net.nf_conntrack_max', 'net.ipv4.netfilter.ip_conntrack_max', 'net.ipv4.ip_conntrack_max'],
           defaults=[('0', None, 'nf_conntrack_buckets')],
           changes=[('4.9', 'the net.ipv4.netfilter.ip_conntrack_max compat name is gone'),
                    ('5.13', 'read-only in every non-initial network namespace')],
           requires='the nf_conntrack module',
           risks=['A global limit: before 5.13 a write inside a container changed it for the whole host.']),
    _entry('net.ipv4.tcp_abort_on_overflow', BOOL,
           'Reset connections when the accept queue is full instead of dropping the final ACK.',
           netns=[('4.15', None)], defaults=[('0', 0, None)],
           risks=['Turns a short burst into connection resets for clients; fix the slow accept() instead.']),
    _entry('net.ipv4.tcp_timestamps', INT,
           'TCP timestamps (RFC 7323): 1 with random per-connection offsets, 2 without offsets, 0 off.',
           min=0, max=2, netns=[('4.13', None)], defaults=[('0', 1, None)],
           changes=[('4.10', 'value 2 and per-connection random offsets')],
           risks=['tcp_tw_reuse and PAWS protection need timestamps on.']),
    _entry('net.ipv4.tcp_slow_start_after_idle', BOOL,
           'Restart the congestion window after an idle period.',
           netns=[('4.15', None)], defaults=[('0', 1, None)]),
    _entry('net.ipv4.tcp_congestion_control', STRING,
           'Congestion control algorithm for new connections (must be available).',
           netns=[('4.15', None)], defaults=[('0', None, 'CONFIG_DEFAULT_TCP_CONG, usually cubic')],
           changes=[('4.9', 'bbr available'), ('4.15', 'per network namespace, inherited from the initial one')]),
    _entry('net.ipv4.tcp_available_congestion_control', STRING,
           'Congestion control algorithms the kernel has loaded (read-only).',
           netns=[('5.7', None)]),
    _entry('net.core.default_qdisc', STRING,
           'Queueing discipline attached to new interfaces.',
           added='3.12', netns=[], defaults=[('3.12', 'pfifo_fast', 'or CONFIG_DEFAULT_NET_SCH')]),
]

CATALOG = dict((e['key'], e) for e in _ENTRIES)
ALIASES = dict((alias, e['key']) for e in _ENTRIES for alias in e['aliases'])

_KEY_PART = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_:@+-]*\Z')
_GLOB_PART = re.compile(r'^[A-Za-z0-9_*?\[\]:@+-]+\Z')
# Characters no value may hold: they would end a sysctl.d line or start a comment in it.
FORBIDDEN_VALUE = re.compile(r'[\n\r=#;\x00]')


class CatalogError(ValueError):
    """A key or value breaks a rule; the message names the key and the rule."""


def split_key(key, allow_glob=False):
    """Split a sysctl name into /proc/sys path parts, refusing anything that could leave /proc/sys.

    Accepts ``net.ipv4.tcp_rmem`` and ``net/ipv4/tcp_rmem``. With a slash, the parts
    may hold dots (interface names such as eth0.100), as sysctl(8) allows.
    """
    if not isinstance(key, str) or not key:
        raise CatalogError('sysctl key %r: must be a non-empty string' % (key,))
    if len(key) > 255:
        raise CatalogError('sysctl key %r: longer than 255 characters' % (key[:40] + '...',))
    sep = '/' if '/' in key else '.'
    parts = key.split(sep)
    pattern = _GLOB_PART if allow_glob else _KEY_PART
    for part in parts:
        if part in ('', '.', '..') or not (pattern.match(part) or (sep == '/' and _dotted_part_ok(part, pattern))):
            raise CatalogError(
                'sysctl key %r: each part must be letters, digits, "_", "-" or ":"%s, and no part may be empty, '
                '"." or ".." (keys are names under /proc/sys, not paths)' % (key, ' (or glob characters)' if allow_glob else ''))
    return parts


def _dotted_part_ok(part, pattern):
    return all(p not in ('', '.', '..') and pattern.match(p) for p in part.split('.'))


def canonical(key):
    """The dotted name of ``key`` (slashes to dots) with aliases resolved to the catalog key."""
    name = '.'.join(split_key(key))
    return ALIASES.get(name, name)


def get(key):
    return CATALOG.get(canonical(key))


def lookup(key):
    entry = get(key)
    if entry is None:
        raise CatalogError('sysctl key %r: not in the netops.tcp catalog' % (key,))
    return entry


def names(entry):
    """Every name the setting can have, the catalog key first."""
    return [entry['key']] + list(entry['aliases'])


def normalise(raw):
    """Whitespace-normalised text of a /proc/sys value (tabs and runs of spaces to one space)."""
    return ' '.join(str(raw).split())


def _int(key, text, rule):
    try:
        return int(text, 10)
    except (TypeError, ValueError):
        raise CatalogError('%s: %r is not an integer (%s)' % (key, text, rule))


def parse(key, raw, entry=None):
    """Typed value of ``raw`` (text from /proc/sys or a file) for the catalog entry of ``key``.

    Raises CatalogError when the text does not fit the type. Ranges are checked by ``validate``.
    """
    entry = entry or lookup(key)
    kind = entry['type']
    text = normalise(raw)
    if kind in (INT, BOOL):
        return _int(key, text, 'one integer expected')
    if kind == VECTOR:
        parts = text.split(' ') if text else []
        if len(parts) != entry['length']:
            raise CatalogError('%s: %r has %d values, %d expected (min default max)' % (key, text, len(parts), entry['length']))
        return [_int(key, p, 'integers expected') for p in parts]
    if kind == PORT_RANGE:
        parts = text.split(' ') if text else []
        if len(parts) != 2:
            raise CatalogError('%s: %r must be two ports, "low high"' % (key, text))
        return [_int(key, p, 'ports are integers') for p in parts]
    if kind == PORT_LIST:
        return _port_list(key, text)
    return text


def _port_list(key, text):
    ranges = []
    for item in text.replace(' ', '').split(','):
        if not item:
            continue
        low, _sep, high = item.partition('-')
        low = _int(key, low, 'ports and ranges like 8080,9000-9010 expected')
        high = _int(key, high, 'ports and ranges like 8080,9000-9010 expected') if high else low
        ranges.append([low, high])
    return ranges


def validate(key, value, entry=None):
    """Check a typed value against the catalog rules; raise CatalogError naming the key and the rule."""
    entry = entry or lookup(key)
    kind = entry['type']
    if kind == BOOL:
        if value not in (0, 1) or isinstance(value, bool):
            raise CatalogError('%s: %r must be 0 or 1' % (key, value))
        return
    if kind == INT:
        _check_int(key, value, entry)
        return
    if kind in (VECTOR, PORT_RANGE):
        length = entry['length'] if kind == VECTOR else 2
        if not isinstance(value, (list, tuple)) or len(value) != length:
            names = 'min default max' if kind == VECTOR else 'low high'
            shape = '%d values, %d expected (%s)' % (len(value), length, names) if isinstance(value, (list, tuple)) \
                else 'not a list of %d integers' % length
            raise CatalogError('%s: %r: %s' % (key, value, shape))
        for item in value:
            _check_int(key, item, entry)
        if (kind == PORT_RANGE or entry['ordered']) and list(value) != sorted(value):
            rule = 'low must not be above high' if kind == PORT_RANGE else 'values must not decrease (min <= default <= max)'
            raise CatalogError('%s: %s: %s' % (key, format_value(value, entry), rule))
        return
    if kind == PORT_LIST:
        for low, high in value:
            _check_int(key, low, entry)
            _check_int(key, high, entry)
            if low > high:
                raise CatalogError('%s: range %d-%d: low must not be above high' % (key, low, high))
        return
    if not isinstance(value, str) or not value or ' ' in value or FORBIDDEN_VALUE.search(value) or len(value) > 15:
        raise CatalogError('%s: %r must be one word of at most 15 characters' % (key, value))


def _check_int(key, value, entry):
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError('%s: %r is not an integer' % (key, value))
    low, high = entry['min'], entry['max']
    if (low is not None and value < low) or (high is not None and value > high):
        raise CatalogError('%s: %d is out of range %s..%s' % (key, value, low, high))


def format_value(value, entry):
    """The text to write to /proc/sys or a sysctl.d file for a typed value."""
    kind = entry['type']
    if kind in (VECTOR, PORT_RANGE):
        return ' '.join(str(v) for v in value)
    if kind == PORT_LIST:
        return ','.join(str(lo) if lo == hi else '%d-%d' % (lo, hi) for lo, hi in merge_ranges(value))
    return str(value)


def merge_ranges(ranges):
    """Port ranges sorted, with overlapping and adjacent ones joined, as the kernel's bitmap prints them."""
    merged = []
    for low, high in sorted([list(r) for r in ranges]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def canonical_text(key, raw, entry=None):
    """The text the kernel reports for ``raw``: the one definition of "the same value".

    Apply, read-back and audit compare these. Integers lose leading zeros and signs, vectors
    and ranges get single spaces, port lists are merged (``8080,8081`` is ``8080-8081``); keys
    outside the catalog are compared by whitespace-normalised text. Raises CatalogError when
    the text does not fit the key's type.
    """
    entry = entry if entry is not None else get(key)
    if entry is None:
        return normalise(raw)
    return format_value(parse(key, raw, entry), entry)


def same(key, first, second):
    """Whether two texts are the same value of ``key`` (see canonical_text); text that does not
    parse is only the same as identical text."""
    try:
        return canonical_text(key, first) == canonical_text(key, second)
    except CatalogError:
        return normalise(first) == normalise(second)


def check_text(key, text):
    """Validate a value kept as text (a saved original) as strictly as input; return its canonical text.

    Raises CatalogError naming the key and the rule.
    """
    canon = canonical(key)
    if canon != key:
        raise CatalogError('sysctl key %r: not a canonical name (%s)' % (key, canon))
    if not isinstance(text, str) or normalise(text) != text or FORBIDDEN_VALUE.search(text):
        raise CatalogError('%s: %r must be one line of text without "=", "#", ";" or runs of spaces' % (key, text))
    entry = get(key)
    if entry is None:
        return text
    value = parse(key, text, entry)
    validate(key, value, entry)
    return format_value(value, entry)


def default_for(entry, release):
    """The kernel's compile-time default of ``entry`` on ``release`` (a KernelRelease), or None when
    the kernel computes it (from memory, another key) or the catalog does not know it."""
    value = None
    for since, default, _note in entry['defaults']:
        if release >= since:
            value = default
    return value


def lowers_default(key, text, release):
    """(what the value sets, the kernel's default) when ``text`` is below the default of a
    raise_only key on ``release`` (for VECTOR: the maximums); otherwise None."""
    entry = get(key)
    if entry is None or not entry['raise_only']:
        return None
    default = default_for(entry, release)
    if default is None:
        return None
    value = parse(key, text, entry)
    if entry['type'] == VECTOR:
        value, default = value[-1], default[-1]
    return (value, default) if value < default else None


def per_netns(entry, release):
    """Whether a non-initial network namespace sees the key on kernel ``release`` (a KernelRelease)."""
    for since, until in entry['netns']:
        if (since is None or release >= since) and (until is None or release < until):
            return True
    return False
