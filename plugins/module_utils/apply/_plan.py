# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the plan, what a run does to each sysctl key on this host.

``Host`` reads and writes /proc/sys; ``decide`` takes the settings and the saved originals and
says per key: apply, unchanged, skip (with the reason: a guard, a key this kernel lacks or keeps
read-only, a capacity limit it would lower), restore (a key set before and not now) or fail
(``Plan.errors``), enforcing the kernel's own rules on the port range, the reserved ports,
ip_unprivileged_port_start and the congestion control a namespace may take; ``write_order``
orders the writes so that the kernel accepts every intermediate state. Nothing is written here.
"""

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.gather import _census as census
from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease, read_release

PORT_RANGE = 'net.ipv4.ip_local_port_range'
RESERVED = 'net.ipv4.ip_local_reserved_ports'
UNPRIVILEGED = 'net.ipv4.ip_unprivileged_port_start'
CONGESTION = 'net.ipv4.tcp_congestion_control'
ALLOWED_CONGESTION = 'net.ipv4.tcp_allowed_congestion_control'


class TuneError(Exception):
    """A run that stopped; ``changed`` when something could not be put back."""

    def __init__(self, message, changed=False):
        Exception.__init__(self, message)
        self.changed = changed


class Host:
    """Reads and writes /proc/sys under ``proc_path`` (a fixture tree in tests). ``net_path``: the
    /proc/net of another network namespace the calling thread entered (sysctl_tune's ``namespace``)."""

    def __init__(self, proc_path='/proc', net_path=None):
        self.proc = proc_path
        self.net = net_path
        self.release_text = read_release(proc_path)
        self.release = KernelRelease(self.release_text)
        self.initial_netns = sysctl.initial_netns(proc_path)

    def read(self, key, entry=None):
        """What sysctl_facts says about ``key``, plus ``path``: the file a write goes to."""
        entry = entry if entry is not None else catalog.get(key)
        info, path = sysctl.read_key_at(self.proc, key, self.release, self.initial_netns, entry)
        if not self.initial_netns and info['writable'] and entry and entry['netns_readonly_since']:
            # A global the kernel shows every namespace (nf_conntrack_max): before it was made read-only
            # there, a write from a container (or from sysctl_tune's namespace) changed it for the whole host.
            info = dict(info, writable=False, reason='its value is the host\'s in every network namespace (read-only '
                        'in a namespace since Linux %s): set it on the host' % entry['netns_readonly_since'])
        return dict(info, path=path)

    def context(self):
        """What the kernel sized its computed defaults from here (catalog.host_context)."""
        if not hasattr(self, '_context'):
            ehash = self.read('net.ipv4.tcp_ehash_entries')
            self._context = catalog.host_context({
                'keys': {'net.ipv4.tcp_ehash_entries': ehash},
                'kernel': {'mem_total': sysctl.mem_total(self.proc)}})
        return self._context

    def write(self, step, text):
        """Write ``text`` to the file the step's key was read from."""
        files.checkpoint('write %s' % step['name'])
        sysctl.write_key(step['path'], text)

    def listening_ports(self):
        return census.listening_ports(self.proc, self.net)


def write_order(steps):
    """Steps in an order whose every intermediate state the kernel accepts (it refuses a port range
    starting below ip_unprivileged_port_start, and the reverse), listening ports reserved before the
    range widens over them and released only after it narrows; other keys by name."""
    by_key = dict(steps)
    rng, unpriv, reserved = by_key.get(PORT_RANGE), by_key.get(UNPRIVILEGED), by_key.get(RESERVED)
    group = []
    if rng:
        old_low, new_low = _low(rng['before']), _low(rng['after'])
        group = [PORT_RANGE]
        if unpriv:
            group.insert(0 if old_low is None or int(unpriv['after']) <= old_low else 1, UNPRIVILEGED)
        if reserved:
            group.insert(0 if None in (old_low, new_low) or new_low < old_low else len(group), RESERVED)
    else:
        group = [k for k in (UNPRIVILEGED, RESERVED) if k in by_key]
    rest = sorted(k for k in by_key if k not in group)
    return [(k, by_key[k]) for k in group + rest]


def _low(text):
    try:
        return catalog.parse(PORT_RANGE, text)[0]
    except catalog.CatalogError:
        return None


class Plan:
    def __init__(self):
        self.apply = {}      # key -> {'name', 'before', 'after'}
        self.unchanged = {}  # key -> {'name', 'value'}
        self.skipped = {}    # key -> reason
        self.restore = {}    # key -> {'name', 'before', 'after'}
        self.settled = set()  # keys no longer set whose live value is already the original
        self.errors = []

    def writes(self):
        return write_order(list(self.apply.items()) + list(self.restore.items()))

    def in_effect(self):
        """Key -> (name on this kernel, value text) for every key this host now runs from the settings."""
        result = dict((k, (v['name'], v['after'])) for k, v in self.apply.items())
        result.update((k, (v['name'], v['value'])) for k, v in self.unchanged.items())
        return result


def decide(host, settings, clients_behind_nat=True, on_unavailable='skip', reserve_listening_ports=True,
           originals=None, managed=()):
    """The plan for ``settings`` ({key: _settings.Setting}) on ``host``; restores managed keys not set any more."""
    plan = Plan()
    for key in sorted(settings):
        setting = settings[key]
        guards = setting.guards
        desired = setting.text
        if 'kernel' in guards and not host.release.matches(guards['kernel']):
            plan.skipped[key] = 'needs Linux %s; this kernel is %s' % (guards['kernel'], host.release)
            continue
        if guards.get('unless') == 'clients_behind_nat' and clients_behind_nat:
            plan.skipped[key] = ('clients may be behind NAT (clients_behind_nat is true): '
                                 'it would drop their connections')
            continue
        info = host.read(key, setting.entry)
        reason = info['reason']  # absent, read-only, or a live value that does not parse: left alone
        holds = setting.holds(info)
        if not reason and key == CONGESTION and not holds:
            reason = _congestion_refused(host, desired)
        if reason:
            if on_unavailable == 'fail':
                plan.errors.append('%s: cannot be set here: %s' % (key, reason))
            else:
                plan.skipped[key] = reason
            continue
        lower = _lowers(host, key, setting, info, originals)  # also when it holds: an earlier version's low value
        if lower:
            plan.skipped[key] = lower
        elif holds:
            plan.unchanged[key] = {'name': info['name'], 'value': desired}
        else:
            plan.apply[key] = {'name': info['name'], 'path': info['path'], 'before': info['raw'], 'after': desired}
    _port_range(host, settings, plan, reserve_listening_ports, originals or {})
    # Keys set before and not now, dropped from the profile or skipped by a guard on this host, get
    # their original values back.
    for key in sorted(set(managed) - set(plan.in_effect())):
        original = (originals or {}).get(key)
        info = host.read(key)
        if original is None or not info['available']:
            continue
        if not plan_put_back(plan, key, info, original):
            plan.skipped[key] = 'cannot put back the original value %s: %s' % (original, info['reason'])
    _unprivileged_start(host, plan)
    return plan


def _lowers(host, key, setting, info, originals):
    """Why a capacity limit (catalog raise_only) is left as the host has it: the setting is below the
    value from before the first tuning (else the live one) or below this kernel's own default here
    (an original saved before a kernel upgrade can be lower); None when it may be written."""
    entry = setting.entry
    if not entry or not entry['raise_only'] or setting.guards.get('allow_lower') or not info['available']:
        return None
    original = (originals or {}).get(key)
    try:
        have = catalog.capacity(entry, catalog.parse(key, original if original is not None else info['raw'], entry))
    except catalog.CatalogError:
        return None
    default = catalog.kernel_default(entry, host.release, host.context())
    own = catalog.capacity(entry, default) if default is not None else None
    want = catalog.capacity(entry, setting.value)
    if want >= max(have, own or 0):
        return None
    what = 'a maximum of ' if entry['type'] == catalog.VECTOR else ''
    whose = ('had before its first tuning' if original is not None else 'has') if have >= (own or 0) else \
        'gets by default from this kernel'
    return ('keeps %s%d: %s%d would lower a capacity limit below what this host %s; a profile only raises it '
            '(guards: {allow_lower: true} lowers it on purpose)' % (what, max(have, own or 0), what, want, whose))


def plan_put_back(plan, key, info, value):
    """Plan ``key`` (as ``info`` reads it) back to ``value``: settled when it holds it already,
    restored when writable; False when it cannot be written."""
    if info['available'] and catalog.same(key, info['raw'], value):
        plan.settled.add(key)
    elif info['writable']:
        plan.restore[key] = {'name': info['name'], 'path': info['path'], 'before': info['raw'], 'after': value}
    else:
        return False
    return True


def _congestion_refused(host, name):
    """Why a child network namespace cannot take congestion control ``name``, or None.

    There the kernel answers EPERM for any algorithm not in tcp_allowed_congestion_control.
    """
    if host.initial_netns:
        return None
    allowed = host.read(ALLOWED_CONGESTION)['raw']
    if allowed is None or name in allowed.split():
        return None
    return ('inside a network namespace the kernel takes only the algorithms in %s (%s)' % (ALLOWED_CONGESTION, allowed))


def _port_range(host, settings, plan, reserve, originals):
    """Listening ports the ephemeral port range covers, reserved or refused before anything is written.
    Ports reserved by an earlier run stay in effect (and in the drop-in) while the range does."""
    setting = settings.get(PORT_RANGE)
    effect = plan.in_effect().get(PORT_RANGE)
    if not setting or not setting.guards.get('reserve_listening_ports') or effect is None:
        return
    low, high = catalog.parse(PORT_RANGE, effect[1])
    reserved_setting = settings.get(RESERVED)
    info = host.read(RESERVED)
    current = catalog.parse(RESERVED, info['raw']) if info['available'] else []
    wanted = reserved_setting.value if reserved_setting else current
    taken = set()
    for first, last in wanted:
        taken.update(range(first, last + 1))
    exposed = sorted(p for p in host.listening_ports() if low <= p <= high and p not in taken)
    if not exposed:
        if not reserved_setting and RESERVED in originals and info['available']:
            plan.unchanged[RESERVED] = {'name': info['name'], 'value': catalog.canonical_text(RESERVED, info['raw'])}
        return
    ports = ', '.join(str(p) for p in exposed)
    if not reserve:
        plan.errors.append('%s: %d-%d includes the listening ports %s and reserve_listening_ports is off: '
                           'outgoing connections could take them' % (PORT_RANGE, low, high, ports))
        return
    if not (info['available'] and info['writable']):
        plan.errors.append('%s: %d-%d includes the listening ports %s, and they cannot be reserved: %s: %s'
                           % (PORT_RANGE, low, high, ports, RESERVED, info['reason']))
        return
    text = catalog.format_value([[p, p] for p in exposed] + [list(r) for r in wanted], catalog.CATALOG[RESERVED])
    plan.unchanged.pop(RESERVED, None)
    if catalog.same(RESERVED, info['raw'], text):
        plan.unchanged[RESERVED] = {'name': info['name'], 'value': text}
    else:
        plan.apply[RESERVED] = {'name': info['name'], 'path': info['path'], 'before': info['raw'], 'after': text}


def _unprivileged_start(host, plan):
    """Since 4.11 the kernel keeps ip_unprivileged_port_start <= the low end of the port range."""
    if host.release < '4.11':
        return
    steps = dict(plan.writes())
    if PORT_RANGE not in steps and UNPRIVILEGED not in steps:
        return
    low = steps[PORT_RANGE]['after'] if PORT_RANGE in steps else host.read(PORT_RANGE)['raw']
    unpriv = steps[UNPRIVILEGED]['after'] if UNPRIVILEGED in steps else host.read(UNPRIVILEGED)['raw']
    low = _low(low) if low is not None else None
    if low is None or unpriv is None or not unpriv.isdigit() or low >= int(unpriv):
        return  # a value that does not parse is left to the kernel to refuse
    if PORT_RANGE in steps:
        plan.errors.append('%s: low port %d is below %s (%s); the kernel refuses it' % (PORT_RANGE, low, UNPRIVILEGED, unpriv))
    else:
        plan.errors.append('%s: %s is above the low port %d of %s; the kernel refuses it' % (UNPRIVILEGED, unpriv, low, PORT_RANGE))
