# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: resolving versioned tuning profiles.

A profile version is ``<dir>/<name>/v<N>.yml``. Resolving loads it (and what it extends),
applies parameters and overrides, validates every key and value (``_settings``, against the
catalog) and computes a checksum of what would be applied. Pure: the caller passes a ``load(path)``
function returning (data, raw bytes), so the same code serves the lookup and the tests.
Errors name the profile, the key and the rule.
"""

import hashlib
import json
import os
import re

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.model._settings import SettingsError, canonical_settings

NAME = re.compile(r'^[a-z][a-z0-9_]{0,63}\Z')
VERSION_FILE = re.compile(r'^v([1-9][0-9]{0,3})\.yml\Z')
TOP_KEYS = frozenset(['name', 'version', 'description', 'notes', 'extends', 'parameters', 'settings'])
MAX_DEPTH = 8


class ProfileError(SettingsError):
    """A profile file, name, version, parameter or ``extends`` chain breaks a rule."""


def check_name(name):
    if not isinstance(name, str) or not NAME.match(name):
        raise ProfileError('profile name %r: must be lower-case letters, digits and "_", starting with a letter '
                           '(a name, not a path)' % (name,))
    return name


def check_version(version):
    """An int >= 1, or 'latest'."""
    if version in (None, 'latest'):
        return 'latest'
    text = str(version).lstrip('v')
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise ProfileError('profile version %r: must be a whole number from 1, or "latest"' % (version,))
    return int(text)


def versions(dirs, name):
    """{version: path} of ``name`` across ``dirs``; an earlier directory wins for the same version."""
    check_name(name)
    found = {}
    for directory in dirs:
        base = os.path.join(directory, name)
        try:
            entries = os.listdir(base)
        except OSError:
            continue
        for entry in entries:
            match = VERSION_FILE.match(entry)
            if match and int(match.group(1)) not in found:
                path = os.path.join(base, entry)
                if os.path.realpath(path).startswith(os.path.realpath(directory) + os.sep):
                    found[int(match.group(1))] = path
    return found


def locate(dirs, name, version):
    found = versions(dirs, name)
    if not found:
        raise ProfileError('profile %r: not found in %s' % (name, ', '.join(dirs) or 'no directory'))
    wanted = check_version(version)
    if wanted == 'latest':
        wanted = max(found)
    if wanted not in found:
        raise ProfileError('profile %s: no version %d (available: %s)'
                           % (name, wanted, ', '.join(str(v) for v in sorted(found))))
    return found[wanted], wanted


def parse_ref(ref, where):
    """'name@version' of an ``extends`` field."""
    if not isinstance(ref, str) or ref.count('@') != 1:
        raise ProfileError('%s: extends %r must be "name@version"' % (where, ref))
    name, version = ref.split('@')
    return check_name(name), check_version(version)


def _parameters(where, declared, given):
    """Values of the declared parameters: integers (with an optional minimum) or booleans (which
    switch the settings that name them in ``when`` on or off), the given ones over the defaults."""
    params = {}
    for name, spec in declared.items():
        default = spec.get('default') if isinstance(spec, dict) else None
        if not isinstance(default, int):
            raise ProfileError('%s: parameter %s needs an integer or boolean default' % (where, name))
        kind = bool if isinstance(default, bool) else int
        value = given.get(name, default)
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, int):
            wanted = 'true or false' if kind is bool else 'an integer'
            raise ProfileError('%s: parameter %s: %r is not %s' % (where, name, value, wanted))
        if 'min' in spec and value < spec['min']:
            raise ProfileError('%s: parameter %s: %d is below the minimum %d' % (where, name, value, spec['min']))
        params[name] = value
    unknown = set(given) - set(declared)
    if unknown:
        raise ProfileError('%s: unknown parameter %s (declared: %s)'
                           % (where, ', '.join(sorted(unknown)), ', '.join(sorted(declared)) or 'none'))
    return params


def _load_chain(load, dirs, name, version):
    chain = []
    seen = set()
    while True:
        path, number = locate(dirs, name, version)
        where = '%s@%d' % (name, number)
        if where in seen:
            raise ProfileError('profile %s: extends itself (through %s)' % (chain[0]['ref'], ' -> '.join(c['ref'] for c in chain)))
        if len(chain) >= MAX_DEPTH:
            raise ProfileError('profile %s: extends more than %d levels deep' % (chain[0]['ref'], MAX_DEPTH))
        seen.add(where)
        data, raw = load(path)
        if not isinstance(data, dict):
            raise ProfileError('%s (%s): a profile is a mapping' % (where, path))
        unknown = set(data) - TOP_KEYS
        if unknown:
            raise ProfileError('%s: unknown field %s' % (where, ', '.join(sorted(unknown))))
        if data.get('name') != name or data.get('version') != number:
            raise ProfileError('%s (%s): says name %r version %r; the file name says %s version %d'
                               % (where, path, data.get('name'), data.get('version'), name, number))
        chain.append({'ref': where, 'path': path, 'data': data, 'sha256': hashlib.sha256(raw).hexdigest()})
        if not data.get('extends'):
            return chain
        name, version = parse_ref(data['extends'], where)


def resolve(load, dirs, name, version='latest', overrides=None, parameters=None, allow_unknown_keys=False):
    """The resolved profile: name, version, checksum, chain, parameters and settings."""
    chain = _load_chain(load, dirs, check_name(name), version)
    declared = {}
    for link in reversed(chain):
        declared.update(link['data'].get('parameters') or {})
    params = _parameters(chain[0]['ref'], declared, parameters or {})
    settings = {}
    for link in reversed(chain):  # the base first; children replace its keys
        settings.update(canonical_settings(link['ref'], link['data'].get('settings') or {},
                                           allow_unknown_keys, params, True))
    if overrides:
        settings.update(canonical_settings('%s overrides' % chain[0]['ref'], overrides, allow_unknown_keys, params, False))
    for spec in settings.values():
        del spec['as']
    top = chain[0]['data']
    resolved = {
        'name': top['name'],
        'version': top['version'],
        'description': ' '.join(str(top.get('description', '')).split()),
        'parameters': params,
        'overrides': sorted(catalog.canonical(k) for k in (overrides or {})),
        'chain': [{'profile': c['ref'], 'path': c['path'], 'sha256': c['sha256']} for c in chain],
        'settings': settings,
    }
    resolved['checksum'] = checksum(resolved)
    return resolved


def checksum(resolved):
    """sha256 of what would be applied: profile, version and every key's value and guards."""
    body = {
        'profile': resolved['name'],
        'version': resolved['version'],
        'settings': dict((k, {'value': v['value'], 'guards': v['guards']}) for k, v in resolved['settings'].items()),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(',', ':')).encode()).hexdigest()
