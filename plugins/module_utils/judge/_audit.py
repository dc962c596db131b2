# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: one host's audit entry (its findings, record, states, kernel), judged on the host
(netops.tcp.tcp_metrics) or on the controller (netops.tcp.audit_report)."""

import calendar
import time
from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils.judge import _namespaces as namespaces
from ansible_collections.netops.tcp.plugins.module_utils.model._settings import SettingsError


NO_FACTS = {
    'live': 'No TCP facts from this host in this run: gather them (netops.tcp.audit_facts) before the audit.',
    'cache': 'No cached TCP facts for this host: put netops.tcp.audit_facts in ansible_facts_modules '
             '(examples/inventory) and let a play gather facts, or audit it live.',
}


def gathered_at(host):
    """When the host's TCP facts were gathered (epoch seconds), or None when they do not say."""
    stamp = (host.get('tcp') or {}).get('gathered_at')
    try:
        return calendar.timegm(time.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ'))
    except (TypeError, ValueError):
        pass
    try:
        return int((host.get('date_time') or {}).get('epoch'))  # setup's, gathered in the same run
    except (TypeError, ValueError):
        return None


def _age(seconds):
    hours = seconds / 3600.0
    return '%.1f hours' % hours if hours < 48 else '%.1f days' % (hours / 24)


def _stale(host, now, max_age):
    """[the stale finding] for cached facts older than ``max_age`` seconds or of unknown age, else []."""
    when = gathered_at(host)
    if when is None:
        return [findings.finding('stale', 'warning', 'The cached facts carry no time of gathering: their age is '
                                 'unknown. Gather facts again.', expected='<= %d s' % max_age)]
    if now - when <= max_age:
        return []
    stamp = host['tcp'].get('gathered_at') or time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))
    return [findings.finding('stale', 'warning', 'The cached facts are %s old (gathered %s), older than '
                             'tcp_audit_max_age (%s): these findings may no longer hold. Gather facts again, or '
                             'audit live.' % (_age(now - when), stamp, _age(max_age)),
                             expected='<= %d s' % max_age, actual=int(now - when))]


def audit(facts, expected_for, thresholds=None, previous=None, record_name='netops_tcp', source='live',
          max_age=None, now=None):
    """Every host's audit entry, computed once for the fleet.

    ``facts``: {host: its ansible_facts (tcp, tcp_sysctl, tcp_record or ansible_local)};
    ``expected_for(record)``: the resolved expected profile for a host's record (or None);
    ``previous``: the last report, to tell a counter's rise since that audit from a total since
    boot. From the cache (``source``), facts older than ``max_age`` seconds are ``stale``. Returns
    {host: {'record', 'expected' ("name@version" or None), 'kernel' (see ``kernel``), 'states', 'counters',
    'findings'}}.
    """
    now = time.time() if now is None else now
    findings.check_thresholds(thresholds)
    before = (previous or {}).get('hosts') or {}
    before = before if isinstance(before, dict) else {}
    return dict((name, entry(facts[name], expected_for, thresholds, before.get(name), record_name, source, max_age, now))
                for name in sorted(facts))


def entry(host, expected_for, thresholds=None, before=None, record_name='netops_tcp', source='live', max_age=None,
          now=None):
    """One host's audit entry (see ``audit``) from its facts ``host`` and its entry in the last report
    (``before``); the thresholds are checked by the caller (``findings.check_thresholds``)."""
    now = time.time() if now is None else now
    host = host if isinstance(host, dict) else {}
    try:
        result = _host_entry(host, expected_for, thresholds, before if isinstance(before, dict) else None, record_name,
                             source, max_age, now)
    except Exception as exc:  # pylint: disable=broad-except
        # Facts a host sent in a shape our modules never give (another version, a hand-edited cache, a
        # hostile host: Infinity, huge numbers): that host says so, and every other host is still audited.
        result = unaudited('The TCP facts from this host are not in the shape this collection gathers (%s: %s). '
                           'Gather them again with netops.tcp.audit_facts.' % (type(exc).__name__, str(exc)[:200]))
    result['kernel'] = kernel(host)
    return result


def unaudited(message):
    """The entry of a host that cannot be judged, ``message`` saying why."""
    return {'record': None, 'expected': None, 'states': None, 'counters': None, 'kernel': None,
            'findings': [findings.finding('unaudited', 'warning', message)]}


RELEASE_LENGTH = 64  # the longest release the kernel keeps (__NEW_UTS_LEN)


def kernel(host):
    """The kernel release a host's facts name, as ``uname -r`` prints it: sysctl_facts' ``kernel.release``,
    else setup's ``kernel``; None when neither is a non-empty string. Host text (any characters): cut
    to the kernel's own limit, escaped by each writer."""
    sysctl_facts = host.get('tcp_sysctl')
    found = sysctl_facts.get('kernel') if isinstance(sysctl_facts, dict) else None
    release = found.get('release') if isinstance(found, dict) else None
    if not isinstance(release, str) or not release:
        release = host.get('kernel')
    return release[:RELEASE_LENGTH] if isinstance(release, str) and release else None


def _numbers(table):
    """The integer entries of a facts table (states, counters), None when it is not a table."""
    if not isinstance(table, dict):
        return None
    return dict((k, v) for k, v in table.items() if isinstance(v, int) and not isinstance(v, bool))


def record_of(host, record_name='netops_tcp'):
    """(the netops.tcp record in a host's facts or None, whether one is there but cannot be read).
    audit_facts returns it as tcp_record; setup's local facts as ansible_local.NAME (AttributeError when
    that is not a table)."""
    record = host['tcp_record'] if 'tcp_record' in host else (host.get('ansible_local') or {}).get(record_name)
    damaged = record is not None and (not isinstance(record, dict) or set(record) == {'error'})
    return (None if damaged else record), damaged


def _host_entry(host, expected_for, thresholds, before, record_name, source, max_age, now):
    tcp, sysctl_facts = host.get('tcp'), host.get('tcp_sysctl')
    record, damaged = record_of(host, record_name)
    unresolved = remembered = None
    try:
        expected_profile = expected_for(record)
    except SettingsError as exc:  # the profile or version a host's record names is unknown here
        expected_profile, unresolved = None, str(exc)
    if not tcp or not sysctl_facts:
        found = [findings.finding('unaudited', 'warning', NO_FACTS[source])]
    else:
        boot = sysctl_facts.get('boot_files')
        dropin = None if boot is None else bool(record and record.get('sysctl_file') in boot)
        found = findings.host_findings(tcp, sysctl_facts, record, expected_profile, dropin, thresholds,
                                       _numbers((before or {}).get('counters')))
        if 'namespaces' in tcp:
            more, remembered = namespaces.judge(tcp['namespaces'], sysctl_facts, record, findings.limits_of(thresholds),
                                                (before or {}).get('namespaces'))
            found = sorted(found + more, key=findings.order)
    if tcp and source == 'cache' and max_age is not None:
        found[:0] = _stale(host, now, max_age)
    if damaged:
        found.insert(0, findings.finding('unmanaged', 'warning', 'The netops.tcp record on this host cannot be '
                                         'read; re-run tune-tcp.yml to write it again.'))
    if unresolved:
        found.insert(0, findings.finding('unmanaged', 'warning', 'The profile this host records it runs cannot be '
                                         'resolved here (%s): it is not checked against it. Give its directory in '
                                         'tcp_audit_profile_paths, or tune the host again.' % unresolved))
    result = {
        'record': record,
        'expected': '%s@%s' % (expected_profile['name'], expected_profile['version']) if expected_profile else None,
        'states': _numbers((tcp or {}).get('states')),
        'counters': _numbers((tcp or {}).get('counters')),
        'findings': found,
    }
    if remembered is not None:
        result['namespaces'] = remembered  # each namespace's counters, for the rises the next audit judges
    return result
