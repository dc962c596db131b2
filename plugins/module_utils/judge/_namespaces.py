# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the findings of a host's other network namespaces (containers, pods).

Each namespace is judged with the host's own rules (judge/_findings.health_findings) against its
own limits: a namespace has its own socket tables, counters and copy of most TCP settings. What
an entry says stays bounded with hundreds of namespaces: the findings of the worst LISTED
namespaces, and one finding that counts the rest.
"""

from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog

LISTED = 10  # namespaces whose findings a host's entry lists; the others are counted
NAMED = 5  # namespaces a summary finding names
# The counters whose rise since the last audit the rules judge: kept per namespace for the next audit.
RISES = ('ListenOverflows', 'TCPTimeWaitOverflow', 'TCPReqQFullDoCookies', 'TCPReqQFullDrop', 'OutSegs',
         'RetransSegs', 'TCPTimeouts', 'TCPSynRetrans', 'TCPMemoryPressures', 'TCPAbortOnMemory')
GONE = 'it is gone'  # the start of _netns's error for a namespace that ended between finding and reading it


def _keys(item, keys, host_keys):
    """sysctl_facts-shaped keys of a namespace: its own values (``sysctls`` holds those that differ
    from the host's), for the per-namespace settings only: host-wide ones are the host's to judge."""
    own = item.get('sysctls') or {}
    shaped = {}
    for key in keys:
        if key in own:
            shaped[key] = {'available': True, 'value': own[key]}
        elif isinstance(host_keys.get(key), dict):
            shaped[key] = host_keys[key]
    return shaped


def _settings(item, keys, record):
    """[(key, value here, value the host's profile applied)] of the per-namespace settings the record
    applied that differ in the namespace."""
    applied = (record or {}).get('applied') or {}
    own = item.get('sysctls') or {}
    return [(key, _text(key, own[key]), applied[key]) for key in sorted(applied)
            if key in keys and key in own and not catalog.same(key, _text(key, own[key]), applied[key])]


def _text(key, value):
    """A typed value of ``key`` (as sysctl facts hold it) as the kernel's text."""
    entry = catalog.get(key)
    try:
        return catalog.format_value(value, entry) if entry else str(value)
    except (TypeError, ValueError, catalog.CatalogError):
        return str(value)


def _names(labels):
    shown = ', '.join(labels[:NAMED])
    return shown + (' and %d more' % (len(labels) - NAMED) if len(labels) > NAMED else '')


def judge(namespaces, host_keys, record, limits, before=None):
    """(findings, {namespace id: {'label', 'counters'}} for the next audit) of the namespaces in a host's
    TCP facts (``tcp.namespaces``); ``host_keys``: the host's sysctl facts keys; ``before``: that
    mapping from the last audit."""
    if not isinstance(namespaces, dict):
        return [], {}
    keys = [key for key in namespaces.get('keys') or [] if isinstance(key, str)]
    before = before if isinstance(before, dict) else {}
    judged, remembered, unread, unset = [], {}, [], {}
    for item in namespaces.get('items') or []:
        if not isinstance(item, dict) or not isinstance(item.get('id'), str):
            continue
        label = '%s (%s)' % ((item.get('owner') or {}).get('label') or 'namespace', item['id'])
        if item.get('error'):
            if not str(item['error']).startswith(GONE):
                unread.append('%s: %s' % (label, item['error']))
            continue
        counters = item.get('counters') or {}
        remembered[item['id']] = {'label': label, 'counters': dict((k, counters[k]) for k in RISES if k in counters)}
        previous = (before.get(item['id']) or {}).get('counters')
        found = findings.health_findings(item, _keys(item, keys, host_keys), limits, previous)
        for finding in found:
            finding['message'] = 'In %s: %s' % (label, finding['message'])
            finding['namespace'] = item['id']
        if found:
            judged.append((label, found))
        differ = _settings(item, keys, record)
        if differ:
            unset.setdefault(tuple(differ), []).append(label)
    judged.sort(key=lambda pair: (-max(findings.rank(f['severity']) for f in pair[1]), -len(pair[1]), pair[0]))
    result = [finding for _label, found in judged[:LISTED] for finding in found]
    rest = judged[LISTED:]
    if rest:
        kinds = {}
        for _label, found in rest:
            for finding in found:
                kinds[finding['kind']] = kinds.get(finding['kind'], 0) + 1
        worst = max((f for _l, found in rest for f in found), key=lambda f: findings.rank(f['severity']))
        result.append(findings.finding(
            'namespaces', worst['severity'],
            '%d more network namespaces have findings (%s): %s. Their census is in ansible_facts.tcp.namespaces.'
            % (len(rest), ', '.join('%s %d' % kv for kv in sorted(kinds.items())), _names([label for label, _f in rest])),
            actual=len(rest)))
    if unread:
        result.append(findings.finding('namespaces', 'warning', '%d network namespaces could not be read, so they are '
                                       'not audited: %s.' % (len(unread), '; '.join(unread[:NAMED])), actual=len(unread)))
    for differ, labels in sorted(unset.items(), key=lambda pair: -len(pair[1])):
        profile = '%s@%s' % (record.get('profile'), record.get('version'))
        result.append(findings.finding(
            'namespace_settings', 'info',
            '%d network namespaces (%s) run their own values of settings the host\'s profile %s sets: %s. A new '
            'namespace starts from the kernel\'s defaults, not the host\'s values, and the profile is applied to '
            'the host\'s namespace only: set them in the pod spec (securityContext.sysctls), the container\'s '
            '--sysctl, or apply the profile in the namespace.'
            % (len(labels), _names(labels), profile,
               ', '.join('%s %s here, %s on the host' % item for item in differ)),
            key=differ[0][0], expected=differ[0][2], actual=differ[0][1]))
    return result, remembered
