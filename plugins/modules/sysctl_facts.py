#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: sysctl_facts
short_description: Gather typed TCP sysctl values, why keys are unavailable, and which files set them at boot
version_added: 0.1.0
description:
  - Reads the sysctls of the netops.tcp catalog (or the O(keys) given) from C(/proc/sys) and
    returns them typed (integers, vectors, port ranges) under C(ansible_facts.tcp_sysctl).
  - Says why a key is unavailable here, in words a person understands; removed or not yet added in
    this kernel, host-global while this is a non-initial network namespace, read-only, or a module
    not loaded.
  - With O(include_sources=true), lists every file under C(/etc/sysctl.d), C(/run/sysctl.d),
    C(/usr/local/lib/sysctl.d), C(/usr/lib/sysctl.d), C(/lib/sysctl.d) and C(/etc/sysctl.conf)
    that sets each key, in the order systemd-sysctl applies them; C(boot_files) lists all those files
    in that order.
  - It also names every other writer of each key at boot, in order (C(writers)), and the one that wins
    (C(boot_owner), C(boot_file), C(boot_value)). TuneD is read from its files, as C(tuned-adm active)
    shows it, whether or not its daemon runs (C(tuned)). When C(tuned.service) starts at boot, the
    C([sysctl]) sections of its active profile (and their C(include=) chain) are applied after
    systemd-sysctl; with C(reapply_sysctl) on (TuneD's default) it then applies C(/run/sysctl.d),
    C(/etc/sysctl.d) and C(/etc/sysctl.conf) again, except keys in C(reapply_sysctl_exclude).
    A TuneD value that only applies on some machines (C(uname_regex)), only raises or lowers a value
    (C(>), C(<)) or holds a variable is listed as C(conditional) and never counted as the winner.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._attributes.facts
  - netops.tcp._attributes.read_only
options:
  keys:
    description:
      - Sysctl names to read, dotted (V(net.ipv4.tcp_rmem)) or with slashes. Globs are allowed
        (V(net.ipv4.tcp_keepalive_*)). Default is every key in the netops.tcp catalog.
      - Names are confined to C(/proc/sys); a name with an empty, V(.) or V(..) part is refused.
    type: list
    elements: str
  include_sources:
    description:
      - Also report every writer of each key at boot (sysctl.d files, TuneD) and the value that wins.
    type: bool
    default: false
  proc_path:
    description:
      - Where procfs is mounted (a host's /proc mounted elsewhere, or a fixture tree).
    type: path
    default: /proc
  root:
    description:
      - Directory the sysctl.d paths are taken relative to, for O(include_sources).
    type: path
    default: /
seealso:
  - module: netops.tcp.tcp_facts
'''

EXAMPLES = r'''
- name: Read the catalog's TCP sysctls
  netops.tcp.sysctl_facts:

- name: Keepalive settings, and where they come from at boot
  netops.tcp.sysctl_facts:
    keys: [net.ipv4.tcp_keepalive_*]
    include_sources: true

- name: Fail when a key will not survive a reboot
  ansible.builtin.assert:
    that:
      - ansible_facts.tcp_sysctl['keys']['net.ipv4.tcp_fin_timeout'].raw
        == ansible_facts.tcp_sysctl.sources['net.ipv4.tcp_fin_timeout'].boot_value
'''

RETURN = r'''
ansible_facts:
  description: Facts added under C(tcp_sysctl).
  returned: always
  type: complex
  contains:
    tcp_sysctl:
      description: Kernel, network namespace, one entry per key and, on request, the boot sources.
      returned: always
      type: dict
      sample:
        kernel: {release: 6.18.44-fc-v657, version: 6.18.44, mem_total: 25769803776}
        netns: {initial: false, inode: 4026532301}
        keys:
          net.ipv4.tcp_rmem: {available: true, value: [4096, 131072, 33554432], raw: "4096 131072 33554432",
                              writable: true, reason: null, name: net.ipv4.tcp_rmem}
          net.ipv4.tcp_mem: {available: false, value: null, raw: null, writable: false, name: null,
                             reason: "host-global: set it on the host, not inside a network namespace"}
          net.ipv4.tcp_tw_recycle: {available: false, value: null, raw: null, writable: false, name: null,
                                    reason: "removed in Linux 4.12; this kernel is 6.18.44"}
        boot_files: [/usr/lib/sysctl.d/50-default.conf, /etc/sysctl.d/60-netops-tcp.conf, /etc/sysctl.d/99-sysctl.conf]
        sources:
          net.ipv4.tcp_fin_timeout:
            boot_value: "30"
            boot_file: /etc/sysctl.d/60-netops-tcp.conf
            boot_owner: systemd-sysctl
            files:
              - {file: /etc/sysctl.d/60-netops-tcp.conf, line: 4, value: "30"}
            writers:
              - {owner: systemd-sysctl, file: /etc/sysctl.d/60-netops-tcp.conf, line: 4, value: "30"}
          net.ipv4.tcp_rmem:
            boot_value: "4096 87380 16777216"
            boot_file: /usr/lib/tuned/network-throughput/tuned.conf
            boot_owner: tuned
            files:
              - {file: /etc/sysctl.d/60-netops-tcp.conf, line: 7, value: "4096 131072 16777216"}
            writers:
              - {owner: systemd-sysctl, file: /etc/sysctl.d/60-netops-tcp.conf, line: 7, value: "4096 131072 16777216"}
              - {owner: tuned, profile: network-throughput, file: /usr/lib/tuned/network-throughput/tuned.conf,
                 line: 14, value: "4096 87380 16777216", conditional: false}
        tuned:
          profiles: [network-throughput]
          enabled: true
          reapply_sysctl: false
          reapply_sysctl_exclude: []
          files: [/usr/lib/tuned/throughput-performance/tuned.conf, /usr/lib/tuned/network-throughput/tuned.conf]
          sysctl:
            net.ipv4.tcp_rmem: {value: "4096 87380 16777216", profile: network-throughput, line: 14, conditional: false,
                                file: /usr/lib/tuned/network-throughput/tuned.conf}
          problems: []
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils.model._catalog import CatalogError
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelVersionError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            keys=dict(type='list', elements='str', no_log=False),
            include_sources=dict(type='bool', default=False),
            proc_path=dict(type='path', default='/proc'),
            root=dict(type='path', default='/'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not os.path.isdir(os.path.join(params['proc_path'], 'sys')):
        module.fail_json(msg='proc_path: %s has no sys/ directory; is procfs mounted there?' % params['proc_path'])
    problems = []
    try:
        if params['include_sources']:
            facts, problems = sysctl.gather_with_sources(params['proc_path'], params['keys'], params['root'])
        else:
            facts = sysctl.gather(params['proc_path'], params['keys'])
    except (CatalogError, KernelVersionError) as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg='cannot read the kernel release under %s: %s' % (params['proc_path'], exc))
    for problem in problems:
        module.warn(problem)
    module.exit_json(changed=False, ansible_facts={'tcp_sysctl': facts})


if __name__ == '__main__':
    main()
