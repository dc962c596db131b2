# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: settings (sysctl name -> value, with guards) validated against the catalog.

Used by the profile resolver on the controller and by sysctl_tune on the host, so both give
the same message for the same mistake. ``normalise`` gives one record per key (catalog entry,
typed value, the text the kernel will show, guards) that the decision, the write, the
read-back and the drop-in reuse: nothing is parsed twice.
"""

from __future__ import annotations

import typing as t

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelVersionError, parse_spec

# A canonical setting (see canonical_settings): {'value', 'guards', 'rationale', 'as'}.
Spec = t.Dict[str, t.Any]

SETTING_KEYS = frozenset(['value', 'rationale', 'guards', 'when'])
GUARDS = frozenset(['kernel', 'unless', 'reserve_listening_ports', 'allow_lower'])
UNLESS_FLAGS = frozenset(['clients_behind_nat'])


class SettingsError(ValueError):
    """A key, value or guard breaks a rule; the message names where, the key and the rule."""


def _setting_value(where: str, key: str, raw: object, params: dict[str, t.Any]) -> t.Any:
    if isinstance(raw, dict):
        if set(raw) - {'parameter', 'offset'} or 'parameter' not in raw:
            raise SettingsError('%s: %s: a computed value is {parameter: NAME, offset: N}' % (where, key))
        name = raw['parameter']
        if name not in params:
            raise SettingsError('%s: %s: unknown parameter %r' % (where, key, name))
        offset = raw.get('offset', 0)
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise SettingsError('%s: %s: offset must be an integer' % (where, key))
        return params[name] + offset
    return raw


def typed_value(where: str, key: str, value: t.Any, entry: catalog.Entry | None) -> catalog.Value:
    """Check ``value`` for catalog key ``key``; text is parsed like /proc/sys content."""
    if entry is None:
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            raise SettingsError('%s: %s: value must be a number or a word' % (where, key))
        text = str(value)
        if catalog.normalise(text) != text or catalog.FORBIDDEN_VALUE.search(text):
            raise SettingsError('%s: %s: %r must be one value without newlines, "=", "#" or ";"' % (where, key, text))
        return value
    try:
        if isinstance(value, str) and entry['type'] != catalog.STRING:
            value = catalog.parse(key, value, entry)
        elif isinstance(value, list) and entry['type'] == catalog.PORT_LIST:
            value = [[v, v] if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        catalog.validate(key, value, entry)
    except catalog.CatalogError as exc:
        raise SettingsError('%s: %s' % (where, exc))
    return value


def check_guards(where: str, key: str, guards: object) -> dict[str, t.Any]:
    if guards is None:
        return {}
    if not isinstance(guards, dict):
        raise SettingsError('%s: %s: guards must be a mapping' % (where, key))
    unknown = set(guards) - GUARDS
    if unknown:
        raise SettingsError('%s: %s: unknown guard %s (known: %s)'
                            % (where, key, ', '.join(sorted(unknown)), ', '.join(sorted(GUARDS))))
    if 'kernel' in guards:
        try:
            parse_spec(guards['kernel'])
        except KernelVersionError as exc:
            raise SettingsError('%s: %s: %s' % (where, key, exc))
    if 'unless' in guards and guards['unless'] not in UNLESS_FLAGS:
        raise SettingsError('%s: %s: unless must be one of %s' % (where, key, ', '.join(sorted(UNLESS_FLAGS))))
    if 'reserve_listening_ports' in guards:
        if key != 'net.ipv4.ip_local_port_range' or not isinstance(guards['reserve_listening_ports'], bool):
            raise SettingsError('%s: %s: reserve_listening_ports is true or false, on net.ipv4.ip_local_port_range only'
                                % (where, key))
    if 'allow_lower' in guards:
        entry = catalog.get(key)
        if not (entry and entry['raise_only']) or not isinstance(guards['allow_lower'], bool):
            raise SettingsError('%s: %s: allow_lower is true or false, on a capacity limit only (%s)'
                                % (where, key, ', '.join(sorted(k for k, e in catalog.CATALOG.items() if e['raise_only']))))
    return dict(guards)


def canonical_settings(where: str, settings: object, allow_unknown: bool, params: dict[str, t.Any] | None = None,
                       need_rationale: bool = False) -> dict[str, Spec]:
    """{canonical key: {'value', 'guards', 'rationale', 'as'}}; errors name ``where``, the key and the rule."""
    params = params or {}
    result: dict[str, Spec] = {}
    if not isinstance(settings, dict):
        raise SettingsError('%s: settings must be a mapping of sysctl names' % where)
    for name, spec in settings.items():
        try:
            key = catalog.canonical(name)
        except catalog.CatalogError as exc:
            raise SettingsError('%s: %s' % (where, exc))
        if key in result:
            raise SettingsError('%s: %s is set twice (as %s and %s)' % (where, key, result[key]['as'], name))
        entry = catalog.get(key)
        if entry is None and not allow_unknown:
            raise SettingsError('%s: %s: not in the netops.tcp catalog (set allow_unknown_keys to use it)' % (where, name))
        if not isinstance(spec, dict) or 'value' not in spec:
            spec = {'value': spec}
        unknown = set(spec) - SETTING_KEYS
        if unknown:
            raise SettingsError('%s: %s: unknown field %s (known: guards, rationale, value, when)'
                                % (where, key, ', '.join(sorted(unknown))))
        if 'when' in spec:  # a key the profile sets only when a boolean parameter says so
            if not isinstance(spec['when'], str) or not isinstance(params.get(spec['when']), bool):
                raise SettingsError('%s: %s: when must name a boolean parameter of the profile (%r is not one)'
                                    % (where, key, spec['when']))
            if not params[spec['when']]:
                continue
        rationale = spec.get('rationale')
        if need_rationale and (not isinstance(rationale, str) or not rationale.strip()):
            raise SettingsError('%s: %s: every key needs a rationale' % (where, key))
        value = typed_value(where, key, _setting_value(where, key, spec['value'], params), entry)
        result[key] = {'value': value, 'guards': check_guards(where, key, spec.get('guards')),
                       'rationale': rationale, 'as': name}
    return result


class Setting:
    """One key to set: ``key`` (canonical), ``entry`` (catalog entry or None), typed ``value``,
    ``text`` (what /proc/sys will show, catalog.canonical_text) and ``guards``."""

    __slots__ = ('key', 'entry', 'value', 'text', 'guards')

    def __init__(self, key: str, entry: catalog.Entry | None, value: catalog.Value, guards: dict[str, t.Any]) -> None:
        self.key, self.entry, self.value, self.guards = key, entry, value, guards
        self.text = catalog.format_value(value, entry) if entry else str(value)

    def holds(self, info: dict[str, t.Any]) -> bool:
        """Whether the live value ``_sysctl.read_key`` found (``info['value']``, typed once there) is this
        one, compared as the kernel prints both (catalog.canonical_text: the one definition)."""
        if info.get('reason') or not info.get('available'):
            return False
        value = info['value']
        return (catalog.format_value(value, self.entry) if self.entry else value) == self.text

    def __repr__(self) -> str:
        return 'Setting(%s=%r)' % (self.key, self.text)


def normalise(settings: object, allow_unknown: bool = False, where: str = 'settings') -> dict[str, Setting]:
    """{canonical key: Setting} from a ``settings`` mapping (a resolved profile's, or the module's)."""
    resolved = canonical_settings(where, settings, allow_unknown)
    return dict((key, Setting(key, catalog.get(key), spec['value'], spec['guards'])) for key, spec in resolved.items())
