# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:

    # Where the modules that read what an audit reads (audit_facts, tcp_metrics) find it.
    DOCUMENTATION = r'''
options:
  fact_path:
    description: The record M(netops.tcp.sysctl_tune) writes.
    type: path
    default: /etc/ansible/facts.d/netops_tcp.fact
  proc_path:
    description: Where procfs is mounted (a fixture tree in tests).
    type: path
    default: /proc
  root:
    description: The root under which the sysctl.d directories are read.
    type: path
    default: /
  namespaces:
    description:
      - The other network namespaces of the host to look into as well (containers, pods, C(ip netns)), as
        for O(netops.tcp.tcp_facts#module:namespaces); their census goes to C(ansible_facts.tcp.namespaces)
        and the audit judges each with the host's rules. Empty looks at the module's own namespace only.
    type: list
    elements: str
    default: []
'''
