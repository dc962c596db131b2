# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: resolving versioned tuning profiles.

A profile version is ``<dir>/<name>/v<N>.yml``. Resolving loads it (and what it extends),
applies parameters and overrides, validates every key and value against the catalog and
computes a checksum of what would be applied. Pure: the caller passes a ``load(path)``
function returning (data, raw bytes), so the same code serves the lookup and the tests.
Errors name the profile, the key and the rule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re

from ansible_collections.netops.tcp.plugins.module_utils import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils._kernel import KernelVersionError, parse_spec

NAME = re.compile(r'^[a-z][a-z0-9_]{0,63}\Z')
VERSION_FILE = re.compile(r'^v([1-9][0-9]{0,3})\.yml\Z')
TOP_KEYS = frozenset(['name', 'version', 'description', 'notes', 'extends', 'parameters', 'settings'])
SETTING_KEYS = frozenset(['value', 'rationale', 'guards'])
GUARDS = frozenset(['kernel', 'unless', 'reserve_listening_ports'])
UNLESS_FLAGS = frozenset(['clients_behind_nat'])
MAX_DEPTH = 8


class ProfileError(ValueError):
    pass


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


def _setting_value(where, key, raw, params):
    if isinstance(raw, dict):
        if set(raw) - {'parameter', 'offset'} or 'parameter' not in raw:
            raise ProfileError('%s: %s: a computed value is {parameter: NAME, offset: N}' % (where, key))
        name = raw['parameter']
        if name not in params:
            raise ProfileError('%s: %s: unknown parameter %r' % (where, key, name))
        offset = raw.get('offset', 0)
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise ProfileError('%s: %s: offset must be an integer' % (where, key))
        return params[name] + offset
    return raw


def typed_value(where, key, value, entry):
    """Check ``value`` for catalog key ``key``; text is parsed like /proc/sys content."""
    if entry is None:
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            raise ProfileError('%s: %s: value must be a number or a word' % (where, key))
        text = str(value)
        if catalog.normalise(text) != text or re.search(r'[\n\r=#;\x00]', text):
            raise ProfileError('%s: %s: %r must be one value without newlines, "=", "#" or ";"' % (where, key, text))
        return value
    try:
        if isinstance(value, str) and entry['type'] != catalog.STRING:
            value = catalog.parse(key, value, entry)
        elif isinstance(value, list) and entry['type'] == catalog.PORT_LIST:
            value = [[v, v] if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        catalog.validate(key, value, entry)
    except catalog.CatalogError as exc:
        raise ProfileError('%s: %s' % (where, exc))
    return value


def check_guards(where, key, guards):
    if guards is None:
        return {}
    if not isinstance(guards, dict):
        raise ProfileError('%s: %s: guards must be a mapping' % (where, key))
    unknown = set(guards) - GUARDS
    if unknown:
        raise ProfileError('%s: %s: unknown guard %s (known: %s)'
                           % (where, key, ', '.join(sorted(unknown)), ', '.join(sorted(GUARDS))))
    if 'kernel' in guards:
        try:
            parse_spec(guards['kernel'])
        except KernelVersionError as exc:
            raise ProfileError('%s: %s: %s' % (where, key, exc))
    if 'unless' in guards and guards['unless'] not in UNLESS_FLAGS:
        raise ProfileError('%s: %s: unless must be one of %s' % (where, key, ', '.join(sorted(UNLESS_FLAGS))))
    if 'reserve_listening_ports' in guards:
        if key != 'net.ipv4.ip_local_port_range' or not isinstance(guards['reserve_listening_ports'], bool):
            raise ProfileError('%s: %s: reserve_listening_ports is true or false, on net.ipv4.ip_local_port_range only'
                               % (where, key))
    return dict(guards)


def canonical_settings(where, settings, allow_unknown, params=None, need_rationale=False):
    """{canonical key: {'value', 'guards', 'rationale', 'as'}}; errors name ``where``, the key and the rule."""
    params = params or {}
    result = {}
    if not isinstance(settings, dict):
        raise ProfileError('%s: settings must be a mapping of sysctl names' % where)
    for name, spec in settings.items():
        try:
            key = catalog.canonical(name)
        except catalog.CatalogError as exc:
            raise ProfileError('%s: %s' % (where, exc))
        if key in result:
            raise ProfileError('%s: %s is set twice (as %s and %s)' % (where, key, result[key]['as'], name))
        entry = catalog.get(key)
        if entry is None and not allow_unknown:
            raise ProfileError('%s: %s: not in the netops.tcp catalog (set allow_unknown_keys to use it)' % (where, name))
        if not isinstance(spec, dict) or 'value' not in spec:
            spec = {'value': spec}
        unknown = set(spec) - SETTING_KEYS
        if unknown:
            raise ProfileError('%s: %s: unknown field %s (known: guards, rationale, value)'
                               % (where, key, ', '.join(sorted(unknown))))
        rationale = spec.get('rationale')
        if need_rationale and (not isinstance(rationale, str) or not rationale.strip()):
            raise ProfileError('%s: %s: every key needs a rationale' % (where, key))
        value = typed_value(where, key, _setting_value(where, key, spec['value'], params), entry)
        result[key] = {'value': value, 'guards': check_guards(where, key, spec.get('guards')),
                       'rationale': rationale, 'as': name}
    return result


def _parameters(where, declared, given):
    params = {}
    for name, spec in declared.items():
        if not isinstance(spec, dict) or isinstance(spec.get('default'), bool) or not isinstance(spec.get('default'), int):
            raise ProfileError('%s: parameter %s needs an integer default' % (where, name))
        value = given.get(name, spec['default'])
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProfileError('%s: parameter %s: %r is not an integer' % (where, name, value))
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
