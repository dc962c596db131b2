# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: deciding and applying sysctl settings on a host, safely.

Order of work: validate every input (nothing is read or written before), read the host,
decide per key (apply, unchanged, skip with a reason, or fail), then write live values
as one transaction (a failure puts back what was written), then the files. The module
decides ``changed`` from the plan and does the writes only outside check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket

from ansible_collections.netops.tcp.plugins.module_utils import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils import _inet_diag as diag
from ansible_collections.netops.tcp.plugins.module_utils import _procfs as procfs
from ansible_collections.netops.tcp.plugins.module_utils import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils._kernel import KernelRelease, read_release
from ansible_collections.netops.tcp.plugins.module_utils._profile import canonical_settings

DEFAULT_FILE = '/etc/sysctl.d/60-netops-tcp.conf'
DEFAULT_STATE_DIR = '/var/lib/netops-tcp'
DEFAULT_FACT = '/etc/ansible/facts.d/netops_tcp.fact'
PORT_RANGE = 'net.ipv4.ip_local_port_range'
RESERVED = 'net.ipv4.ip_local_reserved_ports'
UNPRIVILEGED = 'net.ipv4.ip_unprivileged_port_start'
# Written first: the kernel checks the port range against these.
_FIRST = (UNPRIVILEGED, RESERVED)


class TuneError(Exception):
    pass


def normalise_settings(settings, allow_unknown=False):
    """{canonical key: {'value', 'guards'}} from the module's ``settings``; ProfileError names the key and rule."""
    resolved = canonical_settings('settings', settings, allow_unknown)
    return dict((key, {'value': spec['value'], 'guards': spec['guards']}) for key, spec in resolved.items())


def order(keys):
    return sorted(keys, key=lambda k: (k not in _FIRST, _FIRST.index(k) if k in _FIRST else 0, k))


class Host:
    """Reads and writes /proc/sys under ``proc_path`` (a fixture tree in tests)."""

    def __init__(self, proc_path='/proc'):
        self.proc = proc_path
        self.release_text = read_release(proc_path)
        self.release = KernelRelease(self.release_text)
        self.initial_netns = sysctl.initial_netns(proc_path)

    def read(self, key):
        return sysctl.read_key(self.proc, key, self.release, self.initial_netns)

    def write(self, name, text):
        path = sysctl.key_path(self.proc, name)
        with open(path, 'w') as handle:
            handle.write(text + '\n')

    def listening_ports(self):
        """Ports this network namespace listens on (netlink, or procfs under a foreign proc_path)."""
        ports = set()

        def visit(family, state, sport, *rest):
            if state == diag.LISTEN:
                ports.add(sport)

        if self.proc == '/proc':
            try:
                for family in (socket.AF_INET, socket.AF_INET6):
                    diag.dump(family, 1 << diag.LISTEN, diag.Decoder(visit))
                return ports
            except diag.NetlinkUnavailable:
                ports.clear()
        for name, family in (('tcp', socket.AF_INET), ('tcp6', socket.AF_INET6)):
            text = procfs.read_text(os.path.join(self.proc, 'net', name))
            if text:
                procfs.tcp_rows(text, family, visit, name)
        return ports


def text_of(key, value):
    entry = catalog.get(key)
    return catalog.format_value(value, entry) if entry else str(value)


def same(key, live_raw, desired_text):
    entry = catalog.get(key)
    if entry is None:
        return catalog.normalise(live_raw) == catalog.normalise(desired_text)
    try:
        return catalog.parse(key, live_raw, entry) == catalog.parse(key, desired_text, entry)
    except catalog.CatalogError:
        return False


class Plan:
    def __init__(self):
        self.apply = {}      # key -> {'name', 'before', 'after'}
        self.unchanged = {}  # key -> {'name', 'value'}
        self.skipped = {}    # key -> reason
        self.restore = {}    # key -> {'name', 'before', 'after'}
        self.errors = []

    def writes(self):
        steps = [(k, self.apply[k]) for k in order(self.apply)]
        return steps + [(k, self.restore[k]) for k in order(self.restore)]

    def in_effect(self):
        """Key -> (name on this kernel, value text) for every key this host now runs from the settings."""
        result = dict((k, (v['name'], v['after'])) for k, v in self.apply.items())
        result.update((k, (v['name'], v['value'])) for k, v in self.unchanged.items())
        return result


def decide(host, settings, clients_behind_nat=True, on_unavailable='skip', reserve_listening_ports=True,
           originals=None, managed=()):
    """The plan for ``settings`` (normalised) on ``host``; restores managed keys no longer in settings."""
    plan = Plan()
    for key in order(settings):
        spec = settings[key]
        guards = spec['guards']
        desired = text_of(key, spec['value'])
        if 'kernel' in guards and not host.release.matches(guards['kernel']):
            plan.skipped[key] = 'needs Linux %s; this kernel is %s' % (guards['kernel'], host.release)
            continue
        if guards.get('unless') == 'clients_behind_nat' and clients_behind_nat:
            plan.skipped[key] = ('clients may be behind NAT (clients_behind_nat is true): '
                                 'it would drop their connections')
            continue
        info = host.read(key)
        reason = info['reason'] if not info['available'] else (None if info['writable'] else info['reason'])
        if reason:
            if on_unavailable == 'fail':
                plan.errors.append('%s: cannot be set here: %s' % (key, reason))
            else:
                plan.skipped[key] = reason
            continue
        if same(key, info['raw'], desired):
            plan.unchanged[key] = {'name': info['name'], 'value': desired}
        else:
            plan.apply[key] = {'name': info['name'], 'before': info['raw'], 'after': desired}
    _port_range(host, settings, plan, reserve_listening_ports)
    for key in sorted(set(managed) - set(settings)):
        original = (originals or {}).get(key)
        info = host.read(key)
        if original is None or not info['available'] or same(key, info['raw'], original):
            continue
        if info['writable']:
            plan.restore[key] = {'name': info['name'], 'before': info['raw'], 'after': original}
        else:
            plan.skipped[key] = 'cannot put back the original value %s: %s' % (original, info['reason'])
    return plan


def _port_range(host, settings, plan, reserve):
    """Cross-key rules of the ephemeral port range, decided before anything is written."""
    step = plan.apply.get(PORT_RANGE)
    if step is None:
        return
    low, high = catalog.parse(PORT_RANGE, step['after'])
    if host.release >= '4.11':
        unpriv = plan.apply.get(UNPRIVILEGED, {}).get('after') or host.read(UNPRIVILEGED)['raw']
        if unpriv is not None and low < int(unpriv):
            plan.errors.append('%s: low port %d is below %s (%s); the kernel refuses it'
                               % (PORT_RANGE, low, UNPRIVILEGED, unpriv))
            return
    if not settings[PORT_RANGE]['guards'].get('reserve_listening_ports'):
        return
    reserved_spec = settings.get(RESERVED)
    info = host.read(RESERVED)
    current = catalog.parse(RESERVED, info['raw']) if info['available'] else []
    wanted = reserved_spec['value'] if reserved_spec else current
    taken = set()
    for first, last in wanted:
        taken.update(range(first, last + 1))
    exposed = sorted(p for p in host.listening_ports() if low <= p <= high and p not in taken)
    if not exposed:
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
    merged = sorted([[p, p] for p in exposed] + [list(r) for r in wanted])
    text = catalog.format_value(merged, catalog.CATALOG[RESERVED])
    plan.unchanged.pop(RESERVED, None)
    plan.apply[RESERVED] = {'name': info['name'], 'before': info['raw'], 'after': text}


def apply_live(host, plan):
    """Write every step; on a failure put back what was written and raise TuneError saying so."""
    done = []
    for key, step in plan.writes():
        try:
            host.write(step['name'], step['after'])
        except (IOError, OSError) as exc:
            failed_back = []
            for back_key, back_step in reversed(done):
                try:
                    host.write(back_step['name'], back_step['before'])
                except (IOError, OSError):
                    failed_back.append(back_key)
            restored = [k for k, _s in done if k not in failed_back]
            msg = 'writing %s = %s failed: %s' % (key, step['after'], exc.strerror or exc)
            msg += '; put back: %s' % (', '.join(restored) if restored else 'nothing had been written')
            if failed_back:
                msg += '; could NOT put back: %s' % ', '.join(failed_back)
            raise TuneError(msg)
        done.append((key, step))


def mismatches(host, steps):
    """Written keys whose live value now differs from what was written."""
    found = []
    for key, step in steps:
        live = host.read(key)['raw']
        if live is None or not same(key, live, step['after']):
            found.append({'key': key, 'wanted': step['after'], 'live': live})
    return found


def render_dropin(path, profile, plan):
    meta = tuple(profile.get(field) or '-' for field in ('name', 'version', 'checksum'))
    lines = [
        '# Managed by netops.tcp (sysctl_tune). Do not edit: changes are overwritten.',
        '# profile: %s  version: %s  checksum: %s' % meta,
    ]
    for key in sorted(plan.skipped):
        lines.append('# skipped %s: %s' % (key, plan.skipped[key]))
    effect = plan.in_effect()
    for key in sorted(effect):
        name, value = effect[key]
        lines.append('%s = %s' % (name, value))
    return '\n'.join(lines) + '\n'


def record(profile, plan, sysctl_file, persist, version):
    """The local fact (``ansible_local.netops_tcp``), without its time stamp."""
    return {
        'profile': profile.get('name'),
        'version': profile.get('version'),
        'checksum': profile.get('checksum'),
        'applied': dict((k, v) for k, (_n, v) in sorted(plan.in_effect().items())),
        'skipped': dict(sorted(plan.skipped.items())),
        'sysctl_file': sysctl_file if persist else None,
        'collection_version': version,
    }


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def later_overrides(keys, our_file, root='/'):
    """Warnings for keys that a file applied after ours at boot sets again."""
    files = sysctl.boot_files(root)
    ours = os.path.realpath(our_file)
    names = [os.path.realpath(p) for p in files]
    if ours in names:
        later = files[names.index(ours) + 1:]
    else:
        base = os.path.basename(our_file)
        later = [p for p in files if os.path.basename(p) > base or p.endswith('/sysctl.conf')]
    warnings = []
    for path in later:
        try:
            with open(path) as handle:
                assignments, _problems = sysctl.parse_sysctl_conf(handle.read())
        except (IOError, OSError, UnicodeDecodeError):
            continue
        for number, name, value, _ignore in assignments:
            for key in sysctl.matching(name, keys):
                warnings.append('%s: %s line %d sets %s after %s at boot, overriding it' % (key, path, number, value, our_file))
    return warnings
