# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
name: tcp_groups
short_description: Groups from the TCP facts in the fact cache (profile, unmanaged, drifted, trouble)
version_added: 0.1.0
author: netops.tcp contributors (@netops-tcp)
description:
  - Puts the hosts that earlier sources of the inventory added into groups, from the facts that
    M(netops.tcp.audit_facts) left in the fact cache (fact caching must be on), C(tcp_profile_NAME_vVERSION)
    from the netops.tcp record, C(tcp_unmanaged) (sysctl facts and no record), C(tcp_drifted) (a key
    differs from what the record says was applied) and C(tcp_trouble) (a health finding of one of
    O(trouble_kinds)).
  - The same groups as the C(ansible.builtin.constructed) source of earlier releases of
    C(examples/inventory), in Python; a host costs its cache entry's reading and no template (ansible-core
    2.19 to 2.21 compile each of a constructed source's expressions again for every host, about 7 ms a
    host for those groups); and no more than a few hosts' facts are held at a time.
  - Put it after the sources that add the hosts (C(inventory = hosts.yml,tcp.groups.yml)). A host without
    cached facts, or whose facts expired, is in none of these groups; so is a host whose cache entry
    cannot be decoded, with a warning naming it. A cache that cannot be read at all fails the source.
options:
  plugin:
    description: The name of this plugin; it must be C(netops.tcp.tcp_groups) for the source to be read.
    required: true
    type: str
    choices: [netops.tcp.tcp_groups]
  prefix:
    description: The start of every group name.
    type: str
    default: tcp
  record_name:
    description: The record's name under C(ansible_local) (the fact file's name without C(.fact)), read when
      the facts hold no C(tcp_record).
    type: str
    default: netops_tcp
  trouble_kinds:
    description: The health findings that put a host in C(PREFIX_trouble); an unknown kind fails the source.
    type: list
    elements: str
    default: [close_wait, time_wait, syn_flood, listen_overflow, orphans, conntrack, ephemeral_ports]
  thresholds:
    description: Limits of the health findings, as the audit role's C(tcp_audit_thresholds).
    type: dict
    default: {}
notes:
  - Group names are made of letters, digits and underscores; any other character of a profile's name in a
    host's record becomes an underscore.
'''

EXAMPLES = r'''
# tcp.groups.yml, listed after hosts.yml in ansible.cfg's inventory (examples/inventory); with
# trouble only from listeners and CLOSE_WAIT, which counts from 200 sockets (plugin alone: the defaults)
plugin: netops.tcp.tcp_groups
trouble_kinds: [close_wait, listen_overflow, syn_flood]
thresholds:
  close_wait: 200
'''

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin

from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.plugin_utils import _groups as tcp_groups
from ansible_collections.netops.tcp.plugins.plugin_utils._cache import CachedFacts, Unreadable


class InventoryModule(BaseInventoryPlugin):

    NAME = 'netops.tcp.tcp_groups'

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(('tcp_groups.yml', 'tcp_groups.yaml', 'tcp.groups.yml',
                                                            'tcp.groups.yaml'))

    def parse(self, inventory, loader, path, cache=False):
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        trouble = self.get_option('trouble_kinds')
        thresholds = self.get_option('thresholds')
        try:
            tcp_groups.check_kinds(trouble)
            findings.check_thresholds(thresholds)
        except ValueError as exc:
            raise AnsibleParserError('%s: %s' % (path, exc))
        prefix, record_name = self.get_option('prefix'), self.get_option('record_name')
        facts = CachedFacts()
        for name in list(self.inventory.hosts):
            try:
                found = facts(name)
            except Unreadable as exc:  # one host's entry does not take the others' groups away
                self.display.warning('netops.tcp.tcp_groups: the cached facts of %s cannot be read (%s): it is in '
                                     'none of the groups' % (name, exc))
                continue
            for group in tcp_groups.groups(found, prefix, record_name, trouble, thresholds):
                self.inventory.add_host(name, group=self.inventory.add_group(to_safe_group_name(group, force=True, silent=True)))
