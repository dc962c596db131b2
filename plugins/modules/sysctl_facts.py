#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
    that sets each key, in the order systemd-sysctl applies them, and the value that will win at boot;
    C(boot_files) lists all those files in that order.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp.attributes
  - netops.tcp.attributes.facts
  - netops.tcp.attributes.read_only
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
      - Also report the sysctl.d files that set each key and the value that wins at boot.
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
        kernel: {release: 6.18.44-fc-v657, version: 6.18.44}
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
            files:
              - {file: /etc/sysctl.d/60-netops-tcp.conf, line: 4, value: "30"}
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netops.tcp.plugins.module_utils import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils._catalog import CatalogError
from ansible_collections.netops.tcp.plugins.module_utils._kernel import KernelVersionError


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
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the kernel release under %s: %s' % (params['proc_path'], exc))
    for problem in problems:
        module.warn(problem)
    module.exit_json(changed=False, ansible_facts={'tcp_sysctl': facts})


if __name__ == '__main__':
    main()
