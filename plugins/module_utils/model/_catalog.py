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

from __future__ import annotations

import re
import typing as t

if t.TYPE_CHECKING:  # no import at run time: the catalog is pure data and pure functions
    from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease

# A catalog entry (see _entry): its fields differ in type.
Entry = t.Dict[str, t.Any]
# A typed value (see parse): an int, a list of ints, a list of [low, high] port ranges or a word.
Value = t.Any

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


def _entry(key: str, kind: str, doc: str, **kw: t.Any) -> Entry:
    entry: Entry = {
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
        'netns_readonly_backports': [],  # older stable lines (major.minor) whose releases have it too
        'aliases': [],         # other names of the same setting across versions
        'defaults': [],        # [(since, value, note)] compile-time defaults by version
        'changes': [],         # [(version, what changed)]
        'risks': [],           # sentences an operator should read before setting it
        'requires': None,      # what must be loaded or configured for the key to exist
        'module': None,        # the kernel module that brings the key: at boot it must load before systemd-sysctl
        # A capacity limit: a profile never lowers it below what the running kernel already has
        # (sysctl_tune skips such a value with the reason), and the audit flags a live value below
        # the kernel's own default (for VECTOR, the maximum).
        'raise_only': False,
        # The kernel takes no write in any namespace (mode 0444): a reading, not a setting.
        'read_only': False,
        # How the kernel computes its default when it depends on the host (see computed_default).
        'computed': None,
        # Live values an audit flags whoever set them: [rule(...)] (see risky).
        'risky': [],
    }
    for name, value in kw.items():
        if name not in entry:
            raise KeyError('unknown catalog field %s for %s' % (name, key))
        entry[name] = value
    return entry


def rule(test: tuple[t.Any, ...], severity: str, message: str, expected: object) -> dict[str, t.Any]:
    """A risky live value: ``test`` is ('eq', N), ('lt', N) or ('same_parity',); ``message`` may use
    %(value)s; ``expected`` is what the audit shows as wanted."""
    return {'test': test, 'severity': severity, 'message': message, 'expected': expected}


def _buffer_max(key: str, what: str, option: str, autotuning: str, minimum: int) -> Entry:
    """net.core.rmem_max and wmem_max: the same facts for both directions (``minimum``: the kernel's
    SOCK_MIN_RCVBUF or SOCK_MIN_SNDBUF on 64-bit, its extra1 in sysctl_net_core.c)."""
    return _entry(key, INT, 'The largest %s buffer an application may ask for with %s (autotuning uses %s).'
                  % (what, option, autotuning),
                  unit='bytes', min=minimum, max=INT_MAX, netns=[], netns_readonly_since='6.11',
                  defaults=[('0', 212992, None), ('6.18', 4194304, None)],
                  changes=[('6.11', 'visible, read-only, in a network namespace (first release between 6.9 and 6.11)'),
                           ('6.18', 'default 212992 -> 4 MB')],
                  raise_only=True)


_ENTRIES = [
    _entry('net.ipv4.tcp_tw_recycle', BOOL,
           'Fast recycling of TIME_WAIT sockets based on per-host timestamps.',
           removed='4.12', netns=[('4.11', '4.12')], defaults=[('0', 0, None)],
           changes=[('4.10', 'per-connection random timestamp offsets make it drop even more valid SYNs'),
                    ('4.12', 'removed (commit 4396e46187ca)')],
           risks=['Drops SYNs from clients behind NAT (timestamps from different hosts look out of order): '
                  'never enable it on servers reached through NAT or a load balancer.',
                  'Removed in Linux 4.12; configuration that sets it fails on newer kernels.'],
           risky=[rule(('eq', 1), 'critical', 'tcp_tw_recycle=1 drops SYNs from clients behind NAT or a load balancer '
                       '(their timestamps look out of order). Set it to 0; it was removed in Linux 4.12 (commit '
                       '4396e46187ca).', 0)]),
    _entry('net.ipv4.tcp_tw_reuse', INT,
           'Reuse TIME_WAIT sockets for new outgoing connections when timestamps prove it safe.',
           min=0, max=2, netns=[('4.10', None)],
           defaults=[('0', 0, None), ('4.18', 2, 'loopback only')],
           changes=[('4.18', 'value 2 (loopback only) added and made the default; 0..2 enforced (commit 79e9fed46038)')],
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
           'Maximum of TIME_WAIT sockets, orphaned FIN_WAIT2 sockets included (both are timewait minisockets, '
           'sockstat "tw"); past it new ones are destroyed at once (TCPTimeWaitOverflow).',
           min=0, max=INT_MAX, netns=[('4.11', None)], defaults=[('0', None, 'half the established hash size')],
           computed='half_ehash', raise_only=True,
           risks=['Too low a limit destroys TIME_WAIT sockets early, which TIME_WAIT exists to prevent '
                  '(late segments taken for a new connection), and drops orphaned FIN_WAIT2 sockets without a FIN.']),
    _entry('net.ipv4.tcp_max_syn_backlog', INT,
           'Consulted only with tcp_syncookies=0: then a listener drops SYNs from peers it has not seen before once '
           'its SYN queue passes three quarters of this (tcp_conn_request, net/ipv4/tcp_input.c). The SYN queue '
           'itself is capped by the listen() backlog, itself capped by net.core.somaxconn.',
           min=0, max=INT_MAX, netns=[('4.11', None)],
           defaults=[('0', None, 'max(128, ehash/256)'), ('5.4', None, 'max(128, ehash/128)')],
           computed='syn_backlog', raise_only=True,
           risks=['Does nothing while tcp_syncookies is 1 or 2: a longer SYN queue comes from the application\'s '
                  'listen() backlog (and net.core.somaxconn).']),
    _entry('net.ipv4.tcp_syncookies', INT,
           'Answer SYNs with cookies when a listener\'s SYN queue is full (1), always (2) or never (0).',
           min=0, max=2, netns=[('4.6', None)], defaults=[('0', 1, None)],
           changes=[('5.13', 'stored as u8')], requires='CONFIG_SYN_COOKIES',
           risky=[rule(('eq', 0), 'warning', 'tcp_syncookies=0: when a SYN queue is full the kernel drops SYNs '
                       '(TCPReqQFullDrop) instead of answering with a cookie, so a SYN flood or a burst locks out real '
                       'clients (ip-sysctl.rst, tcp_syncookies). Set it to 1.', 1)]),
    _entry('net.ipv4.tcp_synack_retries', INT,
           'How many times a SYN-ACK is retransmitted for a passive connection: 5 retransmits at 1, 3, 7, 15 and 31 s '
           'and drops the request after 63 s (ip-sysctl.rst).',
           min=0, max=255, netns=[('4.6', None)], defaults=[('0', 5, None)],
           changes=[('5.13', 'stored as u8: values above 255 are rejected')],
           risks=['1 drops a half-open connection after 3 s: clients on lossy links fail to connect.'],
           risky=[rule(('lt', 2), 'warning', 'tcp_synack_retries=%(value)s drops a half-open connection within '
                       '3 s (1 retransmits once, at 1 s; 0 never): one lost SYN-ACK or ACK on a lossy client link '
                       'fails the connect. Syncookies, not short retries, handle floods; use 2 or more.', '>= 2')]),
    _entry('net.ipv4.tcp_syn_retries', INT,
           'How many times an initial SYN is retransmitted for an active connection (6: about 127 s before Linux '
           '6.5, 131 s from 6.5 with tcp_syn_linear_timeouts=4).',
           min=1, max=127, netns=[('4.6', None)], defaults=[('0', 6, None)],
           changes=[('5.13', 'stored as u8'),
                    ('6.5', 'the first tcp_syn_linear_timeouts (4) retransmissions come every second and add to '
                            'the count; the time limit stays that of the exponential schedule (commit ccce324dabfe)')],
           risks=['1 makes outgoing connects fail after 3 s on any packet loss.'],
           risky=[rule(('lt', 2), 'warning', 'tcp_syn_retries=%(value)s fails an outgoing connect after about 3 s: '
                       'one or two lost SYNs end it. Use 2 or more (3 gives up after about 15 s, 19 s from 6.5).',
                       '>= 2')]),
    _entry('net.ipv4.tcp_syn_linear_timeouts', INT,
           'How many SYN retransmissions of an active open keep the initial 1 s timeout before it doubles; they add '
           'to tcp_syn_retries (net/ipv4/tcp_timer.c).',
           min=0, max=127, added='6.5', netns=[('6.5', None)], defaults=[('6.5', 4, None)],
           changes=[('6.5', 'added (commit ccce324dabfe, "tcp: make the first N SYN RTO backoffs linear")')]),
    _entry('net.ipv4.tcp_keepalive_time', INT,
           'Idle time before the first keepalive probe, only on sockets that set SO_KEEPALIVE (per-socket '
           'TCP_KEEPIDLE overrides it); not HTTP keep-alive (tcp_keepalive_timer, net/ipv4/tcp_timer.c).',
           unit='seconds', min=1, max=JIFFIES_SECONDS_MAX, netns=[('4.5', None)], defaults=[('0', 7200, None)]),
    _entry('net.ipv4.tcp_keepalive_probes', INT,
           'Unanswered keepalive probes before the connection is dropped (SO_KEEPALIVE sockets).',
           min=1, max=255, netns=[('4.5', None)], defaults=[('0', 9, None)],
           changes=[('5.13', 'stored as u8')]),
    _entry('net.ipv4.tcp_keepalive_intvl', INT,
           'Seconds between keepalive probes (SO_KEEPALIVE sockets).',
           unit='seconds', min=1, max=JIFFIES_SECONDS_MAX, netns=[('4.5', None)], defaults=[('0', 75, None)]),
    _entry('net.ipv4.tcp_retries2', INT,
           'Retransmissions of data before an established connection is given up: 15 is about 924.6 s, 8 about '
           '102 s, 5 about 12.6 s with the 200 ms minimum timeout (tcp_model_timeout, net/ipv4/tcp_timer.c).',
           min=0, max=255, netns=[('4.6', None)], defaults=[('0', 15, None)],
           changes=[('5.13', 'stored as u8')],
           risks=['Low values (below 8) drop connections during short network outages.'],
           risky=[rule(('lt', 8), 'warning', 'tcp_retries2=%(value)s gives up on an established connection after '
                       'less than 102 s of retransmissions (5: 12.6 s), so a short outage or failover resets '
                       'connections; ip-sysctl.rst asks for at least 8 (RFC 1122: at least 100 s).', '>= 8')]),
    _entry('net.ipv4.tcp_orphan_retries', INT,
           'Retransmissions before an orphaned (closed by the application) connection in FIN_WAIT1, CLOSING or '
           'LAST_ACK is killed; 0 means 8, about 102 s (tcp_orphan_retries, net/ipv4/tcp_timer.c).',
           min=0, max=255, netns=[('4.6', None)], defaults=[('0', 0, 'means 8 while the timeout is below its maximum')],
           risks=['ip-sysctl.rst: on a loaded web server, lower it: orphans waiting for a peer that stopped reading '
                  'hold memory (cf. tcp_max_orphans).']),
    _entry('net.ipv4.tcp_rto_max_ms', INT,
           'Upper limit of the retransmission timeout: how far exponential backoff may stretch between retries.',
           unit='ms', min=1000, max=120000, added='6.15', netns=[('6.15', None)], defaults=[('6.15', 120000, None)],
           changes=[('6.15', 'added ("tcp: add tcp_rto_max_ms sysctl"); before, fixed at 120 s')],
           risks=['Lower values retry sooner after an outage but add retransmissions on congested paths; '
                  'tcp_retries2 counts retries, so a lower cap also gives up on a connection sooner.']),
    _entry('net.ipv4.tcp_rto_min_us', INT,
           'Lower limit of the retransmission timeout (route rto_min and per-socket options take precedence).',
           unit='us', min=1, max=INT_MAX, added='6.11', netns=[('6.11', None)], defaults=[('6.11', 200000, None)],
           changes=[('6.11', 'added (commit f086edef71be; first release between 6.9 and 6.11)')],
           risks=['ip-sysctl.rst recommends 200000 or less; lower values retransmit before a delayed ACK can arrive.']),
    _entry('net.ipv4.tcp_max_orphans', INT,
           'Maximum of sockets not attached to any file handle; past it they are reset ("too many orphaned '
           'sockets"). For idle or erroring sockets the count is doubled or quadrupled first, so resets start at a '
           'half or a quarter of it (tcp_out_of_resources, net/ipv4/tcp_timer.c).',
           min=0, max=INT_MAX, netns=[], defaults=[('0', None, 'half the established hash size')],
           computed='half_ehash', raise_only=True,
           risks=['Each orphan can hold about 64 KB of unswappable memory; lowering the limit resets connections.']),
    _entry('net.ipv4.tcp_mem', VECTOR,
           'TCP memory thresholds in pages: no pressure, pressure, hard limit.',
           unit='pages', min=0, max=LONG_MAX, length=3, ordered=True, netns=[(None, '3.13')],
           defaults=[('0', None, 'computed from free memory at boot')],
           changes=[('3.13', 'host-global (was per network namespace in 3.10 and 3.11)')],
           risks=['Values in pages, not bytes: copying byte figures from a blog gives a limit 4096 times too big.']),
    _entry('net.ipv4.tcp_rmem', VECTOR,
           'Receive buffer per socket in bytes: minimum, default, maximum for autotuning.',
           unit='bytes', min=4096, max=INT_MAX, length=3, ordered=True, netns=[('4.15', None)],
           defaults=[('0', [4096, 87380, 6291456], 'maximum min(6 MB, free memory/128)'),
                     ('4.20', [4096, 131072, 6291456], 'maximum min(6 MB, free memory/128)'),
                     ('6.16', [4096, 131072, 33554432], 'maximum min(32 MB, free memory/128)')],
           changes=[('4.15', 'per network namespace; a new namespace copies the initial one'),
                    ('6.16', 'default maximum min(6 MB, free/128) -> min(32 MB, free/128) (commit 572be9bf9d0d)'),
                    ('7.3', 'each value must be at least 4096 (also Debian 6.1.189+ and 6.12.112+)')],
           computed='rmem', raise_only=True,
           risks=['From Linux 6.16 the default maximum reaches 32 MB on hosts with 4 GB or more: the "raise it to '
                  '16 MB" of older advice lowers it there.']),
    _entry('net.ipv4.tcp_wmem', VECTOR,
           'Send buffer per socket in bytes: minimum, default, maximum for autotuning.',
           unit='bytes', min=1, max=INT_MAX, length=3, ordered=True, netns=[('4.15', None)],
           defaults=[('0', [4096, 16384, 4194304], 'maximum min(4 MB, free memory/128)')],
           changes=[('4.15', 'per network namespace; a new namespace copies the initial one')],
           computed='wmem', raise_only=True),
    _entry('net.ipv4.ip_local_port_range', PORT_RANGE,
           'Local ports chosen for outgoing connections (low high). connect() tries ports of the low end\'s parity '
           'first and bind(0) the other (__inet_hash_connect, net/ipv4/inet_hashtables.c).',
           min=1, max=65535, netns=[('3.13', None)],
           defaults=[('0', [32768, 61000], None), ('4.2', [32768, 60999], None)],
           changes=[('4.2', 'even/odd split between connect() and bind(0), default 32768 60999 (commit 07f4c90062f8), '
                            'and a warning for ends of the same parity (commit ed2dfd900992)'),
                    ('4.11', 'the low end must be >= ip_unprivileged_port_start')],
           risks=['Starting below 32768 lets outgoing connections take ports that services listen on: '
                  'reserve those in ip_local_reserved_ports.',
                  'Ends of the same parity: the kernel logs "ip_local_port_range: prefer different parity for '
                  'start/end values." and connect() never uses the top port.'],
           risky=[rule(('same_parity',), 'warning', 'ip_local_port_range %(value)s: both ends have the same parity, '
                       'so connect() never takes the top port and the kernel logs "ip_local_port_range: prefer '
                       'different parity for start/end values." (set_local_port_range, since 4.2). End on the other '
                       'parity (e.g. 60999).', 'ends of different parity')]),
    _entry('net.ipv4.ip_local_reserved_ports', PORT_LIST,
           'Ports never chosen automatically for outgoing connections (comma-separated ports and ranges).',
           min=0, max=65535, netns=[('3.16', None)], defaults=[('0', [], None)]),
    _entry('net.ipv4.ip_unprivileged_port_start', INT,
           'First port an unprivileged process may bind.',
           min=0, max=65535, added='4.11', netns=[('4.11', None)], defaults=[('4.11', 1024, None)]),
    _entry('net.core.somaxconn', INT,
           'Upper limit on the listen() backlog, i.e. on each accept queue and SYN queue; applied when the '
           'application calls listen(), silently (__sys_listen, net/socket.c).',
           min=0, max=INT_MAX, netns=[('0', None)],
           defaults=[('0', 128, None), ('5.4', 4096, None)],
           changes=[('4.1', 'no longer silently capped at 65535'), ('5.4', 'default raised to 4096 (commit 19f92a030ca6)')],
           raise_only=True,
           risks=['Applications also pass their own backlog to listen(): the smaller of the two wins, and a listener '
                  'keeps the limit it had when it called listen().']),
    _entry('net.core.netdev_max_backlog', INT,
           'Packets queued on the input side when an interface receives faster than the kernel processes.',
           min=0, max=INT_MAX, netns=[], defaults=[('0', 1000, None)], raise_only=True),
    _entry('net.netfilter.nf_conntrack_max', INT,
           'Maximum of tracked connections; past it new packets are dropped ("table full, dropping packet").',
           min=1, max=INT_MAX, netns=[('0', None)], netns_readonly_since='5.13', netns_readonly_backports=['5.10'],
           aliases=['net.nf_conntrack_max', 'net.ipv4.netfilter.ip_conntrack_max', 'net.ipv4.ip_conntrack_max'],
           defaults=[('0', None, '4 x nf_conntrack_buckets (8 x with the hashsize= module option)'),
                     ('5.15', None, 'nf_conntrack_buckets (8 x with hashsize=)')],
           changes=[('4.9', 'the net.ipv4.netfilter.ip_conntrack_max compat name is gone'),
                    ('5.13', 'read-only in every non-initial network namespace (commit 2671fa4dc010; in 5.10 stable '
                             'too: read-only on Debian\'s 5.10.0-32)'),
                    ('5.15', 'default = buckets instead of 4 x buckets, buckets 262144 above 4 GB (was 65536): the same '
                             'maximum above 1 GB, a quarter of it at or below 1 GB (commit d532bcd0b269)'),
                    ('6.19', '0 is refused')],
           computed='conntrack_max', raise_only=True,
           requires='the nf_conntrack module', module='nf_conntrack',
           risks=['A global limit: before 5.13 (and early 5.10 releases) a write inside a container changed it for '
                  'the whole host.',
                  'A sysctl.d line applies at boot only when nf_conntrack is loaded before systemd-sysctl runs: list '
                  'it in /etc/modules-load.d (systemd ships no rule that re-applies it when the module loads later; '
                  'sysctl.d(5)).']),
    _entry('net.netfilter.nf_conntrack_buckets', INT,
           'Size of the connection tracking hash table; writable in the initial network namespace only.',
           min=1, max=INT_MAX, netns=[('0', None)], netns_readonly_since='0',
           defaults=[('0', None, 'RAM/128 KB; 16384 above 1 GB, 65536 above 4 GB'),
                     ('5.15', None, 'RAM/128 KB, at least 1024; 65536 above 1 GB, 262144 above 4 GB (64-bit)')],
           changes=[('5.15', 'larger defaults (commit d532bcd0b269)')],
           computed='conntrack_buckets', raise_only=True, requires='the nf_conntrack module', module='nf_conntrack'),
    _entry('net.netfilter.nf_conntrack_tcp_timeout_established', INT,
           'How long an idle established flow stays in the conntrack table.',
           unit='seconds', min=1, max=JIFFIES_SECONDS_MAX, netns=[('0', None)], defaults=[('0', 432000, '5 days')],
           requires='the nf_conntrack module', module='nf_conntrack',
           risks=['Idle flows a load balancer or NAT forgot stay tracked for 5 days by default; lower it on hosts '
                  'whose table fills with them, keeping it above the longest idle period of real connections.']),
    _entry('net.ipv4.tcp_abort_on_overflow', BOOL,
           'Reset connections when the accept queue is full instead of dropping the final ACK.',
           netns=[('4.15', None)], defaults=[('0', 0, None)],
           risks=['Turns a short burst into connection resets for clients; fix the slow accept() instead.'],
           risky=[rule(('eq', 1), 'warning', 'tcp_abort_on_overflow=1 resets clients whenever an accept queue is '
                       'briefly full, where the kernel would otherwise let them retransmit their ACK '
                       '(ip-sysctl.rst). Set it to 0 and make the application accept faster.', 0)]),
    _entry('net.ipv4.tcp_timestamps', INT,
           'TCP timestamps (RFC 7323): 1 with random per-connection offsets, 2 without offsets, 0 off.',
           min=0, max=2, netns=[('4.13', None)], defaults=[('0', 1, None)],
           changes=[('4.10', 'value 2 and per-connection random offsets')],
           risks=['tcp_tw_reuse and PAWS protection need timestamps on.'],
           risky=[rule(('eq', 0), 'warning', 'tcp_timestamps=0 turns off PAWS (protection against old segments on a '
                       'reused connection), RTT measurement on every ACK and what tcp_tw_reuse needs (ip-sysctl.rst). '
                       'Set it to 1.', 1)]),
    _entry('net.ipv4.tcp_sack', BOOL,
           'Selective acknowledgements (RFC 2018).',
           netns=[('0', None)], defaults=[('0', 1, None)],
           risky=[rule(('eq', 0), 'warning', 'tcp_sack=0: every loss of more than one segment in a window costs a '
                       'timeout or a resend of the whole window. Set it to 1.', 1)]),
    _entry('net.ipv4.tcp_window_scaling', BOOL,
           'Window scaling (RFC 7323): windows above 64 KB.',
           netns=[('0', None)], defaults=[('0', 1, None)],
           risky=[rule(('eq', 0), 'warning', 'tcp_window_scaling=0 caps every connection at 64 KB in flight: about '
                       '5 Mbit/s at 100 ms of round trip. Set it to 1.', 1)]),
    _entry('net.ipv4.tcp_slow_start_after_idle', BOOL,
           'Restart the congestion window after an idle period of one RTO (RFC 2861).',
           netns=[('4.15', None)], defaults=[('0', 1, None)],
           risks=['Long-lived connections that idle between bursts (HTTP/2, RPC) restart slowly each time.']),
    _entry('net.ipv4.tcp_notsent_lowat', INT,
           'Bytes of unsent data a socket may queue before poll() stops reporting it writable (no TCP_NOTSENT_LOWAT).',
           unit='bytes', min=0, max=2 ** 32 - 1, netns=[('0', None)], defaults=[('0', 2 ** 32 - 1, 'no limit')]),
    _entry('net.ipv4.tcp_mtu_probing', INT,
           'Packetization-layer path MTU discovery: 0 off, 1 after an ICMP black hole is detected, 2 always.',
           min=0, max=2, netns=[('0', None)], defaults=[('0', 0, None)]),
    _entry('net.ipv4.tcp_fastopen', INT,
           'TCP Fast Open, a bitmask: 1 client, 2 server, 4 client without cookie, 0x200 and 0x400 for servers '
           'without cookies or the socket option.',
           min=0, max=0xfff, netns=[('0', None)], defaults=[('0', 1, None)]),
    _entry('net.ipv4.tcp_child_ehash_entries', INT,
           'Established-hash buckets for network namespaces created from this one from now on (0: they share the '
           'host\'s table).',
           min=0, max=16777216, added='6.1', netns=[('6.1', None)], defaults=[('6.1', 0, None)]),
    _entry('net.ipv4.tcp_ehash_entries', INT,
           'Established-hash buckets of this network namespace (read-only; negative: it shares the host\'s table).',
           added='6.1', netns=[('6.1', None)], read_only=True),
    _entry('net.ipv4.tcp_ecn', INT,
           'Explicit congestion notification: 1 ask for it, 2 accept it when asked (the default), 0 off. The '
           'Accurate ECN values 3-5 of 7.0 are left out of the catalog until reviewed.',
           min=0, max=2, netns=[('0', None)], defaults=[('0', 2, None)],
           changes=[('7.0', 'values 3-5 (Accurate ECN) accepted; the default stays 2 (commit 8ae3e8e6ceed)')]),
    _entry('net.ipv4.tcp_tso_rtt_log', INT,
           'How TSO packet size follows the round trip: 9 lets flows under 512 us send larger bursts; 0 off.',
           min=0, max=31, added='5.18', netns=[('5.18', None)], defaults=[('5.18', 9, None)],
           changes=[('7.3', 'values above 31 refused (also Debian 6.12.117+)')]),
    _entry('net.ipv4.tcp_comp_sack_rtt_percent', INT,
           'SACK compression delay as a share of the smoothed RTT, at most tcp_comp_sack_delay_ns.',
           unit='%', min=1, max=1000, added='6.19', netns=[('6.19', None)], defaults=[('6.19', 33, None)],
           changes=[('6.19', 'added; SACKs were delayed by 5 % of the RTT before')]),
    _entry('net.ipv4.tcp_rcvbuf_low_rtt', INT,
           'Flows with a round trip below this grow their receive buffer more slowly (autotuning).',
           unit='us', min=0, max=INT_MAX, added='6.19', netns=[('6.19', None)], defaults=[('6.19', 1000, None)]),
    _entry('net.ipv4.ip_local_port_step_width', INT,
           'A random step when connect() scans the ephemeral range for a free port (0: one by one).',
           min=0, max=2 ** 32 - 1, added='7.1', netns=[('7.1', None)], defaults=[('7.1', 0, None)],
           risks=['ip-sysctl.rst advises a width larger than the largest block of ip_local_reserved_ports.']),
    _buffer_max('net.core.rmem_max', 'receive', 'SO_RCVBUF', 'tcp_rmem', 2304),
    _buffer_max('net.core.wmem_max', 'send', 'SO_SNDBUF', 'tcp_wmem', 4608),
    _entry('net.ipv4.tcp_congestion_control', STRING,
           'Congestion control algorithm for new connections (must be available).',
           netns=[('4.15', None)], defaults=[('0', None, 'CONFIG_DEFAULT_TCP_CONG, usually cubic')],
           changes=[('4.9', 'bbr available'), ('4.13', 'TCP paces by itself: bbr no longer needs the fq qdisc'),
                    ('4.15', 'per network namespace, inherited from the initial one')],
           risks=['In a container, an algorithm not in tcp_allowed_congestion_control is refused (EPERM); bbr is a '
                  'module (tcp_bbr) the host must load first.']),
    _entry('net.ipv4.tcp_available_congestion_control', STRING,
           'Congestion control algorithms the kernel has loaded (read-only).',
           netns=[('5.7', None)], read_only=True),
    _entry('net.core.default_qdisc', STRING,
           'Queueing discipline attached to new interfaces.',
           added='3.12', netns=[],
           # The build's choice (CONFIG_DEFAULT_NET_SCH), seen in the VM tier: not the catalog's to claim.
           defaults=[('3.12', None, 'CONFIG_DEFAULT_NET_SCH: pfifo_fast upstream and on Debian 11 (5.10), fq_codel on Debian 12 and 13')]),
    _entry('net.ipv4.conf.all.arp_ignore', INT,
           'Which ARP requests to answer: 0 any local address, 1 only addresses on the receiving interface. The '
           'larger of all and the interface\'s own value applies.',
           min=0, max=8, netns=[('0', None)], defaults=[('0', 0, None)],
           risks=['LVS direct routing: real servers hold the virtual IP on lo and must not answer ARP for it '
                  '(arp_ignore=1, arp_announce=2 on all), or the router sends clients past the director.']),
    _entry('net.ipv4.conf.all.arp_announce', INT,
           'Which source address to announce in ARP requests: 0 any, 2 the best local address for the target.',
           min=0, max=2, netns=[('0', None)], defaults=[('0', 0, None)]),
]

CATALOG = dict((e['key'], e) for e in _ENTRIES)
ALIASES = dict((alias, e['key']) for e in _ENTRIES for alias in e['aliases'])

_KEY_PART = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_:@+-]*\Z')
_GLOB_PART = re.compile(r'^[A-Za-z0-9_*?\[\]:@+-]+\Z')
# Characters no value may hold: they would end a sysctl.d line or start a comment in it.
FORBIDDEN_VALUE = re.compile(r'[\n\r=#;\x00]')


class CatalogError(ValueError):
    """A key or value breaks a rule; the message names the key and the rule."""


def split_key(key: object, allow_glob: bool = False) -> list[str]:
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


def _dotted_part_ok(part: str, pattern: re.Pattern[str]) -> bool:
    return all(p not in ('', '.', '..') and pattern.match(p) for p in part.split('.'))


def canonical(key: object) -> str:
    """The dotted name of ``key`` (slashes to dots) with aliases resolved to the catalog key."""
    name = '.'.join(split_key(key))
    return ALIASES.get(name, name)


def get(key: object) -> Entry | None:
    return CATALOG.get(canonical(key))


def lookup(key: object) -> Entry:
    entry = get(key)
    if entry is None:
        raise CatalogError('sysctl key %r: not in the netops.tcp catalog' % (key,))
    return entry


def names(entry: Entry) -> list[str]:
    """Every name the setting can have, the catalog key first."""
    return [entry['key']] + list(entry['aliases'])


def normalise(raw: object) -> str:
    """Whitespace-normalised text of a /proc/sys value (tabs and runs of spaces to one space)."""
    return ' '.join(str(raw).split())


def _int(key: str, text: str, rule: str) -> int:
    try:
        return int(text, 10)
    except (TypeError, ValueError):
        raise CatalogError('%s: %r is not an integer (%s)' % (key, text, rule))


def parse(key: str, raw: object, entry: Entry | None = None) -> Value:
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


def _port_list(key: str, text: str) -> list[list[int]]:
    ranges = []
    for item in text.replace(' ', '').split(','):
        if not item:
            continue
        first, _sep, last = item.partition('-')
        low = _int(key, first, 'ports and ranges like 8080,9000-9010 expected')
        high = _int(key, last, 'ports and ranges like 8080,9000-9010 expected') if last else low
        ranges.append([low, high])
    return ranges


def validate(key: str, value: Value, entry: Entry | None = None) -> None:
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


def _check_int(key: str, value: object, entry: Entry) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError('%s: %r is not an integer' % (key, value))
    low, high = entry['min'], entry['max']
    if (low is not None and value < low) or (high is not None and value > high):
        raise CatalogError('%s: %d is out of range %s..%s' % (key, value, low, high))


def format_value(value: Value, entry: Entry) -> str:
    """The text to write to /proc/sys or a sysctl.d file for a typed value."""
    kind = entry['type']
    if kind in (VECTOR, PORT_RANGE):
        return ' '.join(str(v) for v in value)
    if kind == PORT_LIST:
        return ','.join(str(lo) if lo == hi else '%d-%d' % (lo, hi) for lo, hi in merge_ranges(value))
    return str(value)


def merge_ranges(ranges: t.Iterable[t.Sequence[int]]) -> list[list[int]]:
    """Port ranges sorted, with overlapping and adjacent ones joined, as the kernel's bitmap prints them."""
    merged: list[list[int]] = []
    for low, high in sorted([list(r) for r in ranges]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def canonical_text(key: str, raw: object, entry: Entry | None = None) -> str:
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


def same(key: str, first: object, second: object) -> bool:
    """Whether two texts are the same value of ``key`` (see canonical_text); text that does not
    parse is only the same as identical text."""
    try:
        return canonical_text(key, first) == canonical_text(key, second)
    except CatalogError:
        return normalise(first) == normalise(second)


def check_text(key: str, text: object) -> str:
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


def default_for(entry: Entry, release: KernelRelease) -> Value:
    """The kernel's compile-time default of ``entry`` on ``release`` (a KernelRelease), or None when
    the kernel computes it (from memory, another key) or the catalog does not know it."""
    value = None
    for since, default, _note in entry['defaults']:
        if release >= since:
            value = default
    return value


MB = 1024 * 1024


GB = 1024 * MB


def host_context(sysctl_facts: dict[str, t.Any] | None) -> dict[str, int | None]:
    """What the kernel sizes its computed defaults from, out of a host's sysctl facts: the
    established hash size (tcp_ehash_entries, 6.1+; fixed at boot) and the memory (MemTotal).
    Never from keys that can be tuned (tcp_mem, nf_conntrack_buckets): a tuned value is not the
    kernel's. Missing ones are None."""
    keys = (sysctl_facts or {}).get('keys') or {}
    info = keys.get('net.ipv4.tcp_ehash_entries') or {}
    ehash = info.get('value') if info.get('available') else None
    total: t.Any = ((sysctl_facts or {}).get('kernel') or {}).get('mem_total')
    return {'ehash': abs(ehash) if _whole(ehash) and ehash else None,
            'mem_total': total if _whole(total) and total > 0 else None}


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def conntrack_buckets(release: KernelRelease, mem_total: int) -> int:
    """nf_conntrack_init_start without the hashsize= option: RAM / 128 KB, with floors and caps, then
    rounded up to whole pages of bucket heads (nf_ct_alloc_hashtable: a multiple of 4096 / 8 = 512)
    before nf_conntrack_max is derived from it (net/netfilter/nf_conntrack_core.c). A 1 GiB guest
    gets 8192, not RAM / 128 KB = 7690 (seen on Debian's 5.10 to 7.3 kernels)."""
    if mem_total > 4 * GB:
        size = 262144 if release >= '5.15' else 65536
    elif mem_total > GB:
        size = 65536 if release >= '5.15' else 16384
    else:
        size = max(1024 if release >= '5.15' else 32, mem_total // (16384 * 8))
    return -(-size // 512) * 512


def kernel_default(entry: Entry, release: KernelRelease, host: dict[str, int | None] | None = None) -> Value:
    """The running kernel's own default of ``entry`` on this host (``host_context``), or None when it
    cannot be told: compile-time defaults by version, and the ones the kernel computes at boot
    from the hash size or memory (tcp_init, tcp_sk_init, nf_conntrack_init_start). Buffer maximums
    are estimates: the kernel sizes them from free buffer pages, taken here as 90 % of MemTotal."""
    static = default_for(entry, release)
    how, host = entry['computed'], host or {}
    ehash, total = host.get('ehash'), host.get('mem_total')
    if how == 'half_ehash':
        return ehash // 2 if ehash else None
    if how == 'syn_backlog':
        return max(128, ehash // (128 if release >= '5.4' else 256)) if ehash else None
    if how in ('conntrack_max', 'conntrack_buckets'):
        if not total:
            return None
        buckets = conntrack_buckets(release, total)
        return buckets * (1 if release >= '5.15' or how == 'conntrack_buckets' else 4)
    if how in ('rmem', 'wmem'):
        if not total or static is None:
            return None
        cap, floor = (4 * MB, 65536) if how == 'wmem' else ((32 if release >= '6.16' else 6) * MB, 131072)
        return list(static[:2]) + [max(floor, min(cap, int(total * 0.9) // 128))]
    return None if how else static


def lowers(key: str, value: Value, release: KernelRelease, host: dict[str, int | None] | None = None,
           entry: Entry | None = None) -> tuple[Value, Value] | None:
    """(what ``value`` sets, the kernel's default) when a raise_only key's ``value`` (typed; for a
    VECTOR its maximum) is below the running kernel's own default here; otherwise None."""
    entry = entry or get(key)
    if entry is None or not entry['raise_only'] or value is None:
        return None
    default = kernel_default(entry, release, host)
    if default is None:
        return None
    if entry['type'] == VECTOR:
        value, default = value[-1], default[-1]
    return (value, default) if value < default else None


def capacity(entry: Entry, value: Value) -> Value:
    """The part of a raise_only value that is the limit: the value, or a vector's maximum."""
    return value[-1] if entry['type'] == VECTOR else value


def risky(key: str, value: Value, entry: Entry | None = None) -> list[tuple[str, str, t.Any]]:
    """[(severity, message, expected)] for the catalog's risky rules that ``value`` (typed) meets."""
    entry = entry or get(key)
    if entry is None:
        return []
    found = []
    for item in entry.get('risky') or []:
        test = item['test']
        if test[0] == 'eq':
            hit = value == test[1] and not isinstance(value, bool)
        elif test[0] == 'lt':
            hit = isinstance(value, int) and value < test[1]
        else:  # same_parity
            hit = isinstance(value, list) and len(value) == 2 and value[0] % 2 == value[1] % 2
        if hit:
            found.append((item['severity'], item['message'] % {'value': format_value(value, entry)}, item['expected']))
    return found


def exists_on(entry: Entry, release: KernelRelease) -> bool:
    """Whether a kernel of ``release`` has the key at all (its module loaded, any namespace)."""
    if entry['added'] and release < entry['added']:
        return False
    return not (entry['removed'] and release >= entry['removed'])


def readonly_in_netns(entry: Entry, release: KernelRelease) -> bool:
    """Whether a child network namespace sees the key read-only on ``release`` (the host's value)."""
    since = entry['netns_readonly_since']
    if not since:
        return False
    line = '%d.%d' % release.version[:2]
    return release >= since or line in entry['netns_readonly_backports']


def per_netns(entry: Entry, release: KernelRelease) -> bool:
    """Whether a non-initial network namespace sees the key on kernel ``release`` (a KernelRelease)."""
    for since, until in entry['netns']:
        if (since is None or release >= since) and (until is None or release < until):
            return True
    return False
