# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: tcp_profile
short_description: Resolve a versioned netops.tcp tuning profile
version_added: 0.1.0
author:
  - netops.tcp contributors (@netops-tcp)
description:
  - Loads C(<path>/<name>/v<N>.yml) from the O(paths) given and the collection's own C(profiles/)
    directory (the first directory that has a version wins), follows C(extends), applies
    O(parameters) and O(overrides), validates every key and value against the netops.tcp sysctl
    catalog and returns the resolved profile with a checksum of what would be applied.
  - Unknown profiles or versions, duplicate keys (also through old names such as
    C(net.ipv4.ip_conntrack_max)), keys the catalog does not know, values of the wrong type, arity
    or range, a vector whose values decrease, and names that try to leave the profile directories
    all fail with a message naming the profile, the key and the rule.
options:
  _terms:
    description: Profile name.
    required: true
    type: list
    elements: str
  version:
    description: Version number, or V(latest).
    type: raw
    default: latest
  paths:
    description: Extra directories with users' own profiles, searched before the collection's.
    type: list
    elements: path
    default: []
  overrides:
    description: Keys to set or replace, as C(key=value) pairs of a mapping; a value may be a mapping with C(value) and C(guards).
    type: dict
    default: {}
  parameters:
    description: Values for the profile's declared parameters (for example C(lb_idle_timeout)).
    type: dict
    default: {}
  allow_unknown_keys:
    description: Accept keys that are not in the catalog (their values are only checked for safe characters).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Resolve the latest web_frontend profile
  ansible.builtin.set_fact:
    profile: "{{ lookup('netops.tcp.tcp_profile', 'web_frontend') }}"

- name: Version 1 of lb_backend for a balancer that drops idle connections after 350 s
  ansible.builtin.set_fact:
    profile: "{{ lookup('netops.tcp.tcp_profile', 'lb_backend', version=1, parameters={'lb_idle_timeout': 350}) }}"
'''

RETURN = r'''
_raw:
  description: One resolved profile per term.
  type: list
  elements: dict
  contains:
    name:
      description: Profile name.
    version:
      description: Version number.
    checksum:
      description: sha256 of the profile, version and every key's value and guards (overrides included).
    chain:
      description: The files read, with their sha256, the requested version first.
    settings:
      description: "Canonical key: {value, guards, rationale}."
'''

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.netops.tcp.plugins.module_utils.model._settings import SettingsError
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        results = []
        for term in terms:
            try:
                results.append(profiles.resolve(
                    term, self.get_option('version'), self.get_option('paths'), self.get_option('overrides'),
                    self.get_option('parameters'), self.get_option('allow_unknown_keys')))
            except SettingsError as exc:
                raise AnsibleLookupError(str(exc))
        return results
