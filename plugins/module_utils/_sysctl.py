# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: reading sysctls from /proc/sys and the files that set them at boot.

Key names go through the catalog's ``split_key`` and the resulting path is checked to
stay under /proc/sys, so no crafted name can read anything else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fnmatch
import glob
import os

from ansible_collections.netops.tcp.plugins.module_utils import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils import _files as files
from ansible_collections.netops.tcp.plugins.module_utils._kernel import KernelRelease, read_release

# systemd-sysctl's directories, highest priority first (sysctl.d(5)); a file name in an
# earlier directory masks the same name in later ones.
SYSCTL_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
SYSCTL_CONF = '/etc/sysctl.conf'
# A key only the initial network namespace has in every kernel: its absence means a child netns.
_INIT_NETNS_ONLY = 'net/core/netdev_max_backlog'


def key_path(proc_path, key, allow_glob=False):
    """The /proc/sys path of ``key``, refusing names that would leave /proc/sys."""
    parts = catalog.split_key(key, allow_glob=allow_glob)
    root = os.path.join(proc_path, 'sys')
    path = os.path.join(root, *parts)
    if not allow_glob:
        real_root = os.path.realpath(root)
        if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
            raise catalog.CatalogError('sysctl key %r: resolves outside %s' % (key, root))
    return path


def path_key(proc_path, path):
    """The dotted name of a /proc/sys path (a part with dots is kept with slashes, as sysctl(8) does)."""
    rel = os.path.relpath(path, os.path.join(proc_path, 'sys')).split(os.sep)
    if any('.' in p for p in rel):
        return '/'.join(rel)
    return '.'.join(rel)


def read_raw(path):
    """(text, None) or (None, errno) for one /proc/sys file."""
    try:
        text = files.read_text(path, errors='replace')
    except (IOError, OSError) as exc:
        return None, exc.errno
    return (text, None) if text is not None else (None, errno.ENOENT)


def write_key(path, text):
    """Write one value to the /proc/sys file ``path`` (as read_key found it) in a single write(2), as
    sysctl(8) does; the kernel's refusal (EINVAL, EPERM) raises OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # never O_CREAT; O_TRUNC as sysctl(8), for fixture trees
    try:
        os.write(fd, (text + '\n').encode('utf-8'))
    finally:
        os.close(fd)


def writable(path):
    """Whether this process may write the file: mode bits and access(2), without writing."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(path, os.W_OK)


def initial_netns(proc_path='/proc'):
    """Whether this process runs in the initial network namespace (see _INIT_NETNS_ONLY)."""
    return os.path.exists(os.path.join(proc_path, 'sys', _INIT_NETNS_ONLY))


def netns_inode(proc_path='/proc'):
    try:
        link = os.readlink(os.path.join(proc_path, 'self', 'ns', 'net'))
    except OSError:
        return None
    return int(link[link.index('[') + 1:-1]) if '[' in link else None


def unavailable_reason(entry, release, in_initial_netns, err):
    """A sentence explaining why a catalog key is absent or unreadable here."""
    if err == errno.EACCES or err == errno.EPERM:
        return 'permission denied reading it'
    if entry is None:
        return 'absent on this kernel'
    if entry['removed'] and release >= entry['removed']:
        return 'removed in Linux %s; this kernel is %s' % (entry['removed'], release)
    if entry['added'] and release < entry['added']:
        return 'added in Linux %s; this kernel is %s' % (entry['added'], release)
    if not in_initial_netns and not catalog.per_netns(entry, release):
        return catalog.HOST_GLOBAL_REASON
    if entry['requires']:
        return 'absent: needs %s' % entry['requires']
    return 'absent on this kernel'


def readonly_reason(entry, release, in_initial_netns):
    if entry and not in_initial_netns and entry['netns_readonly_since'] and release >= entry['netns_readonly_since']:
        return ('read-only in a network namespace since Linux %s: the value is the host\'s'
                % entry['netns_readonly_since'])
    return 'read-only here'


def read_key_at(proc_path, key, release, in_initial_netns, entry=None):
    """(info, path): everything sysctl_facts says about one key, as a dict, and the /proc/sys file it
    was read from (None when absent), for the write that may follow.

    ``value`` is typed when the catalog knows the key, otherwise the normalised text.
    For a catalog key absent here, its aliases are tried (older names of the same setting).
    """
    entry = entry if entry is not None else catalog.get(key)
    candidates = catalog.names(entry) if entry else [key]
    info = {'available': False, 'value': None, 'raw': None, 'writable': False, 'reason': None, 'name': None}
    err = None
    for name in candidates:
        path = key_path(proc_path, name)
        raw, err = read_raw(path)
        if raw is not None:
            break
        if err != errno.ENOENT:
            break
    if raw is None:
        info['reason'] = unavailable_reason(entry, release, in_initial_netns, err)
        return info, None
    info.update(available=True, raw=catalog.normalise(raw), name=name, writable=writable(path))
    if not info['writable']:
        info['reason'] = readonly_reason(entry, release, in_initial_netns)
    if entry:
        try:
            info['value'] = catalog.parse(entry['key'], raw, entry)
        except catalog.CatalogError as exc:
            info['value'] = info['raw']
            info['reason'] = 'unexpected value: %s' % exc
    else:
        info['value'] = info['raw']
    return info, path


def read_key(proc_path, key, release, in_initial_netns, entry=None):
    """Everything sysctl_facts says about one key, as a dict (see read_key_at)."""
    return read_key_at(proc_path, key, release, in_initial_netns, entry)[0]


def expand_keys(proc_path, patterns):
    """Concrete key names for ``patterns`` (globs match against /proc/sys and the catalog)."""
    keys = []
    for pattern in patterns:
        if not any(c in pattern for c in '*?['):
            key_path(proc_path, pattern)  # validates the name
            keys.append(catalog.canonical(pattern))
            continue
        path = key_path(proc_path, pattern, allow_glob=True)
        found = [path_key(proc_path, p) for p in sorted(glob.glob(path)) if os.path.isfile(p)]
        dotted = '.'.join(catalog.split_key(pattern, allow_glob=True))
        found += [k for k in catalog.CATALOG if fnmatch.fnmatchcase(k, dotted)]
        keys.extend(found)
    seen = set()
    return [k for k in keys if not (k in seen or seen.add(k))]


def gather(proc_path, patterns=None):
    """The ``ansible_facts.tcp_sysctl`` dict: kernel, namespace and one entry per key."""
    release_text = read_release(proc_path)
    release = KernelRelease(release_text)
    in_init = initial_netns(proc_path)
    keys = expand_keys(proc_path, patterns) if patterns else sorted(catalog.CATALOG)
    values = {}
    for key in keys:
        values[key] = read_key(proc_path, key, release, in_init)
    return {
        'kernel': {'release': release_text, 'version': str(release)},
        'netns': {'initial': in_init, 'inode': netns_inode(proc_path)},
        'keys': values,
    }


def gather_with_sources(proc_path, patterns=None, root='/'):
    """``gather`` plus, per key, the sysctl.d files that set it at boot (``sources``) and the files in
    boot order (``boot_files``); returns (facts, problems reading those files)."""
    facts = gather(proc_path, patterns)
    found, problems = sources(list(facts['keys']), root)
    facts.update(sources=found, boot_files=boot_files(root))
    return facts, problems


def parse_sysctl_conf(text):
    """Assignments in a sysctl.d file: [(line number, key, value, ignore_errors)], plus problems."""
    found = []
    problems = []
    for number, line in enumerate(text.split('\n'), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in '#;':
            continue
        key, sep, value = stripped.partition('=')
        key = key.strip()
        ignore = key.startswith('-')
        key = key.lstrip('-').strip()
        if not sep or not key:
            problems.append('line %d: no "key = value"' % number)
            continue
        found.append((number, key, catalog.normalise(value), ignore))
    return found, problems


def boot_files(root='/'):
    """Files systemd-sysctl (then sysctl --system) applies at boot, in order; the last one wins."""
    chosen = {}
    for directory in SYSCTL_DIRS:
        base = os.path.join(root, directory.lstrip('/'))
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            if name.endswith('.conf') and name not in chosen:
                chosen[name] = os.path.join(base, name)
    ordered = [chosen[name] for name in sorted(chosen)]
    conf = os.path.join(root, SYSCTL_CONF.lstrip('/'))
    # Distributions link 99-sysctl.conf to /etc/sysctl.conf; otherwise procps reads it last.
    if os.path.isfile(conf) and os.path.realpath(conf) not in [os.path.realpath(p) for p in ordered]:
        ordered.append(conf)
    return ordered


def sources(keys, root='/'):
    """For each key: the (file, line, value) assignments in boot order, and the value that wins.

    Keys in files may use slashes, aliases or globs; they are matched to the catalog names in ``keys``.
    Returns (sources, problems).
    """
    result = dict((k, {'files': [], 'boot_value': None, 'boot_file': None}) for k in keys)
    problems = []
    for path in boot_files(root):
        try:
            text = files.read_text(path)
        except (IOError, OSError, UnicodeDecodeError) as exc:
            problems.append('%s: cannot read (%s)' % (path, exc))
            continue
        if text is None:
            continue
        assignments, bad = parse_sysctl_conf(text)
        problems.extend('%s: %s' % (path, p) for p in bad)
        for number, name, value, _ignore in assignments:
            for key in matching(name, keys):
                record = result[key]
                record['files'].append({'file': path, 'line': number, 'value': value})
                record['boot_value'] = value
                record['boot_file'] = path
    return result, problems


def matching(name, keys):
    try:
        if any(c in name for c in '*?['):
            dotted = '.'.join(catalog.split_key(name, allow_glob=True))
            return [k for k in keys if fnmatch.fnmatchcase(k, dotted)]
        canon = catalog.canonical(name)
    except catalog.CatalogError:
        return []
    return [canon] if canon in keys else []
