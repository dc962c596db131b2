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


def same(old, cookie, label):
    """Whether ``old``, the last audit's entry under a namespace's id, is that namespace: by its cookie when
    both have one (the kernel gives a freed inode to the next namespace), else by its label, if known."""
    if not isinstance(old, dict):
        return False
    if old.get('cookie') is not None and cookie is not None:
        return old['cookie'] == cookie
    return old.get('label') in (None, label)


def sockets(item):
    """A namespace's sockets, all states."""
    return sum(v for v in (item.get('states') or {}).values() if isinstance(v, int) and not isinstance(v, bool))


def worst_first(found, item):
    """The sort key that puts the worst namespace first (the report's and the metrics' order): the most
    severe finding, then the most findings, then the most sockets, then the id."""
    return -max([findings.rank(f['severity']) for f in found] or [-1]), -len(found), -sockets(item), item.get('id') or ''


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def _settings_finding(names, group, record, defaults):
    """The info finding of the namespaces ``group`` [(label, [(key, value there, profile's value)])] that run
    without the same profile settings ``names``; ``defaults``: {key: the kernel's default as text}."""
    parts = []
    for index, key in enumerate(names):
        there = sorted(set(differ[index][1] for _label, differ in group), key=lambda text: (len(text), text))
        shown = ', '.join(there[:3]) + (' and others' if len(there) > 3 else '')
        parts.append('%s %s there%s, %s on the host' % (
            key, shown, ' (the kernel\'s default)' if there == [defaults.get(key)] else '', group[0][1][index][2]))
    first = group[0][1][0]
    return findings.finding(
        'namespace_settings', 'info',
        '%s (%s) %s without settings the host\'s profile %s@%s sets: %s. A new network namespace starts from the '
        'kernel\'s defaults for most settings (tcp_rmem, tcp_wmem and the congestion control are copied from the '
        'host), and the profile tunes the host\'s namespace only: set them in the pod spec (securityContext.sysctls; '
        'the kubelet must allow those Kubernetes calls unsafe, such as somaxconn, with --allowed-unsafe-sysctls), the '
        'container\'s --sysctl, or apply the profile in the namespace (sysctl_tune namespace).'
        % (_plural(len(group), 'network namespace'), _names([label for label, _differ in group]),
           'runs' if len(group) == 1 else 'run', record.get('profile'), record.get('version'), '; '.join(parts)),
        key=first[0], expected=first[2], actual=first[1])


def kernel_defaults(sysctl_facts, keys):
    """{key: the running kernel's own default of ``keys`` as text} where the catalog knows it."""
    release = findings.release_of(sysctl_facts)
    if release is None:
        return {}
    context, found = catalog.host_context(sysctl_facts), {}
    for key in keys:
        entry = catalog.get(key)
        value = catalog.kernel_default(entry, release, context) if entry else None
        if value is not None:
            found[key] = catalog.format_value(value, entry)
    return found


def judge(namespaces, sysctl_facts, record, limits, before=None):
    """(findings, {namespace id: {'label', 'counters'}} for the next audit) of the namespaces in a host's
    TCP facts (``tcp.namespaces``); ``sysctl_facts``: the host's; ``before``: that mapping from the last audit."""
    if not isinstance(namespaces, dict):
        return [], {}
    host_keys = (sysctl_facts or {}).get('keys') or {}
    keys = [key for key in namespaces.get('keys') or [] if isinstance(key, str)]
    before = before if isinstance(before, dict) else {}
    judged, remembered, unread, unset = [], {}, [], {}
    defaults = kernel_defaults(sysctl_facts, (record or {}).get('applied') or {})
    for item in namespaces.get('items') or []:
        if not isinstance(item, dict) or not isinstance(item.get('id'), str):
            continue
        label = '%s (%s)' % ((item.get('owner') or {}).get('label') or 'namespace', item['id'])
        if item.get('error'):
            if not str(item['error']).startswith(GONE):
                unread.append('%s: %s' % (label, item['error']))
            continue
        counters = item.get('counters') or {}
        remembered[item['id']] = {'label': label, 'cookie': item.get('cookie'),
                                  'counters': dict((k, counters[k]) for k in RISES if k in counters)}
        old = before.get(item['id'])
        previous = old.get('counters') if same(old, item.get('cookie'), label) else None
        found = findings.health_findings(item, _keys(item, keys, host_keys), limits, previous,
                                         'since the namespace was created')
        for finding in found:
            finding['message'] = 'In %s: %s' % (label, finding['message'])
            finding['namespace'] = item['id']
        if found:
            judged.append((worst_first(found, item), label, found))
        differ = _settings(item, keys, record)
        if differ:
            unset.setdefault(tuple(key for key, _here, _want in differ), []).append((label, differ))
    judged.sort(key=lambda one: one[0])
    result = [finding for _order, _label, found in judged[:LISTED] for finding in found]
    rest = judged[LISTED:]
    if rest:
        kinds = {}
        for _order, _label, found in rest:
            for finding in found:
                kinds[finding['kind']] = kinds.get(finding['kind'], 0) + 1
        worst = max((f for _o, _l, found in rest for f in found), key=lambda f: findings.rank(f['severity']))
        result.append(findings.finding(
            'namespaces', worst['severity'],
            '%d more network %s findings (%s): %s. Their census is in ansible_facts.tcp.namespaces.'
            % (len(rest), 'namespace has' if len(rest) == 1 else 'namespaces have',
               ', '.join('%s %d' % kv for kv in sorted(kinds.items())), _names([one[1] for one in rest])),
            actual=len(rest)))
    if unread:
        result.append(findings.finding('namespaces', 'warning', '%s could not be read, so %s not audited: %s.'
                                       % (_plural(len(unread), 'network namespace'), 'it is' if len(unread) == 1
                                          else 'they are', '; '.join(unread[:NAMED])), actual=len(unread)))
    for names, group in sorted(unset.items(), key=lambda pair: (-len(pair[1]), pair[0])):
        result.append(_settings_finding(names, group, record, defaults))
    return result, remembered
