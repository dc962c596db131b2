# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller side: reading profile files (YAML, a key written twice refused)
and resolving them once per name, version and parameters, for the tcp_profile lookup and the audit."""

import json
import os

import yaml

from ansible_collections.netops.tcp.plugins.plugin_utils import _profile as profile

SHIPPED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'profiles')


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping."""


class _Duplicate(Exception):
    pass


def _mapping(loader, node, deep=False):
    keys = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise _Duplicate('%s is written twice (line %d)' % (key, key_node.start_mark.line + 1))
        keys.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path):
    """(data, raw bytes) of a profile file; ProfileError for YAML that is invalid or repeats a key."""
    with open(path, 'rb') as handle:
        raw = handle.read()
    try:
        return yaml.load(raw, Loader=_StrictLoader), raw  # nosec: a SafeLoader subclass
    except _Duplicate as exc:
        raise profile.ProfileError('%s: %s' % (path, exc))
    except yaml.YAMLError as exc:
        raise profile.ProfileError('%s: invalid YAML: %s' % (path, exc))


def directories(paths):
    """The user's profile directories first, then the collection's."""
    return [os.path.abspath(p) for p in paths or ()] + [SHIPPED]


def resolve(name, version='latest', paths=(), overrides=None, parameters=None, allow_unknown_keys=False):
    return profile.resolve(load, directories(paths), name, version, overrides, parameters, allow_unknown_keys)


class Resolver:
    """Resolves each (name, version, parameters) once: an audit of thousands of hosts on a few
    profiles reads a few files. Errors are raised again for every host that asks."""

    def __init__(self, paths=(), parameters=None):
        self.paths = list(paths or ())
        self.parameters = parameters or {}
        self.cache = {}

    def get(self, name, version='latest', parameters=None):
        params = self.parameters if parameters is None else parameters
        key = (name, str(version), json.dumps(params, sort_keys=True))
        if key not in self.cache:
            try:
                self.cache[key] = resolve(name, version, self.paths, parameters=params)
            except profile.SettingsError as exc:
                self.cache[key] = exc
        found = self.cache[key]
        if isinstance(found, Exception):
            raise found
        return found
