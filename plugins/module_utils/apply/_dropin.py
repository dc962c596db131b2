# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the files a tuning leaves for boot and for Ansible, and what may undo them.

The sysctl.d drop-in (``render_dropin``), the modules-load.d file listing the kernel modules its
keys need (``render_modules``, ``modules_to_load``), the record that setup reads back as
``ansible_local.netops_tcp`` (``record``, at ``DEFAULT_FACT``), and the warnings for what would
undo the drop-in at boot: a later sysctl.d file or TuneD profile (``later_overrides``), a module
nothing loads (``unloaded_modules``), a modules file systemd-modules-load does not read
(``modules_file_unread``). Only texts and warnings here: ``_transaction`` writes them.
"""

import json
import os

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.gather import _host as host
from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils.gather import _tuned as tuned

DEFAULT_FILE = '/etc/sysctl.d/60-netops-tcp.conf'
DEFAULT_MODULES_FILE = '/etc/modules-load.d/netops-tcp.conf'
DEFAULT_FACT = host.DEFAULT_FACT


def render_dropin(path, profile, plan):
    """The sysctl.d drop-in: the profile it came from, the keys skipped and why, the keys in effect."""
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


def render_modules(modules):
    """The modules-load.d file: ``modules`` ({module: [keys]}), one a line, each after a comment
    naming the keys of the drop-in that need it. Only catalog names go in (no path, no input)."""
    lines = [
        '# Managed by netops.tcp (sysctl_tune). Do not edit: changes are overwritten.',
        '# Kernel modules that keys of the netops.tcp sysctl drop-in need: loaded at boot by',
        '# systemd-modules-load before systemd-sysctl applies the drop-in. Without them systemd-sysctl',
        '# skips those keys and the kernel\'s defaults come back (sysctl.d(5)).',
    ]
    for module in sorted(modules):
        lines.append('# %s: %s' % (module, ', '.join(sorted(modules[module]))))
        lines.append(module)
    return '\n'.join(lines) + '\n'


def record(profile, plan, sysctl_file, persist, version, modules_file=None):
    """The local fact (``ansible_local.netops_tcp``), without its time stamp. ``modules_file``: the
    modules-load.d file written with the drop-in, or None."""
    return {
        'profile': profile.get('name'),
        'version': profile.get('version'),
        'checksum': profile.get('checksum'),
        'applied': dict((k, v) for k, (_n, v) in sorted(plan.in_effect().items())),
        'skipped': dict(sorted(plan.skipped.items())),
        'sysctl_file': sysctl_file if persist else None,
        'modules_file': modules_file,
        'collection_version': version,
    }


def loads_record(text):
    """The record as a dict; {} when there is none or it is not a mapping (it is rewritten)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    return dict(data) if isinstance(data, dict) else {}


def render_record(rec, stamp):
    """The record file's text: ``rec`` with its time stamp ``stamp``."""
    return json.dumps(dict(rec, time=stamp), indent=1, sort_keys=True) + '\n'


def profile_label(rec):
    """'name@version' of the profile a record names, or None."""
    return '%s@%s' % (rec['profile'], rec.get('version')) if rec.get('profile') else None


def _same_text(key, first, second):
    try:
        return catalog.same(key, first, second)
    except catalog.CatalogError:
        return False  # e.g. TuneD's ">8192": only if it raises the value


def later_overrides(values, our_file, root='/'):
    """Warnings for keys that another owner sets again at boot after the drop-in ``our_file``
    (which will hold ``values``, {key: value}): a later sysctl.d file, TuneD's active profile."""
    writes, _problems = sysctl.boot_writes(sorted(values), root, tuned.state(root), ours=(our_file, values))
    ours = os.path.realpath(our_file)
    warnings = []
    for key in sorted(writes):
        found = writes[key]
        last = max([i for i, w in enumerate(found) if os.path.realpath(w['file']) == ours] or [-1])
        told = set()
        for write in found[last + 1:]:
            if os.path.realpath(write['file']) == ours or (write['file'], write['line']) in told \
                    or _same_text(key, write['value'], values[key]):
                continue  # ours, told already, or the same value: nothing is overridden
            told.add((write['file'], write['line']))
            if write['owner'] == 'tuned':
                warnings.append('%s: TuneD profile %s (%s line %d) sets %s after %s at boot, overriding it%s'
                                % (key, write['profile'], write['file'], write['line'], write['value'], our_file,
                                   ' (when its condition holds)' if write['conditional'] else ''))
            else:
                warnings.append('%s: %s line %d sets %s after %s at boot, overriding it'
                                % (key, write['file'], write['line'], write['value'], our_file))
    return warnings


def modules_to_load(values, release_text, modules_file=None, root='/'):
    """{module: [keys]}: the kernel modules that keys of ``values`` (the keys in effect: their module
    is loaded now) need before systemd-sysctl at boot and that nothing but ``modules_file`` (ours,
    not counted) loads there: no other modules-load.d file lists them or a module that needs them,
    and they are not built into the kernel (sysctl.boot_modules). Nothing is loaded here."""
    by_module = {}
    for key in sorted(values):
        module = (catalog.get(key) or {}).get('module')
        if module:
            by_module.setdefault(module, []).append(key)
    loaded = sysctl.boot_modules(sorted(by_module), release_text, root, ours=modules_file)
    return dict((module, keys) for module, keys in by_module.items() if not loaded[module])


def unloaded_modules(values, release_text, our_file, root='/'):
    """Warnings for keys of ``values`` that the drop-in sets but whose kernel module nothing loads
    at boot before systemd-sysctl (modules-load.d): the line is skipped then (sysctl.d(5)). For a
    run that writes no modules file (modules_file disabled)."""
    return ['%s: %s sets it, but nothing loads %s at boot before systemd-sysctl: after a reboot the kernel\'s default '
            'comes back. List %s in /etc/modules-load.d/' % (', '.join(keys), our_file, module, module)
            for module, keys in sorted(modules_to_load(values, release_text, None, root).items())]


def modules_file_unread(modules_file, root='/'):
    """A warning when systemd-modules-load will not read ``modules_file`` at boot (not a .conf file of
    a modules-load.d directory, or masked by a file of the same name in an earlier one), else None."""
    read = [os.path.normpath(p) for p in sysctl.modules_load_files(root, modules_file)]
    if os.path.normpath(modules_file) in read:
        return None
    return ('modules_file: systemd-modules-load does not read %s at boot (it reads the .conf files of %s, a name in an '
            'earlier directory masking the same name in later ones): the modules it lists are not loaded before '
            'systemd-sysctl' % (modules_file, ', '.join(sysctl.MODULES_LOAD_DIRS)))
