# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the inventory groups a host's cached TCP facts put it in
(the tcp_groups inventory plugin)."""

from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils.judge._audit import record_of

# The health findings that put a host in the trouble group unless the inventory source says otherwise.
TROUBLE = ('close_wait', 'time_wait', 'syn_flood', 'listen_overflow', 'orphans', 'conntrack', 'ephemeral_ports')


def check_kinds(kinds):
    """``kinds`` when each is a finding kind; ValueError naming the first that is not."""
    known = [kind for kind, _severities in findings.KINDS]
    for kind in kinds:
        if kind not in known:
            raise ValueError('trouble_kinds: unknown finding kind %r (known: %s)' % (kind, ', '.join(sorted(known))))
    return kinds


def groups(host, prefix='tcp', record_name='netops_tcp', trouble=TROUBLE, thresholds=None):
    """The names of the groups a host's facts put it in (unsanitized): PREFIX_profile_NAME_vVERSION from
    its record; PREFIX_unmanaged when it has sysctl facts and no record; PREFIX_drifted when a key differs
    from what the record says was applied; PREFIX_trouble when it has a health finding of a ``trouble``
    kind. Facts of another shape give the groups that can still be told."""
    found = []
    try:
        record, damaged = record_of(host, record_name)
    except AttributeError:
        record, damaged = None, True
    sysctl_facts, tcp = host.get('tcp_sysctl'), host.get('tcp')
    if record and record.get('profile'):
        found.append('%s_profile_%s_v%s' % (prefix, record['profile'], record.get('version')))
    elif sysctl_facts is not None and not damaged and record is None:
        found.append('%s_unmanaged' % prefix)
    try:
        if record and isinstance(sysctl_facts, dict) and any(
                f['kind'] == 'drift' for f in findings.host_findings(None, sysctl_facts, record, None)):
            found.append('%s_drifted' % prefix)
    except Exception:  # pylint: disable=broad-except
        pass  # a record or sysctl facts in a shape our modules never write: the audit says so, not the groups
    try:
        if isinstance(tcp, dict) and any(
                f['kind'] in trouble for f in findings.host_findings(tcp, None, None, None, thresholds=thresholds)):
            found.append('%s_trouble' % prefix)
    except Exception:  # pylint: disable=broad-except
        pass
    return found
