# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: audit findings for one host, from its facts, record and expected profile.

Pure: takes the dicts the facts modules return (``tcp``, ``tcp_sysctl`` with sources), the
host's record (the local fact written by sysctl_tune, or None) and the resolved expected
profile (or None), and returns findings. Each finding has ``kind``, ``severity`` (critical,
warning, info), ``key`` where it applies, ``expected``, ``actual`` and a ``message`` that says
what it means and what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netops.tcp.plugins.module_utils import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils._kernel import KernelRelease, KernelVersionError

SEVERITIES = ('info', 'warning', 'critical')
DEFAULT_THRESHOLDS = {
    'close_wait': 1000,           # sockets in CLOSE_WAIT
    'syn_recv': 1000,             # sockets in SYN_RECV
    'time_wait_ratio': 0.9,       # TIME_WAIT / tcp_max_tw_buckets
    'orphan_ratio': 0.8,          # sockstat orphans / tcp_max_orphans
    'conntrack_ratio': 0.9,       # nf_conntrack count / max
    'ephemeral_ratio': 0.8,       # connections to one peer / ephemeral range size
    'fin_timeout_min': 5,         # seconds
}


def finding(kind, severity, message, key=None, expected=None, actual=None):
    return {'kind': kind, 'severity': severity, 'key': key, 'expected': expected, 'actual': actual, 'message': message}


def rank(severity):
    return SEVERITIES.index(severity)


def profile_findings(record, expected_profile, keys, sources, dropin):
    """``dropin``: whether the drop-in the record names exists (True/False, or its text)."""
    found = []
    if not record:
        if expected_profile:
            found.append(finding('unmanaged', 'warning',
                                 'No netops.tcp record on this host: it was never tuned with %s@%s, or the record was '
                                 'removed. Run tune-tcp.yml.' % (expected_profile['name'], expected_profile['version']),
                                 expected='%s@%s' % (expected_profile['name'], expected_profile['version'])))
        return found
    running = '%s@%s' % (record.get('profile'), record.get('version'))
    if expected_profile:
        wanted = '%s@%s' % (expected_profile['name'], expected_profile['version'])
        if record.get('profile') != expected_profile['name']:
            found.append(finding('outdated', 'warning', 'The host runs %s, not the expected %s. Apply %s.'
                                 % (running, wanted, wanted), expected=wanted, actual=running))
        elif (record.get('version') or 0) < expected_profile['version']:
            found.append(finding('outdated', 'warning', 'The host runs %s, an older version than the expected %s. '
                                 'Upgrade with tune-tcp.yml.' % (running, wanted), expected=wanted, actual=running))
    applied = record.get('applied') or {}
    for key in sorted(applied):
        want = applied[key]
        info = keys.get(key) or {}
        live = info.get('raw')
        if info.get('available') and live is not None and not catalog.same(key, live, want):
            found.append(finding('drift', 'warning',
                                 '%s is %s live, but %s set %s. Someone changed it by hand or another tool did; '
                                 're-run tune-tcp.yml or find who writes it.' % (key, live, running, want),
                                 key=key, expected=want, actual=live))
        src = (sources or {}).get(key) or {}
        boot = src.get('boot_value')
        dropin_path = record.get('sysctl_file')
        if dropin_path and not dropin:
            continue
        if dropin_path and boot is not None and not catalog.same(key, boot, want):
            if src.get('boot_owner') == 'tuned':
                # The winning write (a conditional one may follow it in the list).
                last = ([w for w in src.get('writers') or [] if w.get('owner') == 'tuned' and not w.get('conditional')]
                        or [{}])[-1]
                who = 'TuneD profile %s, %s line %s, after the sysctl.d files' % (last.get('profile'), src.get('boot_file'),
                                                                                  last.get('line'))
                fix = ('remove it from that profile\'s [sysctl] section, or let TuneD re-apply sysctl.d '
                       '(reapply_sysctl = 1 in /etc/tuned/tuned-main.conf).')
            else:
                who = src.get('boot_file')
                fix = 'a later file overrides the netops.tcp drop-in. Remove it there or raise the drop-in\'s priority.'
            found.append(finding('persistence', 'warning', '%s will be %s after a reboot (set by %s), not %s: %s'
                                 % (key, boot, who, want, fix), key=key, expected=want, actual=boot))
    if record.get('sysctl_file') and dropin is not None and not dropin:  # None: the boot files were not gathered
        found.append(finding('persistence', 'warning',
                             'The drop-in %s is missing: the tuning is live but will be lost at the next reboot. '
                             'Re-run tune-tcp.yml.' % record['sysctl_file'], expected=record['sysctl_file']))
    return found


def risky_findings(keys, listeners, thresholds):
    """Settings that are dangerous on this kernel, whoever set them."""
    found = []

    def live(key):
        info = keys.get(key) or {}
        return info.get('value') if info.get('available') else None

    if live('net.ipv4.tcp_tw_recycle') == 1:
        found.append(finding('risky', 'critical',
                             'tcp_tw_recycle=1 drops SYNs from clients behind NAT or a load balancer (their timestamps '
                             'look out of order). Set it to 0; it was removed in Linux 4.12.',
                             key='net.ipv4.tcp_tw_recycle', expected=0, actual=1))
    reuse, stamps = live('net.ipv4.tcp_tw_reuse'), live('net.ipv4.tcp_timestamps')
    if reuse in (1, 2) and stamps == 0:
        found.append(finding('risky', 'warning',
                             'tcp_tw_reuse=%d does nothing with tcp_timestamps=0: reuse needs timestamps. '
                             'Turn timestamps on.' % reuse, key='net.ipv4.tcp_timestamps', expected=1, actual=0))
    fin = live('net.ipv4.tcp_fin_timeout')
    if isinstance(fin, int) and fin < thresholds['fin_timeout_min']:
        found.append(finding('risky', 'warning',
                             'tcp_fin_timeout=%d cuts off slow peers still sending their FIN, and it never shortened '
                             'TIME_WAIT. Use %d or more.' % (fin, thresholds['fin_timeout_min']),
                             key='net.ipv4.tcp_fin_timeout', expected='>= %d' % thresholds['fin_timeout_min'], actual=fin))
    rng, reserved = live('net.ipv4.ip_local_port_range'), live('net.ipv4.ip_local_reserved_ports') or []
    if rng:
        taken = set()
        for low, high in reserved:
            taken.update(range(low, high + 1))
        exposed = sorted(set(item['port'] for item in listeners or [] if rng[0] <= item['port'] <= rng[1] and item['port'] not in taken))
        if exposed:
            found.append(finding('risky', 'warning',
                                 'The ephemeral port range %d-%d covers the listening ports %s: an outgoing connection '
                                 'can take one while its service restarts. Reserve them in ip_local_reserved_ports.'
                                 % (rng[0], rng[1], ', '.join(str(p) for p in exposed)),
                                 key='net.ipv4.ip_local_port_range', expected='no listening port in range', actual=exposed))
    return found


def lowered_default_findings(record, kernel_version):
    """Values the host's profile applied that are below the running kernel's own default (for
    buffer vectors, the maximum): advice that raised a limit on older kernels lowers it on newer ones."""
    found = []
    if not record or not kernel_version:
        return found
    try:
        release = KernelRelease(kernel_version)
    except KernelVersionError:
        return found
    running = '%s@%s' % (record.get('profile'), record.get('version'))
    applied = record.get('applied') or {}
    for key in sorted(applied):
        try:
            lower = catalog.lowers_default(key, applied[key], release)
        except catalog.CatalogError:
            continue  # a value the kernel took but the catalog's rules refuse: drift findings tell
        if lower:
            what = 'a maximum of %d' % lower[0] if catalog.get(key)['type'] == catalog.VECTOR else str(lower[0])
            found.append(finding('risky', 'warning',
                                 '%s: %s sets %s, below Linux %s\'s own default of %d: this profile lowers the '
                                 'kernel\'s own default. Leave the key to the kernel here (a kernel guard in the '
                                 'profile) or use a profile version that does.' % (key, running, what, release, lower[1]),
                                 key=key, expected='>= %d' % lower[1], actual=lower[0]))
    return found


# Counters that only grow: compared with the previous audit when there was one, else with boot.
TRACKED_COUNTERS = ('TCPTimeWaitOverflow', 'ListenOverflows')


def growth(counters, previous, name):
    """(increase, since) of a counter: since the last audit when its value is known, else since boot."""
    now = counters.get(name, 0)
    before = (previous or {}).get(name)
    if before is None or before > now:  # no earlier audit, or the host rebooted since
        return now, 'since boot'
    return now - before, 'since the last audit'


def health_findings(tcp, keys, thresholds, previous=None):
    """Live trouble from the TCP facts; ``previous`` holds the counters of the last audit."""
    found = []
    states = tcp.get('states') or {}
    counters = tcp.get('counters') or {}

    def live(key):
        info = keys.get(key) or {}
        return info.get('value') if info.get('available') else None

    close_wait = states.get('CLOSE_WAIT', 0)
    if close_wait >= thresholds['close_wait']:
        holders = (tcp.get('processes') or {}).get('CLOSE_WAIT') or []
        named = ', '.join('%s (%s)' % (p['name'], ', '.join(
            ['pid %d' % p['pid']] + [p[k] for k in ('container', 'unit') if p.get(k)][:1] + ['%d sockets' % p['sockets']]))
            for p in holders[:3])
        found.append(finding('close_wait', 'warning',
                             '%d sockets in CLOSE_WAIT: the peer closed and the application never called close(). '
                             'Fix the code that leaks them%s; a restart only hides it.'
                             % (close_wait, ': ' + named if named else ' (gather_subset processes names it)'),
                             expected='< %d' % thresholds['close_wait'], actual=close_wait))
    tw_max = live('net.ipv4.tcp_max_tw_buckets')
    time_wait = states.get('TIME_WAIT', 0)
    overflow, since = growth(counters, previous, 'TCPTimeWaitOverflow')
    if (isinstance(tw_max, int) and tw_max and time_wait >= thresholds['time_wait_ratio'] * tw_max) or overflow > 0:
        found.append(finding('time_wait', 'warning',
                             '%d TIME_WAIT sockets against tcp_max_tw_buckets=%s; TCPTimeWaitOverflow rose by %d %s '
                             '(TIME_WAIT sockets destroyed early). Use keep-alive or connection pools, or raise the limit.'
                             % (time_wait, tw_max, overflow, since),
                             key='net.ipv4.tcp_max_tw_buckets', expected='< %d%%' % (thresholds['time_wait_ratio'] * 100),
                             actual=time_wait))
    syn_recv = states.get('SYN_RECV', 0)
    if syn_recv >= thresholds['syn_recv'] and counters.get('SyncookiesSent', 0) > 0:
        found.append(finding('syn_flood', 'critical',
                             '%d sockets in SYN_RECV and %d SYN cookies sent: a SYN flood, or a burst the SYN queue '
                             'cannot hold. Keep tcp_syncookies=1 and check the traffic\'s sources.'
                             % (syn_recv, counters['SyncookiesSent']), expected='< %d' % thresholds['syn_recv'], actual=syn_recv))
    overflows, since = growth(counters, previous, 'ListenOverflows')
    if overflows > 0:
        listeners = tcp.get('listeners') or []
        full = [item for item in listeners if item.get('accept_queue_full')] or \
            sorted(listeners, key=lambda item: -(item.get('accept_queue') or 0))[:1]
        named = ', '.join('%s:%d (queue %s/%s)' % (item['address'], item['port'], item['accept_queue'], item['backlog'])
                          for item in full)
        found.append(finding('listen_overflow', 'warning',
                             'ListenOverflows rose by %d %s: connections were dropped because an accept queue was full '
                             '(%s). The application accepts too slowly or its backlog is too small (capped by '
                             'net.core.somaxconn).' % (overflows, since, named or 'no listener is full now'),
                             key='net.core.somaxconn', expected=0, actual=overflows))
    orphans = ((tcp.get('sockstat') or {}).get('tcp') or {}).get('orphan')
    max_orphans = live('net.ipv4.tcp_max_orphans')
    if isinstance(orphans, int) and isinstance(max_orphans, int) and max_orphans and \
            orphans >= thresholds['orphan_ratio'] * max_orphans:
        found.append(finding('orphans', 'warning',
                             '%d orphaned sockets against tcp_max_orphans=%d: past it the kernel resets connections '
                             '("too many orphaned sockets").' % (orphans, max_orphans),
                             key='net.ipv4.tcp_max_orphans', expected='< %d%%' % (thresholds['orphan_ratio'] * 100), actual=orphans))
    conntrack = tcp.get('conntrack') or {}
    if conntrack.get('usage') is not None and conntrack['usage'] >= thresholds['conntrack_ratio']:
        found.append(finding('conntrack', 'critical',
                             'conntrack holds %d of %d entries: when full the kernel drops new connections ("nf_conntrack: '
                             'table full, dropping packet"). Raise nf_conntrack_max or stop tracking this traffic.'
                             % (conntrack['count'], conntrack['max']), key='net.netfilter.nf_conntrack_max',
                             expected='< %d%%' % (thresholds['conntrack_ratio'] * 100), actual=conntrack['count']))
    eph = tcp.get('ephemeral_ports') or {}
    for peer in eph.get('busiest_peers') or []:
        if peer['usage'] >= thresholds['ephemeral_ratio']:
            found.append(finding('ephemeral_ports', 'warning',
                                 '%d connections to %s:%d use %.0f%% of the ephemeral ports (%s): new connections to it '
                                 'will fail with EADDRNOTAVAIL. Reuse connections, add source addresses or widen the range.'
                                 % (peer['connections'], peer['peer'], peer['port'], peer['usage'] * 100,
                                    '-'.join(str(p) for p in eph.get('range') or [])),
                                 key='net.ipv4.ip_local_port_range', expected='< %d%%' % (thresholds['ephemeral_ratio'] * 100),
                                 actual=peer['connections']))
    return found


def check_thresholds(thresholds):
    """Refuse threshold names the findings do not know (a typo would silently keep the default)
    and values that are not numbers of zero or more."""
    unknown = set(thresholds or {}) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ValueError('unknown threshold %s (known: %s)'
                         % (', '.join(sorted(unknown)), ', '.join(sorted(DEFAULT_THRESHOLDS))))
    for name in sorted(thresholds or {}):
        value = thresholds[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError('threshold %s: %r is not a number of zero or more' % (name, value))


def host_findings(tcp, sysctl_facts, record, expected_profile, dropin=None, thresholds=None, previous=None):
    """Every finding for one host, the most severe first; ``previous``: counters of the last audit."""
    check_thresholds(thresholds)
    limits = dict(DEFAULT_THRESHOLDS)
    limits.update(thresholds or {})
    keys = (sysctl_facts or {}).get('keys') or {}
    found = profile_findings(record, expected_profile, keys, (sysctl_facts or {}).get('sources'), dropin)
    found += risky_findings(keys, (tcp or {}).get('listeners'), limits)
    found += lowered_default_findings(record, ((sysctl_facts or {}).get('kernel') or {}).get('version'))
    found += health_findings(tcp or {}, keys, limits, previous)
    return sorted(found, key=lambda f: (-rank(f['severity']), f['kind'], f['key'] or ''))
