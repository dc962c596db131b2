# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: what TuneD writes to /proc/sys at boot, read from its files (the daemon
need not run).

TuneD starts after systemd-sysctl and applies the ``[sysctl]`` sections of its active profiles
(``/etc/tuned/active_profile``, then ``post_loaded_profile``; each profile's ``include=`` chain
first, a later profile overriding an earlier one). With ``reapply_sysctl = 1`` in
``tuned-main.conf`` (the default) it then re-applies ``/run/sysctl.d``, ``/etc/sysctl.d`` (not
``/usr/lib/sysctl.d``) and ``/etc/sysctl.conf``, skipping keys that match
``reapply_sysctl_exclude``. As TuneD 2.20-2.28 do (plugin_sysctl.py, profiles/loader.py).

A profile NAME is NAME/tuned.conf in TuneD's profile directories, the last one that has it winning
(profiles/locator.py): ``profile_dirs`` of tuned-main.conf when set, else /usr/lib/tuned/profiles
and /etc/tuned/profiles since 2.23 (commit 6d3aa94; Debian 13 ships 2.25), /usr/lib/tuned and
/etc/tuned before. A 2.25 daemon does not find a profile left in /etc/tuned/NAME (seen in the VM
tier: "Requested profile ... doesn't exist", nothing applied).
"""

from __future__ import annotations

import os
import re
import typing as t

# One line of a TuneD file: (section, option, value, line number).
IniEntry = t.Tuple[str, str, str, int]

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files

MAIN_CONF = '/etc/tuned/tuned-main.conf'
ACTIVE_PROFILE = '/etc/tuned/active_profile'
POST_LOADED_PROFILE = '/etc/tuned/post_loaded_profile'
# TuneD's profile directories, the last one that has a profile winning: since 2.23, and before.
PROFILE_DIRS = ('/usr/lib/tuned/profiles', '/etc/tuned/profiles')
OLD_PROFILE_DIRS = ('/usr/lib/tuned', '/etc/tuned')
REAPPLY_DIRS = ('/run/sysctl.d', '/etc/sysctl.d')
REAPPLY_CONF = '/etc/sysctl.conf'
_SAFE_NAME = re.compile(r'^[A-Za-z0-9_.-]+\Z')


def _path(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip('/'))


def parse_ini(text: str) -> list[IniEntry]:
    """[(section, option, value, line)] of a TuneD file; values unquoted as TuneD does."""
    found: list[IniEntry] = []
    section = None
    for number, line in enumerate(text.split('\n'), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in '#;':
            continue
        if stripped.startswith('[') and stripped.endswith(']'):
            section = stripped[1:-1].strip()
            continue
        option, sep, value = stripped.partition('=')
        if sep and section is not None:
            value = value.strip()
            found.append((section, option.strip(), re.sub(r'^"(.*)"\Z', r'\1', value), number))
    return found


def _bool(text: str | None, default: bool) -> bool:
    if text is None:
        return default
    return text.strip().lower() in ('1', 'true', 'yes', 'y', 'on')


def main_options(root: str = '/') -> dict[str, str]:
    """{option: value} of tuned-main.conf."""
    options: dict[str, str] = {}
    text = files.read_text(_path(root, MAIN_CONF), errors='replace', quiet=True) or ''
    for line in text.split('\n'):
        option, sep, value = line.strip().partition('=')
        if sep and not option.lstrip().startswith('#'):
            options[option.strip()] = value.strip()
    return options


def profile_dirs(options: dict[str, str], root: str = '/') -> list[str]:
    """TuneD's profile directories on this host, in its order (the last one that has a profile wins)."""
    listed = [d.strip() for d in options.get('profile_dirs', '').split(',') if d.strip()]
    if listed:
        return listed
    return list(PROFILE_DIRS if os.path.isdir(_path(root, PROFILE_DIRS[0])) else OLD_PROFILE_DIRS)


def locate(name: str, dirs: t.Sequence[str], root: str = '/') -> str | None:
    """The tuned.conf of profile ``name`` as TuneD finds it in ``dirs``, or None."""
    if not _SAFE_NAME.match(name):
        return None
    for directory in reversed(dirs):
        path = _path(root, os.path.join(directory, name, 'tuned.conf'))
        if os.path.isfile(path):
            return path
    return None


def _sysctl_sections(entries: list[IniEntry]) -> set[str]:
    """Section names that hold sysctl options: [sysctl], or any section with type=sysctl."""
    typed = set(s for s, o, v, _n in entries if o == 'type' and v == 'sysctl')
    return set(s for s, _o, _v, _n in entries if s == 'sysctl') | typed


def profile_sysctl(names: t.Iterable[str], dirs: t.Sequence[str], root: str = '/'
                   ) -> tuple[dict[str, dict[str, t.Any]], list[dict[str, str]], list[str]]:
    """(settings, profiles loaded, problems) for the profiles ``names`` in the order TuneD loads
    them; ``settings`` is {sysctl name: {'value', 'profile', 'file', 'line', 'conditional'}}, the
    last profile to set a name winning. A section with uname_regex/cpuinfo_regex applies only on
    matching machines, a value with a > or < modifier only when it raises or lowers the current
    one, a ${...} only after TuneD expands it: such writes are ``conditional``."""
    settings: dict[str, dict[str, t.Any]] = {}
    loaded: list[dict[str, str]] = []
    problems: list[str] = []

    def load(name: str, seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        path = locate(name, dirs, root)
        if path is None:
            problems.append('TuneD profile %s: no tuned.conf under %s, where this TuneD looks: it applies nothing '
                            'of it' % (name, ', '.join(dirs)))
            return
        entries = parse_ini(files.read_text(path, errors='replace', quiet=True) or '')
        for section, option, value, _number in entries:
            if section == 'main' and option == 'include':
                for parent in [p for p in re.split(r'\s*[,;]\s*', value) if p]:
                    load(parent, seen)
        loaded.append({'name': name, 'file': path})
        sections = _sysctl_sections(entries)
        conditional_sections = set(s for s, o, _v, _n in entries if s in sections and o in ('uname_regex', 'cpuinfo_regex'))
        for section, option, value, number in entries:
            if section in sections and option not in ('type', 'uname_regex', 'cpuinfo_regex', 'devices', 'replace', 'enabled'):
                settings[option] = {'value': value, 'profile': name, 'file': path, 'line': number,
                                    'conditional': section in conditional_sections or value[:1] in '<>' or '${' in value}

    seen: set[str] = set()
    for name in names:
        load(name, seen)
    return settings, loaded, problems


def state(root: str = '/') -> dict[str, t.Any] | None:
    """TuneD on this host: None when no profile is active, else {'profiles' (as `tuned-adm active`
    names them), 'enabled' (tuned.service wanted at boot), 'reapply_sysctl', 'reapply_sysctl_exclude',
    'files' (every tuned.conf loaded, includes first), 'sysctl' (see profile_sysctl), 'problems'}."""
    active = (files.read_text(_path(root, ACTIVE_PROFILE), errors='replace', quiet=True) or '').split()
    post = (files.read_text(_path(root, POST_LOADED_PROFILE), errors='replace', quiet=True) or '').split()
    if not active and not post:
        return None
    options = main_options(root)
    settings, loaded, problems = profile_sysctl(active + post, profile_dirs(options, root), root)
    reapply = _bool(options.get('reapply_sysctl'), True)
    exclude = [p for p in re.split(r'[\s,]+', options.get('reapply_sysctl_exclude', '')) if p]
    wants = _path(root, '/etc/systemd/system')
    enabled = any(os.path.lexists(os.path.join(wants, d, 'tuned.service'))
                  for d in (os.listdir(wants) if os.path.isdir(wants) else []) if d.endswith('.wants'))
    return {'profiles': active + post, 'enabled': enabled, 'reapply_sysctl': reapply,
            'reapply_sysctl_exclude': exclude, 'files': [p['file'] for p in loaded], 'sysctl': settings,
            'problems': problems}
