# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: audit findings for one host, from its facts, record and expected profile.

Pure: takes the dicts the facts modules return (``tcp``, ``tcp_sysctl`` with sources), the
host's record (the local fact written by sysctl_tune, or None) and the resolved expected
profile (or None: its checksum and settings, when given, tell a host tuned with overrides), and
returns findings. Each finding has ``kind``, ``severity`` (critical,
warning, info), ``key`` where it applies, ``expected``, ``actual`` and a ``message`` that says
what it means and what to do.
"""

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease, KernelVersionError

SEVERITIES = ('info', 'warning', 'critical')
DEFAULT_THRESHOLDS = {
    'close_wait': 1000,           # sockets in CLOSE_WAIT
    'closing': 1000,              # orphans waiting for the peer: FIN_WAIT1, CLOSING and LAST_ACK
    'syn_cookies': 1,             # SYNs answered with cookies or dropped since the last audit
    'time_wait_ratio': 0.9,       # timewait sockets (sockstat tw) / tcp_max_tw_buckets
    'orphan_ratio': 0.25,         # orphans / tcp_max_orphans: resets can start at a quarter of it
    'conntrack_ratio': 0.9,       # nf_conntrack count / max
    'ephemeral_ratio': 0.8,       # ports held towards one peer / usable ephemeral ports
    'fin_timeout_min': 5,         # seconds
    'retransmit_ratio': 0.02,     # segments retransmitted / sent since the last audit
}
# Thresholds of earlier versions, refused with what replaced them.
RETIRED_THRESHOLDS = {
    'syn_recv': 'the SYN-flood finding now judges each listener\'s SYN queue against its own limit and the rise of '
                'SYN cookies and drops since the last audit (threshold syn_cookies)',
}
RETRANSMIT_MIN_SEGMENTS = 10000  # segments sent since the last audit before a retransmission ratio means anything
# Every finding a host can have, with the severities it can have (the metrics write them all, zeros
# too). Counter rises known only since boot are info: the next audit tells whether they go on.
KINDS = (
    ('unmanaged', ('warning',)), ('outdated', ('warning',)), ('overridden', ('info', 'warning')), ('drift', ('warning',)),
    ('persistence', ('warning',)),
    ('risky', ('warning', 'critical')), ('close_wait', ('warning',)), ('closing', ('warning',)),
    ('time_wait', ('info', 'warning')), ('syn_flood', ('info', 'warning', 'critical')),
    ('listen_overflow', ('info', 'warning')), ('orphans', ('warning',)), ('memory', ('info', 'warning', 'critical')),
    ('retransmits', ('warning',)), ('conntrack', ('critical',)), ('ephemeral_ports', ('warning',)),
    # The host's other network namespaces (judge/_namespaces.py): those past the listed ones, counted, or
    # unreadable; the profile's per-namespace settings a namespace runs without.
    ('namespaces', ('info', 'warning', 'critical')), ('namespace_settings', ('info',)),
)
# Said by the fleet audit of a host it cannot judge (no facts, old or malformed ones): not a host's own.
AUDIT_KINDS = (('unaudited', ('warning',)), ('stale', ('warning',)))
_KNOWN = frozenset((kind, severity) for kind, severities in KINDS + AUDIT_KINDS for severity in severities)


def finding(kind, severity, message, key=None, expected=None, actual=None):
    if (kind, severity) not in _KNOWN:
        raise ValueError('finding %s with severity %s is not declared in KINDS' % (kind, severity))
    return {'kind': kind, 'severity': severity, 'key': key, 'expected': expected, 'actual': actual, 'message': message}


def rank(severity):
    return SEVERITIES.index(severity)


def profile_findings(record, expected_profile, keys, sources, dropin, boot_modules=None, release=None, host=None):
    """``dropin``: whether the drop-in the record names exists (True/False, or its text);
    ``boot_modules``: {module: what loads it before systemd-sysctl, or None} (sysctl_facts);
    ``release`` and ``host`` (catalog.host_context): to tell the kernel's default a key falls back to."""
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
        elif record.get('version') == expected_profile['version']:
            found += overridden(record, expected_profile)
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
        module = (catalog.get(key) or {}).get('module')
        if dropin_path and dropin and boot_modules is not None and module and not boot_modules.get(module):
            found += _unloaded_module(record, key, want, module, release, host)
    if record.get('sysctl_file') and dropin is not None and not dropin:  # None: the boot files were not gathered
        found.append(finding('persistence', 'warning',
                             'The drop-in %s is missing: the tuning is live but will be lost at the next reboot. '
                             'Re-run tune-tcp.yml.' % record['sysctl_file'], expected=record['sysctl_file']))
    return found


RESERVED = 'net.ipv4.ip_local_reserved_ports'
PORT_RANGE = 'net.ipv4.ip_local_port_range'
OVERRIDES_FIX = ('The host was tuned with local overrides (tcp_tune_overrides) or with other profile parameters than '
                 'this audit resolves it with (tcp_audit_profile_parameters): put them in a new version of the profile '
                 'and apply it, or re-run tune-tcp.yml without them.')


def _text(key, value):
    """A profile's typed value as the record keeps it (the text sysctl_tune writes)."""
    entry = catalog.get(key)
    return catalog.format_value(value, entry) if entry else str(value)


def _reserves(key, theirs, ours):
    """Whether the record's reserved ports (``ours``) are the profile's (``theirs``) plus listening ports
    sysctl_tune reserved for the port range's reserve_listening_ports guard; None is no reserved port."""
    try:
        want = reserved_ports(catalog.parse(key, theirs)) if theirs is not None else set()
        have = reserved_ports(catalog.parse(key, ours)) if ours is not None else set()
    except catalog.CatalogError:
        return False
    return want <= have


def overridden(record, expected_profile):
    """Findings for a record of the expected name@version whose checksum is not the expected profile's:
    the host was tuned with overrides or other parameters. One warning per key whose value in effect
    differs (``actual`` the record's, ``expected`` the profile's; None for a key only one side has); keys
    the host skipped (a guard, a key this kernel lacks) are not differences. An info when no value
    differs (only guards, or keys skipped here). Nothing when either side has no checksum: records of
    early versions, or an expected profile known by name only (tcp_metrics)."""
    ours, theirs = record.get('checksum'), expected_profile.get('checksum')
    settings = expected_profile.get('settings')
    if not isinstance(ours, str) or not isinstance(theirs, str) or not ours or ours == theirs or \
            not isinstance(settings, dict):
        return []
    running = '%s@%s' % (record.get('profile'), record.get('version'))
    why = '(the record\'s checksum %s is not the profile\'s %s)' % (ours[:12], theirs[:12])
    applied, skipped = record.get('applied') or {}, record.get('skipped') or {}
    if not isinstance(applied, dict):
        return []  # a damaged record: the profile findings say so, nothing here to compare
    skipped = skipped if isinstance(skipped, (dict, list)) else {}
    reserve = ((settings.get(PORT_RANGE) or {}).get('guards') or {}).get('reserve_listening_ports')
    found = []
    for key in sorted(set(applied) | set(settings)):
        have = applied.get(key)
        want = _text(key, settings[key].get('value')) if key in settings else None
        if key == RESERVED and reserve and have is not None and _reserves(key, want, have):
            continue  # the profile's reserved ports and the listening ports its port range covers
        if have is not None and want is not None:
            if catalog.same(key, have, want):
                continue
            message = '%s: this host runs %s with %s, the profile sets %s %s.' % (key, running, have, want, why)
        elif have is not None:
            message = '%s: this host runs %s with %s, a key the profile does not set %s.' % (key, running, have, why)
        elif key in skipped:
            continue  # skipped on this host, as it would be without overrides
        else:
            message = '%s: this host runs %s without it, the profile sets %s %s.' % (key, running, want, why)
        found.append(finding('overridden', 'warning', '%s %s' % (message, OVERRIDES_FIX), key=key,
                             expected=want, actual=have))
    if not found:
        found.append(finding('overridden', 'info',
                             'This host runs %s with checksum %s, not the profile\'s %s, though every value it applied '
                             'is the profile\'s: the difference is in guards or in keys this host skips. It was tuned '
                             'with local overrides (tcp_tune_overrides) or other profile parameters: re-run '
                             'tune-tcp.yml without them to record the profile as it is.' % (running, ours[:12], theirs[:12]),
                             expected=theirs, actual=ours))
    return found


def _unloaded_module(record, key, want, module, release, host):
    """The persistence finding for a key of the drop-in whose module nothing loads before systemd-sysctl
    at boot: the value it will have after a reboot (the kernel's default) when it can be told."""
    ours = record.get('modules_file')
    fix = ('%s, which sysctl_tune wrote to load it, is missing, no longer lists it or is not read at boot: re-run '
           'tune-tcp.yml, or list %s in /etc/modules-load.d/.' % (ours, module) if ours
           else 'List %s in /etc/modules-load.d/.' % module)
    entry = catalog.get(key)
    default = catalog.kernel_default(entry, release, host) if release is not None and entry else None
    if default is None:
        return [finding('persistence', 'warning',
                        '%s is in the drop-in, but nothing loads %s at boot before systemd-sysctl applies it, so after '
                        'a reboot the kernel\'s default comes back when a firewall loads the module later '
                        '(sysctl.d(5)). %s' % (key, module, fix),
                        key=key, expected='%s loaded at boot' % module, actual='not listed')]
    after = catalog.format_value(default, entry)
    if catalog.same(key, after, want):
        return []  # the kernel's own default is the value wanted: nothing changes at a reboot
    return [finding('persistence', 'warning',
                    '%s will be %s after a reboot (the kernel\'s default: nothing loads %s before systemd-sysctl '
                    'applies the drop-in, so its line is skipped and the module comes up with its default when a '
                    'firewall loads it later; sysctl.d(5)), not %s. %s' % (key, after, module, want, fix),
                    key=key, expected=want, actual=after)]


def _live(keys):
    def live(key):
        info = keys.get(key) or {}
        return info.get('value') if info.get('available') else None
    return live


def risky_findings(keys, listeners, thresholds, release=None, host=None, record=None):
    """Settings that are dangerous on this kernel, whoever set them: the catalog's rules for each
    live value, values below the running kernel's own default on capacity limits, and the rules
    that need more than one key."""
    found = []
    live = _live(keys)
    for key in sorted(keys):
        value, entry = live(key), catalog.CATALOG.get(key)  # facts name keys as the catalog does
        if value is None or entry is None:
            continue
        for severity, message, expected in catalog.risky(key, value, entry):
            found.append(finding('risky', severity, message, key=key, expected=expected, actual=value))
        lower = catalog.lowers(key, value, release, host, entry) if release is not None else None
        if lower:
            what = 'a maximum of %d' % lower[0] if entry['type'] == catalog.VECTOR else str(lower[0])
            who = ('%s@%s sets' % (record.get('profile'), record.get('version'))
                   if record and key in (record.get('applied') or {}) else 'is')
            found.append(finding('risky', 'warning',
                                 '%s %s %s, below the %d this kernel (Linux %s) gives by default on this host: it lowers '
                                 'a capacity limit newer kernels raised. Leave the key to the kernel (a kernel guard in '
                                 'the profile, or a profile version that does).' % (key, who, what, lower[1], release),
                                 key=key, expected='>= %d' % lower[1], actual=lower[0]))
    fin = live('net.ipv4.tcp_fin_timeout')
    if isinstance(fin, int) and fin < thresholds['fin_timeout_min']:
        found.append(finding('risky', 'warning',
                             'tcp_fin_timeout=%d cuts off slow peers still sending their FIN, and it never shortened '
                             'TIME_WAIT. Use %d or more.' % (fin, thresholds['fin_timeout_min']),
                             key='net.ipv4.tcp_fin_timeout', expected='>= %d' % thresholds['fin_timeout_min'], actual=fin))
    rng = live('net.ipv4.ip_local_port_range')
    if rng:
        taken = reserved_ports(live('net.ipv4.ip_local_reserved_ports'))
        exposed = sorted(set(item['port'] for item in listeners or [] if rng[0] <= item['port'] <= rng[1] and item['port'] not in taken))
        if exposed:
            found.append(finding('risky', 'warning',
                                 'The ephemeral port range %d-%d covers the listening ports %s: an outgoing connection '
                                 'can take one while its service restarts. Reserve them in ip_local_reserved_ports.'
                                 % (rng[0], rng[1], ', '.join(str(p) for p in exposed)),
                                 key='net.ipv4.ip_local_port_range', expected='no listening port in range', actual=exposed))
    return found


def reserved_ports(ranges):
    taken = set()
    for low, high in ranges or []:
        taken.update(range(low, high + 1))
    return taken


def growth(counters, previous, name, start='since boot'):
    """(increase, since) of a counter: since the last audit when its value is known, else since the
    counters started (``start``: boot, or a namespace's creation, which gives it counters of its own)."""
    now = counters.get(name, 0)
    before = (previous or {}).get(name)
    if before is None or before > now:  # no earlier audit, or the host rebooted since
        return now, start
    return now - before, 'since the last audit'


def _loopback(address):
    return address.startswith('127.') or address == '::1' or address.startswith('::ffff:127.')


def health_findings(tcp, keys, thresholds, previous=None, start='since boot'):
    """Live trouble from the TCP facts; ``previous`` holds the counters of the last audit. What
    happens now is judged: counter rises since the last audit (since boot they are only info),
    each listener's queues against its own limits, the live states."""
    found = []
    states = tcp.get('states') or {}
    counters = tcp.get('counters') or {}
    sockstat = (tcp.get('sockstat') or {}).get('tcp') or {}
    live = _live(keys)

    def rise(name):
        """(increase, since, severity for a rise): warning since the last audit, info since boot."""
        n, since = growth(counters, previous, name, start)
        return n, since, 'warning' if since == 'since the last audit' else 'info'

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
    found += _closing(states, live, thresholds)
    found += _time_wait(states, sockstat, live, thresholds, rise)
    found += _syn_flood(tcp.get('listeners') or [], counters, previous, live, thresholds, start)
    overflows, since, severity = rise('ListenOverflows')
    if overflows > 0:
        listeners = tcp.get('listeners') or []
        full = [item for item in listeners if item.get('accept_queue_full')] or \
            sorted(listeners, key=lambda item: -(item.get('accept_queue') or 0))[:1]
        named = ', '.join('%s:%d (queue %s/%s)' % (item['address'], item['port'], item['accept_queue'], item['backlog'])
                          for item in full)
        found.append(finding('listen_overflow', severity,
                             'ListenOverflows rose by %d %s: connections were dropped because an accept queue was full '
                             '(%s). The application accepts too slowly or its backlog is too small (capped by '
                             'net.core.somaxconn when it calls listen()).' % (overflows, since, named or 'no listener is full now'),
                             key='net.core.somaxconn', expected=0, actual=overflows))
    orphans = sockstat.get('orphan')
    max_orphans = live('net.ipv4.tcp_max_orphans')
    if isinstance(orphans, int) and isinstance(max_orphans, int) and max_orphans and \
            orphans >= thresholds['orphan_ratio'] * max_orphans:
        found.append(finding('orphans', 'warning',
                             '%d orphaned sockets against tcp_max_orphans=%d: the kernel resets an orphan once the count, '
                             'doubled for one idle over 240 s and again after an ICMP error, passes the limit '
                             '(tcp_out_of_resources), so from a quarter of it resets may start ("TCP: too many orphaned '
                             'sockets"). Find the peers that stop reading; lower tcp_orphan_retries on a loaded server.'
                             % (orphans, max_orphans), key='net.ipv4.tcp_max_orphans',
                             expected='< %d%%' % (thresholds['orphan_ratio'] * 100), actual=orphans))
    found += _memory(sockstat, live, rise)
    found += _retransmits(counters, previous, thresholds, start)
    conntrack = tcp.get('conntrack') or {}
    if conntrack.get('usage') is not None and conntrack['usage'] >= thresholds['conntrack_ratio']:
        found.append(finding('conntrack', 'critical',
                             'conntrack holds %d of %d entries: when full the kernel drops new connections ("nf_conntrack: '
                             'table full, dropping packet"). Raise nf_conntrack_max or stop tracking this traffic.'
                             % (conntrack['count'], conntrack['max']), key='net.netfilter.nf_conntrack_max',
                             expected='< %d%%' % (thresholds['conntrack_ratio'] * 100), actual=conntrack['count']))
    found += _ephemeral(tcp.get('ephemeral_ports') or {}, live, thresholds)
    return found


def _closing(states, live, thresholds):
    parts = [(state, states.get(state, 0)) for state in ('FIN_WAIT1', 'LAST_ACK', 'CLOSING')]
    total = sum(n for _state, n in parts)
    if total < thresholds['closing']:
        return []
    retries = live('net.ipv4.tcp_orphan_retries')
    return [finding('closing', 'warning',
                    '%d sockets waiting for the peer to acknowledge our FIN (%s): the application closed them and the '
                    'peer stopped reading, or packets are lost. Those the application closed are orphans that hold '
                    'their unsent data and count against tcp_max_orphans until tcp_orphan_retries (%s) runs out, about '
                    '102 s for the default 0 (meaning 8). ip-sysctl.rst advises lowering it on a loaded web server.'
                    % (total, ', '.join('%s %d' % p for p in parts if p[1]), 'unknown' if retries is None else retries),
                    expected='< %d' % thresholds['closing'], actual=total)]


def _time_wait(states, sockstat, live, thresholds, rise):
    """sockstat ``tw`` counts every timewait minisocket, orphaned FIN_WAIT2 ones too: that is what
    tcp_max_tw_buckets limits (inet_twsk_alloc)."""
    tw_max = live('net.ipv4.tcp_max_tw_buckets')
    time_wait = states.get('TIME_WAIT', 0)
    timewait = sockstat.get('tw') if isinstance(sockstat.get('tw'), int) else time_wait
    found = []
    if isinstance(tw_max, int) and tw_max and timewait >= thresholds['time_wait_ratio'] * tw_max:
        found.append(finding('time_wait', 'warning',
                             '%d timewait sockets (TIME_WAIT and orphaned FIN_WAIT2; %d in TIME_WAIT) against '
                             'tcp_max_tw_buckets=%d: past it the kernel destroys them at once. Use keep-alive or '
                             'connection pools on the side that closes first, or raise the limit.'
                             % (timewait, time_wait, tw_max), key='net.ipv4.tcp_max_tw_buckets',
                             expected='< %d%%' % (thresholds['time_wait_ratio'] * 100), actual=timewait))
    overflow, since, severity = rise('TCPTimeWaitOverflow')
    if overflow > 0 and not found:
        found.append(finding('time_wait', severity,
                             'TCPTimeWaitOverflow rose by %d %s: TIME_WAIT sockets were destroyed early because '
                             'tcp_max_tw_buckets (%s) was reached. Use keep-alive or connection pools, or raise the limit.'
                             % (overflow, since, tw_max), key='net.ipv4.tcp_max_tw_buckets', expected=0, actual=overflow))
    elif overflow > 0:
        found[0]['message'] += ' TCPTimeWaitOverflow rose by %d %s.' % (overflow, since)
    return found


def _syn_flood(listeners, counters, previous, live, thresholds, start):
    """A SYN queue is capped by the listen() backlog (at most somaxconn), and a SYN answered with a
    cookie leaves no SYN_RECV socket (tcp_conn_request, net/ipv4/tcp_input.c): a flood shows as
    listeners at their SYN queue limit, and as cookies (TCPReqQFullDoCookies) or drops
    (TCPReqQFullDrop) rising."""
    mode = live('net.ipv4.tcp_syncookies')
    # SYN_RECV is counted per port, and inet_diag cannot tell which of several listeners on a port
    # (reuseport workers, IPv4 and IPv6, several addresses) holds a request: a port is full when its
    # SYN_RECV reaches the sum of their queue limits.
    ports = {}
    for item in listeners:
        if item.get('backlog') is not None:
            entry = ports.setdefault(item['port'], {'listeners': [], 'limit': 0, 'syn_recv': item.get('syn_recv') or 0})
            entry['listeners'].append(item)
            entry['limit'] += item['backlog']
    full = [(port, entry) for port, entry in sorted(ports.items()) if entry['limit'] and entry['syn_recv'] >= entry['limit']]
    named = ', '.join('%s:%d (SYN_RECV %d, limit %d)' % (e['listeners'][0]['address'], port, e['syn_recv'], e['limit'])
                      if len(e['listeners']) == 1 else 'port %d (SYN_RECV %d, limits of its %d listeners %d)'
                      % (port, e['syn_recv'], len(e['listeners']), e['limit']) for port, e in full[:3])
    cookies, since = growth(counters, previous, 'TCPReqQFullDoCookies', start)
    dropped = growth(counters, previous, 'TCPReqQFullDrop', start)[0]
    if mode == 2:
        cookies = 0  # mode 2 answers every SYN with a cookie: not a sign of a full queue
    events = cookies + dropped
    if not full and (not events or events < thresholds['syn_cookies']):
        return []
    if since != 'since the last audit':  # counts since boot: only a queue full now says it happens now
        severity = 'warning' if full else 'info'
    else:
        severity = 'critical' if dropped or (full and events) else 'warning'
    what = []
    if cookies:
        what.append('%d SYNs answered with cookies' % cookies)
    if dropped:
        what.append('%d SYNs dropped (tcp_syncookies=%s)' % (dropped, mode))
    message = ('%s %s because a SYN queue was full' % (' and '.join(what), since) if what
               else 'No SYN cookie or drop %s' % since)
    message += ('; at their SYN queue limit now: %s. ' % named if full else '; no listener is full now. ')
    message += ('A flood, or a burst the SYN queues cannot hold. For legitimate bursts raise the application\'s '
                'listen() backlog (capped by net.core.somaxconn); tcp_max_syn_backlog counts only with syncookies off. '
                'Keep tcp_syncookies=1.')
    return [finding('syn_flood', severity, message, expected=0, actual=events or sum(e['syn_recv'] for _p, e in full))]


def _memory(sockstat, live, rise):
    found = []
    tcp_mem, pages = live('net.ipv4.tcp_mem'), sockstat.get('mem')
    if isinstance(tcp_mem, list) and len(tcp_mem) == 3 and isinstance(pages, int) and pages >= tcp_mem[1]:
        hard = pages >= tcp_mem[2]
        found.append(finding('memory', 'critical' if hard else 'warning',
                             'TCP uses %d pages of memory, %s tcp_mem %s: %s' % (
                                 pages, 'at the hard limit of' if hard else 'past the pressure threshold of',
                                 ' '.join(str(v) for v in tcp_mem),
                                 'allocations fail, so sends stall, incoming segments are dropped and orphans are '
                                 'reset ("out of memory -- consider tuning tcp_mem").' if hard
                                 else 'the kernel shrinks buffers and slows every connection.'),
                             key='net.ipv4.tcp_mem', expected='< %d pages' % tcp_mem[1], actual=pages))
    pressures, since, severity = rise('TCPMemoryPressures')
    aborts = rise('TCPAbortOnMemory')[0]
    if (pressures or aborts) and not found:
        found.append(finding('memory', severity,
                             'TCP ran short of memory %s: %d times under pressure (TCPMemoryPressures), %d connections '
                             'reset for memory or too many orphans (TCPAbortOnMemory). Find the sockets that hold '
                             'memory (large queues, orphans) before raising tcp_mem.' % (since, pressures, aborts),
                             key='net.ipv4.tcp_mem', expected=0, actual=pressures + aborts))
    return found


def _retransmits(counters, previous, thresholds, start):
    """Judged only against the previous audit: a ratio since boot says nothing about now."""
    rises = {}
    for name in ('OutSegs', 'RetransSegs', 'TCPTimeouts', 'TCPSynRetrans'):
        n, since = growth(counters, previous, name, start)
        if since != 'since the last audit':
            return []
        rises[name] = n
    sent = rises['OutSegs']
    if sent < RETRANSMIT_MIN_SEGMENTS or rises['RetransSegs'] < thresholds['retransmit_ratio'] * sent:
        return []
    ratio = rises['RetransSegs'] / float(sent)
    return [finding('retransmits', 'warning',
                    '%.1f%% of the segments sent since the last audit were retransmitted (%d of %d; %d timeouts, %d SYN '
                    'retransmissions): packet loss or a congested path, felt as slow requests before any error. Look '
                    'at the network between this host and its peers.'
                    % (100 * ratio, rises['RetransSegs'], sent, rises['TCPTimeouts'], rises['TCPSynRetrans']),
                    expected='< %.1f%%' % (100 * thresholds['retransmit_ratio']), actual=round(ratio, 4))]


def _ephemeral(eph, live, thresholds):
    """Ports towards one peer against the usable range: reserved ports left out, and TIME_WAIT
    sockets left out where tcp_tw_reuse lets a new connection take their port."""
    found = []
    rng = eph.get('range') or []
    if len(rng) != 2:
        return found
    reserved = sum(1 for port in reserved_ports(live('net.ipv4.ip_local_reserved_ports')) if rng[0] <= port <= rng[1])
    usable = rng[1] - rng[0] + 1 - reserved
    reuse, stamps = live('net.ipv4.tcp_tw_reuse'), live('net.ipv4.tcp_timestamps')
    for peer in eph.get('busiest_peers') or []:
        reusable = stamps != 0 and (reuse == 1 or (reuse == 2 and _loopback(peer['peer'])))
        held = peer['connections'] - ((peer.get('time_wait') or 0) if reusable else 0)
        if usable <= 0 or held < thresholds['ephemeral_ratio'] * usable:
            continue
        found.append(finding('ephemeral_ports', 'warning',
                             '%d connections to %s:%d hold %.0f%% of the %d usable ephemeral ports (%s, %d reserved%s): '
                             'new connections to it will fail with EADDRNOTAVAIL. Reuse connections, add source '
                             'addresses or widen the range.'
                             % (held, peer['peer'], peer['port'], 100.0 * held / usable, usable,
                                '-'.join(str(p) for p in rng), reserved,
                                '; TIME_WAIT ones not counted, tcp_tw_reuse takes their ports' if reusable else ''),
                             key='net.ipv4.ip_local_port_range', expected='< %d%%' % (thresholds['ephemeral_ratio'] * 100),
                             actual=held))
    return found


def check_thresholds(thresholds):
    """Refuse threshold names the findings do not know (a typo would silently keep the default)
    and values that are not numbers of zero or more."""
    for name in sorted(set(thresholds or {}) & set(RETIRED_THRESHOLDS)):
        raise ValueError('threshold %s is no longer used: %s' % (name, RETIRED_THRESHOLDS[name]))
    unknown = set(thresholds or {}) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ValueError('unknown threshold %s (known: %s)'
                         % (', '.join(sorted(unknown)), ', '.join(sorted(DEFAULT_THRESHOLDS))))
    for name in sorted(thresholds or {}):
        value = thresholds[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError('threshold %s: %r is not a number of zero or more' % (name, value))


def limits_of(thresholds):
    """The thresholds in effect: the defaults, with ``thresholds`` (checked by the caller) over them."""
    return dict(DEFAULT_THRESHOLDS, **(thresholds or {}))


def release_of(sysctl_facts):
    """The kernel release a host's sysctl facts name, or None when they name none that parses."""
    try:
        return KernelRelease(((sysctl_facts or {}).get('kernel') or {}).get('version') or '')
    except KernelVersionError:
        return None


def host_findings(tcp, sysctl_facts, record, expected_profile, dropin=None, thresholds=None, previous=None):
    """Every finding for one host, the most severe first; ``previous``: counters of the last audit."""
    check_thresholds(thresholds)
    limits = limits_of(thresholds)
    keys = (sysctl_facts or {}).get('keys') or {}
    release = release_of(sysctl_facts)
    context = catalog.host_context(sysctl_facts)
    found = profile_findings(record, expected_profile, keys, (sysctl_facts or {}).get('sources'), dropin,
                             (sysctl_facts or {}).get('boot_modules'), release, context)
    found += risky_findings(keys, (tcp or {}).get('listeners'), limits, release, context, record)
    found += health_findings(tcp or {}, keys, limits, previous)
    return sorted(found, key=order)


def order(found):
    """The sort key of findings: the most severe first, then by kind and key."""
    return -rank(found['severity']), found['kind'], found['key'] or ''
