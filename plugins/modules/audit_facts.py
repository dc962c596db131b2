#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: audit_facts
short_description: Everything the TCP audit reads from a host, in one module run
version_added: 0.1.0
description:
  - Gathers in one process what M(netops.tcp.tcp_facts) (C(ansible_facts.tcp)) and
    M(netops.tcp.sysctl_facts) with O(netops.tcp.sysctl_facts#module:include_sources=true)
    (C(ansible_facts.tcp_sysctl)) gather, and the host's netops.tcp record
    (C(ansible_facts.tcp_record), the file M(netops.tcp.sysctl_tune) writes), so an audit costs one
    module run per host. The facts are the same as those two modules return.
  - Used by the C(netops.tcp.audit) role; M(netops.tcp.audit_report) then works out the findings.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._audit
  - netops.tcp._attributes.facts
  - netops.tcp._attributes.read_only
options:
  gather_subset:
    description:
      - The TCP facts to gather, as for M(netops.tcp.tcp_facts). The audit role asks for V([all, processes]),
        which names the processes that hold CLOSE_WAIT sockets (pid, name, executable, unit or container;
        never the command line) but walks the descriptors of every process, 5 s at most.
    type: list
    elements: str
    default: [all]
seealso:
  - module: netops.tcp.tcp_facts
  - module: netops.tcp.sysctl_facts
  - module: netops.tcp.audit_report
'''

EXAMPLES = r'''
- name: Gather what the audit reads
  netops.tcp.audit_facts:

- name: Audit
  netops.tcp.audit_report:
    dest: /var/tmp/tcp-audit
  run_once: true
'''

RETURN = r'''
ansible_facts:
  description: C(tcp), C(tcp_sysctl) (with C(sources) and C(boot_files)) and C(tcp_record).
  returned: always
  type: dict
  contains:
    tcp_record:
      description:
        - The host's record (profile, version, checksum, applied, skipped, time), null when there is
          none, or a mapping with only C(error) when the file cannot be read as JSON.
      type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netops.tcp.plugins.module_utils.gather import _host as audit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gather_subset=dict(type='list', elements='str', default=['all']),
            **audit.ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, ansible_facts=audit.gather_or_fail(module))


if __name__ == '__main__':
    main()
