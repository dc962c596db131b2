# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: reading sysctls from /proc/sys and the files that set them at boot.

Key names go through the catalog's ``split_key`` and the resulting path is checked to
stay under /proc/sys, so no crafted name can read anything else.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import typing as t

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.gather import _tuned as tuned
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease, read_release

# systemd-sysctl's directories, highest priority first (sysctl.d(5)); a file name in an
# earlier directory masks the same name in later ones.
SYSCTL_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
SYSCTL_CONF = '/etc/sysctl.conf'
# systemd-modules-load runs before systemd-sysctl (its unit orders itself after it): a module listed
# here brings its keys in time for the sysctl.d files (sysctl.d(5), modules-load.d(5)).
MODULES_LOAD_DIRS = ('/etc/modules-load.d', '/run/modules-load.d', '/usr/local/lib/modules-load.d',
                     '/usr/lib/modules-load.d', '/lib/modules-load.d')
# A key only the initial network namespace has in every kernel: its absence means a child netns.
_INIT_NETNS_ONLY = 'net/core/netdev_max_backlog'

# What sysctl_facts says about one key (see read_key_at), and one write at boot (see boot_writes).
KeyInfo = t.Dict[str, t.Any]
Write = t.Dict[str, t.Any]


def key_path(proc_path: str, key: str, allow_glob: bool = False) -> str:
    """The /proc/sys path of ``key``, refusing names that would leave /proc/sys."""
    parts = catalog.split_key(key, allow_glob=allow_glob)
    root = os.path.join(proc_path, 'sys')
    path = os.path.join(root, *parts)
    if not allow_glob:
        real_root = os.path.realpath(root)
        if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
            raise catalog.CatalogError('sysctl key %r: resolves outside %s' % (key, root))
    return path


def path_key(proc_path: str, path: str) -> str:
    """The dotted name of a /proc/sys path (a part with dots is kept with slashes, as sysctl(8) does)."""
    rel = os.path.relpath(path, os.path.join(proc_path, 'sys')).split(os.sep)
    if any('.' in p for p in rel):
        return '/'.join(rel)
    return '.'.join(rel)


def read_raw(path: str) -> tuple[str | None, int | None]:
    """(text, None) or (None, errno) for one /proc/sys file."""
    try:
        text = files.read_text(path, errors='replace')
    except OSError as exc:
        return None, exc.errno
    return (text, None) if text is not None else (None, errno.ENOENT)


def write_key(path: str, text: str) -> None:
    """Write one value to the /proc/sys file ``path`` (as read_key found it) in a single write(2), as
    sysctl(8) does; the kernel's refusal (EINVAL, EPERM) raises OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # never O_CREAT; O_TRUNC as sysctl(8), for fixture trees
    try:
        os.write(fd, (text + '\n').encode('utf-8'))
    finally:
        os.close(fd)


def writable(path: str) -> bool:
    """Whether this process may write the file: mode bits and access(2), without writing."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(path, os.W_OK)


def initial_netns(proc_path: str = '/proc') -> bool:
    """Whether this process runs in the initial network namespace (see _INIT_NETNS_ONLY)."""
    return os.path.exists(os.path.join(proc_path, 'sys', _INIT_NETNS_ONLY))


def netns_inode(proc_path: str = '/proc') -> int | None:
    try:
        link = os.readlink(os.path.join(proc_path, 'self', 'ns', 'net'))
    except OSError:
        return None
    return int(link[link.index('[') + 1:-1]) if '[' in link else None


def unavailable_reason(entry: catalog.Entry | None, release: KernelRelease, in_initial_netns: bool, err: int | None) -> str:
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


def readonly_reason(entry: catalog.Entry | None, release: KernelRelease, in_initial_netns: bool) -> str:
    if entry and not in_initial_netns and catalog.readonly_in_netns(entry, release):
        since = entry['netns_readonly_since']
        return ('read-only in a network namespace since Linux %s%s: the value is the host\'s'
                % (since, '' if release >= since else ' (and in the %d.%d stable line)' % release.version[:2]))
    return 'read-only here'


def read_key_at(proc_path: str, key: str, release: KernelRelease, in_initial_netns: bool,
                entry: catalog.Entry | None = None) -> tuple[KeyInfo, str | None]:
    """(info, path): everything sysctl_facts says about one key, as a dict, and the /proc/sys file it
    was read from (None when absent), for the write that may follow.

    ``value`` is typed when the catalog knows the key, otherwise the normalised text.
    For a catalog key absent here, its aliases are tried (older names of the same setting).
    """
    entry = entry if entry is not None else catalog.get(key)
    candidates = catalog.names(entry) if entry else [key]
    info: KeyInfo = {'available': False, 'value': None, 'raw': None, 'writable': False, 'reason': None, 'name': None}
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


def read_key(proc_path: str, key: str, release: KernelRelease, in_initial_netns: bool, entry: catalog.Entry | None = None) -> KeyInfo:
    """Everything sysctl_facts says about one key, as a dict (see read_key_at)."""
    return read_key_at(proc_path, key, release, in_initial_netns, entry)[0]


def expand_keys(proc_path: str, patterns: t.Iterable[str]) -> list[str]:
    """Concrete key names for ``patterns`` (globs match against /proc/sys and the catalog)."""
    keys: list[str] = []
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
    return list(dict.fromkeys(keys))  # each once, in order


def mem_total(proc_path: str = '/proc') -> int | None:
    """MemTotal of /proc/meminfo in bytes (the kernel sizes buffer defaults from memory), or None."""
    for line in (files.read_text(os.path.join(proc_path, 'meminfo'), errors='replace', quiet=True) or '').splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == 'MemTotal:' and fields[1].isdigit():
            return int(fields[1]) * 1024
    return None


def gather(proc_path: str, patterns: list[str] | None = None) -> dict[str, t.Any]:
    """The ``ansible_facts.tcp_sysctl`` dict: kernel, namespace and one entry per key."""
    release_text = read_release(proc_path)
    release = KernelRelease(release_text)
    in_init = initial_netns(proc_path)
    keys = expand_keys(proc_path, patterns) if patterns else sorted(catalog.CATALOG)
    values = {}
    for key in keys:
        values[key] = read_key(proc_path, key, release, in_init)
    return {
        'kernel': {'release': release_text, 'version': str(release), 'mem_total': mem_total(proc_path)},
        'netns': {'initial': in_init, 'inode': netns_inode(proc_path)},
        'keys': values,
    }


def per_netns_keys(release: KernelRelease) -> list[str]:
    """The catalog's settings a child network namespace has its own value of on ``release``."""
    return sorted(key for key, entry in catalog.CATALOG.items()
                  if catalog.per_netns(entry, release) and not catalog.readonly_in_netns(entry, release)
                  and not entry['read_only'])


def namespace_settings(release: KernelRelease) -> dict[str, t.Any]:
    """{key: typed value} of the settings a child namespace has its own copy of (``per_netns_keys``), as
    the calling thread's namespace sees them (/proc/sys follows the thread); absent ones left out."""
    values = {}
    for key in per_netns_keys(release):
        info = read_key('/proc', key, release, False)
        if info['available']:
            values[key] = info['value']
    return values


def _module_name(path: str) -> str | None:
    base = os.path.basename(path.strip())
    return base.split('.ko', 1)[0].replace('-', '_') if '.ko' in base else None


def boot_modules(modules: t.Iterable[str], release_text: str, root: str = '/', ours: str | None = None) -> dict[str, str | None]:
    """{module: how it is there before systemd-sysctl at boot} for ``modules``: the modules-load.d
    file that lists it or a module that needs it (modules.dep: nf_nat, xt_conntrack, ip_vs pull in
    nf_conntrack), 'built into the kernel' (modules.builtin of this release), or None. Modules the
    kernel command line loads (modules-load=) are not seen. ``ours``: a modules-load.d file not
    counted (sysctl_tune's own, to tell whether anything else loads them)."""
    found: dict[str, str | None] = dict((name, None) for name in modules)
    ours = os.path.realpath(ours) if ours else None
    base = os.path.join(root, 'lib/modules', release_text)
    for line in (files.read_text(os.path.join(base, 'modules.builtin'), errors='replace', quiet=True) or '').splitlines():
        builtin = _module_name(line)
        if builtin is not None and builtin in found:
            found[builtin] = 'built into the kernel'
    needs: dict[str | None, set[str | None]] = {}
    for line in (files.read_text(os.path.join(base, 'modules.dep'), errors='replace', quiet=True) or '').splitlines():
        module, _sep, deps = line.partition(':')
        needs[_module_name(module)] = set(_module_name(d) for d in deps.split())
    for path in _by_name(MODULES_LOAD_DIRS, root):
        if ours and os.path.realpath(path) == ours:
            continue
        for line in (files.read_text(path, errors='replace', quiet=True) or '').splitlines():
            name = line.split('#', 1)[0].split(';', 1)[0].strip().replace('-', '_')
            for wanted in found:
                if found[wanted] is None and (name == wanted or wanted in needs.get(name, ())):
                    found[wanted] = path if name == wanted else '%s (%s needs it)' % (path, name)
    return found


def modules_load_files(root: str = '/', extra: str | None = None) -> list[str]:
    """The modules-load.d files systemd-modules-load reads at boot, by name; ``extra``, a file about
    to be written, counts as there (it is left out when not read: not a .conf of those directories,
    or masked by a file of the same name in an earlier one)."""
    return _by_name(MODULES_LOAD_DIRS, root, extra)


def gather_with_sources(proc_path: str, patterns: list[str] | None = None, root: str = '/') -> tuple[dict[str, t.Any], list[str]]:
    """``gather`` plus, per key, every write at boot and the one that wins (``sources``), the
    sysctl.d files in boot order (``boot_files``) and TuneD's state (``tuned``, None without an
    active profile); returns (facts, problems reading those files)."""
    facts = gather(proc_path, patterns)
    tuned_state = tuned.state(root)
    found, problems = sources(list(facts['keys']), root, tuned_state)
    modules = sorted(set(catalog.CATALOG[k]['module'] for k in facts['keys'] if k in catalog.CATALOG and catalog.CATALOG[k]['module']))
    facts.update(sources=found, boot_files=boot_files(root), tuned=tuned_state,
                 boot_modules=boot_modules(modules, facts['kernel']['release'], root))
    return facts, problems


def parse_sysctl_conf(text: str) -> tuple[list[tuple[int, str, str, bool]], list[str]]:
    """Assignments in a sysctl.d file: [(line number, key, value, ignore_errors)], plus problems."""
    found: list[tuple[int, str, str, bool]] = []
    problems: list[str] = []
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


def boot_files(root: str = '/', extra: str | None = None) -> list[str]:
    """Files systemd-sysctl (then sysctl --system) applies at boot, in order; the last one wins.
    ``extra``: a file about to be written, counted as there."""
    ordered = _by_name(SYSCTL_DIRS, root, extra)
    conf = os.path.join(root, SYSCTL_CONF.lstrip('/'))
    # Distributions link 99-sysctl.conf to /etc/sysctl.conf; otherwise procps reads it last.
    if os.path.isfile(conf) and os.path.realpath(conf) not in [os.path.realpath(p) for p in ordered]:
        ordered.append(conf)
    return ordered


def _file_writes(paths: t.Iterable[str], keys: t.Collection[str], owner: str, problems: list[str],
                 skip: t.Callable[[str], bool] | None = None, ours: tuple[str, dict[str, str]] | None = None
                 ) -> list[tuple[str, Write]]:
    """[(key, write)] of the assignments in ``paths``, in order; ``skip(key)`` leaves a key out;
    ``ours``: (path, {key: value}), a file as it will be written, whatever is there now."""
    found: list[tuple[str, Write]] = []
    for path in paths:
        if ours and os.path.realpath(path) == os.path.realpath(ours[0]):
            found.extend((k, {'owner': owner, 'file': path, 'line': None, 'value': v}) for k, v in sorted(ours[1].items())
                         if k in keys and not (skip and skip(k)))
            continue
        try:
            text = files.read_text(path)
        except (OSError, UnicodeDecodeError) as exc:
            if owner == 'systemd-sysctl':  # told once, not again for TuneD's second pass
                problems.append('%s: cannot read (%s)' % (path, exc))
            continue
        if text is None:
            continue
        assignments, bad = parse_sysctl_conf(text)
        problems.extend('%s: %s' % (path, p) for p in bad if owner == 'systemd-sysctl')
        for number, name, value, _ignore in assignments:
            for key in matching(name, keys):
                if not (skip and skip(key)):
                    found.append((key, {'owner': owner, 'file': path, 'line': number, 'value': value}))
    return found


def _by_name(directories: t.Iterable[str], root: str, extra: str | None = None) -> list[str]:
    """The .conf files of ``directories`` by name, a name in an earlier directory masking the
    same name in later ones; ``extra``, a file about to be written, counts as there."""
    chosen: dict[str, str] = {}
    for directory in directories:
        base = os.path.join(root, directory.lstrip('/'))
        try:
            names = os.listdir(base)
        except OSError:  # absent or unreadable: systemd-sysctl skips it too
            names = []
        if extra and os.path.dirname(extra) == base:
            names.append(os.path.basename(extra))
        for name in names:
            if name.endswith('.conf') and name not in chosen:
                chosen[name] = os.path.join(base, name)
    return [chosen[name] for name in sorted(chosen)]


def tuned_reapply_files(root: str = '/', extra: str | None = None) -> list[str]:
    """The files TuneD re-applies after its profile (reapply_sysctl): /run/sysctl.d and
    /etc/sysctl.d by name, then /etc/sysctl.conf."""
    return _by_name(tuned.REAPPLY_DIRS, root, extra) + [os.path.join(root, tuned.REAPPLY_CONF.lstrip('/'))]


def boot_writes(keys: t.Collection[str], root: str = '/', tuned_state: dict[str, t.Any] | None = None,
                ours: tuple[str, dict[str, str]] | None = None) -> tuple[dict[str, list[Write]], list[str]]:
    """For each key, every write at boot in order: systemd-sysctl's files, then TuneD's active
    profile (when tuned.service is enabled), then the files TuneD re-applies. Each write is
    {'owner', 'file', 'line', 'value'} (TuneD's also 'profile', 'conditional'). ``ours``: (path,
    {key: value}), a drop-in as it will be written. Returns (writes, problems)."""
    problems: list[str] = []
    writes: dict[str, list[Write]] = dict((k, []) for k in keys)
    extra = ours[0] if ours else None
    for key, write in _file_writes(boot_files(root, extra), keys, 'systemd-sysctl', problems, ours=ours):
        writes[key].append(write)
    if tuned_state and tuned_state['enabled']:
        for name, setting in sorted(tuned_state['sysctl'].items()):
            for key in matching(name, keys):
                write = dict(setting, owner='tuned', value=catalog.normalise(setting['value']))
                writes[key].append(write)
        if tuned_state['reapply_sysctl']:
            excluded = tuned_state['reapply_sysctl_exclude']
            for key, write in _file_writes(tuned_reapply_files(root, extra), keys, 'tuned reapply_sysctl', problems,
                                           skip=lambda k: any(fnmatch.fnmatchcase(k, p) for p in excluded), ours=ours):
                writes[key].append(write)
    return writes, problems


def sources(keys: list[str], root: str = '/', tuned_state: dict[str, t.Any] | None | t.Literal[False] = False
            ) -> tuple[dict[str, dict[str, t.Any]], list[str]]:
    """For each key: the sysctl.d assignments in boot order (``files``), every write at boot by any
    owner (``writers``: systemd-sysctl, TuneD, TuneD re-applying sysctl.d) and the last one, which
    wins (``boot_value``, ``boot_file``, ``boot_owner``). Keys in files may use slashes, aliases or
    globs; they are matched to the catalog names in ``keys``. ``tuned_state``: TuneD's, read from
    ``root`` when False. Returns (sources, problems)."""
    if tuned_state is False:
        tuned_state = tuned.state(root)
    writes, problems = boot_writes(keys, root, tuned_state)
    result = {}
    for key in keys:
        found = writes[key]
        # A conditional TuneD write may not happen: the last unconditional one is what boot gives.
        sure = [w for w in found if not w.get('conditional')]
        last = sure[-1] if sure else {}
        result[key] = {'files': [dict((f, w[f]) for f in ('file', 'line', 'value')) for w in found
                                 if w['owner'] == 'systemd-sysctl'],
                       'writers': found, 'boot_value': last.get('value'), 'boot_file': last.get('file'),
                       'boot_owner': last.get('owner')}
    return result, problems + ((tuned_state or {}).get('problems') or [])


def matching(name: str, keys: t.Collection[str]) -> list[str]:
    try:
        if any(c in name for c in '*?['):
            dotted = '.'.join(catalog.split_key(name, allow_glob=True))
            return [k for k in keys if fnmatch.fnmatchcase(k, dotted)]
        canon = catalog.canonical(name)
    except catalog.CatalogError:
        return []
    return [canon] if canon in keys else []
